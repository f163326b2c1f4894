import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startRuntime } from '../src/server/runtime.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { smtpSink, webhookReceiver } from './helpers/receivers.js';

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function signatureMatches(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  return parts.v1 === createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
}

/** Maintenance reminders go out through the organization's notification channels (docs/maintenance.md). */
describe('maintenance reminders through the notification channels', () => {
  let app: TestApp;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let owner: SignedIn;
  let admin: SignedIn;
  let viewer: SignedIn;
  let fridge: string;
  let emailChannel: string;
  let hookChannel: string;
  let hookSecret: string;

  before(async () => {
    sink = await smtpSink();
    receiver = await webhookReceiver();
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' }, webhookAllowPrivate: ['127.0.0.1'] });
    owner = await app.owner('Polo');
    admin = await app.member(owner, 'admin');
    viewer = await app.member(owner, 'viewer');
    emailChannel = (await owner.client.post('/api/v1/notification-channels', { name: 'Maintenance desk', kind: 'email', recipients: ['desk@example.com'] })).body.channel.id;
    const hook = await owner.client.post('/api/v1/notification-channels', { name: 'CMMS webhook', kind: 'webhook', url: receiver.url });
    hookChannel = hook.body.channel.id;
    hookSecret = hook.body.secret;
    fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 7', serial: 'FZ-7' })).body.device.id;
  });
  after(async () => {
    await app.close();
    await sink.close();
    await receiver.close();
  });

  const reminders = () => sink.received.filter((m) => m.to.includes('desk@example.com'));
  const hooks = () => receiver.received.filter((r) => String(r.headers['x-vigil-event']).startsWith('maintenance.'));
  const tick = () => app.runtime.jobs.tick('maintenance-reminders');
  const log = (nextDueOn: string, device = fridge) => owner.client.post(`/api/v1/devices/${device}/maintenance`, {
    type: 'preventive', performedBy: 'Rui', description: 'Quarterly service', performedAt: new Date(Date.now() - 86_400_000).toISOString(), nextDueOn,
  });

  it('reminds every channel once per record and due date, inside the window (default 7 days), by email and signed webhook', async () => {
    const far = await log(day(20));
    assert.equal(far.status, 201);
    assert.ok(await tick());
    assert.deepEqual(reminders(), [], '20 days ahead is outside the 7-day window');

    assert.equal((await owner.client.patch(`/api/v1/maintenance/records/${far.body.id}`, { nextDueOn: day(3) })).status, 200);
    await tick();
    assert.equal(reminders().length, 1);
    assert.equal(reminders()[0]!.subject, '[Vigil] Maintenance due: Freezer 7');
    assert.match(reminders()[0]!.raw, /FZ-7/);
    assert.equal(hooks().length, 1);
    const hook = hooks()[0]!;
    assert.equal(hook.headers['x-vigil-event'], 'maintenance.due');
    assert.ok(signatureMatches(hookSecret, String(hook.headers['x-vigil-signature']), hook.body), 'signed with the channel secret');
    const body = JSON.parse(hook.body);
    assert.deepEqual([body.maintenance.recordId, body.maintenance.deviceName, body.maintenance.dueOn, body.maintenance.daysUntilDue], [far.body.id, 'Freezer 7', day(3), 3]);

    await tick();
    await tick();
    assert.equal(reminders().length, 1, 'never twice for the same due date');

    // Another process on the same database (a restart) remembers what was sent.
    const second = await startRuntime(app.config, { logger: pino({ level: 'silent' }) });
    try {
      await second.jobs.tick('maintenance-reminders');
      await second.services.alerting.notifier.idle();
    } finally {
      await second.close();
    }
    assert.equal(reminders().length, 1, 'the flag is in the database, not in memory');
    assert.equal(hooks().length, 1);

    await owner.client.patch(`/api/v1/maintenance/records/${far.body.id}`, { nextDueOn: day(-1) });
    await tick();
    assert.equal(reminders().length, 2, 'a new due date is a new notice');
    assert.equal(reminders()[1]!.subject, '[Vigil] Maintenance overdue: Freezer 7');
    assert.equal(hooks()[1]!.headers['x-vigil-event'], 'maintenance.overdue');
  });

  it('a reminder ahead, then one overdue notice once the date has passed', async () => {
    const unit = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 9', serial: 'FZ-9' })).body.device.id;
    const record = await log(day(2), unit);
    const forFreezer9 = () => reminders().filter((m) => /Freezer 9/.test(m.subject)).map((m) => m.subject);
    await tick();
    assert.deepEqual(forFreezer9(), ['[Vigil] Maintenance due: Freezer 9']);
    // Time passes: the same due date (already reminded of) is now behind us.
    await app.runtime.ctx.pool.query('UPDATE maintenance_records SET next_due_on = $2, reminded_for = $2 WHERE id = $1', [record.body.id, day(-2)]);
    await tick();
    await tick();
    assert.deepEqual(forFreezer9(), ['[Vigil] Maintenance due: Freezer 9', '[Vigil] Maintenance overdue: Freezer 9']);
  });

  it('follows the reminder window and the chosen channels; only admins change them', async () => {
    const sentBefore = reminders().length;
    const hooksBefore = hooks().length;
    await log(day(30)); // a new visit replaces the overdue schedule above
    await tick();
    assert.equal(reminders().length, sentBefore, '30 days ahead: not yet');

    const saved = await admin.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 45, channelIds: [hookChannel] });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body, { reminderDays: 45, channelIds: [hookChannel] });
    assert.deepEqual((await viewer.client.get('/api/v1/maintenance/settings')).body, { reminderDays: 45, channelIds: [hookChannel] });
    assert.equal((await viewer.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 10 })).status, 403);
    await tick();
    assert.equal(hooks().length, hooksBefore + 1, 'the webhook is told');
    assert.equal(reminders().length, sentBefore, 'the email channel is no longer chosen');

    const bad = await admin.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 1000 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, 'reminderDays');
    const stranger = await app.owner('Elsewhere');
    const theirs = (await stranger.client.post('/api/v1/notification-channels', { name: 'Theirs', kind: 'in_app' })).body.channel.id;
    const foreign = await admin.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 7, channelIds: [theirs] });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error.details[0].field, 'channelIds');
    assert.deepEqual((await admin.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 7, channelIds: null })).body, { reminderDays: 7, channelIds: null });
  });

  it('a reminder the mail server refused is retried by the outbox, not queued again', async () => {
    const other = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 8', serial: 'FZ-8' })).body.device.id;
    await log(day(2), other);
    const forFreezer8 = () => reminders().filter((m) => /Freezer 8/.test(m.subject));
    sink.state.refusing = true;
    try {
      await tick();
    } finally {
      sink.state.refusing = false;
    }
    assert.equal(forFreezer8().length, 0);
    const [entry] = (await owner.client.get(`/api/v1/notification-channels/${emailChannel}/deliveries`)).body.items;
    assert.deepEqual([entry.event, entry.status, entry.attempts], ['maintenance.due', 'pending', 1]);
    assert.match(entry.lastError, /mailbox unavailable/);
    await tick();
    assert.equal(forFreezer8().length, 0, 'the reminder is not queued a second time; its retry waits for the backoff');
    await app.runtime.ctx.pool.query("UPDATE notification_outbox SET next_attempt_at = now() WHERE channel_id = $1 AND status = 'pending'", [emailChannel]);
    await app.runtime.jobs.tick('alert-notifications');
    assert.equal(forFreezer8().length, 1, 'sent once the server takes mail again');
  });

  it('a digest channel collects reminders into its next digest', async () => {
    const digest = await owner.client.post('/api/v1/notification-channels', { name: 'Weekly desk', kind: 'email', recipients: ['weekly@example.com'], digest: { every: 'day', at: '08:00' } });
    await owner.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 7, channelIds: [digest.body.channel.id] });
    const units = ['Chiller A', 'Chiller B'];
    for (const [i, name] of units.entries()) {
      const unit = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name, serial: `CH-${i}` })).body.device.id;
      await log(day(i + 1), unit);
    }
    await tick();
    const weekly = () => sink.received.filter((m) => m.to.includes('weekly@example.com'));
    assert.equal(weekly().length, 0, 'held for the digest');
    await app.runtime.ctx.pool.query("UPDATE notification_channels SET next_digest_at = now() - interval '1 second' WHERE id = $1", [digest.body.channel.id]);
    await app.runtime.jobs.tick('alert-digests');
    assert.equal(weekly().length, 1);
    assert.equal(weekly()[0]!.subject, '[Vigil] Digest: 2 notification(s) for Weekly desk');
    for (const name of units) assert.ok(weekly()[0]!.raw.includes(`Maintenance due: ${name}`), name);
  });
});
