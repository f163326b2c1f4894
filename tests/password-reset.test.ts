import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { servedByServer } from '../src/server/web/routes.js';
import { startTestApp, uniqueEmail, type SignedIn, type TestApp } from './helpers/app.js';

interface Received {
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback that keeps what it receives. */
async function smtpSink() {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
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
  return { received, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('password reset by email', () => {
  let app: TestApp;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let owner: SignedIn;
  before(async () => {
    sink = await smtpSink();
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' } });
    owner = await app.owner();
  });
  after(async () => {
    await app.close();
    await sink.close();
  });

  const linkIn = (raw: string) => {
    const unfolded = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    return unfolded.match(/reset-password\?token=([\w-]+)/)?.[1];
  };

  it('emails a one-hour single-use link; the new password works, old sessions and API tokens end', async () => {
    const script = app.client();
    script.bearer = (await owner.client.post('/api/v1/auth/tokens', { name: 'left by an intruder', currentPassword: owner.password })).body.token;
    assert.equal((await script.get('/api/v1/auth/me')).status, 200);
    const response = await app.client().post('/api/v1/auth/password-reset/request', { email: owner.email.toUpperCase() });
    assert.equal(response.status, 202);
    const mail = await waitFor(() => sink.received.find((m) => m.to.includes(owner.email)));
    assert.match(mail.raw, /Reset your Vigil password/);
    const token = linkIn(mail.raw);
    assert.ok(token, 'the email carries the link');

    const confirm = await app.client().post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'reset to something new' });
    assert.equal(confirm.status, 200);
    assert.deepEqual(confirm.body, { sessionsRevoked: 1, apiTokensRevoked: 1 });
    assert.equal((await owner.client.get('/api/v1/auth/me')).status, 401, 'existing sessions were signed out');
    assert.equal((await script.get('/api/v1/auth/me')).status, 401, 'API tokens were revoked');
    const audit = await app.superadmin.client.get(`/api/v1/admin/audit?action=auth.password_reset&resourceId=${owner.userId}`);
    assert.deepEqual(audit.body.items[0].details, { sessionsRevoked: 1, apiTokensRevoked: 1 });
    assert.equal((await app.client().login(owner.email, owner.password)).status, 401);
    assert.equal((await app.client().login(owner.email, 'reset to something new')).status, 200);

    const reuse = await app.client().post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'and once more please' });
    assert.equal(reuse.status, 400);
  });

  it('answers an unknown email exactly like a known one and sends nothing', async () => {
    const before = sink.received.length;
    const unknown = await app.client().post('/api/v1/auth/password-reset/request', { email: uniqueEmail('ghost') });
    assert.equal(unknown.status, 202);
    assert.deepEqual(unknown.body, { message: 'If an account exists for this email, a reset link is on its way.' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink.received.length, before);
  });

  it('the emailed link is a console page; its token sets the new password through the API', async () => {
    const member = await app.member(await app.owner(), 'viewer');
    await app.client().post('/api/v1/auth/password-reset/request', { email: member.email });
    const mail = await waitFor(() => sink.received.find((m) => m.to.includes(member.email) && m.raw.includes('Reset your Vigil password')));
    const token = linkIn(mail.raw)!;
    assert.equal(servedByServer('/reset-password'), false, 'the console answers /reset-password');
    const done = await app.client().post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'set from the page' });
    assert.equal(done.status, 200);
    assert.equal((await app.client().login(member.email, 'set from the page')).status, 200);
  });

  it('an expired token is refused', async () => {
    const member = await app.member(await app.owner(), 'viewer');
    await app.client().post('/api/v1/auth/password-reset/request', { email: member.email });
    const mail = await waitFor(() => sink.received.find((m) => m.to.includes(member.email) && m.raw.includes('Reset your Vigil password')));
    const token = linkIn(mail.raw)!;
    await app.runtime.ctx.pool.query(`UPDATE password_resets SET expires_at = now() - interval '1 second'`);
    const confirm = await app.client().post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'too late for this one' });
    assert.equal(confirm.status, 400);
    assert.match(confirm.body.error.message, /expired/);
  });
});
