import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IConnackPacket, type IDisconnectPacket, type MqttClient } from 'mqtt';
import { AppError } from '../src/server/core/http/errors.js';
import { MAX_QOS2_AWAITING_RELEASE, PacketSizeGuard } from '../src/server/mqtt/connectionLimits.js';
import type { MqttIngest } from '../src/server/mqtt/processor.js';
import { MqttService } from '../src/server/mqtt/service.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { settle } from './helpers/mqtt.js';

const TELEMETRY = 'v1/devices/me/telemetry';
const EVENTS = 'v1/devices/me/events';
const NOT_AUTHORIZED = 0x87;
const SERVER_BUSY = 0x89;

/** The reason code of a refused CONNECT or PUBACK, as mqtt.js reports it. */
const reasonCode = (error: unknown) => (error as { code?: number }).code;

/** Publishes and resolves with the acknowledgement's reason code (0: success) and reason string. */
function publish(client: MqttClient, topic: string, payload: string, qos: 1 | 2): Promise<{ code: number; reason?: string }> {
  return new Promise((resolve) => client.publish(topic, payload, { qos }, (error, packet) => {
    const ack = packet as { reasonCode?: number; properties?: { reasonString?: string } } | undefined;
    resolve({ code: (error ? reasonCode(error) : ack?.reasonCode) ?? 0, reason: ack?.properties?.reasonString });
  }));
}

describe('MQTT 5 devices on the embedded broker', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let service: MqttService;
  const clients: MqttClient[] = [];

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
    service = new MqttService(app.runtime.ctx, app.runtime.services.devices, app.runtime.services.ingest);
    await service.start();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await service.stop();
    await app.close();
  });

  async function device() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Fridge', serial: `V5-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string, keyId: created.body.key.id as string };
  }

  /** An MQTT 5 connection with the key as user name, and the broker's CONNACK. */
  function connect(key: string | undefined, port = service.port): Promise<{ client: MqttClient; connack: IConnackPacket }> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: key, protocolVersion: 5, reconnectPeriod: 0 });
      clients.push(client);
      client.once('connect', (connack) => resolve({ client, connack }));
      client.once('error', reject);
    });
  }

  /** The DISCONNECT the broker sends before closing, if any. */
  const disconnected = (client: MqttClient) => new Promise<IDisconnectPacket | undefined>((resolve) => {
    client.once('disconnect', resolve);
    client.once('close', () => setImmediate(() => resolve(undefined)));
  });

  const telemetryRows = async (deviceId: string) =>
    Number((await app.runtime.ctx.pool.query('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [deviceId])).rows[0].n);

  it('connects with the key as user name and stores QoS 1 telemetry and QoS 2 events before acknowledging them', async () => {
    const sensor = await device();
    const { client, connack } = await connect(sensor.key);
    assert.equal(connack.reasonCode, 0);
    assert.ok(Number(connack.properties?.maximumPacketSize) > 0, 'the CONNACK tells the device the largest packet it may send');

    const puback = await publish(client, TELEMETRY, JSON.stringify({ ts: '2026-03-10T08:00:00Z', values: { temperature: 3.5, door: true } }), 1);
    assert.equal(puback.code, 0, 'PUBACK success');
    assert.equal(await telemetryRows(sensor.id), 2, 'the rows were committed before the PUBACK');

    await client.publishAsync(EVENTS, JSON.stringify({ client_ref: 'v5-1', ts: '2026-03-10T09:00:00Z', kind: 'door_open' }), { qos: 2 });
    const events = (await app.runtime.ctx.pool.query('SELECT client_ref FROM events WHERE device_id = $1', [sensor.id])).rows;
    assert.deepEqual(events.map((e) => e.client_ref), ['v5-1']);
  });

  it('refuses an unknown or missing key with CONNACK 0x87 (not authorized)', async () => {
    await assert.rejects(connect(`vgd_${'0'.repeat(64)}`), (error) => reasonCode(error) === NOT_AUTHORIZED);
    await assert.rejects(connect(undefined), (error) => reasonCode(error) === NOT_AUTHORIZED);
  });

  it('answers a message on a topic the device may not use with PUBACK 0x87 and its reason, and keeps the connection', async () => {
    const sensor = await device();
    const { client } = await connect(sensor.key);
    const refused = await publish(client, 'v1/devices/me/unknown', '{"t":1}', 1);
    assert.equal(refused.code, NOT_AUTHORIZED);
    assert.match(String(refused.reason), /devices publish on v1\/devices\/me\/telemetry/);
    await client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-10T08:00:00Z', values: { t: 1 } }), { qos: 1 });
    assert.equal(await telemetryRows(sensor.id), 1);
  });

  it('does not acknowledge a message before its commit, and closes with 0x89 (server busy) without PUBACK when it cannot be stored', async () => {
    const sensor = await device();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let busy = false;
    const real = app.runtime.services.ingest;
    const slow: MqttIngest = {
      ingestTelemetry: async (d, items) => {
        await gate;
        // The database refuses for longer than the broker waits: the message must stay unacknowledged.
        if (busy) throw new AppError(429, 'rate_limited', 'busy', { retryAfterSeconds: 60 });
        return real.ingestTelemetry(d, items);
      },
      ingestEvents: (d, items) => real.ingestEvents(d, items),
    };
    const gated = new MqttService(app.runtime.ctx, app.runtime.services.devices, slow);
    await gated.start();
    try {
      const { client } = await connect(sensor.key, gated.port);
      let acked = false;
      const publishing = client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-10T10:00:00Z', values: { t: 1 } }), { qos: 1 }).then(() => { acked = true; });
      await settle(300);
      assert.equal(acked, false, 'no PUBACK while the write is pending');
      release();
      await publishing;
      assert.equal(await telemetryRows(sensor.id), 1, 'the PUBACK follows the commit');

      busy = true;
      const closing = disconnected(client);
      let answered = false;
      client.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-10T10:00:01Z', values: { t: 2 } }), { qos: 1 }).then(() => { answered = true; }, () => undefined);
      assert.equal((await closing)?.reasonCode, SERVER_BUSY);
      assert.equal(answered, false, 'no PUBACK of any kind: the device resends the message after reconnecting');
      assert.equal(await telemetryRows(sensor.id), 1);
    } finally {
      release();
      await gated.stop();
    }
  });

  it('answers a message sent after the key was revoked with PUBACK 0x87, then disconnects with 0x87', async () => {
    const sensor = await device();
    const { client } = await connect(sensor.key);
    assert.equal((await owner.client.delete(`/api/v1/devices/${sensor.id}/keys/${sensor.keyId}`)).status, 204);
    const closing = disconnected(client);
    const refused = await publish(client, TELEMETRY, JSON.stringify({ ts: '2026-03-14T00:00:01Z', values: { t: 2 } }), 1);
    assert.deepEqual(refused, { code: NOT_AUTHORIZED, reason: 'the device key was revoked' });
    assert.equal((await closing)?.reasonCode, NOT_AUTHORIZED);
    assert.equal(await telemetryRows(sensor.id), 0);
    await assert.rejects(connect(sensor.key), (error) => reasonCode(error) === NOT_AUTHORIZED);
  });

  it(`closes a connection with more than ${MAX_QOS2_AWAITING_RELEASE} QoS 2 messages awaiting their PUBREL`, () => {
    const guard = new PacketSizeGuard({ maxPacketBytes: 1024, bytesBeforeAccept: 1024 });
    guard.accept();
    // PUBLISH at QoS 2 on topic "t" with message id 1, and PUBREL of message id 1.
    const publish = Buffer.from([0x34, 5, 0, 1, 0x74, 0, 1]);
    const pubrel = Buffer.from([0x62, 2, 0, 1]);
    for (let i = 0; i < MAX_QOS2_AWAITING_RELEASE; i++) assert.equal(guard.scan(publish), undefined);
    assert.equal(guard.scan(pubrel), undefined);
    assert.equal(guard.scan(publish), undefined, 'a PUBREL makes room for one more');
    assert.match(String(guard.scan(publish)), /QoS 2 messages without PUBREL/);
  });
});
