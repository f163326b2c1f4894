import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { encode, Hostile, Rng } from './helpers/fuzz.js';

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

interface Case {
  endpoint: string;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  contentType?: string;
  payload?: string;
}

/** URL-encodes anything, lone surrogates included (encodeURIComponent refuses them). */
function urlPart(text: string): string {
  return [...text].map((c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

describe('device endpoints under fuzz', { timeout: 300_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let other: SignedIn;
  const keys = { radar: '', sensor: '', fridge: '', control: '' };
  let fridgeSerial = '';
  let controlId = '';
  let eventId = '';
  const clients: MqttClient[] = [];

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
    other = await app.owner();
    const create = async (by: SignedIn, kind: string, serial = `F-${randomBytes(4).toString('hex')}`) => {
      const created = await by.client.post('/api/v1/devices', { kind, name: `Fuzz ${kind}`, serial, ...(kind === 'speed_radar' && { speedLimit: 30 }) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return { id: created.body.device.id as string, key: created.body.apiKey as string, serial };
    };
    keys.radar = (await create(owner, 'speed_radar')).key;
    keys.sensor = (await create(owner, 'sensor')).key;
    const fridge = await create(owner, 'refrigeration');
    [keys.fridge, fridgeSerial] = [fridge.key, fridge.serial];
    const control = await create(other, 'speed_radar');
    [keys.control, controlId] = [control.key, control.id];
    const uploaded = await app.runtime.app.inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': keys.radar, 'content-type': 'application/json' },
      payload: { events: [{ timestamp: '2025-01-02T03:04:05', speed: 42, speed_limit: 25, has_photo: true }] },
    });
    eventId = uploaded.json().created_events[0].event_id;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
  });

  const rng = new Rng(SEED);
  const hostile = new Hostile(rng);
  const ts = () => new Date(Date.UTC(2026, 0, 1) + rng.int(0, 300 * 86_400) * 1000).toISOString();
  const items = (base: () => Record<string, unknown>) =>
    Array.from({ length: rng.int(1, 5) }, () => (rng.chance(0.4) ? base() : hostile.mutate(base())));
  /** A batch body: mostly the right envelope around good and mutated items, sometimes anything at all. */
  const batch = (field: string, base: () => Record<string, unknown>): string => {
    if (rng.chance(0.15)) return hostile.wholeBody();
    return encode(rng.chance(0.1) ? hostile.mutate({ [field]: items(base) }) : { [field]: items(base) });
  };
  const nativeEvent = () => ({ client_ref: `f-${rng.int(0, 1e9)}`, ts: ts(), kind: 'speed', speed: rng.int(1, 80), speed_limit: 30, severity: 'info', attributes: { lane: rng.int(1, 3), note: 'ok' } });
  const reading = () => ({ ts: ts(), values: { temperature: rng.int(-200, 200) / 10, door: rng.chance(0.5) } });
  const rushRosterEvent = () => ({ timestamp: ts().slice(0, 19), speed: rng.int(1, 80), speed_limit: 25, is_speeding: rng.pick([0, 1, true, 'false']), has_photo: rng.chance(0.3) });
  const poloSanca = () => ({ serial: fridgeSerial, temperature: rng.int(-300, 300) / 10, pressure: rng.int(0, 200), door: rng.int(0, 1), heater: 0, compressor: 1, fan: 1 });
  const query = (names: string[]) => names.filter(() => rng.chance(0.7)).map((n) => `${n}=${urlPart(String(rng.chance(0.5) ? hostile.string() : hostile.number()))}`).join('&');
  const anyId = () => (rng.chance(0.3) ? eventId : urlPart(hostile.string()).slice(0, 60) || '0');

  const endpoints: [string, () => Omit<Case, 'endpoint'>][] = [
    ['native events', () => ({ method: 'POST', url: '/api/v1/ingest/events', payload: batch('events', nativeEvent) })],
    ['native telemetry', () => ({ method: 'POST', url: '/api/v1/ingest/telemetry', payload: batch('items', reading) })],
    ['rushroster upload', () => ({ method: 'POST', url: '/api/ingest/v1/events', payload: batch('events', rushRosterEvent) })],
    ['rushroster photo url', () => ({ method: 'POST', url: `/api/ingest/v1/events/${anyId()}/photo/url`, payload: rng.chance(0.5) ? undefined : hostile.wholeBody() })],
    ['rushroster photo upload', () => ({ method: 'PUT', url: `/api/ingest/v1/photo-uploads/${urlPart(hostile.string()).slice(0, 900) || 'x'}`, payload: hostile.wholeBody(), contentType: rng.pick(['image/jpeg', 'image/png', 'multipart/form-data; boundary=x', 'application/json']) })],
    ['rushroster photo confirm', () => ({ method: 'POST', url: `/api/ingest/v1/events/${anyId()}/photo/confirm?${query(['photo_key'])}` })],
    ['rushroster restore', () => ({ method: 'GET', url: `/api/ingest/v1/events?${query(['limit', 'offset', 'speeding_only'])}` })],
    ['rushroster heartbeat', () => ({ method: 'POST', url: '/api/ingest/v1/heartbeat', payload: rng.chance(0.5) ? encode(hostile.mutate({ timestamp: ts(), status: { cpu: 3 } })) : hostile.wholeBody() })],
    ['rushroster info', () => ({ method: 'GET', url: '/api/ingest/v1/device/info' })],
    ['rushroster stats', () => ({ method: 'GET', url: `/api/ingest/v1/device/stats?${query(['hours'])}` })],
    ['polo sanca json', () => ({ method: 'POST', url: '/v1/equipments/telemetry', payload: rng.chance(0.1) ? hostile.wholeBody() : encode(hostile.mutate(poloSanca())) })],
    ['polo sanca form', () => {
      const fields = Object.entries(hostile.mutate(poloSanca()) as Record<string, unknown>).map(([k, v]) => `${urlPart(k)}=${urlPart(typeof v === 'string' ? v : encode(v))}`);
      if (rng.chance(0.2)) fields.push(rng.pick(['serial=a', '%ZZ=1', 'temperature', '=', '&&&', `door=${'1'.repeat(5000)}`]));
      return { method: 'POST', url: '/v1/equipments/telemetry', payload: fields.join('&'), contentType: 'application/x-www-form-urlencoded' };
    }],
  ];

  function nextCase(): Case {
    const [endpoint, build] = rng.pick(endpoints);
    const built = build();
    const contentType = rng.chance(0.08) ? hostile.contentType() : (built.contentType ?? (built.payload === undefined ? undefined : 'application/json'));
    return { endpoint, ...built, contentType };
  }

  const keyFor = (endpoint: string) =>
    endpoint.startsWith('native telemetry') ? keys.sensor : endpoint.startsWith('polo') ? keys.fridge : keys.radar;

  it('answers every hostile HTTP body below 500 and stores the control batches sent meanwhile', async () => {
    const cases = Array.from({ length: HTTP_CASES }, nextCase);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const controls: Promise<number>[] = [];
    let next = 0;
    const sendControl = (n: number) => app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': keys.control, 'content-type': 'application/json' },
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
          headers: { 'x-api-key': keyFor(c.endpoint), ...(c.contentType && { 'content-type': c.contentType }) },
          ...(c.payload !== undefined && { payload: c.payload }),
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500) {
          failures.push(`${c.endpoint} #${index}: ${response.statusCode} ${response.body.slice(0, 200)} ← ${c.method} ${c.url.slice(0, 120)} ${c.contentType} ${c.payload?.slice(0, 300)}`);
        }
      }
    }));
    const accepted = await Promise.all(controls);
    console.log(`fuzz seed ${SEED}: ${cases.length} HTTP bodies over ${endpoints.length} endpoints; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${controls.length} control batches`);
    assert.deepEqual(failures, [], `${failures.length} answers were 5xx (replay with FUZZ_SEED=${SEED})`);
    assert.deepEqual(accepted, controls.map(() => 10), 'every control batch of the other tenant was stored in full');
    const stored = await app.runtime.ctx.pool.query('SELECT count(*)::int AS n FROM events WHERE device_id = $1', [controlId]);
    assert.equal(stored.rows[0].n, controls.length * 10);
    assert.equal((await app.runtime.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  });

  it('refuses a non-finite number in a query string (found by this fuzz: hours=Infinity was a 500)', async () => {
    for (const url of ['/api/ingest/v1/device/stats?hours=Infinity', '/api/ingest/v1/device/stats?hours=1e999', '/api/ingest/v1/events?offset=1e999', '/api/ingest/v1/events?limit=-Infinity']) {
      const response = await app.runtime.app.inject({ method: 'GET', url, headers: { 'x-api-key': keys.radar } });
      assert.equal(response.statusCode, 422, `${url}: ${response.body}`);
      assert.match(response.body, /finite/);
    }
  });

  it('acknowledges every hostile MQTT message on every topic and stores the control messages sent meanwhile', async () => {
    const url = `mqtt://127.0.0.1:${app.runtime.mqtt.port}`;
    const connect = async (key: string) => {
      const client = await mqtt.connectAsync(url, { username: key, reconnectPeriod: 0, protocolVersion: 4 });
      clients.push(client);
      return client;
    };
    const [radar, sensor, control] = await Promise.all([connect(keys.radar), connect(keys.sensor), connect(keys.control)]);
    const topics = ['v1/devices/me/telemetry', 'v1/devices/me/events', 'v1/devices/me/attributes'] as const;
    const unacknowledged: string[] = [];
    const counts = new Map<string, number>();
    let controlMessages = 0;
    const publish = (client: MqttClient, topic: string, payload: string | Buffer, what: string) =>
      Promise.race([
        client.publishAsync(topic, payload, { qos: 1 }).then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
      ]).catch(() => false).then((acknowledged) => {
        if (!acknowledged) unacknowledged.push(`${what} on ${topic}: ${payload.slice(0, 300).toString()}`);
      });

    for (let round = 0; round < MQTT_CASES / 20; round++) {
      const sent: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        const topic = rng.pick(topics);
        const payload = rng.chance(0.05)
          ? randomBytes(rng.int(1, 300))
          : topic.endsWith('telemetry')
            ? (rng.chance(0.3) ? hostile.wholeBody() : encode(rng.chance(0.5) ? hostile.mutate({ temperature: 4, ts: Date.UTC(2026, 1, 1) }) : items(reading)))
            : (rng.chance(0.3) ? hostile.wholeBody() : encode(rng.chance(0.5) ? hostile.mutate(nativeEvent()) : items(nativeEvent)));
        counts.set(topic, (counts.get(topic) ?? 0) + 1);
        sent.push(publish(topic.endsWith('telemetry') ? sensor : radar, topic, payload, `message ${round * 20 + i}`));
      }
      controlMessages += 1;
      sent.push(publish(control, 'v1/devices/me/events', JSON.stringify([{ client_ref: `mqtt-control-${round}`, ts: new Date(Date.UTC(2026, 2, 2, 0, round)).toISOString(), speed: 30 }]), 'control'));
      await Promise.all(sent);
    }
    console.log(`fuzz seed ${SEED}: ${MQTT_CASES} MQTT messages (${[...counts].map(([t, n]) => `${t} ${n}`).join(', ')}); ${controlMessages} control messages`);
    assert.deepEqual(unacknowledged, [], `messages left without PUBACK (replay with FUZZ_SEED=${SEED})`);
    assert.ok(radar.connected && sensor.connected, 'the fuzzed devices are still connected');
    const stored = await app.runtime.ctx.pool.query(`SELECT count(*)::int AS n FROM events WHERE device_id = $1 AND client_ref LIKE 'mqtt-control-%'`, [controlId]);
    assert.equal(stored.rows[0].n, controlMessages);
    assert.equal((await app.runtime.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  });
});
