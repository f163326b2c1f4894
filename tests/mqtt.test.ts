import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttService } from '../src/server/mqtt/service.js';
import type { MqttIngest } from '../src/server/mqtt/processor.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { CliProcess, freePort } from './helpers/process.js';
import { granted, nextMessage, settle } from './helpers/mqtt.js';

const TELEMETRY = 'v1/devices/me/telemetry';
const EVENTS = 'v1/devices/me/events';
const ERRORS = 'v1/devices/me/errors';

describe('MQTT ingestion', { timeout: 120_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let service: MqttService;
  let url: string;
  const clients: MqttClient[] = [];

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
    service = new MqttService(app.runtime.ctx, app.runtime.services.devices, app.runtime.services.ingest);
    await service.start();
    assert.ok(service.port, 'the embedded broker reports its bound port');
    url = `mqtt://127.0.0.1:${service.port}`;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await service.stop();
    await app.close();
  });

  async function device(overrides: Record<string, unknown> = {}) {
    const created = await owner.client.post('/api/v1/devices', {
      kind: 'sensor', name: 'Fridge', serial: `M-${randomBytes(4).toString('hex')}`, ...overrides,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string, keyId: created.body.key.id as string };
  }

  async function connect(key: string | undefined, options: mqtt.IClientOptions = {}, brokerUrl = url): Promise<MqttClient> {
    const client = await mqtt.connectAsync(brokerUrl, { username: key, reconnectPeriod: 0, protocolVersion: 4, ...options });
    clients.push(client);
    return client;
  }

  const count = async (sqlText: string, params: unknown[]) => Number((await app.runtime.ctx.pool.query(sqlText, params)).rows[0].n);
  const telemetryRows = (deviceId: string) => count('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [deviceId]);
  const eventRows = (deviceId: string) => count('SELECT count(*) AS n FROM events WHERE device_id = $1', [deviceId]);

  it('stores QoS 1 telemetry in every ThingsBoard form before the PUBACK', async () => {
    const sensor = await device();
    const client = await connect(sensor.key);
    const ts = Date.parse('2026-03-10T08:00:00Z');
    await client.publishAsync(TELEMETRY, JSON.stringify({ ts, values: { temperature: 3.5, door: true } }), { qos: 1 });
    // The PUBACK came back: the rows are already committed.
    const rows = (await app.runtime.ctx.pool.query('SELECT metric, value, ts FROM telemetry WHERE device_id = $1 ORDER BY metric', [sensor.id])).rows;
    assert.deepEqual(rows.map((r) => [r.metric, r.value, r.ts.toISOString()]), [
      ['door', 1, '2026-03-10T08:00:00.000Z'],
      ['temperature', 3.5, '2026-03-10T08:00:00.000Z'],
    ]);

    await client.publishAsync(TELEMETRY, JSON.stringify([
      { ts: ts + 1000, values: { temperature: 3.6 } },
      { ts: '2026-03-10T08:00:02Z', values: { temperature: 3.7 } },
    ]), { qos: 1 });
    assert.equal(await telemetryRows(sensor.id), 4);

    const before = Date.now();
    await client.publishAsync(TELEMETRY, JSON.stringify({ humidity: 41, battery: 87 }), { qos: 1 });
    const now = (await app.runtime.ctx.pool.query(`SELECT ts FROM telemetry WHERE device_id = $1 AND metric = 'humidity'`, [sensor.id])).rows;
    assert.equal(now.length, 1, 'a flat object is a reading taken now');
    assert.ok(Math.abs(now[0].ts.getTime() - before) < 60_000);
    assert.equal(await telemetryRows(sensor.id), 6);
  });

  it('acknowledges messages sent without waiting in the order sent, each after its own commit', async () => {
    const sensors = await Promise.all([device(), device()]);
    const connected = await Promise.all(sensors.map((s) => connect(s.key)));
    const ts = Date.parse('2026-03-11T08:00:00Z');
    const acked: string[] = [];
    await Promise.all(connected.flatMap((client, c) => Array.from({ length: 30 }, (_, i) =>
      client.publishAsync(TELEMETRY, JSON.stringify({ ts: ts + i * 1000, values: { temperature: i } }), { qos: 1 }).then(async () => {
        acked.push(`${c}:${i}`);
        // Each PUBACK follows the commit of its own message, whatever statement carried it.
        const stored = await count(`SELECT count(*) AS n FROM telemetry WHERE device_id = $1 AND ts = $2`, [sensors[c]!.id, new Date(ts + i * 1000)]);
        assert.equal(stored, 1);
      }))));
    for (const c of [0, 1]) {
      const order = acked.filter((a) => a.startsWith(`${c}:`)).map((a) => Number(a.slice(2)));
      assert.deepEqual(order, [...order].sort((a, b) => a - b), 'PUBACKs of one connection come in the order sent');
      assert.equal(await telemetryRows(sensors[c]!.id), 30);
    }
  });

  it('stores events (one object or an array) before the PUBACK, or the PUBREC at QoS 2, with the fields of the HTTP API', async () => {
    const radar = await device({ kind: 'speed_radar', name: 'Radar', speedLimit: 30 });
    const client = await connect(radar.key);
    await client.publishAsync(EVENTS, JSON.stringify({ client_ref: 'e-1', ts: '2026-03-10T09:00:00Z', kind: 'speed', speed: 42 }), { qos: 1 });
    assert.equal(await eventRows(radar.id), 1);
    await client.publishAsync(EVENTS, JSON.stringify([
      { client_ref: 'e-2', ts: Date.parse('2026-03-10T09:00:01Z'), kind: 'speed', speed: 25 },
      { client_ref: 'e-3', ts: '2026-03-10T09:00:02Z', kind: 'speed', speed: 31, attributes: { lane: 2 } },
    ]), { qos: 1 });
    await client.publishAsync(EVENTS, JSON.stringify({ client_ref: 'e-4', ts: '2026-03-10T09:00:03Z', kind: 'speed', speed: 33 }), { qos: 2 });
    const rows = (await app.runtime.ctx.pool.query('SELECT client_ref, speed, speed_limit FROM events WHERE device_id = $1 ORDER BY client_ref', [radar.id])).rows;
    assert.deepEqual(rows.map((r) => [r.client_ref, r.speed, r.speed_limit]), [['e-1', 42, 30], ['e-2', 25, 30], ['e-3', 31, 30], ['e-4', 33, 30]]);
  });

  it('does not acknowledge a message before its batch is committed', async () => {
    const sensor = await device();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const real = app.runtime.services.ingest;
    const gated: MqttIngest = {
      ingestTelemetry: async (d, items) => { await gate; return real.ingestTelemetry(d, items); },
      ingestEvents: async (d, items) => { await gate; return real.ingestEvents(d, items); },
    };
    const slow = new MqttService(app.runtime.ctx, app.runtime.services.devices, gated);
    await slow.start();
    try {
      const client = await connect(sensor.key, {}, `mqtt://127.0.0.1:${slow.port}`);
      let acked = false;
      const publishing = client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-10T10:00:00Z', values: { t: 1 } }), { qos: 1 }).then(() => { acked = true; });
      await settle(300);
      assert.equal(acked, false, 'no PUBACK while the write is pending');
      assert.equal(await telemetryRows(sensor.id), 0);
      release();
      await publishing;
      assert.equal(await telemetryRows(sensor.id), 1, 'the PUBACK follows the commit');
    } finally {
      release();
      await slow.stop();
    }
  });

  it('refuses a connection with an unknown key or without a key (CONNACK not authorized)', async () => {
    await assert.rejects(connect(`vgd_${'0'.repeat(64)}`), (error: Error & { code?: number }) => {
      assert.equal(error.code, 5);
      return true;
    });
    await assert.rejects(connect(undefined), (error: Error & { code?: number }) => error.code === 5);
  });

  it('reports a bad message on v1/devices/me/errors, stores the valid items, and keeps the connection', async () => {
    const sensor = await device();
    const client = await connect(sensor.key);
    await client.subscribeAsync(ERRORS, { qos: 1 });

    let report = nextMessage(client, ERRORS);
    await client.publishAsync(TELEMETRY, '{"values": {', { qos: 1 });
    assert.equal((await report).code, 'invalid_json');
    assert.equal((await report).topic, TELEMETRY);

    report = nextMessage(client, ERRORS);
    await client.publishAsync(TELEMETRY, JSON.stringify([
      { ts: '2026-03-11T10:00:00Z', values: { temperature: 4 } },
      { ts: 'yesterday', values: { temperature: 5 } },
      { ts: '2026-03-11T10:00:02Z', values: { temperature: null } },
    ]), { qos: 1 });
    const rejected = await report;
    assert.equal(rejected.code, 'rejected_items');
    assert.equal(rejected.accepted, 1);
    assert.deepEqual(rejected.rejected!.map((r) => [r.index, r.errors[0]!.field]), [[1, 'ts'], [2, 'values.temperature']]);
    assert.ok(rejected.messageId, 'the report names the packet');

    report = nextMessage(client, ERRORS);
    await client.publishAsync(EVENTS, '[]', { qos: 1 });
    assert.equal((await report).code, 'empty_batch');

    report = nextMessage(client, ERRORS);
    await client.publishAsync('v1/devices/me/attributes', '{}', { qos: 1 });
    assert.equal((await report).code, 'unknown_topic');

    assert.ok(client.connected, 'the connection stays up');
    await client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-11T10:00:03Z', values: { temperature: 6 } }), { qos: 1 });
    assert.equal(await telemetryRows(sensor.id), 2);
  });

  it('stores a resent QoS 1 message once, including a retransmission of a "now" reading', async () => {
    const sensor = await device();
    const client = await connect(sensor.key);
    const payload = JSON.stringify([{ client_ref: 'r-1', ts: '2026-03-12T10:00:00Z', kind: 'door' }, { ts: '2026-03-12T10:00:01Z', kind: 'door' }]);
    await client.publishAsync(EVENTS, payload, { qos: 1 });
    await client.publishAsync(EVENTS, payload, { qos: 1 });
    assert.equal(await eventRows(sensor.id), 2);

    // A retransmission carries the same packet id: a reading without a time keeps its first time.
    const fixedId = { allocate: () => 4242, getLastAllocated: () => 4242, register: () => true, deallocate: () => undefined, clear: () => undefined };
    const resender = await connect(sensor.key, { messageIdProvider: fixedId });
    await resender.publishAsync(TELEMETRY, JSON.stringify({ pressure: 1013 }), { qos: 1 });
    await settle(20);
    await resender.publishAsync(TELEMETRY, JSON.stringify({ pressure: 1013 }), { qos: 1, dup: true });
    assert.equal(await count(`SELECT count(*) AS n FROM telemetry WHERE device_id = $1 AND metric = 'pressure'`, [sensor.id]), 1);
  });

  it('confines a device to its own topics: no other subscription, no other device\'s messages', async () => {
    const a = await device();
    const b = await device();
    const clientA = await connect(a.key, { clientId: 'same-id' });
    const clientB = await connect(b.key, { clientId: 'same-id' });
    for (const topic of [TELEMETRY, EVENTS, '#', 'v1/devices/+/errors', `v1/devices/${b.id}/errors`, '$SYS/#']) {
      assert.equal(await granted(clientA, topic), 128, `SUBACK refuses ${topic}`);
    }
    assert.equal(await granted(clientA, ERRORS), 1);
    assert.ok(clientA.connected, 'a refused subscription does not drop the connection');
    await clientB.subscribeAsync(ERRORS, { qos: 1 });

    const seenByB: string[] = [];
    clientB.on('message', (topic, payload) => seenByB.push(`${topic} ${payload.toString()}`));
    const reportA = nextMessage(clientA, ERRORS);
    await clientA.publishAsync(TELEMETRY, 'garbage', { qos: 1 });
    await clientA.publishAsync(ERRORS, JSON.stringify({ code: 'forged' }), { qos: 1 });
    await clientA.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-13T00:00:00Z', values: { t: 1 } }), { qos: 1 });
    assert.equal((await reportA).code, 'invalid_json');
    await settle(200);
    assert.deepEqual(seenByB, [], 'B receives nothing A sent or caused');
    assert.ok(clientA.connected && clientB.connected, 'the same client id in two devices does not make one take over the other');
    assert.equal(await telemetryRows(a.id), 1);
    assert.equal(await telemetryRows(b.id), 0);
  });

  it('drops the connection without PUBACK once the device key is revoked', async () => {
    const sensor = await device();
    const client = await connect(sensor.key);
    await client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-14T00:00:00Z', values: { t: 1 } }), { qos: 1 });
    assert.equal((await owner.client.delete(`/api/v1/devices/${sensor.id}/keys/${sensor.keyId}`)).status, 204);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acked = false;
    client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-14T00:00:01Z', values: { t: 2 } }), { qos: 1 }).then(() => { acked = true; }, () => undefined);
    await closed;
    assert.equal(acked, false);
    assert.equal(await telemetryRows(sensor.id), 1);
    await assert.rejects(connect(sensor.key), (error: Error & { code?: number }) => error.code === 5);
  });

  it('`vigil worker` leaves MQTT_PORT to `vigil serve`: it runs the jobs without a broker', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-worker-'));
    const worker = new CliProcess(['worker'], { DATABASE_URL: app.databaseUrl, MQTT_PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput(/worker started/, 45_000);
      await assert.rejects(connect(undefined, { connectTimeout: 2_000 }, `mqtt://127.0.0.1:${port}`),
        (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED', 'nothing listens on MQTT_PORT');
    } finally {
      worker.killGroup('SIGTERM');
      await worker.exitWithin(10_000);
      worker.killGroup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
