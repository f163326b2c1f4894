import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import S3rver from 's3rver';
import sharp from 'sharp';
import { VERSION_CHECK_MS } from '../src/server/alerts/rule-book.js';
import { startCluster, type Cluster } from '../scripts/cluster.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually } from './helpers/process.js';
import { webhookReceiver } from './helpers/receivers.js';
import { SseStream } from './helpers/sse.js';

/**
 * The scale-out shape end to end: 2 × `vigil serve` and 2 × `vigil worker` as real processes on one
 * database, with Redis, the Mosquitto service as the devices' broker and an S3 API (s3rver) for media.
 * The servers run no jobs and decode no cameras (SERVE_RUNS_JOBS / SERVE_DECODES_CAMERAS false), so
 * whatever happens in the background here was done by a worker.
 */
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const MOSQUITTO_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const BUCKET = 'vigil-cluster';
const MQTT_MESSAGES = 60;
const CAMERAS = 4;

/** A browser's request to one of the servers, with the owner's cookie and CSRF token. */
async function call(base: string, who: SignedIn, method: string, url: string, body?: unknown) {
  const response = await fetch(`${base}${url}`, {
    method,
    redirect: 'manual',
    headers: { cookie: who.client.cookie!, 'x-csrf-token': who.client.csrf!, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = response.headers.get('content-type') ?? '';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies field by field
  const parsed: any = type.includes('json') ? await response.json() : await response.text();
  return { status: response.status, body: parsed, headers: response.headers };
}

/** A device's request (its key in x-api-key). */
async function send(base: string, key: string, url: string, body: unknown, method = 'POST') {
  const response = await fetch(`${base}${url}`, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function requireRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis at ${REDIS_URL} is not reachable (set TEST_REDIS_URL): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

describe('two servers and two workers on one database, Redis, Mosquitto and S3', { timeout: 150_000 }, () => {
  const run = randomBytes(4).toString('hex');
  const topicPrefix = `vigil-cluster-${run}`;
  const keys = { secretKey: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32).toString('hex') };
  let s3: S3rver;
  let s3Dir: string;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let app: TestApp;
  let owner: SignedIn;
  let cluster: Cluster | undefined;
  let a: string;
  let b: string;
  let readyAt = 0;
  let digestChannelId: string;

  const rows = async (text: string, params: unknown[] = []) => (await app.runtime.ctx.pool.query(text, params)).rows;
  const count = async (text: string, params: unknown[]) => Number((await rows(text, params))[0].n);
  async function device(base: string, body: Record<string, unknown>) {
    const created = await call(base, owner, 'POST', '/api/v1/devices', { serial: `CL-${randomBytes(4).toString('hex')}`, ...body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }
  const leaseCounts = async () => {
    const counts = new Map<string, number>();
    for (const { owner: holder } of await rows('SELECT owner FROM camera_leases WHERE expires_at > now()')) counts.set(holder, (counts.get(holder) ?? 0) + 1);
    return counts;
  };

  before(async () => {
    await requireRedis();
    s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cluster-s3-'));
    s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: s3Dir, silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
    const endpoint = `http://127.0.0.1:${((await s3.run()) as AddressInfo).port}`;
    receiver = await webhookReceiver();
    // The test's own runtime only prepares the database and signs the owner in (it runs no jobs).
    app = await startTestApp(keys);
    owner = await app.owner('Cluster Foods');
    cluster = await startCluster({
      servers: 2,
      workers: 2,
      name: `vigil-cluster-${run}`,
      env: {
        DATABASE_URL: app.databaseUrl, SECRET_KEY: keys.secretKey, ENCRYPTION_KEY: keys.encryptionKey,
        REDIS_URL, REDIS_PREFIX: `vigil-cluster-${run}`, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', WEBHOOK_ALLOW_PRIVATE: '127.0.0.1',
        S3_BUCKET: BUCKET, S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER', S3_FORCE_PATH_STYLE: 'true',
        CAMERA_LEASE_SECONDS: '3', CAMERA_LEASE_HEARTBEAT_SECONDS: '1', INGEST_MAX_AGE_DAYS: '36500',
      },
      serverEnv: { SERVE_RUNS_JOBS: 'false', SERVE_DECODES_CAMERAS: 'false' },
      workerEnv: { MQTT_URL: MOSQUITTO_URL, MQTT_TOPIC_PREFIX: topicPrefix, MQTT_BRIDGE_CONNECTIONS: '2' },
    });
    readyAt = Date.now();
    [a, b] = cluster.servers.map((s) => s.baseUrl!) as [string, string];
  });

  after(async () => {
    await cluster?.stop();
    // The workers' broker sessions are persistent: forget them, or Mosquitto keeps queueing for them.
    for (const worker of [1, 2]) {
      for (const id of [`vigil-cluster-${run}-worker-${worker}`, `vigil-cluster-${run}-worker-${worker}-1`]) {
        const cleaner = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: id, clean: true, reconnectPeriod: 0 }).catch(() => undefined);
        await cleaner?.endAsync();
      }
    }
    await app?.close();
    await receiver?.close();
    await s3?.close();
    fs.rmSync(s3Dir, { recursive: true, force: true });
  });

  it('an event ingested on server A reaches a live-stream client of server B', async () => {
    const radar = await device(a, { kind: 'speed_radar', name: 'Main St radar', speedLimit: 30 });
    const stream = await SseStream.open(b, { cookie: owner.client.cookie });
    try {
      assert.equal(stream.status, 200);
      const ingested = await send(a, radar.key, '/api/v1/ingest/events', { events: [{ client_ref: 'cl-1', ts: new Date().toISOString(), kind: 'speed', speed: 47 }] });
      assert.equal(ingested.status, 200, JSON.stringify(ingested.body));
      const seen = await stream.next((e) => e.event === 'events.ingested' && e.json?.deviceId === radar.id, 10_000, 'the event from server A');
      assert.equal((seen.json as { events: { speed: number }[] }).events[0]!.speed, 47);
    } finally {
      stream.close();
    }
  });

  it('a photo uploaded through server A is served by server B', async () => {
    const radar = await device(a, { kind: 'speed_radar', name: 'Photo radar', speedLimit: 25 });
    const upload = await send(a, radar.key, '/api/ingest/v1/events', { events: [{ timestamp: '2026-06-01T07:30:00', speed: 40, speed_limit: 25, is_speeding: 1, has_photo: true }] });
    const eventId = (upload.body.created_events as { event_id: string }[])[0]!.event_id;
    const issued = (await send(a, radar.key, `/api/ingest/v1/events/${eventId}/photo/url`, {})).body as { upload_url: string; photo_key: string };
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: 'white' } }).jpeg().toBuffer();
    const put = await fetch(`${a}${new URL(issued.upload_url).pathname}`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    assert.equal(put.status, 200, await put.text());
    const confirmed = await send(a, radar.key, `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(issued.photo_key)}`, {});
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));

    const photo = await call(b, owner, 'GET', `/api/v1/events/${eventId}/photo`);
    assert.equal(photo.status, 302);
    const stored = Buffer.from(await (await fetch(photo.headers.get('location')!)).arrayBuffer());
    assert.equal((await sharp(stored).metadata()).width, 640, 'server B hands out the photo server A stored');
  });

  it('an alert rule changed on server A is in force on server B; its notification waits for the digest', async () => {
    const channel = await call(a, owner, 'POST', '/api/v1/notification-channels', { name: 'Hourly hook', kind: 'webhook', url: receiver.url, digest: { every: 'minutes', minutes: 60 } });
    assert.equal(channel.status, 201, JSON.stringify(channel.body));
    digestChannelId = channel.body.channel.id;
    const rule = await call(a, owner, 'POST', '/api/v1/alert-rules', {
      name: 'Freezer warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, durationSeconds: 60, severity: 'major', channelIds: [digestChannelId],
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const freezer = await device(a, { kind: 'refrigeration', name: 'Shared freezer' });
    const readings = (temperature: number) => ({ items: [-3, -2, -1, 0].map((m) => ({ ts: new Date(Date.now() + m * 60_000).toISOString(), values: { temperature } })) });
    const alerts = async () => (await call(a, owner, 'GET', `/api/v1/alerts?deviceId=${freezer.id}`)).body.items as { ruleName: string }[];

    assert.equal((await send(b, freezer.key, '/api/v1/ingest/telemetry', readings(5))).status, 200); // B caches the rule book
    assert.deepEqual(await alerts(), []);
    assert.equal((await call(a, owner, 'PATCH', `/api/v1/alert-rules/${rule.body.id}`, { threshold: 4, clearThreshold: 3 })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, VERSION_CHECK_MS + 100));
    assert.equal((await send(b, freezer.key, '/api/v1/ingest/telemetry', readings(5))).status, 200);
    assert.deepEqual((await alerts()).map((alert) => alert.ruleName), ['Freezer warm'], 'server B applied the threshold lowered on A');

    const deliveries = (await call(a, owner, 'GET', `/api/v1/notification-channels/${digestChannelId}/deliveries`)).body.items as { status: string }[];
    assert.deepEqual(deliveries.map((d) => d.status), ['held']);
    // The window ends now, as the clock would make it: the workers' digest job (every 30 s) sends it.
    await app.runtime.ctx.pool.query("UPDATE notification_channels SET next_digest_at = now() - interval '1 second' WHERE id = $1", [digestChannelId]);
  });

  it('MQTT messages through the broker are stored exactly once across both workers', async () => {
    const sensor = await device(a, { kind: 'refrigeration', name: 'MQTT fridge' });
    const publisher = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `vigil-cluster-dev-${run}`, reconnectPeriod: 0, protocolVersion: 4 });
    try {
      const start = Date.parse('2026-03-20T00:00:00Z');
      await Promise.all(Array.from({ length: MQTT_MESSAGES }, (_, i) =>
        publisher.publishAsync(`${topicPrefix}/v1/telemetry`, JSON.stringify({ key: sensor.key, data: { ts: start + i * 1000, values: { t: i } } }), { qos: 1 })));
    } finally {
      await publisher.endAsync();
    }
    const stored = () => count('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [sensor.id]);
    assert.ok(await eventually(async () => (await stored()) >= MQTT_MESSAGES, 20_000), `stored ${await stored()} of ${MQTT_MESSAGES}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await stored(), MQTT_MESSAGES, 'no message stored twice');
  });

  it('the digest goes out exactly once while both workers run its job', async () => {
    // Both workers' job timers start with them: 30 s after the later one was ready, each has had its tick.
    const problems = () => cluster!.workers.map((w) => w.output.split('\n').filter((line) => /"level":[45]\d/.test(line)).slice(-5).join('\n')).join('\n');
    const sent = await eventually(() => receiver.received.length > 0, 60_000);
    assert.ok(sent, `the digest was sent: ${JSON.stringify(await rows('SELECT event, status, last_error, next_attempt_at FROM notification_outbox WHERE channel_id = $1', [digestChannelId]))}\n${problems()}`);
    const bothTicked = readyAt + 30_000 + 2000 - Date.now();
    if (bothTicked > 0) await new Promise((resolve) => setTimeout(resolve, bothTicked));
    assert.equal(receiver.received.length, 1, 'one webhook');
    const digest = JSON.parse(receiver.received[0]!.body) as { event: string; alerts: { ruleName: string }[] };
    assert.equal(digest.event, 'digest');
    assert.deepEqual(digest.alerts.map((alert) => alert.ruleName), ['Freezer warm']);
  });

  it('kill -9 of a worker hands its cameras and its jobs to the other within 30 s', async () => {
    for (let n = 1; n <= CAMERAS; n++) await device(a, { kind: 'camera', name: `Gate camera ${n}` });
    const [doomed, survivor] = cluster!.workers as [NonNullable<Cluster>['workers'][number], NonNullable<Cluster>['workers'][number]];
    const shared = async () => {
      const counts = await leaseCounts();
      return (counts.get(doomed.workerId) ?? 0) > 0 && (counts.get(survivor.workerId) ?? 0) > 0 && (counts.get(doomed.workerId)! + counts.get(survivor.workerId)!) === CAMERAS;
    };
    assert.ok(await eventually(shared, 20_000, 200), `shared: ${JSON.stringify([...(await leaseCounts())])}`);

    const killedAt = Date.now();
    doomed.kill('SIGKILL');
    await doomed.exited;
    // Ingest now leaves pending rollup batches that only a worker's job folds (the servers run no jobs).
    const radar = await device(a, { kind: 'speed_radar', name: 'After the kill', speedLimit: 30 });
    const events = Array.from({ length: 5 }, (_, i) => ({ client_ref: `k-${i}`, ts: new Date(Date.now() - i * 1000).toISOString(), kind: 'speed', speed: 30 + i }));
    assert.equal((await send(a, radar.key, '/api/v1/ingest/events', { events })).status, 200);

    const camerasTaken = eventually(async () => (await leaseCounts()).get(survivor.workerId) === CAMERAS, 30_000, 200).then((ok) => ok && Date.now() - killedAt);
    const jobsTaken = eventually(async () => (await count('SELECT count(*) AS n FROM event_rollup_pending WHERE device_id = $1', [radar.id])) === 0, 30_000, 200).then((ok) => ok && Date.now() - killedAt);
    const [cameraMs, jobMs] = await Promise.all([camerasTaken, jobsTaken]);
    assert.ok(cameraMs, `cameras after kill -9: ${JSON.stringify([...(await leaseCounts())])}\n${survivor.output.slice(-3000)}`);
    assert.ok(jobMs, 'the rollup job ran on the surviving worker');
    console.log(`# worker killed with -9: its ${CAMERAS} cameras' leases taken over in ${cameraMs} ms (lease 3 s, heartbeat 1 s); jobs folded new data ${jobMs} ms after`);
    assert.ok(survivor.running);
    assert.equal(await count("SELECT count(*) AS n FROM event_rollups_hourly WHERE device_id = $1 AND kind = 'speed'", [radar.id]) > 0, true);
  });
});
