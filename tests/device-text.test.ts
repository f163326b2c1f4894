import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { EventItem } from '../src/server/ingest/items.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { nextMessage } from './helpers/mqtt.js';

/**
 * Text PostgreSQL cannot store (NUL, lone UTF-16 surrogates) is refused per item and field, and a
 * batch the database refuses anyway fails only its own sender, never the other batches of its statement.
 */
describe('device text PostgreSQL cannot store', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let other: SignedIn;
  const clients: MqttClient[] = [];
  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner();
    other = await app.owner();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
  });

  async function device(by: SignedIn, kind = 'speed_radar', serial = `T-${randomBytes(4).toString('hex')}`) {
    const created = await by.client.post('/api/v1/devices', { kind, name: 'Device', serial, ...(kind === 'speed_radar' && { speedLimit: 30 }) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string, serial };
  }

  const send = (key: string, url: string, body: unknown, contentType = 'application/json') =>
    app.runtime.app.inject({ method: 'POST', url, headers: { 'x-api-key': key, 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  const count = async (table: 'events' | 'telemetry', deviceId: string) =>
    Number((await app.runtime.ctx.pool.query(`SELECT count(*) AS n FROM ${table} WHERE device_id = $1`, [deviceId])).rows[0].n);
  const ts = (i: number) => new Date(Date.UTC(2026, 2, 10, 8, i)).toISOString();

  it('native events: NUL in client_ref, an attributes key or value, or a lone surrogate is refused by item and field; the rest is stored', async () => {
    const radar = await device(owner);
    const response = await send(radar.key, '/api/v1/ingest/events', {
      events: [
        { client_ref: 'ok-1', ts: ts(1), speed: 20 },
        { client_ref: 'bad\u0000ref', ts: ts(2), speed: 21 },
        { client_ref: 'ok-3', ts: ts(3), speed: 22, attributes: { 'lane\u0000': 1 } },
        { client_ref: 'ok-4', ts: ts(4), speed: 23, attributes: { nested: [{ note: 'x\u0000y' }] } },
        { client_ref: 'ok-5', ts: ts(5), speed: 24, attributes: { note: 'half \ud800 pair' } },
        { client_ref: 'ok-6', ts: ts(6), speed: 25, attributes: { note: 'a whole pair \ud83d\ude97 is fine' } },
      ],
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.accepted, 2);
    assert.deepEqual(body.rejected.map((r: { index: number; errors: { field: string }[] }) => [r.index, r.errors[0]!.field]), [
      [1, 'client_ref'], [2, 'attributes'], [3, 'attributes.nested[0].note'], [4, 'attributes.note'],
    ]);
    assert.match(body.rejected[0].errors[0].message, /NUL/);
    assert.match(body.rejected[3].errors[0].message, /surrogate/);
    assert.equal(await count('events', radar.id), 2);
  });

  it('native telemetry: a metric name with NUL is refused by field; the other items are stored', async () => {
    const sensor = await device(owner, 'sensor');
    const response = await send(sensor.key, '/api/v1/ingest/telemetry', { items: [{ ts: ts(1), values: { t: 1 } }, { ts: ts(2), values: { 't\u0000x': 2 } }] });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().rejected.map((r: { index: number }) => r.index), [1]);
    assert.equal(await count('telemetry', sensor.id), 1);
  });

  it('Polo Sanca: NUL in the serial or a field is a 400 naming the field, not a 500', async () => {
    const eq = await device(owner, 'refrigeration');
    const reading = { serial: eq.serial, temperature: 4, pressure: 120, door: 0, heater: 0, compressor: 1, fan: 1 };
    for (const [body, contentType] of [
      [JSON.stringify({ ...reading, serial: `${eq.serial}\u0000` }), 'application/json'],
      [new URLSearchParams({ ...reading, serial: `x\u0000` } as unknown as Record<string, string>).toString(), 'application/x-www-form-urlencoded'],
    ] as const) {
      const response = await send(eq.key, '/v1/equipments/telemetry', body, contentType);
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(response.json().error.details[0].field, 'serial');
    }
    const field = await send(eq.key, '/v1/equipments/telemetry', { ...reading, temperature: '4\u0000' });
    assert.equal(field.statusCode, 400, field.body);
    assert.equal(field.json().error.details[0].field, 'temperature');
    assert.equal((await send(eq.key, '/v1/equipments/telemetry', reading)).statusCode, 200);
    assert.equal(await count('telemetry', eq.id), 6);
  });

  it('Polo Sanca: a 64 KB number is refused at once, naming the field (its check was quadratic: 7.5 s)', async () => {
    const eq = await device(owner, 'refrigeration');
    const reading = { serial: eq.serial, temperature: `${'1'.repeat(64 * 1024)}x`, pressure: `${' '.repeat(64 * 1024)}1.`, door: 0, heater: 0, compressor: 1, fan: 1 };
    for (const form of [false, true]) {
      const started = performance.now();
      const response = form
        ? await send(eq.key, '/v1/equipments/telemetry', new URLSearchParams(reading as unknown as Record<string, string>).toString(), 'application/x-www-form-urlencoded')
        : await send(eq.key, '/v1/equipments/telemetry', reading);
      const elapsed = performance.now() - started;
      assert.equal(response.statusCode, 400, response.body);
      assert.deepEqual(response.json().error.details.map((d: { field: string }) => d.field), ['temperature', 'pressure']);
      // A generous bound: the linear check answers in milliseconds.
      assert.ok(elapsed < 1000, `the request took ${Math.round(elapsed)} ms`);
    }
  });

  it('RushRoster: NUL in a timestamp or the photo key is refused by field; the other events are stored', async () => {
    const radar = await device(owner);
    const key = radar.key;
    const response = await send(key, '/api/ingest/v1/events', {
      events: [
        { timestamp: '2025-01-02T03:04:05', speed: 42, speed_limit: 25 },
        { timestamp: '2025-01-02T03:04:06\u0000', speed: 43, speed_limit: 25 },
        { timestamp: '2025-01-02T03:04:07', speed: 44, speed_limit: 25, is_speeding: 'true\u0000' },
      ],
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.processed, 1);
    assert.deepEqual(body.rejected.map((r: { index: number; errors: { field: string }[] }) => [r.index, r.errors[0]!.field]), [[1, 'timestamp'], [2, 'is_speeding']]);
    const id = body.created_events[0].event_id as string;
    const confirm = await app.runtime.app.inject({ method: 'POST', url: `/api/ingest/v1/events/${id}/photo/confirm?photo_key=a%00b`, headers: { 'x-api-key': key } });
    assert.ok(confirm.statusCode >= 400 && confirm.statusCode < 500, `${confirm.statusCode} ${confirm.body}`);
    assert.equal(await count('events', radar.id), 1);
  });

  it('MQTT: NUL in client_ref or attributes is reported by item and field on the errors topic; the rest is stored', async () => {
    const radar = await device(owner);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.runtime.mqtt.port}`, { username: radar.key, reconnectPeriod: 0, protocolVersion: 4 });
    clients.push(client);
    await client.subscribeAsync('v1/devices/me/errors', { qos: 1 });
    const report = nextMessage(client, 'v1/devices/me/errors');
    await client.publishAsync('v1/devices/me/events', JSON.stringify([
      { client_ref: 'm-1', ts: ts(1), speed: 20 },
      { client_ref: 'm\u00002', ts: ts(2), speed: 20 },
      { client_ref: 'm-3', ts: ts(3), speed: 20, attributes: { k: 'v\u0000' } },
    ]), { qos: 1 });
    const received = await report;
    assert.equal(received.code, 'rejected_items');
    assert.deepEqual(received.rejected!.map((r) => [r.index, r.errors[0]!.field]), [[1, 'client_ref'], [2, 'attributes.k']]);
    assert.equal(await count('events', radar.id), 1);
  });

  it('a batch the database refuses fails only its sender (422), while the batches of another tenant sharing its statement are stored', async () => {
    const poisoned = await device(owner);
    const radars = await Promise.all([device(other), device(other), device(other)]);
    const principal = async (key: string) => (await app.runtime.services.devices.authenticateDevice(key))!;
    const bad = await principal(poisoned.key);
    const good = await Promise.all(radars.map((r) => principal(r.key)));
    const ingest = app.runtime.services.ingest;
    // What the validator refuses, given straight to the write path: the database alone says no.
    const crafted: EventItem = {
      index: 0, ts: new Date(ts(1)), deviceTs: ts(1), clientRef: 'crafted', kind: 'speed', speed: 30, speedLimit: 25, severity: null, attributes: { note: 'a\u0000b' },
    };
    const items = (n: number) => Array.from({ length: n }, (_, i) => ({ client_ref: `g-${i}`, ts: ts(i), speed: 20 + i }));
    // Started in one turn of the event loop: they share one statement.
    const results = await Promise.allSettled([
      ingest.ingestEvents(good[0]!, items(5)),
      ingest.storeEvents(bad, [crafted]),
      ingest.ingestEvents(good[1]!, items(7)),
      ingest.storeEvents(bad, [{ ...crafted, clientRef: 'crafted\u0000ref', attributes: {} }]),
      ingest.ingestEvents(good[2]!, items(9)),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    for (const failed of [results[1], results[3]]) {
      const error = (failed as PromiseRejectedResult).reason as { status?: number; message: string };
      assert.equal(error.status, 422, error.message);
    }
    assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ accepted: number }>).value.accepted), [5, 7, 9]);
    assert.deepEqual(await Promise.all(radars.map((r) => count('events', r.id))), [5, 7, 9]);
    assert.equal(await count('events', poisoned.id), 0);
  });
});
