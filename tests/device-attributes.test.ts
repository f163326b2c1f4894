import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { RedisBus, type BusMessage } from '../src/server/core/bus.js';
import { sendToDevice } from '../src/server/mqtt/device-topics.js';
import { MqttService } from '../src/server/mqtt/service.js';
import { visibleTo } from '../src/server/stream/service.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { granted, nextMessage, settle, waitFor } from './helpers/mqtt.js';

const run = promisify(execFile);
const ATTRIBUTES = 'v1/devices/me/attributes';
const NOT_AUTHORIZED = 0x87;

/** Resolves with the next message on `topic` as parsed JSON. */
const next = (client: MqttClient, topic: string, ms = 5000) => nextMessage(client, topic, ms) as Promise<unknown>;

describe('device attributes over MQTT and the API', { timeout: 60_000 }, () => {
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

  const port = () => app.runtime.mqtt.port!;

  async function device(by = owner) {
    const created = await by.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room', serial: `AT-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function connect(key: string, protocolVersion: 4 | 5): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port()}`, { username: key, protocolVersion, reconnectPeriod: 0 });
    clients.push(client);
    return client;
  }

  const attributesOf = async (id: string, by = owner) => (await by.client.get(`/api/v1/devices/${id}/attributes?limit=200`)).body;

  it('grants the subscriptions the ThingsBoard SDK makes on connect, on MQTT 5 and 3.1.1', async () => {
    const fridge = await device();
    for (const version of [5, 4] as const) {
      const client = await connect(fridge.key, version);
      assert.equal(await granted(client, ATTRIBUTES), 1, `v${version}: ${ATTRIBUTES}`);
      assert.equal(await granted(client, 'v1/devices/me/attributes/response/+'), 1, `v${version}: …/attributes/response/+`);
      assert.notEqual(await granted(client, 'v1/devices/+/attributes'), 1, 'no wildcard across devices');
    }
  });

  it('stores client attributes published over MQTT 5 (after the commit, before the PUBACK) and by mosquitto_pub (3.1.1)', async () => {
    const fridge = await device();
    const client = await connect(fridge.key, 5);
    await client.publishAsync(ATTRIBUTES, JSON.stringify({ firmwareVersion: 'v1.2.2', ip: '10.0.4.17', config: { fan: 'auto' } }), { qos: 1 });
    let items = (await attributesOf(fridge.id)).items;
    assert.deepEqual(items.map((a: { key: string; value: unknown; scope: string }) => [a.scope, a.key, a.value]), [
      ['client', 'config', { fan: 'auto' }], ['client', 'firmwareVersion', 'v1.2.2'], ['client', 'ip', '10.0.4.17'],
    ]);
    assert.ok(!Number.isNaN(Date.parse(items[0].updatedAt)));

    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port()), '-V', 'mqttv311', '-q', '1', '-u', fridge.key, '-t', ATTRIBUTES, '-m', '{"firmwareVersion":"v1.3.0"}']);
    items = (await attributesOf(fridge.id)).items;
    assert.equal(items.find((a: { key: string }) => a.key === 'firmwareVersion').value, 'v1.3.0');
  });

  it('refuses bad attributes in full: PUBACK 0x87 with the reason on MQTT 5, a report on v1/devices/me/errors on 3.1.1', async () => {
    const fridge = await device();
    const v5 = await connect(fridge.key, 5);
    const answer = await new Promise<{ code?: number; reason?: string }>((resolve) => {
      v5.publish(ATTRIBUTES, JSON.stringify({ ok: 1, broken: null, ['k'.repeat(300)]: 2 }), { qos: 1 }, (error, packet) => {
        const ack = packet as { reasonCode?: number; properties?: { reasonString?: string } } | undefined;
        resolve({ code: (error as { code?: number } | undefined)?.code ?? ack?.reasonCode, reason: ack?.properties?.reasonString ?? error?.message });
      });
    });
    assert.equal(answer.code, NOT_AUTHORIZED);
    assert.match(String(answer.reason), /broken: has no value/);
    assert.match(String(answer.reason), /a key has 1 to 256 characters/);

    const v4 = await connect(fridge.key, 4);
    await v4.subscribeAsync('v1/devices/me/errors', { qos: 1 });
    const report = nextMessage(v4, 'v1/devices/me/errors');
    await v4.publishAsync(ATTRIBUTES, JSON.stringify({ huge: 'x'.repeat(9000) }), { qos: 1 });
    const received = await report;
    assert.equal(received.topic, ATTRIBUTES);
    assert.match(received.message, /9002 bytes of JSON; at most 8192/);
    assert.deepEqual((await attributesOf(fridge.id)).items, [], 'nothing of a refused message is stored');

    const many = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`k${i}`, i]));
    const refused = await owner.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, many);
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /at most 500 keys/);
  });

  it('pushes shared attributes set in the API to the subscribed device as they change, and deletions, to that device only', async () => {
    const [fridge, neighbour] = [await device(), await device()];
    const [client, other] = [await connect(fridge.key, 4), await connect(neighbour.key, 5)];
    await client.subscribeAsync(ATTRIBUTES, { qos: 1 });
    await other.subscribeAsync(ATTRIBUTES, { qos: 1 });
    const leaked: unknown[] = [];
    other.on('message', (_topic, payload) => leaked.push(JSON.parse(payload.toString())));

    const pushed = next(client, ATTRIBUTES);
    const set = await owner.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { safeRangeMax: 8, mode: 'eco' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(await pushed, { safeRangeMax: 8, mode: 'eco' });

    const deletion = next(client, ATTRIBUTES);
    assert.equal((await owner.client.delete(`/api/v1/devices/${fridge.id}/attributes/shared/mode`)).status, 204);
    assert.deepEqual(await deletion, { deleted: ['mode'] });
    assert.equal((await owner.client.delete(`/api/v1/devices/${fridge.id}/attributes/shared/mode`)).status, 404);

    await settle(200);
    assert.deepEqual(leaked, [], 'another device never receives them');

    // mosquitto_sub as a second, independent client: a device subscribing gets the current shared attributes.
    const { stdout } = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port()), '-V', 'mqttv311', '-q', '1', '-u', fridge.key, '-t', ATTRIBUTES, '-C', '1', '-W', '5']);
    assert.deepEqual(JSON.parse(stdout), { safeRangeMax: 8 });
  });

  it('answers an attribute request on …/attributes/response/{id} with the keys asked for', async () => {
    const fridge = await device();
    assert.equal((await owner.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { safeRangeMin: 2, safeRangeMax: 8 })).status, 200);
    const client = await connect(fridge.key, 5);
    await client.publishAsync(ATTRIBUTES, JSON.stringify({ firmwareVersion: 'v2', ip: '10.1.1.1' }), { qos: 1 });
    await client.subscribeAsync('v1/devices/me/attributes/response/+', { qos: 1 });

    let response = next(client, 'v1/devices/me/attributes/response/7');
    await client.publishAsync('v1/devices/me/attributes/request/7', JSON.stringify({ clientKeys: 'firmwareVersion,missing', sharedKeys: 'safeRangeMax' }), { qos: 1 });
    assert.deepEqual(await response, { client: { firmwareVersion: 'v2' }, shared: { safeRangeMax: 8 } });

    response = next(client, 'v1/devices/me/attributes/response/8');
    await client.publishAsync('v1/devices/me/attributes/request/8', '{}', { qos: 1 });
    assert.deepEqual(await response, { client: { firmwareVersion: 'v2', ip: '10.1.1.1' }, shared: { safeRangeMin: 2, safeRangeMax: 8 } });
  });

  it('lets viewers read but not write, hides other organizations\' devices, and audits changes without secret values', async () => {
    const fridge = await device();
    const viewer = await app.member(owner, 'viewer');
    assert.equal((await viewer.client.get(`/api/v1/devices/${fridge.id}/attributes`)).status, 200);
    assert.equal((await viewer.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { a: 1 })).status, 403);
    assert.equal((await viewer.client.delete(`/api/v1/devices/${fridge.id}/attributes/shared/a`)).status, 403);

    const elsewhere = (await owner.client.post('/api/v1/sites', { name: `Elsewhere ${randomBytes(3).toString('hex')}` })).body.id as string;
    const restricted = await app.member(owner, 'manager', [elsewhere]);
    assert.equal((await restricted.client.get(`/api/v1/devices/${fridge.id}/attributes`)).status, 404, 'a member limited to other sites');
    assert.equal((await restricted.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { a: 1 })).status, 404);

    const stranger = await app.owner('Other company');
    assert.equal((await stranger.client.get(`/api/v1/devices/${fridge.id}/attributes`)).status, 404);
    assert.equal((await stranger.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { a: 1 })).status, 404);
    assert.equal((await stranger.client.delete(`/api/v1/devices/${fridge.id}/attributes/shared/a`)).status, 404);

    assert.equal((await owner.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { speedLimit: 30, wifiPassword: 'hunter22' })).status, 200);
    const [entry] = (await owner.client.get(`/api/v1/audit?action=device.attributes_set&resourceId=${fridge.id}`)).body.items;
    assert.deepEqual(entry.details, { scope: 'shared', values: { speedLimit: 30, wifiPassword: '[hidden]' } });
  });

  it('never shows messages for devices on a browser\'s live stream', async () => {
    const fridge = await device();
    const seen: BusMessage[] = [];
    const stop = app.runtime.services.stream.subscribe((message) => seen.push(message));
    try {
      await owner.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { mode: 'night' });
      const downlinks = seen.filter((m) => m.type === 'device.downlink');
      assert.equal(downlinks.length, 1);
      const scope = { orgId: owner.orgId, userId: owner.userId, role: 'owner' as const, siteIds: null };
      assert.equal(visibleTo(downlinks[0]!, scope), false);
    } finally {
      stop();
    }
  });

  it('reaches a device connected to this server from another server process (Redis)', { skip: !process.env.TEST_REDIS_URL && 'needs TEST_REDIS_URL' }, async () => {
    const fridge = await device();
    const client = await connect(fridge.key, 4);
    await client.subscribeAsync(ATTRIBUTES, { qos: 1 });
    // Another process's bus: a change made there travels through Redis to this process's broker.
    const elsewhere = new RedisBus(process.env.TEST_REDIS_URL!, app.runtime.ctx.config.redisPrefix);
    try {
      await elsewhere.connected();
      // Through Redis on a busy machine: a generous bound, the point is that it arrives.
      const pushed = next(client, ATTRIBUTES, 5000);
      await sendToDevice(elsewhere, fridge.id, ATTRIBUTES, { fromB: true });
      assert.deepEqual(await pushed, { fromB: true });
    } finally {
      await elsewhere.close();
    }
  });

  it('gives mosquitto_sub of one device its own shared attributes, never another device\'s', async () => {
    const [fridge, neighbour] = [await device(), await device()];
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port()), '-V', 'mqttv5', '-q', '1', '-u', neighbour.key, '-t', ATTRIBUTES, '-C', '1', '-W', '5']);
    let out = '';
    sub.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const ended = new Promise((resolve) => sub.on('close', resolve));
    await settle(500);
    await owner.client.put(`/api/v1/devices/${fridge.id}/attributes/shared`, { secretMode: 'x' });
    await owner.client.put(`/api/v1/devices/${neighbour.id}/attributes/shared`, { ownMode: 'y' });
    await ended;
    assert.deepEqual(JSON.parse(out), { ownMode: 'y' }, 'the first message it gets is its own');
  });

  it('stores client attributes sent through the external-broker bridge (Mosquitto), and reports refusals there', async () => {
    const url = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
    const prefix = `vigil-test-${randomBytes(6).toString('hex')}`;
    const clientId = `vigil-test-attributes-${randomBytes(6).toString('hex')}`;
    const ctx = { ...app.runtime.ctx, config: { ...app.runtime.ctx.config, mqttPort: undefined, mqttUrl: url, mqttTopicPrefix: prefix } };
    const bridge = new MqttService(ctx, app.runtime.services.devices, app.runtime.services.ingest, { clientId, connections: 1, topics: app.runtime.services.deviceTopics });
    await bridge.start();
    const fridge = await device();
    const publisher = await mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: 4 });
    clients.push(publisher);
    try {
      await publisher.subscribeAsync(`${prefix}/v1/errors/${fridge.id}`, { qos: 1 });
      await publisher.publishAsync(`${prefix}/v1/attributes`, JSON.stringify({ key: fridge.key, data: { firmwareVersion: 'bridge-1' } }), { qos: 1 });
      await waitFor(async () => (await attributesOf(fridge.id)).items.length === 1, 'the attribute through the bridge');
      assert.equal((await attributesOf(fridge.id)).items[0].value, 'bridge-1');

      const report = nextMessage(publisher, `${prefix}/v1/errors/${fridge.id}`);
      await publisher.publishAsync(`${prefix}/v1/attributes`, JSON.stringify({ key: fridge.key, data: { broken: null } }), { qos: 1 });
      assert.match((await report).message, /broken: has no value/);
    } finally {
      await bridge.stop();
      const cleaner = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 });
      await cleaner.endAsync();
    }
  });
});
