import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { startRuntime } from '../src/server/runtime.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

interface Received {
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback that keeps what it receives. */
async function smtpSink() {
  const received: Received[] = [];
  const state = { refusing: false };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(_address, _session, callback) {
      callback(state.refusing ? Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }) : undefined);
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { received, state, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

const subjectOf = (raw: string) => raw.match(/^Subject: (.*)$/m)?.[1] ?? '';

describe('maintenance reminders by email', () => {
  let app: TestApp;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let owner: SignedIn;
  let admin: SignedIn;
  let viewer: SignedIn;
  let fridge: string;

  before(async () => {
    sink = await smtpSink();
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' } });
    owner = await app.owner('Polo');
    admin = await app.member(owner, 'admin');
    viewer = await app.member(owner, 'viewer');
    fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 7', serial: 'FZ-7' })).body.device.id;
  });
  after(async () => {
    await app.close();
    await sink.close();
  });

  // The sink also receives the members' invitations.
  const reminders = () => sink.received.filter((m) => /^Maintenance/.test(subjectOf(m.raw)));
  const tick = () => app.runtime.jobs.tick('maintenance-reminders');
  const log = (nextDueOn: string) => owner.client.post(`/api/v1/devices/${fridge}/maintenance`, {
    type: 'preventive', performedBy: 'Rui', description: 'Quarterly service', performedAt: new Date(Date.now() - 86_400_000).toISOString(), nextDueOn,
  });

  it('reminds the organization\'s admins once per record and due date, inside the window (default 7 days)', async () => {
    const far = await log(day(20));
    assert.equal(far.status, 201);
    assert.ok(await tick());
    assert.deepEqual(reminders().map((m) => subjectOf(m.raw)), [], '20 days ahead is outside the 7-day window');

    const patched = await owner.client.patch(`/api/v1/maintenance/records/${far.body.id}`, { nextDueOn: day(3) });
    assert.equal(patched.status, 200);
    await tick();
    const recipients = reminders().flatMap((m) => m.to).sort();
    assert.deepEqual(recipients, [admin.email, owner.email].sort(), 'owners and admins, not viewers');
    assert.ok(!recipients.includes(viewer.email));
    assert.match(subjectOf(reminders()[0]!.raw), /Maintenance due: Freezer 7/);
    assert.match(reminders()[0]!.raw, /FZ-7/);

    await tick();
    await tick();
    assert.equal(reminders().length, 2, 'never twice for the same due date');

    // Another process on the same database (a restart) remembers what was sent.
    const second = await startRuntime(app.config, { logger: pino({ level: 'silent' }) });
    try {
      await second.jobs.tick('maintenance-reminders');
    } finally {
      await second.close();
    }
    assert.equal(reminders().length, 2, 'the flag is in the database, not in memory');

    await owner.client.patch(`/api/v1/maintenance/records/${far.body.id}`, { nextDueOn: day(-1) });
    await tick();
    assert.equal(reminders().length, 4, 'a new due date is a new reminder');
    assert.match(subjectOf(reminders()[3]!.raw), /Maintenance overdue/);
  });

  it('follows the organization\'s reminder window and the latest visit\'s schedule', async () => {
    const sentBefore = reminders().length;
    await log(day(30)); // a new visit replaces the overdue schedule above
    await tick();
    assert.equal(reminders().length, sentBefore, '30 days ahead: not yet');

    assert.equal((await admin.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 45 })).status, 200);
    assert.equal((await viewer.client.get('/api/v1/maintenance/settings')).body.reminderDays, 45);
    await tick();
    assert.equal(reminders().length, sentBefore + 2);
    const bad = await admin.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 1000 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, 'reminderDays');
  });

  it('a reminder the mail server refused is sent at a later run, not marked as sent', async () => {
    const other = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 8', serial: 'FZ-8' })).body.device.id;
    await owner.client.post(`/api/v1/devices/${other}/maintenance`, { type: 'inspection', performedBy: 'Rui', description: 'Check', nextDueOn: day(2) });
    const forFreezer8 = () => reminders().filter((m) => /Freezer 8/.test(subjectOf(m.raw)));
    sink.state.refusing = true;
    try {
      await tick();
    } finally {
      sink.state.refusing = false;
    }
    assert.equal(forFreezer8().length, 0);
    await tick();
    assert.equal(forFreezer8().length, 2, 'sent once the server takes mail again');
    await tick();
    assert.equal(forFreezer8().length, 2);
  });
});
