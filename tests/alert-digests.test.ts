import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startRuntime } from '../src/server/runtime.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { smtpSink, webhookReceiver, type ReceivedMail } from './helpers/receivers.js';

/** What a receiver does (docs/alerts.md): recompute the HMAC of "<t>.<body>" and compare in constant time. */
function verifySignature(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The plain-text part of a message as a reader sees it (quoted-printable soft breaks and escapes undone). */
function plainText(mail: ReceivedMail): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(mail.raw)?.[1];
  const plain = boundary ? mail.raw.split(`--${boundary}`).find((p) => /Content-Type: text\/plain/i.test(p)) ?? mail.raw : mail.raw;
  const part = plain.slice(plain.indexOf('\r\n\r\n') + 4);
  return Buffer.from(part.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
}

describe('notification digests', () => {
  let app: TestApp;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let admin: SignedIn;
  let serial = 0;

  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
  const warm = (metric: string, value: number) => [-3, -2, -1, 0].map((m) => ({ ts: minutes(m), values: { [metric]: value } }));

  async function device(name: string) {
    serial += 1;
    const created = await admin.client.post('/api/v1/devices', { kind: 'refrigeration', name, serial: `DG-${serial}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function send(key: string, items: unknown[]) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
    await app.runtime.services.alerting.notifier.idle();
  }

  async function rule(name: string, metric: string, severity: string, channelIds: string[]) {
    const created = await admin.client.post('/api/v1/alert-rules', {
      name, scope: 'organization', condition: 'metric', metric, operator: 'gt', threshold: 8, durationSeconds: 60, severity,
      messageTemplate: '{{device}}: {{metric}} at {{value}}', channelIds,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id as string;
  }

  /** The digest window ends now (as the clock would make it) and the digest job runs. */
  async function windowEnds(channelId: string) {
    await app.runtime.ctx.pool.query("UPDATE notification_channels SET next_digest_at = now() - interval '1 second' WHERE id = $1", [channelId]);
    await app.runtime.jobs.tick('alert-digests');
    await app.runtime.services.alerting.notifier.idle();
  }

  const log = async (channelId: string) => (await admin.client.get(`/api/v1/notification-channels/${channelId}/deliveries`)).body.items as { event: string; status: string; digestId: string | null; id: string }[];

  before(async () => {
    sink = await smtpSink();
    receiver = await webhookReceiver();
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' }, webhookAllowPrivate: ['127.0.0.1'] });
    admin = await app.owner('Digest Foods');
  });
  after(async () => {
    await app.close();
    await sink.close();
    await receiver.close();
  });

  it('three alerts in one window make exactly one email listing all three; an empty window sends nothing', async () => {
    const channel = await admin.client.post('/api/v1/notification-channels', {
      name: 'Hourly summary', kind: 'email', recipients: ['summary@example.com'], digest: { every: 'minutes', minutes: 60 },
    });
    assert.equal(channel.status, 201, JSON.stringify(channel.body));
    const channelId = channel.body.channel.id as string;
    assert.deepEqual(channel.body.channel.digest, { every: 'minutes', minutes: 60 });
    const next = new Date(channel.body.channel.nextDigestAt);
    assert.ok(next.getTime() > Date.now() && next.getTime() <= Date.now() + 3_600_000 && next.getTime() % 60_000 === 0, 'at the next full hour (local)');
    await rule('Warm (digest)', 'temperature', 'warning', [channelId]);

    const units = [await device('Cold room North'), await device('Cold room South'), await device('Display fridge')];
    for (const unit of units) await send(unit.key, warm('temperature', 11));
    const summaries = () => sink.received.filter((m) => m.to.includes('summary@example.com'));
    assert.equal(summaries().length, 0, 'nothing goes out before the window ends');
    const held = await log(channelId);
    assert.deepEqual(held.map((d) => d.status), ['held', 'held', 'held']);

    // An operator acknowledges one before the digest: the digest shows the alert as it is now.
    const alerts = (await admin.client.get('/api/v1/alerts?status=open')).body.items as { id: string; deviceId: string }[];
    const display = alerts.find((a) => a.deviceId === units[2]!.id)!;
    assert.equal((await admin.client.post(`/api/v1/alerts/${display.id}/acknowledge`, {})).status, 200);

    await windowEnds(channelId);
    assert.equal(summaries().length, 1, 'exactly one email');
    const mail = summaries()[0]!;
    assert.equal(mail.subject, '[Vigil] Digest: 3 notification(s) for Hourly summary');
    const text = plainText(mail);
    for (const name of ['Cold room North', 'Cold room South', 'Display fridge']) assert.match(text, new RegExp(`warning\\s+${name}\\s+${name}: temperature at 11`));
    assert.match(text, /Severity\s+Device\s+Message\s+Opened\s+Acknowledged\s+Resolved/);
    assert.match(text, new RegExp(`/alerts/${display.id}`), 'a link to each alert in the console');
    assert.match(mail.raw, /Content-Type: text\/html/, 'with an HTML table too');

    const after = await log(channelId);
    const digest = after.find((d) => d.event === 'digest')!;
    assert.equal(digest.status, 'delivered');
    assert.deepEqual(after.filter((d) => d.event !== 'digest').map((d) => [d.status, d.digestId]), [['digested', digest.id], ['digested', digest.id], ['digested', digest.id]]);

    await windowEnds(channelId);
    await windowEnds(channelId);
    assert.equal(summaries().length, 1, 'an empty window sends no digest');
  });

  it('a webhook digest is one signed JSON POST with the list; critical alerts do not wait for it', async () => {
    const hook = await admin.client.post('/api/v1/notification-channels', {
      name: 'Daily hook', kind: 'webhook', url: receiver.url, digest: { every: 'day', at: '07:30' },
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const channelId = hook.body.channel.id as string;
    await rule('Humid (digest)', 'humidity', 'minor', [channelId]);
    await rule('Pressure (critical)', 'pressure', 'critical', [channelId]);
    const unit = await device('Blast chiller');
    await send(unit.key, warm('humidity', 20));
    await send(unit.key, warm('pressure', 20));
    assert.equal(receiver.received.length, 1, 'the critical alert went out at once');
    assert.equal(receiver.received[0]!.headers['x-vigil-event'], 'alert.opened');

    await windowEnds(channelId);
    assert.equal(receiver.received.length, 2);
    const delivery = receiver.received[1]!;
    assert.equal(delivery.headers['x-vigil-event'], 'digest');
    assert.ok(verifySignature(hook.body.secret, String(delivery.headers['x-vigil-signature']), delivery.body), 'signed with the channel secret');
    assert.ok(!verifySignature('whsec_other', String(delivery.headers['x-vigil-signature']), delivery.body));
    const body = JSON.parse(delivery.body);
    assert.equal(body.event, 'digest');
    assert.equal(body.channel.id, channelId);
    assert.deepEqual(body.alerts.map((a: { severity: string; deviceName: string; events: string[] }) => [a.severity, a.deviceName, a.events]), [['minor', 'Blast chiller', ['alert.opened']]]);
    const next = new Date((await admin.client.get(`/api/v1/notification-channels/${channelId}`)).body.nextDigestAt);
    assert.ok(next > new Date(), 'the next digest is tomorrow\'s (or today\'s) 07:30');
  });

  it('two processes on one database never send the same digest twice', async () => {
    const channel = await admin.client.post('/api/v1/notification-channels', { name: 'Shared', kind: 'email', recipients: ['shared@example.com'], digest: { every: 'minutes', minutes: 15 } });
    const channelId = channel.body.channel.id as string;
    await rule('Door (digest)', 'door', 'info', [channelId]);
    await send((await device('Walk-in')).key, warm('door', 10));
    const second = await startRuntime(app.config, { logger: pino({ level: 'silent' }) });
    try {
      await app.runtime.ctx.pool.query("UPDATE notification_channels SET next_digest_at = now() - interval '1 second' WHERE id = $1", [channelId]);
      // Both processes run the digest job at the same moment, bypassing the job lease: the database claim decides.
      const counts = await Promise.all([app.runtime.services.alerting.digests.sendDue(), second.services.alerting.digests.sendDue()]);
      assert.equal(counts[0] + counts[1], 1);
      await second.services.alerting.notifier.idle();
    } finally {
      await second.close();
    }
    await app.runtime.services.alerting.notifier.deliverDue();
    assert.equal(sink.received.filter((m) => m.to.includes('shared@example.com')).length, 1);
  });

  it('turning a digest off sends what it held; a bad schedule or an in-app digest is refused', async () => {
    const channel = await admin.client.post('/api/v1/notification-channels', { name: 'Changeable', kind: 'email', recipients: ['change@example.com'], digest: { every: 'day', at: '18:00' } });
    const channelId = channel.body.channel.id as string;
    await rule('Fan (digest)', 'fan', 'warning', [channelId]);
    await send((await device('Reach-in')).key, warm('fan', 10));
    assert.deepEqual((await log(channelId)).map((d) => d.status), ['held']);
    const patched = await admin.client.patch(`/api/v1/notification-channels/${channelId}`, { digest: null });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.nextDigestAt, null);
    await app.runtime.jobs.tick('alert-notifications');
    assert.deepEqual((await log(channelId)).map((d) => d.status), ['delivered']);
    assert.equal(sink.received.filter((m) => m.to.includes('change@example.com')).length, 1);

    for (const [body, field] of [
      [{ name: 'Bad time', kind: 'email', recipients: ['x@example.com'], digest: { every: 'day', at: '24:10' } }, 'digest'],
      [{ name: 'Too often', kind: 'email', recipients: ['x@example.com'], digest: { every: 'minutes', minutes: 1 } }, 'digest.minutes'],
      [{ name: 'In-app digest', kind: 'in_app', digest: { every: 'minutes', minutes: 30 } }, 'digest'],
    ] as const) {
      const refused = await admin.client.post('/api/v1/notification-channels', body);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.error.details[0].field, new RegExp(`^${field}`));
    }
  });
});
