import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Config } from '../src/server/core/config.js';
import { PacketSizeGuard } from '../src/server/mqtt/connectionLimits.js';
import { MqttService } from '../src/server/mqtt/service.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { settle, waitFor } from './helpers/mqtt.js';

const TELEMETRY = 'v1/devices/me/telemetry';
const MB = 1024 * 1024;

/** An MQTT fixed header: the packet type byte, then the remaining length as a varint. */
function fixedHeader(type: number, remainingLength: number): Buffer {
  const bytes = [type];
  let left = remainingLength;
  do {
    const digit = left % 128;
    left = Math.floor(left / 128);
    bytes.push(left > 0 ? digit | 0x80 : digit);
  } while (left > 0);
  return Buffer.from(bytes);
}

/** A raw TCP connection and whether (and when) the broker closed it. */
async function rawSocket(port: number): Promise<{ socket: net.Socket; closed: Promise<void>; received: () => number }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // the broker resets connections it refuses
  let received = 0;
  socket.on('data', (chunk: Buffer) => { received += chunk.length; });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  return { socket, closed, received: () => received };
}

/** Resolves true when `closed` settles within `ms`, false otherwise. */
const closesWithin = (closed: Promise<void>, ms: number) => Promise.race([closed.then(() => true), settle(ms).then(() => false)]);

describe('MQTT connection and packet limits', { timeout: 120_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  const services: MqttService[] = [];
  const clients: MqttClient[] = [];
  const sockets: net.Socket[] = [];

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await Promise.all(services.map((s) => s.stop()));
    await app.close();
  });

  /** An embedded broker of its own, with these settings. */
  async function broker(overrides: Partial<Config> = {}): Promise<number> {
    const ctx = { ...app.runtime.ctx, config: { ...app.runtime.ctx.config, ...overrides } };
    const service = new MqttService(ctx, app.runtime.services.devices, app.runtime.services.ingest);
    services.push(service);
    await service.start();
    return service.port!;
  }

  async function raw(port: number) {
    const connection = await rawSocket(port);
    sockets.push(connection.socket);
    return connection;
  }

  async function device() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Fridge', serial: `L-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function connect(port: number, key: string): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: key, reconnectPeriod: 0, protocolVersion: 4 }, false);
    clients.push(client);
    return client;
  }

  /** A telemetry batch of about `bytes` bytes. */
  function telemetryOf(bytes: number): string {
    const item = (i: number) => ({ ts: Date.parse('2026-03-10T08:00:00Z') + i * 1000, values: { t: i % 10 } });
    const perItem = JSON.stringify(item(0)).length + 1;
    return JSON.stringify(Array.from({ length: Math.ceil(bytes / perItem) }, (_, i) => item(i)));
  }

  const telemetryRows = async (deviceId: string) =>
    Number((await app.runtime.ctx.pool.query('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [deviceId])).rows[0].n);

  it('disconnects a client that announces a 200 MB packet before its key is checked, without buffering it', async () => {
    const port = await broker();

    // Only the announcement and 1 KiB of the body: the broker does not wait for the rest.
    const prefix = await raw(port);
    prefix.socket.write(Buffer.concat([fixedHeader(0x10, 200 * MB), Buffer.alloc(1024)]));
    assert.equal(await closesWithin(prefix.closed, 5000), true, 'the connection is closed after a small prefix');

    // The whole packet, streamed as fast as the broker takes it: refused early, the server's memory stays flat.
    const stream = await raw(port);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 10);
    const chunk = Buffer.alloc(MB, 0x41);
    let closed = false;
    void stream.closed.then(() => { closed = true; });
    stream.socket.write(fixedHeader(0x30, 200 * MB));
    for (let sent = 0; sent < 200 * MB && !closed; sent += chunk.length) {
      if (!stream.socket.write(chunk)) await Promise.race([new Promise((resolve) => stream.socket.once('drain', resolve)), stream.closed]);
    }
    clearInterval(sampler);
    assert.equal(closed, true, 'the broker closed the connection');
    assert.ok(stream.socket.bytesWritten < 50 * MB, `the client could write only ${(stream.socket.bytesWritten / MB).toFixed(1)} MB before the close`);
    assert.ok(rssPeak - rssBefore < 64 * MB, `memory grew by ${((rssPeak - rssBefore) / MB).toFixed(0)} MB`);
  });

  it('closes the connection of an accepted device whose packet is over MQTT_MAX_PACKET_BYTES, without PUBACK, and other devices go on', async () => {
    const port = await broker({ mqttMaxPacketBytes: 64 * 1024 });
    const [big, other] = [await device(), await device()];
    const bigClient = await connect(port, big.key);
    const otherClient = await connect(port, other.key);

    // Over the 16 KiB allowed before CONNACK, under the limit: accepted devices may send it.
    await bigClient.publishAsync(TELEMETRY, telemetryOf(40 * 1024), { qos: 1 });
    const stored = await telemetryRows(big.id);
    assert.ok(stored > 500, `the 40 KiB batch was stored (${stored} rows)`);

    const closed = new Promise<void>((resolve) => bigClient.once('close', () => resolve()));
    let acknowledged = false;
    bigClient.publishAsync(TELEMETRY, telemetryOf(100 * 1024), { qos: 1 }).then(() => { acknowledged = true; }, () => undefined);
    assert.equal(await closesWithin(closed, 5000), true, 'the oversized packet closed its connection');
    assert.equal(acknowledged, false, 'no PUBACK');
    assert.equal(await telemetryRows(big.id), stored, 'nothing of the oversized packet was stored');

    await otherClient.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-10T08:00:00Z', values: { t: 1 } }), { qos: 1 });
    assert.equal(await telemetryRows(other.id), 1, 'another device is unaffected');
    const again = await connect(port, big.key);
    await again.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-11T08:00:00Z', values: { t: 2 } }), { qos: 1 });
    assert.equal(await telemetryRows(big.id), stored + 1, 'the device reconnects and sends smaller messages');
  });

  it('refuses connections beyond MQTT_MAX_PENDING_CONNECTIONS and MQTT_MAX_CONNECTIONS', async () => {
    const port = await broker({ mqttMaxPendingConnections: 2, mqttMaxConnections: 3 });
    const idle = [await raw(port), await raw(port)];
    const third = await raw(port);
    assert.equal(await closesWithin(third.closed, 5000), true, 'a third connection without CONNECT is refused');
    assert.equal(third.received(), 0);
    assert.equal(await closesWithin(Promise.race(idle.map((s) => s.closed)), 0), false, 'the first two are still open');

    // Once the idle connections are gone, devices connect; accepted ones no longer count as pending.
    for (const s of idle) s.socket.destroy();
    const sensors = [await device(), await device(), await device()];
    const connected: MqttClient[] = [];
    for (const sensor of sensors) {
      await waitFor(async () => {
        try {
          connected.push(await connect(port, sensor.key));
          return true;
        } catch {
          return false;
        }
      }, 'a free slot');
    }
    const fourth = await raw(port);
    assert.equal(await closesWithin(fourth.closed, 5000), true, 'a fourth connection is over MQTT_MAX_CONNECTIONS');
    await connected[0]!.publishAsync(TELEMETRY, JSON.stringify({ ts: '2026-03-10T08:00:00Z', values: { t: 1 } }), { qos: 1 });
    assert.equal(await telemetryRows(sensors[0]!.id), 1, 'connected devices keep working');
  });

  it('reads packet sizes across any split of the bytes, pipelined packets included', () => {
    const packet = (size: number) => Buffer.concat([fixedHeader(0x30, size - (size > 129 ? 3 : 2)), Buffer.alloc(size - (size > 129 ? 3 : 2))]);
    const fine = Buffer.concat([packet(100), packet(1000), packet(4000), packet(2)]);
    const tooLarge = Buffer.concat([packet(100), fixedHeader(0x30, 5000)]);
    const limits = { maxPacketBytes: 4096, bytesBeforeAccept: 0 };
    for (const chunkSize of [1, 2, 3, 7, 1000, fine.length]) {
      const guard = new PacketSizeGuard(limits);
      guard.accept();
      for (let i = 0; i < fine.length; i += chunkSize) assert.equal(guard.scan(fine.subarray(i, i + chunkSize)), undefined, `chunks of ${chunkSize}`);
      const refusing = new PacketSizeGuard(limits);
      refusing.accept();
      const problems = [];
      for (let i = 0; i < tooLarge.length; i += chunkSize) problems.push(refusing.scan(tooLarge.subarray(i, i + chunkSize)));
      assert.match(String(problems.find(Boolean)), /5003-byte packet/, `chunks of ${chunkSize}`);
    }
    const beforeAccept = new PacketSizeGuard({ maxPacketBytes: 4096, bytesBeforeAccept: 1100 });
    assert.equal(beforeAccept.scan(packet(100)), undefined);
    assert.equal(beforeAccept.scan(packet(1000)), undefined, '1,100 bytes in all before CONNACK');
    assert.match(String(beforeAccept.scan(packet(2))), /before the device key was accepted/);
  });

  it('drops a connection that does not send its CONNECT within MQTT_CONNECT_TIMEOUT_MS', async () => {
    const port = await broker({ mqttConnectTimeoutMs: 300 });
    const silent = await raw(port);
    const slow = await raw(port);
    slow.socket.write(fixedHeader(0x10, 40)); // a CONNECT whose body never comes
    assert.equal(await closesWithin(silent.closed, 5000), true, 'a silent client is dropped');
    assert.equal(await closesWithin(slow.closed, 5000), true, 'a client that stops in the middle of its CONNECT is dropped');
  });
});
