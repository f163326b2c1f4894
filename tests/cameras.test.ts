import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';

const PASSWORD = 'Gate-7 s3cret!';
const MAX_PLACEHOLDER_BYTES = 256 * 1024;

/** A multipart/form-data body with one file field, as a browser sends it. */
function upload(client: ApiClient, url: string, data: Buffer, fileName: string) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: video/mp4\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

describe('cameras', () => {
  let app: TestApp;
  let owner: SignedIn;
  let clip: Buffer;
  const logs: string[] = [];
  let serial = 0;
  const register = (org: SignedIn, fields: Record<string, unknown> = {}) =>
    org.client.post('/api/v1/devices', { kind: 'camera', name: `Gate camera ${++serial}`, serial: `CAM-${serial}`, ...fields });

  before(async () => {
    // A real one-second MP4; no ffmpeg on the machine fails these tests (CI installs it), it does not skip them.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-clip-'));
    const file = path.join(dir, 'clip.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-t', '1', '-pix_fmt', 'yuv420p', file]);
    clip = fs.readFileSync(file);
    fs.rmSync(dir, { recursive: true, force: true });
    const logger = pino({ level: 'trace' }, { write: (line: string) => logs.push(line) });
    app = await startTestApp({ cameraPlaceholderMaxBytes: MAX_PLACEHOLDER_BYTES }, { logger });
    owner = await app.owner('Builders');
  });
  after(async () => app.close());

  it('registering a device of kind camera makes its camera, offline, with the default settings', async () => {
    const device = await register(owner);
    assert.equal(device.status, 201);
    const camera = await owner.client.get(`/api/v1/cameras/${device.body.device.id}`);
    assert.equal(camera.status, 200);
    assert.deepEqual(
      { source: camera.body.source, rtspUrl: camera.body.rtspUrl, rtspTransport: camera.body.rtspTransport, hasCredentials: camera.body.hasCredentials, placeholder: camera.body.placeholder, inferenceSize: camera.body.inferenceSize, targetFps: camera.body.targetFps, status: camera.body.status, fallbackAfterFailures: camera.body.fallbackAfterFailures },
      { source: 'rtsp', rtspUrl: null, rtspTransport: 'tcp', hasCredentials: false, placeholder: null, inferenceSize: 640, targetFps: 0.5, status: 'offline', fallbackAfterFailures: 5 },
    );
    const list = await owner.client.get('/api/v1/cameras');
    assert.ok(list.body.items.some((c: { id: string }) => c.id === device.body.device.id));
    assert.equal((await owner.client.get('/api/v1/cameras/presets')).body.inferenceSizes.length, 3, 'the presets route is not taken for an id');
  });

  it('configures a camera; bad settings answer 400 naming the field, and an address with credentials is refused without being echoed', async () => {
    const id = (await register(owner)).body.device.id;
    const good = await owner.client.patch(`/api/v1/cameras/${id}`, {
      rtspUrl: 'rtsp://192.168.1.20:554/stream1', rtspTransport: 'udp', inferenceSize: 1080, targetFps: 2, zone: 'Loading bay', position: { x: 0.25, y: 0.75 }, lat: 51.5, lon: -0.12, fallbackAfterFailures: 3,
    });
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.deepEqual([good.body.rtspUrl, good.body.rtspTransport, good.body.inferenceSize, good.body.targetFps, good.body.zone, good.body.position, good.body.lat, good.body.fallbackAfterFailures],
      ['rtsp://192.168.1.20:554/stream1', 'udp', 1080, 2, 'Loading bay', { x: 0.25, y: 0.75 }, 51.5, 3]);
    const bad: [Record<string, unknown>, string][] = [
      [{ rtspUrl: 'http://192.168.1.20/stream' }, 'rtspUrl'],
      [{ rtspUrl: 'not a url' }, 'rtspUrl'],
      [{ targetFps: 5 }, 'targetFps'],
      [{ targetFps: 0.1 }, 'targetFps'],
      [{ inferenceSize: 4000 }, 'inferenceSize'],
      [{ source: 'webcam' }, 'source'],
      [{ position: { x: 1.5, y: 0 } }, 'position.x'],
      [{ usePlaceholder: true }, 'usePlaceholder'],
      [{ source: 'file' }, 'source'],
      [{ lat: 10 }, 'lat'],
    ];
    for (const [body, field] of bad) {
      const response = await owner.client.patch(`/api/v1/cameras/${id}`, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.ok(response.body.error.details.some((d: { field: string }) => d.field === field), `${JSON.stringify(body)} → ${JSON.stringify(response.body.error.details)}`);
    }
    const withUser = await owner.client.patch(`/api/v1/cameras/${id}`, { rtspUrl: `rtsp://admin:${encodeURIComponent(PASSWORD)}@192.168.1.20/stream` });
    assert.equal(withUser.status, 400);
    assert.match(withUser.body.error.message, /credentials/);
    assert.ok(!JSON.stringify(withUser.body).includes(encodeURIComponent(PASSWORD)), 'the refused address is not repeated');
    assert.equal((await owner.client.get(`/api/v1/cameras/${id}`)).body.rtspUrl, 'rtsp://192.168.1.20:554/stream1', 'nothing of a refused change is kept');
  });

  it('credentials are sealed at rest and never leave the server: not in answers, the audit log or the logs', async () => {
    const id = (await register(owner)).body.device.id;
    const answers = [];
    const set = await app.runtime.app.inject({
      method: 'PUT', url: `/api/v1/cameras/${id}/credentials`, payload: { username: 'gatekeeper', password: PASSWORD },
      headers: { cookie: owner.client.cookie!, 'x-csrf-token': owner.client.csrf! },
    });
    assert.equal(set.statusCode, 200);
    assert.equal(set.json().hasCredentials, true);
    answers.push(set.body);
    answers.push((await owner.client.get(`/api/v1/cameras/${id}`)).body);
    answers.push((await owner.client.get('/api/v1/cameras?limit=200')).body);
    answers.push((await owner.client.patch(`/api/v1/cameras/${id}`, { zone: 'Gate 7' })).body);
    for (const answer of answers) {
      const text = JSON.stringify(answer);
      assert.ok(!text.includes(PASSWORD) && !text.includes('gatekeeper'), text);
    }

    const stored = await app.runtime.ctx.pool.query('SELECT credentials_sealed FROM cameras WHERE device_id = $1', [id]);
    assert.ok(!stored.rows[0].credentials_sealed.includes(PASSWORD) && !stored.rows[0].credentials_sealed.includes('gatekeeper'));
    assert.deepEqual((await app.runtime.services.cameras.sourceFor(id)).credentials, { username: 'gatekeeper', password: PASSWORD }, 'the decoder gets them back');

    const audit = await owner.client.get(`/api/v1/audit?resourceType=camera&resourceId=${id}`);
    assert.deepEqual(audit.body.items.map((e: { action: string }) => e.action), ['camera.updated', 'camera.credentials_changed']);
    const auditRows = JSON.stringify((await app.runtime.ctx.pool.query('SELECT * FROM audit_log')).rows);
    assert.ok(!auditRows.includes(PASSWORD) && !auditRows.includes('gatekeeper'), 'the audit log says only that they changed');
    assert.ok(logs.length > 0, 'the server logged (trace level)');
    assert.ok(!logs.some((line) => line.includes(PASSWORD)), 'the password is in no log line');

    const removed = await owner.client.delete(`/api/v1/cameras/${id}/credentials`);
    assert.equal(removed.body.hasCredentials, false);
    assert.equal((await app.runtime.services.cameras.sourceFor(id)).credentials, null);
  });

  it('a placeholder video is accepted once ffprobe reads it; other files are refused with the reason, oversize ones by size', async () => {
    const id = (await register(owner)).body.device.id;
    const accepted = await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, clip, 'yard.mp4');
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const first = accepted.body.placeholder;
    assert.deepEqual([first.contentType, first.width, first.height, first.fileName], ['video/mp4', 160, 120, 'yard.mp4']);
    assert.ok(Math.abs(first.durationSeconds - 1) < 0.2, String(first.durationSeconds));
    const key = (await app.runtime.services.cameras.sourceFor(id)).placeholder!.storageKey;
    assert.ok(await app.runtime.ctx.media.exists(key), 'stored in the media storage');

    const text = await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, Buffer.from('this is a shopping list, not a video\n'.repeat(20)), 'video.mp4');
    assert.equal(text.status, 415);
    assert.match(text.body.error.message, /could not be read as a video/);
    assert.ok(!text.body.error.message.includes(os.tmpdir()), 'the temporary path is not shown');
    const big = await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, Buffer.alloc(MAX_PLACEHOLDER_BYTES + 1024, 1), 'big.mp4');
    assert.equal(big.status, 413);
    assert.match(big.body.error.message, /at most/);
    assert.equal((await owner.client.get(`/api/v1/cameras/${id}`)).body.placeholder.uploadedAt, first.uploadedAt, 'refused uploads change nothing');

    const use = await owner.client.patch(`/api/v1/cameras/${id}`, { usePlaceholder: true, source: 'file' });
    assert.equal(use.status, 200);
    const replaced = await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, clip, 'yard-2.mp4');
    assert.equal(replaced.body.placeholder.fileName, 'yard-2.mp4');
    assert.equal(await app.runtime.ctx.media.exists(key), false, 'the replaced video is removed');
  });

  it("another organization's camera answers 404 to every route and is in no list", async () => {
    const other = await app.owner('Rivals');
    const id = (await register(other)).body.device.id;
    const attempts = [
      await owner.client.get(`/api/v1/cameras/${id}`),
      await owner.client.patch(`/api/v1/cameras/${id}`, { zone: 'Mine' }),
      await owner.client.request('PUT', `/api/v1/cameras/${id}/credentials`, { username: 'x', password: 'y' }),
      await owner.client.delete(`/api/v1/cameras/${id}/credentials`),
      await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, clip, 'x.mp4'),
    ];
    assert.deepEqual(attempts.map((r) => r.status), [404, 404, 404, 404, 404]);
    assert.ok(!(await owner.client.get('/api/v1/cameras?limit=200')).body.items.some((c: { id: string }) => c.id === id));
  });

  it('admins configure; managers, operators and viewers only look; only admins register or delete a camera', async () => {
    const id = (await register(owner)).body.device.id;
    const as: Record<string, SignedIn> = {};
    for (const role of ['admin', 'manager', 'operator', 'viewer'] as const) as[role] = await app.member(owner, role);
    for (const role of ['manager', 'operator', 'viewer']) {
      const client = as[role]!.client;
      assert.equal((await client.get(`/api/v1/cameras/${id}`)).status, 200, role);
      assert.equal((await client.patch(`/api/v1/cameras/${id}`, { zone: 'Hacked' })).status, 403, role);
      assert.equal((await client.request('PUT', `/api/v1/cameras/${id}/credentials`, { username: 'x', password: 'y' })).status, 403, role);
      assert.equal((await upload(client, `/api/v1/cameras/${id}/placeholder`, clip, 'x.mp4')).status, 403, role);
    }
    const byManager = await register(as.manager!);
    assert.equal(byManager.status, 403, 'a manager registers other devices, not cameras');
    assert.equal((await as.manager!.client.delete(`/api/v1/devices/${id}`)).status, 403);
    assert.equal((await as.admin!.client.patch(`/api/v1/cameras/${id}`, { zone: 'North gate' })).status, 200);
    assert.equal((await as.admin!.client.delete(`/api/v1/devices/${id}`)).status, 204);
    assert.equal((await owner.client.get(`/api/v1/cameras/${id}`)).status, 404, 'deleting the device deletes its camera');
  });

  it('a member limited to some sites sees only their cameras, and a camera follows its device to another site', async () => {
    const org = await app.owner('Sites');
    const north = (await org.client.post('/api/v1/sites', { name: 'North' })).body.id;
    const south = (await org.client.post('/api/v1/sites', { name: 'South' })).body.id;
    const northCam = (await register(org, { siteId: north })).body.device.id;
    const southCam = (await register(org, { siteId: south })).body.device.id;
    await register(org);
    const viewer = await app.member(org, 'viewer', [north]);
    const seen = async () => (await viewer.client.get('/api/v1/cameras')).body.items.map((c: { id: string }) => c.id);
    assert.deepEqual(await seen(), [northCam]);
    assert.equal((await viewer.client.get(`/api/v1/cameras/${southCam}`)).status, 404);
    assert.equal((await org.client.get('/api/v1/cameras')).body.items.length, 3);
    assert.equal((await org.client.patch(`/api/v1/devices/${southCam}`, { siteId: north })).status, 200);
    assert.deepEqual((await seen()).sort(), [northCam, southCam].sort());
  });

  it('the plan limit max_cameras refuses one camera too many (403 plan_limit), not other devices', async () => {
    const org = await app.owner('Small plan');
    const plan = await app.superadmin.client.patch(`/api/v1/organizations/${org.orgId}`, { maxCameras: 1 });
    assert.equal(plan.status, 200);
    assert.equal(plan.body.maxCameras, 1);
    assert.equal((await register(org)).status, 201);
    const second = await register(org);
    assert.equal(second.status, 403);
    assert.equal(second.body.error.code, 'plan_limit');
    assert.match(second.body.error.message, /1 cameras/);
    assert.equal((await org.client.post('/api/v1/devices', { kind: 'sensor', name: 'Dust', serial: 'DUST-1' })).status, 201);
    assert.equal((await org.client.get('/api/v1/cameras')).body.items.length, 1, 'the refused camera left no device behind');
  });
});
