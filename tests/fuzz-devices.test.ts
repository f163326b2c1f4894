import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { Rng } from './helpers/fuzz.js';
import { FuzzConnection } from './helpers/fuzz-mqtt.js';
import { DeviceFuzz, type FuzzDevices, type MqttCase } from './helpers/fuzz-targets.js';

/**
 * Every device-facing endpoint, HTTP and MQTT, fed a few thousand hostile bodies from a seeded PRNG
 * (FUZZ_SEED to replay one): no answer is a 5xx, no MQTT message goes unacknowledged, the server is
 * still ready afterwards, and another tenant's valid batches sent meanwhile are all stored.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);
const HTTP_CASES = 2400;
const MQTT_CASES = 600;
const CONCURRENCY = 8;
const CONTROL_EVERY = 100;

describe('device endpoints under fuzz', { timeout: 300_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let other: SignedIn;
  const devices: FuzzDevices = { radar: '', sensor: '', fridge: '', fridgeSerial: '', eventId: '' };
  let controlKey = '';
  let controlId = '';
  const connections: FuzzConnection[] = [];
  let fuzz: DeviceFuzz;

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
    other = await app.owner();
    const create = async (by: SignedIn, kind: string, serial = `F-${randomBytes(4).toString('hex')}`) => {
      const created = await by.client.post('/api/v1/devices', { kind, name: `Fuzz ${kind}`, serial, ...(kind === 'speed_radar' && { speedLimit: 30 }) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return { id: created.body.device.id as string, key: created.body.apiKey as string, serial };
    };
    devices.radar = (await create(owner, 'speed_radar')).key;
    devices.sensor = (await create(owner, 'sensor')).key;
    const fridge = await create(owner, 'refrigeration');
    [devices.fridge, devices.fridgeSerial] = [fridge.key, fridge.serial];
    const control = await create(other, 'speed_radar');
    [controlKey, controlId] = [control.key, control.id];
    const uploaded = await app.runtime.app.inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': devices.radar, 'content-type': 'application/json' },
      payload: { events: [{ timestamp: '2025-01-02T03:04:05', speed: 42, speed_limit: 25, has_photo: true }] },
    });
    devices.eventId = uploaded.json().created_events[0].event_id;
    fuzz = new DeviceFuzz(new Rng(SEED), devices);
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.end()));
    await app.close();
  });

  it('answers every hostile HTTP body below 500 and stores the control batches sent meanwhile', async () => {
    const cases = Array.from({ length: HTTP_CASES }, () => fuzz.httpCase());
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const controls: Promise<number>[] = [];
    let next = 0;
    const sendControl = (n: number) => app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': controlKey, 'content-type': 'application/json' },
      payload: { events: Array.from({ length: 10 }, (_, j) => ({ client_ref: `control-${n}-${j}`, ts: new Date(Date.UTC(2026, 2, 1, 0, n, j)).toISOString(), speed: 20 + j })) },
    }).then((response) => (response.statusCode === 200 ? response.json().accepted as number : -response.statusCode));

    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const index = next++;
        const c = cases[index]!;
        if (index % CONTROL_EVERY === 0) controls.push(sendControl(controls.length));
        const response = await app.runtime.app.inject({
          method: c.method,
          url: c.url,
          headers: { 'x-api-key': fuzz.keyOf(c.device), ...(c.contentType && { 'content-type': c.contentType }) },
          ...(c.payload !== undefined && { payload: c.payload }),
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500) {
          failures.push(`${c.endpoint} #${index}: ${response.statusCode} ${response.body.slice(0, 200)} ← ${c.method} ${c.url.slice(0, 120)} ${c.contentType} ${c.payload?.slice(0, 300)}`);
        }
      }
    }));
    const accepted = await Promise.all(controls);
    console.log(`fuzz seed ${SEED}: ${cases.length} HTTP bodies over ${fuzz.endpoints.length} endpoints; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${controls.length} control batches`);
    assert.deepEqual(failures, [], `${failures.length} answers were 5xx (replay with FUZZ_SEED=${SEED})`);
    assert.deepEqual(accepted, controls.map(() => 10), 'every control batch of the other tenant was stored in full');
    const stored = await app.runtime.ctx.pool.query('SELECT count(*)::int AS n FROM events WHERE device_id = $1', [controlId]);
    assert.equal(stored.rows[0].n, controls.length * 10);
    assert.equal((await app.runtime.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  });

  it('refuses a non-finite number in a query string (found by this fuzz: hours=Infinity was a 500)', async () => {
    for (const url of ['/api/ingest/v1/device/stats?hours=Infinity', '/api/ingest/v1/device/stats?hours=1e999', '/api/ingest/v1/events?offset=1e999', '/api/ingest/v1/events?limit=-Infinity']) {
      const response = await app.runtime.app.inject({ method: 'GET', url, headers: { 'x-api-key': devices.radar } });
      assert.equal(response.statusCode, 422, `${url}: ${response.body}`);
      assert.match(response.body, /finite/);
    }
  });

  it('acknowledges every hostile MQTT message on every topic and stores the control messages sent meanwhile', async () => {
    const url = `mqtt://127.0.0.1:${app.runtime.mqtt.port}`;
    const [radar, sensor, control] = [devices.radar, devices.sensor, controlKey].map((key) => new FuzzConnection(url, key));
    connections.push(radar!, sensor!, control!);
    const connectionOf = (c: MqttCase) => (c.device === 'radar' ? radar! : sensor!);
    const unacknowledged: string[] = [];
    const counts = new Map<string, number>();
    let controlMessages = 0;
    const publish = async (connection: FuzzConnection, topic: string, payload: string | Buffer, what: string) => {
      const outcome = await connection.publish(topic, payload, 15_000);
      if (outcome !== 'acknowledged') unacknowledged.push(`${what} on ${topic} (${outcome}): ${payload.slice(0, 300).toString()}`);
    };

    for (let round = 0; round < MQTT_CASES / 20; round++) {
      const sent: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        const c = fuzz.mqttCase();
        const family = c.topic.replace(/\/(request|response)\/.*$/, '/$1/{id}');
        counts.set(family, (counts.get(family) ?? 0) + 1);
        sent.push(publish(connectionOf(c), c.topic, c.payload, `message ${round * 20 + i}`));
      }
      controlMessages += 1;
      sent.push(publish(control!, 'v1/devices/me/events', JSON.stringify([{ client_ref: `mqtt-control-${round}`, ts: new Date(Date.UTC(2026, 2, 2, 0, round)).toISOString(), speed: 30 }]), 'control'));
      await Promise.all(sent);
    }
    console.log(`fuzz seed ${SEED}: ${MQTT_CASES} MQTT messages (${[...counts].map(([t, n]) => `${t} ${n}`).join(', ')}); ${controlMessages} control messages`);
    assert.deepEqual(unacknowledged, [], `messages left without PUBACK (replay with FUZZ_SEED=${SEED})`);
    assert.ok(radar!.isConnected && sensor!.isConnected && radar!.reconnects + sensor!.reconnects === 0, 'the fuzzed devices are still connected');
    const stored = await app.runtime.ctx.pool.query(`SELECT count(*)::int AS n FROM events WHERE device_id = $1 AND client_ref LIKE 'mqtt-control-%'`, [controlId]);
    assert.equal(stored.rows[0].n, controlMessages);
    assert.equal((await app.runtime.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  });
});
