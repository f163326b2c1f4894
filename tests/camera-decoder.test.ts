import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import sharp from 'sharp';
import { DEFAULT_TIMING, DecoderSupervisor } from '../src/server/cameras/decoder/supervisor.js';
import type { Frame } from '../src/server/cameras/decoder/frame-hub.js';
import { jpegSize } from '../src/server/cameras/decoder/jpeg-frames.js';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually, freePort } from './helpers/process.js';
import { makeClip, RelayServer, RtspResponder, tempDir } from './helpers/rtsp.js';

// Real ffmpeg, rtsp-server-perl and RTSP over loopback; no ffmpeg or relay on the machine fails these tests (CI installs them).
const CREDENTIALS = { username: 'yard-admin', password: 'Gate-7 s3cret:@/%' };
const WRONG_PASSWORD = 'Wrong-Horse-4711';
const SIZE = 320;

function upload(client: ApiClient, url: string, data: Buffer) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="yard.mp4"\r\nContent-Type: video/mp4\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

describe('camera decoder', () => {
  let app: TestApp;
  let owner: SignedIn;
  let dir: string;
  let clip: string;
  let relay: RelayServer;
  let guarded: RtspResponder;
  let silent: RtspResponder;
  const logs: string[] = [];
  let serial = 0;

  /** A camera with these settings (and credentials), through the API as an admin would set it up. */
  async function camera(settings: Record<string, unknown>, credentials?: { username: string; password: string }): Promise<string> {
    const device = await owner.client.post('/api/v1/devices', { kind: 'camera', name: `Yard camera ${++serial}`, serial: `YARD-${serial}` });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const id = device.body.device.id as string;
    const patched = await owner.client.patch(`/api/v1/cameras/${id}`, { inferenceSize: SIZE, targetFps: 2, ...settings });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    if (credentials) assert.equal((await owner.client.request('PUT', `/api/v1/cameras/${id}/credentials`, credentials)).status, 200);
    return id;
  }

  const cameraOf = async (id: string) => (await owner.client.get(`/api/v1/cameras/${id}`)).body;
  async function statusBecomes(id: string, wanted: (camera: { status: string; statusCause: string | null }) => boolean, timeoutMs = 20_000) {
    let last: { status: string; statusCause: string | null } | undefined;
    const reached = await eventually(async () => wanted((last = await cameraOf(id))), timeoutMs, 100);
    assert.ok(reached, `camera status stayed ${JSON.stringify({ status: last?.status, cause: last?.statusCause })}`);
    return last!;
  }
  const decoders = () => app.runtime.services.decoders;
  const metrics = () => app.runtime.ctx.metrics.registry.metrics();

  before(async () => {
    dir = tempDir();
    clip = makeClip(dir);
    const logger = pino({ level: 'trace' }, { write: (line: string) => logs.push(line) });
    app = await startTestApp({ cameraWatchdogSeconds: 2 }, { logger });
    owner = await app.owner('Builders');
    [relay, guarded, silent] = await Promise.all([RelayServer.start(clip), RtspResponder.start({ clip, credentials: CREDENTIALS }), RtspResponder.start()]);
  });
  after(async () => {
    await app.close();
    await Promise.all([relay.stop(), guarded.stop(), silent.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decodes a camera over TCP with its credentials: JPEG frames at the inference size to every subscriber, online, device seen, metrics', async () => {
    const id = await camera({ rtspUrl: guarded.url() }, CREDENTIALS);
    const first: Frame[] = [];
    const second: Frame[] = [];
    decoders().subscribe(id, (frame) => first.push(frame));
    decoders().subscribe(id, (frame) => second.push(frame));
    await decoders().start(id);
    assert.ok(await eventually(() => first.length >= 2, 20_000), 'frames arrive');
    const frame = first[0]!;
    assert.deepEqual([frame.jpeg[0], frame.jpeg[1], frame.jpeg.at(-2), frame.jpeg.at(-1)], [0xff, 0xd8, 0xff, 0xd9], 'a whole JPEG');
    assert.deepEqual(jpegSize(frame.jpeg), { width: SIZE, height: SIZE });
    assert.equal(frame.origin, 'camera');
    assert.ok(second.length >= 1, 'one decode feeds every consumer');
    await statusBecomes(id, (c) => c.status === 'online');
    assert.ok(await eventually(async () => (await owner.client.get(`/api/v1/devices/${id}`)).body.lastSeenAt !== null, 5000), 'the device is seen');
    assert.match(await metrics(), new RegExp(`vigil_camera_frames_total\\{camera="${id}"\\} [1-9]`));
    assert.deepEqual(guarded.authorizations.at(-1), `${CREDENTIALS.username}:${CREDENTIALS.password}`, 'ffmpeg sent the credentials as stored');
    await decoders().stop(id);
    assert.equal((await cameraOf(id)).status, 'offline');
    assert.doesNotMatch(await metrics(), new RegExp(`camera="${id}"`), 'a stopped camera\'s series are dropped');
  });

  it('a wrong password is an error "401 unauthorized"; the credentials appear in no log line, stderr line or answer', async () => {
    const id = await camera({ rtspUrl: guarded.url() }, { username: CREDENTIALS.username, password: WRONG_PASSWORD });
    await decoders().start(id);
    const failed = await statusBecomes(id, (c) => c.status === 'error');
    assert.match(failed.statusCause!, /^401 unauthorized/);
    const state = await owner.client.get(`/api/v1/cameras/${id}/decoder`);
    assert.equal(state.status, 200);
    assert.equal(state.body.running, true);
    assert.ok(state.body.stderrTail.some((line: string) => /401/.test(line)), JSON.stringify(state.body.stderrTail));
    await decoders().stop(id);
    const seen = [JSON.stringify(state.body), JSON.stringify(await cameraOf(id)), ...logs].join('\n');
    assert.ok(logs.some((line) => line.includes('ffmpeg')), 'ffmpeg lines are logged (at debug)');
    for (const secret of [WRONG_PASSWORD, CREDENTIALS.password, encodeURIComponent(CREDENTIALS.password), 'Gate-7']) {
      assert.ok(!seen.includes(secret), `"${secret}" was shown`);
    }
  });

  it('over UDP: a stall restarts the stream (watchdog), a stopped server is retried with backoff until it is back online', async () => {
    const id = await camera({ rtspUrl: relay.url, rtspTransport: 'udp' });
    await decoders().start(id);
    await statusBecomes(id, (c) => c.status === 'online');
    relay.pausePush();
    const stalled = await statusBecomes(id, (c) => c.status === 'error', 15_000);
    assert.match(stalled.statusCause!, /^no frames/);
    assert.match(await metrics(), new RegExp(`vigil_camera_reconnects_total\\{camera="${id}"\\} [1-9]`));
    relay.resumePush();
    await statusBecomes(id, (c) => c.status === 'online');
    await relay.halt();
    const refused = await statusBecomes(id, (c) => c.status === 'error' && /connection refused/.test(c.statusCause ?? ''), 15_000);
    assert.match(refused.statusCause!, /^connection refused/);
    await relay.resume();
    await statusBecomes(id, (c) => c.status === 'online', 25_000);
    await decoders().stop(id);
  });

  it('after fallbackAfterFailures failures the watermarked placeholder plays while the camera is retried', async () => {
    const id = await camera({ rtspUrl: `rtsp://127.0.0.1:${await freePort()}/cam`, fallbackAfterFailures: 2 });
    const uploaded = await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, fs.readFileSync(makeClip(dir, '320x240', 'placeholder.mp4')));
    assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
    const frames: Frame[] = [];
    decoders().subscribe(id, (frame) => frames.push(frame));
    await decoders().start(id);
    assert.ok(await eventually(() => frames.filter((f) => f.origin === 'placeholder').length >= 2, 20_000), 'placeholder frames flow');
    const status = await statusBecomes(id, (c) => c.status === 'error');
    assert.match(status.statusCause!, /^connection refused.*placeholder/);
    // The 320×240 picture is letterboxed into 320×320: the top band is black, unless the red DEMO band covers it.
    const placeholder = frames.find((f) => f.origin === 'placeholder')!;
    assert.deepEqual(jpegSize(placeholder.jpeg), { width: SIZE, height: SIZE });
    const { data } = await sharp(placeholder.jpeg).extract({ left: 2, top: 2, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    assert.ok(data[0]! > 100 && data[1]! < 60 && data[2]! < 60, `watermark band pixel ${[...data]}`);
    const reconnects = () => metrics().then((text) => Number(new RegExp(`vigil_camera_reconnects_total\\{camera="${id}"\\} (\\d+)`).exec(text)?.[1] ?? 0));
    const before = await reconnects();
    assert.ok(await eventually(async () => (await reconnects()) > before, 10_000), 'the camera is still retried');
    assert.match(await metrics(), new RegExp(`vigil_camera_fallback_active\\{camera="${id}"\\} 1`));
    await decoders().stop(id);
  });

  it('the connection test answers within 10 s with the frame size or the cause; admins only, rate-limited', async () => {
    const test = async (body: Record<string, unknown>) => {
      const started = Date.now();
      const response = await owner.client.post('/api/v1/cameras/test', body);
      assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
      return response;
    };
    const ok = await test({ rtspUrl: guarded.url(), ...CREDENTIALS });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.ok, ok.body.width, ok.body.height], [true, 320, 240]);
    const unauthorized = await test({ rtspUrl: guarded.url(), username: CREDENTIALS.username, password: WRONG_PASSWORD });
    assert.deepEqual([unauthorized.body.ok, unauthorized.body.cause.slice(0, 16)], [false, '401 unauthorized']);
    assert.ok(!JSON.stringify(unauthorized.body).includes(WRONG_PASSWORD));
    assert.match((await test({ rtspUrl: silent.url() })).body.cause, /^timeout/);
    assert.match((await test({ rtspUrl: `rtsp://127.0.0.1:${await freePort()}/cam` })).body.cause, /^connection refused/);
    const id = await camera({ rtspUrl: guarded.url() }, CREDENTIALS);
    const saved = await owner.client.post(`/api/v1/cameras/${id}/test`);
    assert.deepEqual([saved.status, saved.body.ok, saved.body.width], [200, true, 320]);

    const withPassword = await owner.client.post('/api/v1/cameras/test', { rtspUrl: `rtsp://admin:${WRONG_PASSWORD}@127.0.0.1/cam` });
    assert.equal(withPassword.status, 400);
    assert.ok(!JSON.stringify(withPassword.body).includes(WRONG_PASSWORD));
    const viewer = await app.member(owner, 'viewer');
    assert.equal((await viewer.client.post(`/api/v1/cameras/${id}/test`)).status, 403);

    const refused = `rtsp://127.0.0.1:${await freePort()}/cam`;
    let limited = null;
    for (let i = 0; i < 10 && !limited; i += 1) {
      const response = await owner.client.post('/api/v1/cameras/test', { rtspUrl: refused });
      if (response.status === 429) limited = response;
    }
    assert.ok(limited, 'tests are limited per admin');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });

  it('without ffmpeg the camera says so (status error)', async () => {
    const ctx = app.runtime.ctx;
    const missing = new DecoderSupervisor({ logger: ctx.logger, media: ctx.media, registry: ctx.metrics.registry }, app.runtime.services.cameras, {
      ...DEFAULT_TIMING, ffmpegPath: path.join(dir, 'no-ffmpeg-here'),
    });
    const id = await camera({ rtspUrl: relay.url });
    await missing.start(id);
    const status = await statusBecomes(id, (c) => c.status === 'error');
    assert.match(status.statusCause!, /^ffmpeg is not installed/);
    await missing.close();
  });

  describe('owned by the lease manager', () => {
    let leased: TestApp;
    let starts: string;

    before(async () => {
      // ffmpeg behind a script that notes each start, so the test counts the decoder processes launched.
      starts = path.join(dir, 'ffmpeg-starts.log');
      const wrapper = path.join(dir, 'counting-ffmpeg');
      fs.writeFileSync(wrapper, `#!/bin/sh\necho start >> '${starts}'\nexec ffmpeg "$@"\n`, { mode: 0o755 });
      leased = await startTestApp({ ffmpegPath: wrapper });
    });
    after(() => leased.close());

    it('one settings change restarts the camera once: one ffmpeg started, not two', async () => {
      const admin = await leased.owner('Lease Builders');
      const device = await admin.client.post('/api/v1/devices', { kind: 'camera', name: 'Hoist camera', serial: 'HOIST-1' });
      const id = device.body.device.id as string;
      assert.equal((await admin.client.patch(`/api/v1/cameras/${id}`, { rtspUrl: guarded.url('hoist'), inferenceSize: SIZE, targetFps: 2 })).status, 200);
      assert.equal((await admin.client.request('PUT', `/api/v1/cameras/${id}/credentials`, CREDENTIALS)).status, 200);
      const started = () => (fs.existsSync(starts) ? fs.readFileSync(starts, 'utf8').split('\n').filter(Boolean).length : 0);
      const frameAfter = async (at: number) => eventually(() => (leased.runtime.services.decoders.latestFrame(id)?.at ?? 0) > at, 20_000);
      leased.runtime.cameraLeases.start();
      assert.ok(await frameAfter(0), 'the worker decodes the camera');
      assert.equal(started(), 1);

      const changedAt = Date.now();
      assert.equal((await admin.client.patch(`/api/v1/cameras/${id}`, { targetFps: 1 })).status, 200);
      assert.ok(await eventually(() => started() >= 2, 20_000), 'the change restarts the decoder');
      // Two whole lease rounds after the restart began: any other restart of this change has been started by then.
      await leased.runtime.cameraLeases.tick();
      await leased.runtime.cameraLeases.tick();
      assert.ok(await frameAfter(changedAt), 'frames flow again');
      assert.equal(started() - 1, 1, 'ffmpeg started once for one change');
    });
  });
});
