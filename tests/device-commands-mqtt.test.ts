import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

const REQUESTS = 'v1/devices/me/rpc/request/+';
const RESPONSES = 'v1/devices/me/rpc/response/+';
const NOT_AUTHORIZED = 0x87;

/** The next message on a topic matching `prefix`, with its topic and parsed payload. */
function nextOn(client: MqttClient, prefix: string, ms = 5000): Promise<{ topic: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message under ${prefix} within ${ms} ms`));
    }, ms);
    function onMessage(topic: string, payload: Buffer) {
      if (!topic.startsWith(prefix)) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ topic, body: JSON.parse(payload.toString()) });
    }
    client.on('message', onMessage);
  });
}

const requestIdOf = (topic: string) => Number(topic.slice(topic.lastIndexOf('/') + 1));

describe('device commands over MQTT (5 and 3.1.1)', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  const clients: MqttClient[] = [];

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
  });

  async function device() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Barrier', serial: `MQ-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  /** A device as ThingsBoard's SDK connects: the key as user name, subscribed to its commands and to answers. */
  async function connect(key: string, protocolVersion: 4 | 5, port = app.runtime.mqtt.port) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: key, protocolVersion, reconnectPeriod: 0 });
    clients.push(client);
    await new Promise((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    const granted = await client.subscribeAsync([REQUESTS, RESPONSES], { qos: 1 });
    assert.deepEqual(granted.map((g) => g.qos), [1, 1], 'both RPC subscriptions are granted');
    return client;
  }

  const send = (deviceId: string, body: Record<string, unknown>) => owner.client.post(`/api/v1/devices/${deviceId}/commands`, body);

  for (const version of [5, 4] as const) {
    it(`a two-way command is answered by the device (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
      const barrier = await device();
      const client = await connect(barrier.key, version);
      const incoming = nextOn(client, 'v1/devices/me/rpc/request/');
      const sent = send(barrier.id, { method: 'setLimit', params: { kmh: 30 }, timeoutSeconds: 10 });
      const request = await incoming;
      assert.deepEqual(request.body, { method: 'setLimit', params: { kmh: 30 } });
      await client.publishAsync(`v1/devices/me/rpc/response/${requestIdOf(request.topic)}`, JSON.stringify({ kmh: 30, ok: true }), { qos: 1 });
      const result = await sent;
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.body.status, 'succeeded');
      assert.deepEqual(result.body.response, { kmh: 30, ok: true });
      assert.equal(result.body.requestId, requestIdOf(request.topic));
    });
  }

  it('a two-way command the device does not answer times out: 504 and the record says so', async () => {
    const barrier = await device();
    const client = await connect(barrier.key, 5);
    const incoming = nextOn(client, 'v1/devices/me/rpc/request/');
    const result = await send(barrier.id, { method: 'selfTest', timeoutSeconds: 1 });
    await incoming;
    assert.equal(result.status, 504);
    assert.equal(result.body.status, 'timed_out');
    const record = await owner.client.get(`/api/v1/devices/${barrier.id}/commands/${result.body.id}`);
    assert.equal(record.body.status, 'timed_out');
  });

  it('a one-way command to an offline device is delivered when it connects, in order', async () => {
    const barrier = await device();
    const first = await send(barrier.id, { method: 'open', twoWay: false, timeoutSeconds: 600 });
    const second = await send(barrier.id, { method: 'close', twoWay: false, timeoutSeconds: 600 });
    assert.deepEqual([first.status, first.body.status, second.body.status], [202, 'queued', 'queued']);

    const client = mqtt.connect(`mqtt://127.0.0.1:${app.runtime.mqtt.port}`, { username: barrier.key, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(client);
    const received: string[] = [];
    client.on('message', (topic, payload) => {
      if (topic.startsWith('v1/devices/me/rpc/request/')) received.push(`${requestIdOf(topic)}:${(JSON.parse(payload.toString()) as { method: string }).method}`);
    });
    await new Promise((resolve) => client.once('connect', resolve));
    await client.subscribeAsync(REQUESTS, { qos: 1 });
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(received, [`${first.body.requestId}:open`, `${second.body.requestId}:close`]);
    const history = await owner.client.get(`/api/v1/devices/${barrier.id}/commands`);
    assert.deepEqual(history.body.items.map((c: { status: string }) => c.status), ['delivered', 'delivered']);
  });

  it('a device resuming its MQTT 5 session gets the commands queued meanwhile without subscribing again', async () => {
    const barrier = await device();
    const options = { username: barrier.key, protocolVersion: 5 as const, reconnectPeriod: 0, clientId: `barrier-${barrier.id.slice(0, 8)}`, clean: false, properties: { sessionExpiryInterval: 600 } };
    const first = mqtt.connect(`mqtt://127.0.0.1:${app.runtime.mqtt.port}`, options);
    clients.push(first);
    await new Promise((resolve) => first.once('connect', resolve));
    await first.subscribeAsync(REQUESTS, { qos: 1 });
    await first.endAsync();

    const queued = await send(barrier.id, { method: 'open', twoWay: false, timeoutSeconds: 600 });
    assert.equal(queued.body.status, 'queued');
    const again = mqtt.connect(`mqtt://127.0.0.1:${app.runtime.mqtt.port}`, options);
    clients.push(again);
    const incoming = nextOn(again, 'v1/devices/me/rpc/request/');
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => again.once('connect', resolve));
    assert.equal(connack.sessionPresent, true);
    assert.deepEqual((await incoming).body, { method: 'open', params: {} });
  });

  it("a device answering another device's request id changes nothing (MQTT 5 is told on the PUBACK)", async () => {
    const [barrier, intruder] = [await device(), await device()];
    const client = await connect(barrier.key, 5);
    const rogue = await connect(intruder.key, 5);
    const incoming = nextOn(client, 'v1/devices/me/rpc/request/');
    const sent = send(barrier.id, { method: 'open', timeoutSeconds: 2 });
    const request = await incoming;
    const puback = await new Promise<number>((resolve) => rogue.publish(`v1/devices/me/rpc/response/${requestIdOf(request.topic)}`, '{"opened":true}', { qos: 1 }, (error, packet) => {
      resolve((error as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    }));
    assert.equal(puback, NOT_AUTHORIZED, 'refused on the same packet');
    const result = await sent;
    assert.equal(result.status, 504);
    assert.equal(result.body.response, null);
  });

  it('an answer nested too deeply fails the command, and an MQTT 5 device is told why on the PUBACK', async () => {
    const barrier = await device();
    const client = await connect(barrier.key, 5);
    const incoming = nextOn(client, 'v1/devices/me/rpc/request/');
    const sent = send(barrier.id, { method: 'dump', timeoutSeconds: 10 });
    const request = await incoming;
    const puback = await new Promise<{ code: number; reason?: string }>((resolve) => client.publish(`v1/devices/me/rpc/response/${requestIdOf(request.topic)}`, `${'['.repeat(40)}1${']'.repeat(40)}`, { qos: 1 }, (error, packet) => {
      const ack = packet as { reasonCode?: number; properties?: { reasonString?: string } } | undefined;
      resolve({ code: (error as { code?: number } | undefined)?.code ?? ack?.reasonCode ?? 0, reason: ack?.properties?.reasonString });
    }));
    assert.equal(puback.code, NOT_AUTHORIZED);
    const result = await sent;
    assert.equal(result.body.status, 'failed');
    assert.match(result.body.error, /nested too deeply/);
  });

  it('answers getCurrentTime (client-side RPC) on the response topic, and an unknown method with an error', async () => {
    const barrier = await device();
    for (const version of [5, 4] as const) {
      const client = await connect(barrier.key, version);
      const before = Date.now();
      const answer = nextOn(client, 'v1/devices/me/rpc/response/7');
      await client.publishAsync('v1/devices/me/rpc/request/7', JSON.stringify({ method: 'getCurrentTime', params: {} }), { qos: 1 });
      const time = (await answer).body as number;
      assert.ok(time >= before && time <= Date.now(), `epoch ms, got ${time}`);
      const refusal = nextOn(client, 'v1/devices/me/rpc/response/8');
      await client.publishAsync('v1/devices/me/rpc/request/8', JSON.stringify({ method: 'getWeather', params: {} }), { qos: 1 });
      assert.match(((await refusal).body as { error: string }).error, /getCurrentTime/);
      await client.endAsync(true);
    }
  });

  it('mosquitto_sub and mosquitto_pub answer a command (the shell loop of docs/commands.md)', async () => {
    const barrier = await device();
    // The documented loop: each command's id is the last topic level; the answer goes to the response topic.
    const script = `mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$KEY" -q 1 -v -C 1 -W 10 -t 'v1/devices/me/rpc/request/+' |
      while read -r topic payload; do
        mosquitto_pub -h 127.0.0.1 -p "$PORT" -u "$KEY" -q 1 -t "v1/devices/me/rpc/response/\${topic##*/}" -m '{"rebooting":true}'
      done`;
    const shell = spawn('sh', ['-c', script], { env: { ...process.env, PORT: String(app.runtime.mqtt.port), KEY: barrier.key }, stdio: 'ignore' });
    const exited = new Promise((resolve) => shell.once('exit', resolve));
    try {
      // Queued until mosquitto_sub subscribes, if it is not listening yet.
      const result = await send(barrier.id, { method: 'reboot', params: { delay: 5 }, timeoutSeconds: 10 });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.deepEqual(result.body.response, { rebooting: true });
    } finally {
      shell.kill();
      await exited;
    }
  });

  it('a command sent through one server reaches a device connected to another, and the answer comes back', async () => {
    const other: Runtime = await startRuntime(app.config, { logger: pino({ level: 'silent' }) });
    try {
      const barrier = await device();
      const client = await connect(barrier.key, 5, other.mqtt.port);
      const incoming = nextOn(client, 'v1/devices/me/rpc/request/', 8000);
      const sent = send(barrier.id, { method: 'ping', timeoutSeconds: 10 });
      // Without Redis the processes share no bus: the other process finds the command in the database, on
      // its next look (every few seconds; here, sooner).
      const looking = app.config.redisUrl ? undefined : setInterval(() => void other.services.commandDelivery.sweep(), 200);
      const request = await incoming;
      clearInterval(looking);
      await client.publishAsync(`v1/devices/me/rpc/response/${requestIdOf(request.topic)}`, '"pong"', { qos: 1 });
      const result = await sent;
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.body.response, 'pong');
      await client.endAsync(true);
    } finally {
      await other.close();
    }
  });
});
