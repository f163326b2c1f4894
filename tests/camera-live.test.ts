import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { jpegSize } from '../src/server/cameras/decoder/jpeg-frames.js';
import type { Frame } from '../src/server/cameras/decoder/frame-hub.js';
import { MjpegWriter } from '../src/server/cameras/live/mjpeg.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { getBytes, MjpegStream } from './helpers/mjpeg.js';
import { CliProcess, eventually, sleep } from './helpers/process.js';
import { makeClip, RtspResponder, tempDir } from './helpers/rtsp.js';

// Real ffmpeg decoding a real RTSP stream (a small RTSP server over TCP fed by ffmpeg), real HTTP clients.
const SIZE = 320;
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

const isJpeg = (data: Buffer) => data[0] === 0xff && data[1] === 0xd8 && data.at(-2) === 0xff && data.at(-1) === 0xd9;

/** Decoder processes (ffmpeg children of this test process) reading the RTSP server on `port`. */
function decodersReading(port: number): number {
  let count = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.startsWith('ffmpeg') && cmdline.includes(`127.0.0.1:${port}/`)) count += 1;
    } catch {
      // the process ended meanwhile
    }
  }
  return count;
}

describe('camera live view', () => {
  let app: TestApp;
  let baseUrl: string;
  let owner: SignedIn;
  let dir: string;
  let responder: RtspResponder;
  let cameraId: string;
  const streams: MjpegStream[] = [];
  let serial = 0;

  const metrics = () => app.runtime.ctx.metrics.registry.metrics();
  const cookieOf = (who: SignedIn) => who.client.cookie;
  async function open(who: SignedIn | null, id: string): Promise<MjpegStream> {
    const stream = await MjpegStream.open(`${baseUrl}/api/v1/cameras/${id}/stream`, { cookie: who ? cookieOf(who) : undefined });
    streams.push(stream);
    return stream;
  }
  async function register(org: SignedIn, fields: Record<string, unknown> = {}): Promise<string> {
    serial += 1;
    const device = await org.client.post('/api/v1/devices', { kind: 'camera', name: `Gate camera ${serial}`, serial: `LIVE-${serial}`, ...fields });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const id = device.body.device.id as string;
    const patched = await org.client.patch(`/api/v1/cameras/${id}`, { rtspUrl: responder.url(), inferenceSize: SIZE, targetFps: 2 });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    return id;
  }
  async function online(id: string): Promise<void> {
    await app.runtime.services.decoders.start(id);
    assert.ok(await eventually(() => app.runtime.services.decoders.latestFrame(id) !== null, 20_000), 'the camera delivers frames');
  }

  before(async () => {
    dir = tempDir();
    responder = await RtspResponder.start({ clip: makeClip(dir) });
    app = await startTestApp({ streamHeartbeatSeconds: 1, cameraLiveMaxViewers: 6, cameraLiveMaxStreamsPerUser: 5 });
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
    owner = await app.owner('Builders');
    cameraId = await register(owner);
    await online(cameraId);
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await app.close();
    await responder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an <img> with the session cookie gets MJPEG: whole JPEG frames at the inference size, the latest at once', async () => {
    const stream = await open(owner, cameraId);
    assert.equal(stream.status, 200);
    assert.equal(stream.response.headers['content-type'], 'multipart/x-mixed-replace; boundary=vigil-frame');
    assert.match(String(stream.response.headers['cache-control']), /no-store/);
    assert.ok(await stream.waitForParts(3), `frames arrive (got ${stream.parts.length})`);
    for (const part of stream.parts) {
      assert.equal(part.headers['content-type'], 'image/jpeg');
      assert.ok(isJpeg(part.body), 'a whole JPEG');
      assert.deepEqual(jpegSize(part.body), { width: SIZE, height: SIZE });
    }
    const times = stream.parts.map((p) => Date.parse(p.headers['x-frame-time']!));
    assert.deepEqual([...times].sort((a, b) => a - b), times, 'frames in order');
    stream.close();
  });

  it('a snapshot is the latest frame as image/jpeg, never cached', async () => {
    const snapshot = await getBytes(`${baseUrl}/api/v1/cameras/${cameraId}/snapshot`, { cookie: cookieOf(owner) });
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.headers['content-type'], 'image/jpeg');
    assert.equal(snapshot.headers['cache-control'], 'no-store');
    assert.ok(isJpeg(snapshot.body));
    assert.deepEqual(jpegSize(snapshot.body), { width: SIZE, height: SIZE });
  });

  it('five viewers cost one decode: one ffmpeg, the same frames for all, decoded frames do not multiply', async () => {
    assert.equal(decodersReading(responder.port), 1, 'one decoder before anyone watches');
    const framesDecoded = async () => Number(new RegExp(`vigil_camera_frames_total\\{camera="${cameraId}"\\} (\\d+)`).exec(await metrics())?.[1] ?? NaN);
    const before = await framesDecoded();
    const startedAt = Date.now();
    const viewers = await Promise.all(Array.from({ length: 5 }, () => open(owner, cameraId)));
    for (const viewer of viewers) assert.ok(await viewer.waitForParts(4), 'every viewer gets frames');
    assert.match(await metrics(), new RegExp(`vigil_camera_viewers\\{camera="${cameraId}"\\} 5`));
    assert.equal(decodersReading(responder.port), 1, 'still one decoder while five watch');
    const seconds = (Date.now() - startedAt) / 1000;
    const decoded = (await framesDecoded()) - before;
    // At 2 frames a second one decode gives about 2 × seconds frames; five decodes would give five times that.
    assert.ok(decoded <= Math.ceil(seconds * 2) + 3, `${decoded} frames decoded in ${seconds.toFixed(1)} s`);
    const timesOf = (stream: MjpegStream) => stream.parts.slice(1, 4).map((p) => p.headers['x-frame-time']);
    const [first, ...others] = viewers;
    for (const other of others) {
      for (const time of timesOf(other)) assert.ok(first!.parts.some((p) => p.headers['x-frame-time'] === time), 'the very same frames');
    }
    for (const viewer of viewers) viewer.close();
    assert.ok(await eventually(async () => !(await metrics()).includes(`vigil_camera_viewers{camera="${cameraId}"}`), 5000), 'the gauge is dropped when nobody watches');
  });

  it('watching a camera nobody decodes starts no decoder; its snapshot is 503 with the reason', async () => {
    const idle = await register(owner);
    const stream = await open(owner, idle);
    assert.equal(stream.status, 200);
    await sleep(1500);
    assert.equal(stream.parts.length, 0);
    assert.ok(!app.runtime.services.decoders.cameraIds().includes(idle), 'viewing starts no decoder');
    const snapshot = await getBytes(`${baseUrl}/api/v1/cameras/${idle}/snapshot`, { cookie: cookieOf(owner) });
    assert.equal(snapshot.status, 503);
    assert.equal(snapshot.headers['retry-after'], '5');
    assert.match(JSON.parse(snapshot.body.toString()).error.message, /the camera is offline/);
    stream.close();
  });

  it('another organization\'s camera is 404, without a session 401; a member limited to some sites sees only their cameras', async () => {
    const other = await app.owner('Rival builders');
    assert.equal((await open(other, cameraId)).status, 404);
    assert.equal((await getBytes(`${baseUrl}/api/v1/cameras/${cameraId}/snapshot`, { cookie: cookieOf(other) })).status, 404);
    assert.equal((await open(null, cameraId)).status, 401);
    assert.equal((await getBytes(`${baseUrl}/api/v1/cameras/${cameraId}/snapshot`)).status, 401);

    const north = (await owner.client.post('/api/v1/sites', { name: 'North gate' })).body.id as string;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South gate' })).body.id as string;
    const northCam = await register(owner, { siteId: north });
    const southCam = await register(owner, { siteId: south });
    const guard = await app.member(owner, 'viewer', [north]);
    const allowed = await open(guard, northCam);
    assert.equal(allowed.status, 200, 'a viewer may watch the cameras of their site');
    allowed.close();
    assert.equal((await open(guard, southCam)).status, 404);
    assert.equal((await open(guard, cameraId)).status, 404, 'a camera without a site is not theirs either');
    assert.equal((await getBytes(`${baseUrl}/api/v1/cameras/${southCam}/snapshot`, { cookie: cookieOf(guard) })).status, 404);
  });

  it('a stream ends on sign-out, when the member loses the camera\'s site, and when the camera is deleted', async () => {
    const site = (await owner.client.post('/api/v1/sites', { name: 'Yard' })).body.id as string;
    const other = (await owner.client.post('/api/v1/sites', { name: 'Depot' })).body.id as string;
    const yardCam = await register(owner, { siteId: site });
    await online(yardCam);
    const operator = await app.member(owner, 'operator', [site]);
    const moved = await app.member(owner, 'manager', [site]);

    const signedOut = await open(operator, yardCam);
    assert.ok(await signedOut.waitForParts(1));
    assert.equal((await operator.client.post('/api/v1/auth/logout')).status, 204);
    assert.ok(await signedOut.closedWithin(5000), 'sign-out closes the stream');

    const restricted = await open(moved, yardCam);
    assert.ok(await restricted.waitForParts(1));
    assert.equal((await owner.client.patch(`/api/v1/members/${moved.userId}`, { siteIds: [other] })).status, 200);
    assert.ok(await restricted.closedWithin(5000), 'losing the site closes the stream');

    const deleted = await open(owner, yardCam);
    assert.ok(await deleted.waitForParts(1));
    assert.equal((await owner.client.delete(`/api/v1/devices/${yardCam}`)).status, 204);
    assert.ok(await deleted.closedWithin(5000), 'deleting the camera closes the stream');
    await app.runtime.services.decoders.stop(yardCam);
  });

  it('caps live views per user and per camera (429 with the reason)', async () => {
    const mine = await Promise.all(Array.from({ length: 5 }, () => open(owner, cameraId)));
    assert.deepEqual(mine.map((s) => s.status), [200, 200, 200, 200, 200]);
    const sixth = await open(owner, cameraId);
    assert.equal(sixth.status, 429);
    assert.ok(await sixth.closedWithin(5000));
    assert.match(JSON.parse(sixth.text()).error.message, /you already have 5 live camera views open/);

    const colleague = await app.member(owner, 'viewer');
    assert.equal((await open(colleague, cameraId)).status, 200, 'the sixth viewer of the camera');
    const seventh = await open(colleague, cameraId);
    assert.equal(seventh.status, 429);
    assert.ok(await seventh.closedWithin(5000));
    assert.match(JSON.parse(seventh.text()).error.message, /this camera already has 6 live viewers/);
    for (const stream of streams) stream.close();
    assert.ok(await eventually(() => app.runtime.services.live.viewerCount(cameraId) === 0, 5000));
    assert.equal((await open(owner, cameraId)).status, 200, 'closed views free their places');
  });
});

describe('camera live view: a slow viewer', () => {
  it('does not build up frames in memory: it is handed the newest frame when its connection drains', async () => {
    const frameBytes = 256 * 1024;
    const frames = 120;
    let writer: MjpegWriter | undefined;
    let response: http.ServerResponse | undefined;
    const server = http.createServer((_request, res) => {
      res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=vigil-frame' });
      res.flushHeaders();
      response = res;
      writer = new MjpegWriter(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const stream = await MjpegStream.open(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      stream.pause(); // the viewer reads nothing
      const jpeg = Buffer.alloc(frameBytes, 0x11);
      let mostBuffered = 0;
      for (let sequence = 1; sequence <= frames; sequence += 1) {
        const frame: Frame = { cameraId: 'c', jpeg, at: Date.UTC(2025, 0, 1) + sequence * 1000, sequence, origin: 'camera' };
        writer!.deliver(frame);
        mostBuffered = Math.max(mostBuffered, response!.writableLength);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(mostBuffered <= 2 * (frameBytes + 1024), `at most one frame waits in the server (${mostBuffered} bytes buffered at most)`);
      assert.ok(writer!.dropped > 0, `frames were held back for the slow viewer (sent ${writer!.sent}, dropped ${writer!.dropped})`);
      stream.resume();
      const last = new Date(Date.UTC(2025, 0, 1) + frames * 1000).toISOString();
      assert.ok(await eventually(() => stream.parts.at(-1)?.headers['x-frame-time'] === last, 10_000, 20), 'the newest frame reaches the viewer');
      assert.equal(stream.parts.length, writer!.sent);
      stream.close();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** Fails (does not skip) when Redis is unreachable: CI runs it. */
async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis at ${REDIS_URL} is not reachable (set TEST_REDIS_URL): ${(error as Error).message}`);
  }
  return redis;
}

describe('camera live view across processes (Redis)', () => {
  const redisPrefix = `vigil-live-test-${randomBytes(4).toString('hex')}`;
  let app: TestApp;
  let baseUrl: string;
  let owner: SignedIn;
  let dir: string;
  let dataDir: string;
  let responder: RtspResponder;
  let worker: CliProcess | undefined;
  let redis: Redis;

  before(async () => {
    redis = await connectRedis();
    dir = tempDir();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-live-worker-'));
    responder = await RtspResponder.start({ clip: makeClip(dir) });
    // This test process serves HTTP and decodes nothing (no leases); a `vigil worker` process decodes the camera.
    app = await startTestApp({ redisUrl: REDIS_URL, redisPrefix, streamHeartbeatSeconds: 1 });
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
    owner = await app.owner('Builders');
  });
  after(async () => {
    worker?.killGroup();
    await app?.close();
    await responder?.stop();
    redis?.disconnect();
    for (const folder of [dir, dataDir]) if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('a viewer on a server that does not decode the camera gets its frames over Redis, sent only while someone watches', { timeout: 120_000 }, async () => {
    const device = await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Crane camera', serial: 'CRANE-1' });
    const id = device.body.device.id as string;
    assert.equal((await owner.client.patch(`/api/v1/cameras/${id}`, { rtspUrl: responder.url(), inferenceSize: SIZE, targetFps: 2 })).status, 200);

    const published: number[] = [];
    const listener = redis.duplicate();
    await listener.subscribe(`${redisPrefix}:frames:${id}`);
    listener.on('messageBuffer', () => published.push(Date.now()));
    worker = new CliProcess(['worker'], {
      DATABASE_URL: app.databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info', REDIS_URL, REDIS_PREFIX: redisPrefix,
      CAMERA_LEASE_SECONDS: '3', CAMERA_LEASE_HEARTBEAT_SECONDS: '1', ENCRYPTION_KEY: app.runtime.ctx.secrets.encryptionKey,
    });
    try {
      await worker.waitForOutput(/worker started/, 60_000);
      const status = async () => (await owner.client.get(`/api/v1/cameras/${id}`)).body.status as string;
      assert.ok(await eventually(async () => (await status()) === 'online', 30_000, 200), `the worker decodes the camera\n${worker.output()}`);
      assert.deepEqual(app.runtime.services.decoders.cameraIds(), [], 'the serving process decodes nothing');
      await sleep(2000);
      assert.equal(published.length, 0, 'no frames travel while nobody watches');

      const snapshot = await getBytes(`${baseUrl}/api/v1/cameras/${id}/snapshot`, { cookie: owner.client.cookie });
      assert.equal(snapshot.status, 200, snapshot.body.toString());
      assert.ok(isJpeg(snapshot.body));

      const viewers = await Promise.all([0, 1].map(() => MjpegStream.open(`${baseUrl}/api/v1/cameras/${id}/stream`, { cookie: owner.client.cookie })));
      for (const viewer of viewers) {
        assert.equal(viewer.status, 200);
        assert.ok(await viewer.waitForParts(3, 20_000), `frames from the worker (got ${viewer.parts.length})`);
        for (const part of viewer.parts) assert.deepEqual(jpegSize(part.body), { width: SIZE, height: SIZE });
      }
      const watching = published.length;
      assert.ok(watching >= 3);
      for (const viewer of viewers) viewer.close();
      // The worker stops once the watch is not renewed (6 s); frames decoded after that stay in the worker.
      assert.ok(await eventually(() => published.length > 0 && Date.now() - published.at(-1)! > 2500, 15_000, 250), 'frames stop when nobody watches');
      const stoppedAt = published.length;
      await sleep(1500);
      assert.equal(published.length, stoppedAt);
    } finally {
      listener.disconnect();
      worker.killGroup('SIGTERM');
      await worker.exitWithin(20_000);
    }
  });
});
