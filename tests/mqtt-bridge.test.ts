import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { AppContext } from '../src/server/core/context.js';
import { tooManyRequests } from '../src/server/core/http/errors.js';
import type { MqttIngest } from '../src/server/mqtt/processor.js';
import { MqttService } from '../src/server/mqtt/service.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { nextMessage, settle, waitFor } from './helpers/mqtt.js';

// The Mosquitto service; each test file uses its own topic prefix and client ids on it.
const MOSQUITTO_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

let app: TestApp;
let owner: SignedIn;

describe('MQTT bridge to an external broker (Mosquitto)', { timeout: 120_000 }, () => {
  const prefix = `vigil-test-${randomBytes(6).toString('hex')}`;
  const bridgeId = `vigil-test-bridge-${randomBytes(6).toString('hex')}`;
  let bridgeCtx: AppContext;
  const telemetryTopic = `${prefix}/v1/telemetry`;
  const eventsTopic = `${prefix}/v1/events`;

  const clients: MqttClient[] = [];

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    bridgeCtx = { ...app.runtime.ctx, config: { ...app.runtime.ctx.config, mqttPort: undefined, mqttUrl: MOSQUITTO_URL } };
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
  });

  async function device() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Fridge', serial: `B-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  /** A device-side client of the broker (devices authenticate to Vigil by the key in each message). */
  async function publisherClient(): Promise<MqttClient> {
    const client = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `dev-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, protocolVersion: 4 });
    clients.push(client);
    return client;
  }

  const count = async (sqlText: string, params: unknown[]) => Number((await app.runtime.ctx.pool.query(sqlText, params)).rows[0].n);
  const telemetryRows = (deviceId: string) => count('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [deviceId]);
  const eventRows = (deviceId: string) => count('SELECT count(*) AS n FROM events WHERE device_id = $1', [deviceId]);
  /**
   * Forgets a bridge's persistent sessions (one per connection). A stopped bridge's sessions stay
   * subscribed and would take their share of the next test's messages.
   */
  async function forgetSessions(base: string) {
    for (const id of [base, `${base}-1`, `${base}-2`, `${base}-3`]) {
      const cleaner = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: id, clean: true, reconnectPeriod: 0 }).catch(() => undefined);
      await cleaner?.endAsync();
    }
  }
  afterEach(async () => {
    for (const base of [bridgeId, `${bridgeId}-a`, `${bridgeId}-b`]) await forgetSessions(base);
  });

  /** The real ingest, counting the telemetry messages each bridge handles. */
  function countingIngest(hold?: () => Promise<void>) {
    const counted = {
      messages: 0,
      ingestTelemetry: async (...args: Parameters<MqttIngest['ingestTelemetry']>) => {
        counted.messages += 1;
        await hold?.();
        return app.runtime.services.ingest.ingestTelemetry(...args);
      },
      ingestEvents: (...args: Parameters<MqttIngest['ingestEvents']>) => app.runtime.services.ingest.ingestEvents(...args),
    };
    return counted;
  }

  async function publishReadings(sensors: { key: string }[], perDevice: number) {
    const publisher = await publisherClient();
    await Promise.all(sensors.flatMap((sensor) => Array.from({ length: perDevice }, (_, i) =>
      publisher.publishAsync(telemetryTopic, JSON.stringify({ key: sensor.key, data: { ts: Date.parse('2026-03-20T00:00:00Z') + i * 1000, values: { t: i } } }), { qos: 1 }))));
  }

  it('handles messages on several connections at once and stores each message of many devices exactly once', async () => {
    const sensors = await Promise.all(Array.from({ length: 12 }, () => device()));
    // The first four messages wait for one another: they are released only if four are handled at once.
    let waiting = 0;
    let release!: () => void;
    const fourAtOnce = new Promise<void>((resolve) => { release = resolve; });
    const ingest = countingIngest(async () => {
      if (++waiting === 4) release();
      await fourAtOnce;
    });
    const bridge = new MqttService(bridgeCtx, app.runtime.services.devices, ingest, { topicPrefix: prefix, clientId: bridgeId, connections: 4 });
    await bridge.start();
    try {
      await publishReadings(sensors, 5);
      for (const sensor of sensors) await waitFor(async () => (await telemetryRows(sensor.id)) === 5, `the readings of ${sensor.id}`);
      assert.equal(ingest.messages, 60, 'each message handled once');
    } finally {
      await bridge.stop();
    }
    // Every message was acknowledged: a new bridge on the same sessions gets none again.
    const again = countingIngest();
    const next = new MqttService(bridgeCtx, app.runtime.services.devices, again, { topicPrefix: prefix, clientId: bridgeId, connections: 4 });
    await next.start();
    await settle(500);
    await next.stop();
    assert.equal(again.messages, 0);
  });

  it('two Vigil processes on the same broker share the messages: none is handled twice', async () => {
    const sensors = await Promise.all(Array.from({ length: 8 }, () => device()));
    const ingestA = countingIngest();
    const ingestB = countingIngest();
    const a = new MqttService(bridgeCtx, app.runtime.services.devices, ingestA, { topicPrefix: prefix, clientId: `${bridgeId}-a`, connections: 2 });
    const b = new MqttService(bridgeCtx, app.runtime.services.devices, ingestB, { topicPrefix: prefix, clientId: `${bridgeId}-b`, connections: 2 });
    await a.start();
    await b.start();
    try {
      await publishReadings(sensors, 5);
      for (const sensor of sensors) await waitFor(async () => (await telemetryRows(sensor.id)) === 5, `the readings of ${sensor.id}`);
      assert.equal(ingestA.messages + ingestB.messages, 40, 'each message went to one process');
      assert.ok(ingestA.messages > 0 && ingestB.messages > 0, `both processes took a share (${ingestA.messages}, ${ingestB.messages})`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('authenticates each message by its key, stores it before acknowledging, and reports problems', async () => {
    const sensor = await device();
    const bridge = new MqttService(bridgeCtx, app.runtime.services.devices, app.runtime.services.ingest, { topicPrefix: prefix, clientId: bridgeId });
    await bridge.start(); // fails the test when Mosquitto is unreachable
    try {
      const publisher = await publisherClient();
      await publisher.subscribeAsync(`${prefix}/v1/errors/${sensor.id}`, { qos: 1 });
      await publisher.publishAsync(telemetryTopic, JSON.stringify({ key: sensor.key, data: { ts: Date.parse('2026-03-15T00:00:00Z'), values: { t: 1, u: 2 } } }), { qos: 1 });
      await waitFor(async () => (await telemetryRows(sensor.id)) === 2, 'telemetry from Mosquitto');

      const report = nextMessage(publisher, `${prefix}/v1/errors/${sensor.id}`);
      await publisher.publishAsync(eventsTopic, JSON.stringify({ key: sensor.key, data: [{ client_ref: 'x', ts: '2026-03-15T00:00:00Z' }, { ts: 'soon' }] }), { qos: 1 });
      const rejected = await report;
      assert.equal(rejected.code, 'rejected_items');
      assert.deepEqual(rejected.rejected!.map((r) => r.index), [1]);
      assert.equal(await eventRows(sensor.id), 1);

      // The forged messages are dropped (and logged); the valid one after them is stored.
      await publisher.publishAsync(telemetryTopic, JSON.stringify({ key: `vgd_${'1'.repeat(64)}`, data: { t: 9 } }), { qos: 1 });
      await publisher.publishAsync(telemetryTopic, 'not json', { qos: 1 });
      await publisher.publishAsync(telemetryTopic, JSON.stringify({ data: { t: 9 } }), { qos: 1 });
      await publisher.publishAsync(telemetryTopic, JSON.stringify({ key: sensor.key, data: [{ ts: '2026-03-15T00:00:01Z', values: { t: 3 } }] }), { qos: 1 });
      await waitFor(async () => (await telemetryRows(sensor.id)) === 3, 'the last telemetry');
    } finally {
      await bridge.stop();
    }
  });

  it('leaves a message it could not store unacknowledged, so the broker redelivers it', async () => {
    const sensor = await device();
    let attempts = 0;
    const overloaded: MqttIngest = {
      ingestTelemetry: async () => { attempts += 1; throw tooManyRequests(1); },
      ingestEvents: async () => { attempts += 1; throw tooManyRequests(1); },
    };
    const first = new MqttService(bridgeCtx, app.runtime.services.devices, overloaded, { topicPrefix: prefix, clientId: bridgeId });
    await first.start();
    const publisher = await publisherClient();
    try {
      await publisher.publishAsync(telemetryTopic, JSON.stringify({ key: sensor.key, data: { ts: '2026-03-16T00:00:00Z', values: { t: 7 } } }), { qos: 1 });
      await waitFor(async () => attempts > 0, 'a first attempt');
    } finally {
      await first.stop(); // while retrying: the message stays unacknowledged in the bridge's session
    }
    assert.equal(await telemetryRows(sensor.id), 0);

    const second = new MqttService(bridgeCtx, app.runtime.services.devices, app.runtime.services.ingest, { topicPrefix: prefix, clientId: bridgeId });
    await second.start();
    try {
      await waitFor(async () => (await telemetryRows(sensor.id)) === 1, 'the redelivered message');
    } finally {
      await second.stop();
    }
  });
});
