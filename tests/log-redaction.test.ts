import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import pino from 'pino';
import sharp from 'sharp';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { ApiClient, createTestDatabase, dropTestDatabase, uniqueEmail } from './helpers/app.js';
import { eventually, smtpSink } from './helpers/receivers.js';

const PASSWORD = 'a long enough secret';

/**
 * Everything the server logs (trace level, every request line) during a run that hands out and uses each
 * kind of secret Vigil has: none of them may be readable in the log.
 */
describe('log redaction', () => {
  let runtime: Runtime;
  let databaseUrl: string;
  let dataDir: string;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  const logs: string[] = [];
  before(async () => {
    sink = await smtpSink();
    databaseUrl = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logs-'));
    const logger = pino({ level: 'trace' }, { write: (line: string) => logs.push(line) });
    const smtp = { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' };
    runtime = await startRuntime(testConfig({ databaseUrl, dataDir, smtp, publicUrl: 'https://vigil.example.org', ingestMaxAgeDays: 36_500 }), { logger });
  });
  after(async () => {
    await runtime.close();
    await dropTestDatabase(databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
    await sink.close();
  });

  const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
  const pathOf = (link: string) => { const url = new URL(link); return url.pathname + url.search; };

  it('no setup, invitation, reset, upload, photo, device, API or session secret appears in any log line', async () => {
    const secrets: Record<string, string> = {};
    const anonymous = new ApiClient(runtime);

    // First run: the console page of the setup link, the API's check of its token, then the setup itself.
    const setupLink = (await runtime.services.setup.prepare())!;
    secrets.setupToken = tokenOf(setupLink);
    await anonymous.get(pathOf(setupLink));
    await anonymous.get(`/api/v1/setup?token=${encodeURIComponent(secrets.setupToken)}`);
    const email = 'ada@city.example';
    assert.equal((await anonymous.post('/api/v1/setup', { token: secrets.setupToken, organizationName: 'City', name: 'Ada', email, password: PASSWORD })).status, 201);
    const admin = new ApiClient(runtime);
    assert.equal((await admin.login(email, PASSWORD)).status, 200);
    secrets.session = admin.cookie!.split('=')[1]!;
    secrets.csrf = admin.csrf!;

    // An invitation, opened and accepted.
    const invitation = await admin.post('/api/v1/invitations', { email: uniqueEmail('viewer'), role: 'viewer' });
    assert.equal(invitation.status, 201, JSON.stringify(invitation.body));
    secrets.invitationToken = tokenOf(invitation.body.inviteUrl);
    await anonymous.get(pathOf(invitation.body.inviteUrl));
    await anonymous.get(`/api/v1/auth/invitation?token=${encodeURIComponent(secrets.invitationToken)}`);
    assert.equal((await new ApiClient(runtime).register({ invitationToken: secrets.invitationToken, password: PASSWORD })).status, 201);

    // A password reset, from the emailed link's page to the new password.
    await anonymous.post('/api/v1/auth/password-reset/request', { email });
    await eventually(() => sink.received.some((m) => m.raw.includes('reset-password')), 'the reset email');
    const mail = sink.received.find((m) => m.raw.includes('reset-password'))!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    secrets.resetToken = /reset-password\?token=([\w-]+)/.exec(mail)![1]!;
    await anonymous.get(`/reset-password?token=${secrets.resetToken}`);
    assert.equal((await anonymous.post('/api/v1/auth/password-reset/confirm', { token: secrets.resetToken, newPassword: 'the new long secret' })).status, 200);
    assert.equal((await admin.login(email, 'the new long secret')).status, 200);

    // An API token used as a bearer token.
    const apiToken = await admin.post('/api/v1/auth/tokens', { name: 'script', currentPassword: 'the new long secret' });
    secrets.apiToken = apiToken.body.token;
    const script = new ApiClient(runtime);
    script.bearer = secrets.apiToken;
    assert.equal((await script.get('/api/v1/auth/me')).status, 200);

    // A radar's key, its photo upload URL (the signed token in the path) and the upload itself.
    const radar = await admin.post('/api/v1/devices', { kind: 'speed_radar', name: 'Oak', serial: 'LOG-1', speedLimit: 25 });
    secrets.deviceKey = radar.body.apiKey;
    const inject = (options: InjectOptions) => runtime.app.inject(options);
    const events = await inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': secrets.deviceKey, 'content-type': 'application/json' },
      payload: '{"events": [{"timestamp": "2025-06-01T07:30:00.500000", "speed": 47.0, "speed_limit": 25.0, "is_speeding": 1, "has_photo": true}]}',
    });
    const eventId = events.json().created_events[0].event_id as string;
    const issued = (await inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/url`, headers: { 'x-api-key': secrets.deviceKey } })).json();
    secrets.uploadToken = new URL(issued.upload_url).pathname.split('/').pop()!;
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 90, b: 160 } } }).jpeg().toBuffer();
    assert.equal((await inject({ method: 'PUT', url: pathOf(issued.upload_url), headers: { 'content-type': 'image/jpeg' }, payload: jpeg })).statusCode, 200);
    // A public photo link is an opaque token too, whether or not it is still good; and any `key=` or `signature=`.
    secrets.photoLink = 'community-photo-token-0123456789abcdef';
    await anonymous.get(`/api/v1/public/photos/${secrets.photoLink}`);
    secrets.signature = 'sig-9f8e7d6c5b4a39281706';
    await anonymous.get(`/api/v1/public/overview?key=${secrets.deviceKey}&signature=${secrets.signature}`);

    // A camera with credentials.
    const camera = await admin.post('/api/v1/devices', { kind: 'camera', name: 'Gate', serial: 'LOG-CAM' });
    secrets.cameraPassword = 'Gate-7 s3cret!';
    const credentials = await admin.request('PUT', `/api/v1/cameras/${camera.body.device.id}/credentials`, { username: 'gatekeeper', password: secrets.cameraPassword });
    assert.equal(credentials.status, 200);

    const leaked = Object.entries(secrets).filter(([, secret]) => logs.some((line) => line.includes(secret))).map(([name]) => name);
    assert.deepEqual(leaked, [], 'secrets found in the log');
    assert.ok(logs.some((line) => line.includes('photo-uploads/[redacted]')), 'request lines are logged, with the secret replaced');
  });
});
