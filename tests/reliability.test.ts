import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { CliProcess, eventually, freePort, sleep, startRedisServer } from './helpers/process.js';
import { SseStream } from './helpers/sse.js';

/**
 * Reliability figures for the README, measured on real `vigil serve` processes against the suite's
 * database: a server killed with -9 in the middle of HTTP and MQTT ingest, and Redis going away under
 * two servers.
 */
const keys = { secretKey: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32).toString('hex') };

type Reply = { status: number; body: Record<string, unknown> };
async function post(base: string, key: string, url: string, body: unknown): Promise<Reply> {
  const response = await fetch(`${base}${url}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('reliability', { timeout: 120_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  const servers: CliProcess[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    app = await startTestApp(keys);
    owner = await app.owner('Reliable Foods');
  });
  after(async () => {
    for (const server of servers) server.killGroup();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await app?.close();
  });

  function serve(env: Record<string, string>): CliProcess {
    const server = new CliProcess(['serve'], {
      DATABASE_URL: app.databaseUrl, SECRET_KEY: keys.secretKey, ENCRYPTION_KEY: keys.encryptionKey, HOST: '127.0.0.1',
      LOG_LEVEL: 'warn', INGEST_MAX_AGE_DAYS: '36500', SERVE_DECODES_CAMERAS: 'false', ...env,
    });
    servers.push(server);
    return server;
  }
  async function ready(base: string, server: CliProcess): Promise<void> {
    const up = await eventually(async () => !server.running || (await fetch(`${base}/ready`).then((r) => r.status, () => 0)) === 200, 60_000, 200);
    assert.ok(up && server.running, `not ready:\n${server.output()}`);
  }
  async function device(kind: string, extra: Record<string, unknown> = {}) {
    const created = await owner.client.post('/api/v1/devices', { kind, name: `${kind} ${randomBytes(2).toString('hex')}`, serial: `REL-${randomBytes(4).toString('hex')}`, ...extra });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }
  const count = async (text: string, params: unknown[]) => Number((await app.runtime.ctx.pool.query(text, params)).rows[0].n);

  it('kill -9 during HTTP and MQTT ingest: nothing acknowledged is lost, and resending everything stores no duplicate', async () => {
    const [port, mqttPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), MQTT_PORT: String(mqttPort) };
    let server = serve(env);
    await ready(base, server);
    const radars = [await device('speed_radar', { speedLimit: 30 }), await device('speed_radar', { speedLimit: 30 })];
    const fridges = [await device('refrigeration'), await device('refrigeration')];
    const start = Date.now() - 3_600_000;

    // What each device sent, and what Vigil acknowledged (HTTP 200, PUBACK).
    const events = radars.map(() => [] as { client_ref: string; ts: string; kind: string; speed: number }[][]);
    const ackedEvents = radars.map(() => new Set<string>());
    const readings = fridges.map(() => [] as { ts: number; values: { temperature: number } }[]);
    const ackedReadings = fridges.map(() => new Set<number>());
    let stop = false;
    const httpDevice = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const batch = Array.from({ length: 5 }, (_, j) => ({ client_ref: `r${n}-${i}-${j}`, ts: new Date(start + i * 1000 + j).toISOString(), kind: 'speed', speed: 40 + j }));
        events[n]!.push(batch);
        const reply = await post(base, radars[n]!.key, '/api/v1/ingest/events', { events: batch }).catch(() => undefined);
        if (reply?.status === 200) for (const e of batch) ackedEvents[n]!.add(e.client_ref);
        else if (!reply) await sleep(20);
      }
    };
    const mqttDevice = async (n: number) => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: fridges[n]!.key, clientId: `rel-${n}-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0 });
      client.on('error', () => undefined);
      try {
        for (let i = 0; !stop && client.connected; i++) {
          const reading = { ts: start + i * 1000, values: { temperature: i % 10 } };
          readings[n]!.push(reading);
          const acked = await Promise.race([client.publishAsync('v1/devices/me/telemetry', JSON.stringify(reading), { qos: 1 }).then(() => true, () => false), sleep(3000).then(() => false)]);
          if (acked) ackedReadings[n]!.add(reading.ts);
        }
      } finally {
        client.end(true);
      }
    };
    const drivers = Promise.all([...radars.map((_, n) => httpDevice(n)), ...fridges.map((_, n) => mqttDevice(n))]);
    const streaming = await eventually(() => ackedEvents.every((s) => s.size >= 50) && ackedReadings.every((s) => s.size >= 50), 20_000, 20);
    assert.ok(streaming, 'ingest is under way');
    server.killGroup('SIGKILL');
    await server.exited;
    await sleep(300);
    stop = true;
    await drivers;

    server = serve(env);
    await ready(base, server);
    const storedEvents = async (n: number, refs: string[]) => count('SELECT count(*) AS n FROM events WHERE device_id = $1 AND client_ref = ANY($2)', [radars[n]!.id, refs]);
    const storedReadings = async (n: number, times: number[]) =>
      count('SELECT count(DISTINCT ts) AS n FROM telemetry WHERE device_id = $1 AND ts = ANY($2::timestamptz[])', [fridges[n]!.id, times.map((t) => new Date(t).toISOString())]);
    let acknowledged = 0;
    let lost = 0;
    for (let n = 0; n < radars.length; n++) {
      acknowledged += ackedEvents[n]!.size;
      lost += ackedEvents[n]!.size - (await storedEvents(n, [...ackedEvents[n]!]));
    }
    for (let n = 0; n < fridges.length; n++) {
      acknowledged += ackedReadings[n]!.size;
      lost += ackedReadings[n]!.size - (await storedReadings(n, [...ackedReadings[n]!]));
    }

    // The devices resend everything they sent, acknowledged or not.
    for (let n = 0; n < radars.length; n++) {
      const all = events[n]!.flat();
      for (let i = 0; i < all.length; i += 500) assert.equal((await post(base, radars[n]!.key, '/api/v1/ingest/events', { events: all.slice(i, i + 500) })).status, 200);
    }
    for (let n = 0; n < fridges.length; n++) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: fridges[n]!.key, clientId: `rel-again-${n}`, reconnectPeriod: 0 });
      try {
        await Promise.all(readings[n]!.map((reading) => client.publishAsync('v1/devices/me/telemetry', JSON.stringify(reading), { qos: 1 })));
      } finally {
        await client.endAsync();
      }
    }
    const sent = events.reduce((sum, d) => sum + d.flat().length, 0) + readings.reduce((sum, d) => sum + d.length, 0);
    let stored = 0;
    let duplicates = 0;
    for (const radar of radars) {
      const total = await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [radar.id]);
      stored += total;
      duplicates += total - (await count('SELECT count(DISTINCT client_ref) AS n FROM events WHERE device_id = $1', [radar.id]));
    }
    for (const fridge of fridges) {
      const total = await count('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [fridge.id]);
      stored += total;
      duplicates += total - (await count('SELECT count(*) AS n FROM (SELECT DISTINCT metric, ts FROM telemetry WHERE device_id = $1) d', [fridge.id]));
    }
    console.log(`# kill -9 under HTTP + MQTT ingest: ${acknowledged} items acknowledged before the kill, ${lost} of them lost; after resending all ${sent}: ${stored} stored, ${duplicates} duplicates`);
    assert.equal(lost, 0, 'every acknowledged item survived the kill');
    assert.equal(stored, sent, 'every item sent is stored once the devices resent it');
    assert.equal(duplicates, 0);
  });

  it('Redis down: live updates stay within each process, nothing fails, and sharing resumes when Redis is back', async () => {
    const redisPort = await freePort();
    const startRedis = async () => {
      const redis = await startRedisServer(redisPort);
      children.push(redis);
      return redis;
    };
    let redis = await startRedis();
    const [portA, portB] = [await freePort(), await freePort()];
    const [a, b] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const shared = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_PREFIX: `vigil-rel-${randomBytes(3).toString('hex')}` };
    const serverA = serve({ ...shared, PORT: String(portA), MQTT_PORT: String(await freePort()) });
    const serverB = serve({ ...shared, PORT: String(portB), MQTT_PORT: String(await freePort()) });
    await Promise.all([ready(a, serverA), ready(b, serverB)]);
    const radar = await device('speed_radar', { speedLimit: 30 });
    const cookie = owner.client.cookie!;
    const onA = await SseStream.open(a, { cookie });
    const onB = await SseStream.open(b, { cookie });
    // Each event has its own speed, which tells it apart on the live streams.
    let speed = 10;
    const ingest = async () => {
      speed += 1;
      const reply = await post(a, radar.key, '/api/v1/ingest/events', { events: [{ client_ref: `redis-${speed}`, ts: new Date().toISOString(), kind: 'speed', speed }] });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return speed;
    };
    type Live = { deviceId: string; events: { speed: number }[] };
    const sees = (stream: SseStream, sent: number, ms: number) =>
      stream.next((e) => e.event === 'events.ingested' && (e.json as Live).deviceId === radar.id && (e.json as Live).events.some((x) => x.speed === sent), ms, `speed ${sent}`);
    try {
      const first = await ingest();
      await sees(onB, first, 10_000);

      redis.kill('SIGKILL');
      await new Promise((resolve) => redis.once('exit', resolve));
      const during = await ingest();
      await sees(onA, during, 10_000);
      for (const base of [a, b]) {
        const devices = await fetch(`${base}/api/v1/devices`, { headers: { cookie } });
        assert.equal(devices.status, 200, `${base} answers API calls without Redis`);
      }
      assert.ok(serverA.running && serverB.running);

      const downAt = Date.now();
      redis = await startRedis();
      const recovered = await eventually(async () => {
        return sees(onB, await ingest(), 500).then(() => true, () => false);
      }, 30_000, 0);
      assert.ok(recovered, `B gets A's events again:\n${serverA.output().slice(-2000)}`);
      console.log(`# Redis killed under 2 servers: ingest and API kept answering 2xx, same-process live updates kept flowing; cross-process updates resumed ${Date.now() - downAt} ms after Redis restarted`);
    } finally {
      onA.close();
      onB.close();
    }
  });
});
