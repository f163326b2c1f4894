import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually, smtpSink, webhookReceiver } from './helpers/receivers.js';
import { SseStream } from './helpers/sse.js';

/** What a receiver does (docs/alerts.md): recompute the HMAC of "<t>.<body>" and compare in constant time. */
function verifySignature(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('alert notifications', () => {
  let app: TestApp;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let baseUrl: string;
  let admin: SignedIn;
  let operator: SignedIn;
  let viewer: SignedIn;
  const streams: SseStream[] = [];
  let serial = 0;

  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
  const series = (value: number, from: number, to: number) => {
    const items = [];
    for (let m = from; m <= to; m++) items.push({ ts: minutes(m), values: { temperature: value } });
    return items;
  };

  async function fridge(owner: SignedIn) {
    serial += 1;
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: `Cold room ${serial}`, serial: `CR-${serial}` });
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function send(key: string, items: unknown[]) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
    await app.runtime.services.alerting.notifier.idle();
  }

  before(async () => {
    sink = await smtpSink();
    // The webhook receivers listen on 127.0.0.1, which the operator allows (WEBHOOK_ALLOW_PRIVATE).
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' }, webhookAllowPrivate: ['127.0.0.1'] });
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
    admin = await app.owner('Polo Sanca');
    operator = await app.member(admin, 'operator');
    viewer = await app.member(admin, 'viewer');
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await app.close();
    await sink.close();
  });

  it('done when: a sustained excursion opens one alert, the admin gets an email and a signed webhook, an operator acknowledges, it resolves itself', async () => {
    const receiver = await webhookReceiver();
    try {
      const email = await admin.client.post('/api/v1/notification-channels', { name: 'Admins', kind: 'email', recipients: [admin.email] });
      const hook = await admin.client.post('/api/v1/notification-channels', { name: 'Ops webhook', kind: 'webhook', url: receiver.url });
      assert.equal(email.status, 201, JSON.stringify(email.body));
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      assert.match(hook.body.secret, /^whsec_[0-9a-f]{64}$/);
      assert.equal((await admin.client.get(`/api/v1/notification-channels/${hook.body.channel.id}`)).body.secret, undefined, 'the secret is shown once');

      const unit = await fridge(admin);
      const rule = await admin.client.post('/api/v1/alert-rules', {
        name: 'Cold room too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, clearThreshold: 7,
        durationSeconds: 300, severity: 'critical', messageTemplate: '{{device}} at {{value}} °C (limit {{threshold}} °C)',
        channelIds: [email.body.channel.id, hook.body.channel.id],
      });
      assert.equal(rule.status, 201, JSON.stringify(rule.body));

      const stream = await SseStream.open(baseUrl, { cookie: operator.client.cookie });
      streams.push(stream);
      await send(unit.key, series(9.4, -8, -3));
      const opened = await stream.next((e) => e.event === 'alert.opened', 5000, 'alert.opened on the stream');
      const alertId = (opened.json!.alert as { id: string }).id;
      const listed = await admin.client.get(`/api/v1/alerts?deviceId=${unit.id}`);
      assert.deepEqual(listed.body.items.map((a: { id: string }) => a.id), [alertId], 'exactly one alert');

      const alertMails = () => sink.received.filter((m) => m.to.includes(admin.email));
      await eventually(() => alertMails().length >= 1 && receiver.received.length >= 1, 'the email and the webhook');
      assert.match(alertMails()[0]!.subject, /^\[Vigil\] CRITICAL: Cold room \d+ at 9\.4 °C \(limit 8 °C\)$/);
      const delivery = receiver.received[0]!;
      assert.equal(delivery.headers['x-vigil-event'], 'alert.opened');
      assert.ok(verifySignature(hook.body.secret, String(delivery.headers['x-vigil-signature']), delivery.body), 'the signature verifies with the secret');
      assert.ok(!verifySignature('whsec_wrong', String(delivery.headers['x-vigil-signature']), delivery.body));
      const payload = JSON.parse(delivery.body);
      assert.equal(payload.alert.id, alertId);
      assert.equal(payload.alert.severity, 'critical');

      assert.equal((await viewer.client.post(`/api/v1/alerts/${alertId}/acknowledge`, {})).status, 403);
      const acked = await operator.client.post(`/api/v1/alerts/${alertId}/acknowledge`, { comment: 'door was left open; closed it' });
      assert.equal(acked.status, 200);
      await stream.next((e) => e.event === 'alert.acknowledged', 5000, 'alert.acknowledged on the stream');

      await send(unit.key, series(4.2, -2, 4));
      await stream.next((e) => e.event === 'alert.resolved', 5000, 'alert.resolved on the stream');
      const resolved = await admin.client.get(`/api/v1/alerts/${alertId}`);
      assert.equal(resolved.body.status, 'resolved');
      assert.equal(resolved.body.acknowledgedBy, operator.userId);
      await eventually(() => receiver.received.some((r) => r.headers['x-vigil-event'] === 'alert.resolved'), 'the resolved webhook');
      await eventually(() => alertMails().some((m) => m.subject.startsWith('[Vigil] Resolved')), 'the resolved email');

      const log = await admin.client.get(`/api/v1/notification-channels/${hook.body.channel.id}/deliveries`);
      assert.equal(log.status, 200);
      assert.deepEqual(log.body.items.map((d: { event: string; status: string }) => [d.event, d.status]), [['alert.resolved', 'delivered'], ['alert.opened', 'delivered']]);
      assert.equal(log.body.items[0].responseStatus, 200);
      assert.equal((await operator.client.get(`/api/v1/notification-channels/${hook.body.channel.id}/deliveries`)).status, 403, 'the delivery log is for administrators');
    } finally {
      await receiver.close();
    }
  });

  it('refuses webhook URLs at private or loopback addresses the operator has not allowed', async () => {
    const other = await app.owner('Careful');
    for (const url of ['http://10.1.2.3/hook', 'http://127.0.0.2:9/hook', 'http://[::1]/x', 'http://[::ffff:10.1.2.3]/x', 'http://169.254.169.254/latest/meta-data', 'http://100.64.0.1/', 'http://0.0.0.0:9/', 'ftp://example.com/x']) {
      const refused = await other.client.post('/api/v1/notification-channels', { name: `Hook ${url}`, kind: 'webhook', url });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body.error.details[0].field, 'url');
    }
    assert.equal((await other.client.post('/api/v1/notification-channels', { name: 'No URL', kind: 'webhook' })).status, 400);
    assert.equal((await other.client.post('/api/v1/notification-channels', { name: 'No one', kind: 'email', recipients: [] })).status, 400);
    assert.equal((await other.client.post('/api/v1/notification-channels', { name: 'Local', kind: 'webhook', url: 'http://127.0.0.1:9/hook' })).status, 201, 'the operator allows 127.0.0.1');
  });

  it('on a server whose operator allows no private destination, an organization cannot either; a receiver on 127.0.0.1 gets nothing and the delivery log says why', async () => {
    const closed = await startTestApp();
    const receiver = await webhookReceiver();
    try {
      const owner = await closed.owner('Own network');
      const refused = await owner.client.post('/api/v1/notification-channels', { name: 'Local', kind: 'webhook', url: receiver.url });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.details[0].message, /private, loopback or link-local address; only the server's operator can allow/);
      // The organization switch is gone: neither readable nor settable.
      assert.equal((await owner.client.request('PUT', '/api/v1/alert-settings', { allowPrivateWebhooks: true })).status, 404);
      assert.equal((await owner.client.get('/api/v1/alert-settings')).status, 404);
      assert.equal((await owner.client.post('/api/v1/notification-channels', { name: 'Local', kind: 'webhook', url: receiver.url, allowPrivateWebhooks: true })).status, 400, 'nor smuggled into a channel');

      // A channel saved while organizations could allow private webhooks still points at loopback.
      const hook = await owner.client.post('/api/v1/notification-channels', { name: 'Saved earlier', kind: 'webhook', url: 'https://93.184.215.14/hook' });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      await sql`UPDATE notification_channels SET url = ${receiver.url} WHERE id = ${hook.body.channel.id}::uuid`.execute(closed.runtime.ctx.db);
      const unit = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Back room', serial: 'BR-1' })).body;
      await owner.client.post('/api/v1/alert-rules', {
        name: 'Too warm', scope: 'device', deviceId: unit.device.id, condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8,
        durationSeconds: 60, severity: 'major', channelIds: [hook.body.channel.id],
      });
      const sent = await closed.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': unit.apiKey }, payload: { items: series(12, -3, 0) } });
      assert.equal(sent.statusCode, 200, sent.body);
      await closed.runtime.services.alerting.notifier.idle();
      const [entry] = (await owner.client.get(`/api/v1/notification-channels/${hook.body.channel.id}/deliveries`)).body.items;
      assert.equal(entry.status, 'pending', 'failed, to be retried');
      assert.match(entry.lastError, /points at a private, loopback or link-local address.*WEBHOOK_ALLOW_PRIVATE/);
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.close();
      await closed.close();
    }
  });

  it('retries a failing webhook with backoff, the same delivery id each time, and logs every attempt\'s outcome', async () => {
    const receiver = await webhookReceiver([500, 503]);
    try {
      const hook = await admin.client.post('/api/v1/notification-channels', { name: 'Flaky', kind: 'webhook', url: receiver.url });
      const unit = await fridge(admin);
      await admin.client.post('/api/v1/alert-rules', {
        name: 'Flaky rule', scope: 'device', deviceId: unit.id, condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8,
        durationSeconds: 60, severity: 'major', channelIds: [hook.body.channel.id],
      });
      await send(unit.key, series(12, -3, 0));
      const logOf = async () => (await admin.client.get(`/api/v1/notification-channels/${hook.body.channel.id}/deliveries`)).body.items[0];
      let entry = await logOf();
      assert.deepEqual([entry.status, entry.attempts, entry.responseStatus], ['pending', 1, 500]);
      assert.ok(Date.parse(entry.nextAttemptAt) > Date.now() + 10_000, 'the retry waits');
      const { pool } = app.runtime.ctx;
      for (const expected of [503, 200]) {
        await pool.query(`UPDATE notification_outbox SET next_attempt_at = now() WHERE channel_id = $1`, [hook.body.channel.id]);
        await app.runtime.jobs.tick('alert-notifications');
        entry = await logOf();
        assert.equal(entry.responseStatus, expected);
      }
      assert.deepEqual([entry.status, entry.attempts, entry.lastError], ['delivered', 3, null]);
      assert.equal(receiver.received.length, 3);
      assert.equal(new Set(receiver.received.map((r) => r.headers['x-vigil-delivery'])).size, 1);
    } finally {
      await receiver.close();
    }
  });

  it('escalates an alert nobody acknowledged to the next channel; acknowledging stops it', async () => {
    const first = await admin.client.post('/api/v1/notification-channels', { name: 'In app', kind: 'in_app' });
    const second = await admin.client.post('/api/v1/notification-channels', { name: 'Manager on call', kind: 'email', recipients: ['oncall@example.com'] });
    const unit = await fridge(admin);
    const other = await fridge(admin);
    const rule = await admin.client.post('/api/v1/alert-rules', {
      name: 'Escalating', scope: 'organization', condition: 'metric', metric: 'pressure', operator: 'gt', threshold: 150, durationSeconds: 60,
      severity: 'critical', channelIds: [first.body.channel.id, second.body.channel.id], escalateAfterMinutes: 10,
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const pressure = (from: number, to: number) => series(0, from, to).map((item) => ({ ts: item.ts, values: { pressure: 170 } }));
    await send(unit.key, pressure(-3, 0));
    await send(other.key, pressure(-3, 0));
    const mailsBefore = sink.received.filter((m) => m.to.includes('oncall@example.com')).length;
    assert.equal(mailsBefore, 0, 'only the first channel is told at once');

    const [ignored] = (await admin.client.get(`/api/v1/alerts?deviceId=${unit.id}`)).body.items;
    const [handled] = (await admin.client.get(`/api/v1/alerts?deviceId=${other.id}`)).body.items;
    await operator.client.post(`/api/v1/alerts/${handled.id}/acknowledge`, {});
    await app.runtime.ctx.pool.query(`UPDATE alerts SET next_escalation_at = now() - interval '1 second' WHERE rule_id = $1 AND status = 'open'`, [rule.body.id]);
    await app.runtime.jobs.tick('alert-timers');
    await app.runtime.services.alerting.notifier.idle();
    await eventually(() => sink.received.some((m) => m.to.includes('oncall@example.com')), 'the escalation email');
    const escalations = sink.received.filter((m) => m.to.includes('oncall@example.com'));
    assert.equal(escalations.length, 1, 'only the unacknowledged alert escalates');
    assert.match(escalations[0]!.subject, /^\[Vigil\] Escalated: /);
    assert.ok(escalations[0]!.raw.includes(ignored.id));
  });

  it('quiet hours hold non-critical notifications until the window ends; critical ones go out at once', async () => {
    const { rows: [org] } = await app.runtime.ctx.pool.query('SELECT timezone FROM organizations WHERE id = $1', [admin.orgId]);
    const local = DateTime.now().setZone(org.timezone);
    const quietHours = { from: local.minus({ hours: 1 }).toFormat('HH:mm'), to: local.plus({ hours: 1 }).toFormat('HH:mm') };
    assert.equal((await admin.client.post('/api/v1/notification-channels', { name: 'Bad night', kind: 'email', recipients: ['night@example.com'], quietHours: { from: '25:00', to: '06:00' } })).status, 400);
    const night = await admin.client.post('/api/v1/notification-channels', { name: 'Night shift', kind: 'email', recipients: ['night@example.com'], quietHours });
    assert.equal(night.status, 201, JSON.stringify(night.body));
    assert.deepEqual(night.body.channel.quietHours, quietHours);
    const unit = await fridge(admin);
    for (const [metric, severity] of [['humidity', 'warning'], ['pressure', 'critical']] as const) {
      const rule = await admin.client.post('/api/v1/alert-rules', {
        name: `Quiet ${severity}`, scope: 'device', deviceId: unit.id, condition: 'metric', metric, operator: 'gt', threshold: 500,
        durationSeconds: 60, severity, channelIds: [night.body.channel.id],
      });
      assert.equal(rule.status, 201, JSON.stringify(rule.body));
    }
    await send(unit.key, series(0, -3, 0).map((item) => ({ ts: item.ts, values: { humidity: 900, pressure: 900 } })));
    await eventually(() => sink.received.some((m) => m.to.includes('night@example.com')), 'the critical email');
    const log = (await admin.client.get(`/api/v1/notification-channels/${night.body.channel.id}/deliveries`)).body.items;
    const held = log.filter((d: { status: string }) => d.status === 'pending');
    assert.equal(held.length, 1, 'the warning waits');
    assert.equal(held[0].attempts, 0);
    assert.ok(Math.abs(Date.parse(held[0].nextAttemptAt) - local.plus({ hours: 1 }).startOf('minute').toMillis()) < 60_000, 'until the quiet hours end');
    assert.equal(sink.received.filter((m) => m.to.includes('night@example.com')).length, 1);
  });
});
