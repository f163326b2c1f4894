import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttService } from '../src/server/mqtt/service.js';
import { ReceiveClock } from '../src/server/ingest/receive-clock.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { nextMessage, waitFor } from './helpers/mqtt.js';

const TELEMETRY = 'v1/devices/me/telemetry';
const ERRORS = 'v1/devices/me/errors';
// ThingsBoard's device SDK example telemetry, as the SDK sends it (no ts).
// The Mosquitto service of the test environment, for the external-broker bridge.
const MOSQUITTO_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const SDK_EXAMPLE = { mx_temp: 41.9, mx_hum: 69, mx_on: false, currentFirmwareVersion: 'v1.2.2' };

describe('telemetry of every type, and readings without a time', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let service: MqttService;
  let url: string;
  const clients: MqttClient[] = [];

  before(async () => {
    app = await startTestApp({ mqttPort: 0, metricsPublic: true });
    owner = await app.owner();
    service = new MqttService(app.runtime.ctx, app.runtime.services.devices, app.runtime.services.ingest);
    await service.start();
    url = `mqtt://127.0.0.1:${service.port}`;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await service.stop();
    await app.close();
  });

  async function device(siteId?: string) {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Gateway', serial: `T-${randomBytes(4).toString('hex')}`, ...(siteId && { siteId }) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function connect(key: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { username: key, reconnectPeriod: 0, protocolVersion });
    clients.push(client);
    return client;
  }

  async function latest(id: string, client = owner.client, query = '') {
    return client.get(`/api/v1/devices/${id}/telemetry/latest${query}`);
  }

  const post = (key: string, items: unknown[]) => app.runtime.app.inject({
    method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items },
  });

  async function rawValues(id: string, metric: string) {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const response = await owner.client.get(`/api/v1/devices/${id}/telemetry?from=${from}&to=${to}&metrics=${metric}`);
    assert.equal(response.status, 200);
    return response.body.values as { ts: string; value: number }[];
  }

  it('stores the ThingsBoard SDK example over MQTT: every key readable with its type', async () => {
    const sensor = await device();
    const client = await connect(sensor.key);
    await client.publishAsync(TELEMETRY, JSON.stringify(SDK_EXAMPLE), { qos: 1 });
    const page = await latest(sensor.id);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const byKey = Object.fromEntries(page.body.items.map((i: { key: string }) => [i.key, i]));
    assert.deepEqual(page.body.items.map((i: { key: string }) => i.key), ['currentFirmwareVersion', 'mx_hum', 'mx_on', 'mx_temp']);
    assert.deepEqual([byKey.mx_temp.type, byKey.mx_temp.value], ['number', 41.9]);
    assert.deepEqual([byKey.mx_hum.type, byKey.mx_hum.value], ['number', 69]);
    // A boolean is a 0/1 series, for charts, rollups and alert rules.
    assert.deepEqual([byKey.mx_on.type, byKey.mx_on.value], ['number', 0]);
    assert.deepEqual([byKey.currentFirmwareVersion.type, byKey.currentFirmwareVersion.value], ['string', 'v1.2.2']);
    assert.deepEqual((await rawValues(sensor.id, 'mx_on')).map((v) => v.value), [0]);
  });

  it('keeps the valid keys of a reading and names each refused key, on HTTP and on the MQTT errors topic, counted on /metrics', async () => {
    const sensor = await device();
    const big = 'x'.repeat(9 * 1024);
    const answer = await post(sensor.key, [{ values: { t: 4.5, status: 'ok', config: { mode: 'eco', zones: [1, 2] }, note: big, gone: null, 'bad key': 1 } }]);
    assert.equal(answer.statusCode, 200, answer.body);
    const body = answer.json();
    assert.equal(body.accepted, 1);
    assert.equal(body.values, 3);
    assert.deepEqual(body.rejected, [{
      index: 0,
      errors: [
        { field: 'values.note', message: `is ${big.length + 2} bytes as JSON; a value holds at most 8192` },
        { field: 'values.gone', message: 'must be a number, a boolean, a string or a JSON object or array, not null' },
        { field: 'values.bad key', message: 'is not a valid key name (letters, digits, _ . -; up to 64)' },
      ],
    }]);
    const items = (await latest(sensor.id)).body.items as { key: string; type: string; value: unknown }[];
    assert.deepEqual(items.map((i) => [i.key, i.type, i.value]), [['config', 'json', { mode: 'eco', zones: [1, 2] }], ['status', 'string', 'ok'], ['t', 'number', 4.5]]);

    const client = await connect(sensor.key);
    await client.subscribeAsync(ERRORS, { qos: 1 });
    const report = nextMessage(client, ERRORS);
    await client.publishAsync(TELEMETRY, JSON.stringify({ t: 5, label: 'night\u0000' }), { qos: 1 });
    const received = await report;
    assert.equal(received.code, 'rejected_items');
    assert.deepEqual(received.rejected, [{ index: 0, errors: [{ field: 'values.label', message: 'must not contain the NUL character (\\u0000)' }] }]);
    assert.equal((await rawValues(sensor.id, 't')).length, 2, 'the valid key of the MQTT reading was stored');

    const metrics = (await app.runtime.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const reason of ['too_large', 'null_value', 'invalid_key', 'unstorable_text']) {
      assert.match(metrics, new RegExp(`vigil_telemetry_dropped_total\\{reason="${reason}"\\} [1-9]`), reason);
    }
  });

  it('a resent typed reading is a duplicate; a later value becomes the latest; keys come a page at a time', async () => {
    const sensor = await device();
    const ts = new Date(Date.now() - 60_000).toISOString();
    assert.equal((await post(sensor.key, [{ ts, values: { firmware: 'v1', a: 1, b: true } }])).json().accepted, 1);
    const again = (await post(sensor.key, [{ ts, values: { firmware: 'v1', a: 1, b: true } }])).json();
    assert.deepEqual([again.accepted, again.duplicates], [0, 1]);
    await post(sensor.key, [{ values: { firmware: 'v2', b: 7 } }]);
    const first = await latest(sensor.id, owner.client, '?limit=2');
    assert.deepEqual(first.body.items.map((i: { key: string; value: unknown }) => [i.key, i.value]), [['a', 1], ['b', 7]], 'b is 7 now, newer than the flag');
    const second = await latest(sensor.id, owner.client, `?limit=2&cursor=${first.body.nextCursor}`);
    assert.deepEqual(second.body.items.map((i: { key: string; value: unknown }) => [i.key, i.value]), [['firmware', 'v2']]);
    assert.equal(second.body.nextCursor, null);
  });

  it('another tenant gets 404, a member restricted to other sites 404, a member of the site reads', async () => {
    const north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id;
    const sensor = await device(north);
    await post(sensor.key, [{ values: { state: 'open' } }]);
    const stranger = await app.owner('Stranger');
    assert.equal((await latest(sensor.id, stranger.client)).status, 404);
    const southViewer = await app.member(owner, 'viewer', [south]);
    assert.equal((await latest(sensor.id, southViewer.client)).status, 404);
    const northViewer = await app.member(owner, 'viewer', [north]);
    const page = await latest(sensor.id, northViewer.client);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.items.map((i: { value: unknown }) => i.value), ['open']);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`an offline queue of 50 readings without ts flushed at once over MQTT (protocol ${protocolVersion}): all stored, distinct, in order`, async () => {
      const sensor = await device();
      const client = await connect(sensor.key, protocolVersion);
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.publishAsync(TELEMETRY, JSON.stringify({ n: i, state: `s${i}` }), { qos: 1 })));
      const values = await rawValues(sensor.id, 'n');
      assert.deepEqual(values.map((v) => v.value), Array.from({ length: 50 }, (_, i) => i));
      assert.equal(new Set(values.map((v) => v.ts)).size, 50, 'each reading has a time of its own');
      assert.equal((await latest(sensor.id)).body.items.find((i: { key: string }) => i.key === 'state').value, 's49');
    });
  }

  it('over the external-broker bridge (Mosquitto): the SDK example and 50 readings without ts, all stored apart', async () => {
    const prefix = `vigil-types-${randomBytes(6).toString('hex')}`;
    const bridgeId = `vigil-types-bridge-${randomBytes(6).toString('hex')}`;
    const bridgeCtx = { ...app.runtime.ctx, config: { ...app.runtime.ctx.config, mqttPort: undefined, mqttUrl: MOSQUITTO_URL } };
    const bridge = new MqttService(bridgeCtx, app.runtime.services.devices, app.runtime.services.ingest, { topicPrefix: prefix, clientId: bridgeId, connections: 1 });
    await bridge.start();
    try {
      const sensor = await device();
      const publisher = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `dev-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 });
      clients.push(publisher);
      const topic = `${prefix}/v1/telemetry`;
      await publisher.publishAsync(topic, JSON.stringify({ key: sensor.key, data: SDK_EXAMPLE }), { qos: 1 });
      await Promise.all(Array.from({ length: 50 }, (_, i) => publisher.publishAsync(topic, JSON.stringify({ key: sensor.key, data: { n: i } }), { qos: 1 })));
      await waitFor(async () => (await rawValues(sensor.id, 'n')).length === 50, '50 readings through the bridge');
      const values = await rawValues(sensor.id, 'n');
      assert.deepEqual(values.map((v) => v.value), Array.from({ length: 50 }, (_, i) => i), 'one bridge connection handles them in the order sent');
      const items = (await latest(sensor.id)).body.items as { key: string; value: unknown }[];
      assert.deepEqual(items.filter((i) => i.key !== 'n').map((i) => [i.key, i.value]), [['currentFirmwareVersion', 'v1.2.2'], ['mx_hum', 69], ['mx_on', 0], ['mx_temp', 41.9]]);
    } finally {
      await bridge.stop();
      // The bridge's session is persistent: forget it so the broker keeps nothing for it.
      const cleaner = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: bridgeId, clean: true, reconnectPeriod: 0 }).catch(() => undefined);
      await cleaner?.endAsync();
    }
  });

  it('several readings without ts in one message, and on HTTP, are stored apart', async () => {
    const sensor = await device();
    const client = await connect(sensor.key);
    await client.publishAsync(TELEMETRY, JSON.stringify([{ n: 1 }, { n: 2 }, { ts: Date.now() - 5_000, n: 0 }, { n: 3 }]), { qos: 1 });
    const http = (await post(sensor.key, [{ values: { n: 4 } }, { values: { n: 5 } }])).json();
    assert.deepEqual([http.accepted, http.duplicates], [2, 0]);
    await waitFor(async () => (await rawValues(sensor.id, 'n')).length === 6, 'six readings');
    assert.deepEqual((await rawValues(sensor.id, 'n')).map((v) => v.value), [0, 1, 2, 3, 4, 5]);
  });

  it('the receive clock gives each device distinct increasing times, also past its memory bound', () => {
    const clock = new ReceiveClock(2);
    const now = 1_000_000;
    assert.equal(clock.reserve('a', 3, now), now);
    assert.equal(clock.reserve('a', 1, now), now + 3);
    assert.equal(clock.reserve('b', 1, now), now);
    // The map is full: forgetting 'a' must not let it go back to a time it was given.
    assert.equal(clock.reserve('c', 1, now), now + 4);
    assert.equal(clock.reserve('a', 1, now), now + 4);
  });
});
