import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { httpSessionLimits, mqttSessionLimits } from '../src/server/commands/session-limits.js';
import { ingestBodyLimitBytes } from '../src/server/ingest/service.js';
import { MAX_QOS2_AWAITING_RELEASE } from '../src/server/mqtt/connectionLimits.js';
import { mqttMaxPayloadBytes } from '../src/server/mqtt/service.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { nextMessage } from './helpers/mqtt.js';

// What ThingsBoard's Python SDK (tb_device_mqtt.py, request_service_configuration) publishes once connected.
const SDK_REQUEST = JSON.stringify({ method: 'getSessionLimits', params: { timeout: 5000 } });
const TELEMETRY = 'v1/devices/me/telemetry';
// A ThingsBoard rate window list as the SDKs parse it: "count:seconds" entries separated by commas.
const RATE_WINDOWS = /^\d+:\d+(,\d+:\d+)*,?$/;

type Limits = { maxPayloadSize: number; maxInflightMessages?: number; rateLimits: Record<string, unknown> };

/** A telemetry message of exactly `bytes` bytes: one reading, padded with the whitespace JSON allows. */
function telemetryOfSize(bytes: number, ts: number): string {
  const json = JSON.stringify({ ts, values: { t: 1 } });
  assert.ok(bytes >= json.length);
  return json + ' '.repeat(bytes - json.length);
}

/** What both Python SDKs need to apply the answer: rateLimits present, figures as numbers, windows as "count:seconds". */
function assertSdkShape(body: unknown): asserts body is Limits {
  assert.ok(body && typeof body === 'object' && !Array.isArray(body), 'an object');
  const limits = body as Limits;
  assert.ok(Number.isSafeInteger(limits.maxPayloadSize) && limits.maxPayloadSize > 0, 'maxPayloadSize in bytes');
  assert.ok(limits.rateLimits && typeof limits.rateLimits === 'object', 'rateLimits present (the SDKs drop an answer without it)');
  for (const [name, windows] of Object.entries(limits.rateLimits)) {
    assert.ok(['messages', 'telemetryMessages', 'telemetryDataPoints'].includes(name), `a ThingsBoard rate: ${name}`);
    assert.match(String(windows), RATE_WINDOWS, name);
  }
  if ('maxInflightMessages' in limits) assert.ok(Number.isSafeInteger(limits.maxInflightMessages) && limits.maxInflightMessages! > 0);
}

function suite(name: string, overrides: Parameters<typeof startTestApp>[0], body: (ctx: () => Context) => void) {
  describe(name, { timeout: 60_000 }, () => {
    let context: Context;
    before(async () => {
      const app = await startTestApp({ mqttPort: 0, ...overrides });
      context = new Context(app, await app.owner());
    });
    after(() => context.close());
    body(() => context);
  });
}

class Context {
  private readonly clients: MqttClient[] = [];
  constructor(
    readonly app: TestApp,
    readonly owner: SignedIn,
  ) {}

  async device() {
    const created = await this.owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Gauge', serial: `SL-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  /** Connects as the SDK does (key as user name) and subscribes to the answers and the error reports. */
  async connect(key: string, protocolVersion: 4 | 5): Promise<{ client: MqttClient; connack: IConnackPacket }> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${this.app.runtime.mqtt.port}`, { username: key, protocolVersion, reconnectPeriod: 0 });
    this.clients.push(client);
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    await client.subscribeAsync(['v1/devices/me/rpc/response/+', 'v1/devices/me/errors'], { qos: 1 });
    return { client, connack };
  }

  /** Asks as the SDK does and returns the answer from `v1/devices/me/rpc/response/{id}`. */
  async askLimits(client: MqttClient, id: number): Promise<Limits> {
    const answer = nextMessage(client, `v1/devices/me/rpc/response/${id}`);
    await client.publishAsync(`v1/devices/me/rpc/request/${id}`, SDK_REQUEST, { qos: 1 });
    const body: unknown = await answer;
    assertSdkShape(body);
    return body;
  }

  async telemetryRows(deviceId: string): Promise<number> {
    return Number((await this.app.runtime.ctx.pool.query('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [deviceId])).rows[0].n);
  }

  async close() {
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await this.app.close();
  }
}

// A small ingest body limit (64 KiB) so that the exact-size messages stay small; MQTT_MAX_PACKET_BYTES unset.
suite('getSessionLimits: the ingest body limit bounds each message', { bodyLimitBytes: 64 * 1024, ingestMaxBatch: 16 }, (ctx) => {
  for (const version of [5, 4] as const) {
    it(`answers the SDK's request with the broker's limits, and a message of maxPayloadSize is stored while one byte more is refused (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
      const { app } = ctx();
      const gauge = await ctx().device();
      const { client } = await ctx().connect(gauge.key, version);
      const limits = await ctx().askLimits(client, 1);

      assert.deepEqual(limits, mqttSessionLimits(app.config));
      assert.equal(limits.maxPayloadSize, ingestBodyLimitBytes(app.config), 'the ingest body limit, the packet limit leaving room for it');
      assert.equal(limits.maxPayloadSize, 64 * 1024);
      assert.equal(limits.maxInflightMessages, MAX_QOS2_AWAITING_RELEASE);
      assert.deepEqual(limits.rateLimits, {}, 'Vigil keeps no per-device window on telemetry or other messages');

      await client.publishAsync(TELEMETRY, telemetryOfSize(limits.maxPayloadSize, Date.UTC(2026, 2, 10, 8)), { qos: 1 });
      assert.equal(await ctx().telemetryRows(gauge.id), 1, 'a message of exactly maxPayloadSize bytes is stored');
      const report = nextMessage(client, 'v1/devices/me/errors');
      await client.publishAsync(TELEMETRY, telemetryOfSize(limits.maxPayloadSize + 1, Date.UTC(2026, 2, 10, 9)), { qos: 1 });
      assert.equal((await report).code, 'payload_too_large');
      assert.equal(await ctx().telemetryRows(gauge.id), 1);
    });
  }

  it('answers the same figures again on the same connection, whatever the params', async () => {
    const gauge = await ctx().device();
    const { client } = await ctx().connect(gauge.key, 5);
    const first = await ctx().askLimits(client, 41);
    const answer = nextMessage(client, 'v1/devices/me/rpc/response/42');
    await client.publishAsync('v1/devices/me/rpc/request/42', JSON.stringify({ method: 'getSessionLimits' }), { qos: 1 });
    assert.deepEqual(await answer, first);
  });

  it('answers over the HTTP device API with the limits of that API, which it enforces to the byte', async () => {
    const { app } = ctx();
    const gauge = await ctx().device();
    const answer = await app.client().post(`/api/v1/${gauge.key}/rpc`, JSON.parse(SDK_REQUEST));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assertSdkShape(answer.body);
    assert.deepEqual(answer.body, httpSessionLimits(app.config));
    assert.equal(answer.body.maxPayloadSize, ingestBodyLimitBytes(app.config));
    assert.equal('maxInflightMessages' in answer.body, false, 'HTTP has no window of unacknowledged messages');
    assert.deepEqual(answer.body.rateLimits, mqttSessionLimits(app.config).rateLimits, 'the same rates as over MQTT');

    const post = (body: string) => app.client().request('POST', `/api/v1/${gauge.key}/telemetry`, body, { 'content-type': 'application/json' });
    assert.equal((await post(telemetryOfSize(answer.body.maxPayloadSize, Date.UTC(2026, 2, 11, 8)))).status, 200);
    assert.equal((await post(telemetryOfSize(answer.body.maxPayloadSize + 1, Date.UTC(2026, 2, 11, 9)))).status, 413);
    assert.equal(await ctx().telemetryRows(gauge.id), 1);
    assert.equal((await app.client().post('/api/v1/not-a-key/rpc', { method: 'getSessionLimits' })).status, 401);
  });
});

suite('getSessionLimits: MQTT_MAX_PACKET_BYTES below the ingest body limit', { mqttMaxPacketBytes: 4096 }, (ctx) => {
  it('answers a payload size that fits the packet limit with its header and topic, over MQTT 5 and 3.1.1', async () => {
    const { app } = ctx();
    const gauge = await ctx().device();
    for (const version of [5, 4] as const) {
      const { client, connack } = await ctx().connect(gauge.key, version);
      const limits = await ctx().askLimits(client, 7);
      assert.equal(limits.maxPayloadSize, mqttMaxPayloadBytes(app.config));
      assert.ok(limits.maxPayloadSize < 4096 && limits.maxPayloadSize < ingestBodyLimitBytes(app.config), `${limits.maxPayloadSize}`);
      if (version === 5) assert.equal(connack.properties?.maximumPacketSize, 4096, 'the CONNACK gives the packet limit');

      const before = await ctx().telemetryRows(gauge.id);
      await client.publishAsync(TELEMETRY, telemetryOfSize(limits.maxPayloadSize, Date.UTC(2026, 2, 12, version)), { qos: 1 });
      assert.equal(await ctx().telemetryRows(gauge.id), before + 1, 'a message of maxPayloadSize bytes fits in a packet and is stored');
      await client.endAsync(true);
    }

    // The packet limit itself is no payload size: a message that large closes the connection without PUBACK
    // (over MQTT 3.1.1, whose client does not know the limit and sends it).
    const { client } = await ctx().connect(gauge.key, 4);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acknowledged = false;
    client.publishAsync(TELEMETRY, telemetryOfSize(4096, Date.UTC(2026, 2, 12, 9)), { qos: 1 }).then(() => { acknowledged = true; }, () => undefined);
    await closed;
    assert.equal(acknowledged, false);

    const answer = await app.client().post(`/api/v1/${gauge.key}/rpc`, { method: 'getSessionLimits', params: {} });
    assert.equal(answer.body.maxPayloadSize, ingestBodyLimitBytes(app.config), 'the HTTP API is not bound by the MQTT packet limit');
  });
});
