import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { telemetryPublisher } from './helpers/mqtt.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Silence alerts (offline, no data) and devices that send text and JSON values, over MQTT and the HTTP
 * device API: such data ends the silence, a no-data rule may watch a text key, and contact that is no data
 * ends an offline alert at the timers' next run. Then a "changes" rule fed by two connections whose
 * batches arrive out of order, or commit before either is evaluated: each change is notified once.
 */
describe('silence alerts and text values', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  const clients: MqttClient[] = [];
  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner('Field units');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
  });

  async function device() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: `Unit ${randomBytes(3).toString('hex')}`, serial: `U-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  function post(key: string, items: { ts: string; values: Record<string, unknown> }[]) {
    return app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
  }

  async function send(key: string, items: { ts: string; values: Record<string, unknown> }[]) {
    const response = await post(key, items);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().rejected, []);
  }

  async function rule(fields: Record<string, unknown>) {
    const created = await owner.client.post('/api/v1/alert-rules', { name: `Rule ${randomBytes(3).toString('hex')}`, scope: 'device', durationSeconds: 600, severity: 'major', ...fields });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: string };
  }

  async function alertsOf(deviceId: string) {
    const response = await owner.client.get(`/api/v1/devices/${deviceId}/alerts`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.items as Record<string, unknown>[];
  }

  const connect = (key: string) => telemetryPublisher(app.runtime.mqtt.port!, key, clients);

  /** The device falls silent for an hour; the timers open its offline alert. */
  async function goSilent(deviceId: string) {
    const { pool } = app.runtime.ctx;
    await pool.query(`UPDATE devices SET last_seen_at = now() - interval '1 hour', offline_announced_at = NULL WHERE id = $1`, [deviceId]);
    await pool.query(`UPDATE device_keys SET last_used_at = now() - interval '1 hour' WHERE device_id = $1`, [deviceId]);
    await app.runtime.jobs.tick('device-offline');
    await app.runtime.jobs.tick('alert-timers');
    const [alert] = await alertsOf(deviceId); // newest first
    assert.ok(alert);
    assert.equal(alert.condition, 'offline');
    assert.equal(alert.status, 'open');
    assert.equal((await owner.client.get(`/api/v1/devices/${deviceId}`)).body.status, 'offline');
  }

  it('a text value alone over MQTT, and a JSON value alone over HTTP, end the offline alert as they are stored', async () => {
    const unit = await device();
    await rule({ deviceId: unit.id, condition: 'offline' });
    await send(unit.key, [{ ts: minutes(-70), values: { fw: 'v1.1' } }]);
    await goSilent(unit.id);

    const publish = await connect(unit.key);
    await publish({ fw: 'v1.2' });
    const [alert] = await alertsOf(unit.id);
    assert.equal(alert!.status, 'resolved', 'the PUBACK comes after evaluation: no timer run needed');
    assert.equal(alert!.resolution, 'auto');
    const seen = await owner.client.get(`/api/v1/devices/${unit.id}`);
    assert.equal(seen.body.status, 'online');
    assert.ok(Date.now() - Date.parse(seen.body.lastSeenAt) < 60_000, 'the message counted as contact');

    await goSilent(unit.id);
    await send(unit.key, [{ ts: minutes(0), values: { config: { interval: 30, modes: ['eco'] } } }]);
    const alerts = await alertsOf(unit.id);
    assert.equal(alerts.length, 2);
    assert.ok(alerts.every((a) => a.status === 'resolved'), JSON.stringify(alerts.map((a) => a.status)));
  });

  it('a no_data rule on a text key fires when the key goes quiet, ignores other keys, and ends with the next value of the key', async () => {
    const unit = await device();
    const lastFirmware = minutes(-20);
    await send(unit.key, [{ ts: lastFirmware, values: { firmware: 'v2.0', temperature: 4 } }]);
    await rule({ deviceId: unit.id, condition: 'no_data', metric: 'firmware' });

    await app.runtime.jobs.tick('alert-timers');
    let [alert] = await alertsOf(unit.id);
    assert.ok(alert);
    assert.equal(alert.condition, 'no_data');
    assert.equal(alert.status, 'open');
    assert.equal(alert.metric, 'firmware');
    assert.equal(Date.parse(String(alert.startedAt)), Date.parse(lastFirmware), 'silent since its last value');

    await send(unit.key, [{ ts: minutes(0), values: { mode: 'eco', temperature: 5 } }]);
    await app.runtime.jobs.tick('alert-timers');
    [alert] = await alertsOf(unit.id);
    assert.equal(alert!.status, 'open', 'other keys, text or numbers, are not the watched key');

    // A value from a queue flushed late, still older than the rule's ten minutes: the key is as silent as before.
    await send(unit.key, [{ ts: minutes(-15), values: { firmware: 'v2.0' } }]);
    await app.runtime.jobs.tick('alert-timers');
    [alert] = await alertsOf(unit.id);
    assert.equal(alert!.status, 'open', 'not resolved only to open again');

    const publish = await connect(unit.key);
    await publish({ firmware: 'v2.1' });
    [alert] = await alertsOf(unit.id);
    assert.equal(alert!.status, 'resolved');
    await app.runtime.jobs.tick('alert-timers');
    assert.equal((await alertsOf(unit.id)).length, 1, 'heard within the window: no new alert');
  });

  it('a no_data rule may watch a key sent only as JSON, and fires when it goes quiet; a key never sent is refused', async () => {
    const unit = await device();
    await send(unit.key, [{ ts: minutes(-20), values: { location: { lat: 51.5, lon: -0.12 } } }]);
    await rule({ deviceId: unit.id, condition: 'no_data', metric: 'location' });
    await app.runtime.jobs.tick('alert-timers');
    const [alert] = await alertsOf(unit.id);
    assert.equal(alert?.status, 'open');
    assert.equal(alert?.metric, 'location');

    const unknown = await owner.client.post('/api/v1/alert-rules', { name: 'Never sent', scope: 'device', deviceId: unit.id, condition: 'no_data', metric: 'altitude', durationSeconds: 600, severity: 'major' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.error.details.map((d: { field: string }) => d.field), ['metric']);
  });

  it('contact that is no data (client attributes) ends the offline alert at the timers\' next run', async () => {
    const unit = await device();
    await rule({ deviceId: unit.id, condition: 'offline' });
    await send(unit.key, [{ ts: minutes(-70), values: { temperature: 3 } }]);
    await goSilent(unit.id);

    const attributes = await app.runtime.app.inject({ method: 'POST', url: `/api/v1/${unit.key}/attributes`, payload: { firmware: 'v3' } });
    assert.equal(attributes.statusCode, 200, attributes.body);
    assert.equal((await alertsOf(unit.id))[0]!.status, 'open', 'attributes are not telemetry');
    await app.runtime.jobs.tick('alert-timers');
    const [alert] = await alertsOf(unit.id);
    assert.equal(alert!.status, 'resolved');
    assert.equal(alert!.resolution, 'auto');
  });

  it('a "changes" rule notifies a change once when a device flushes older values over HTTP after newer ones over MQTT', async () => {
    const unit = await device();
    await send(unit.key, [{ ts: minutes(-30), values: { fw: 'v1.2' } }]);
    await rule({ deviceId: unit.id, condition: 'metric', metric: 'fw', operator: 'changes', severity: 'info', durationSeconds: 60 });

    const publish = await connect(unit.key);
    await publish({ fw: 'v1.3' }, minutes(-5));
    // The queue of the last half hour, flushed late: the update happened at -20 and was notified above.
    await send(unit.key, [{ ts: minutes(-25), values: { fw: 'v1.2' } }, { ts: minutes(-20), values: { fw: 'v1.3' } }, { ts: minutes(-10), values: { fw: 'v1.3' } }]);
    await publish({ fw: 'v1.4' }, minutes(-1));
    const alerts = await alertsOf(unit.id);
    assert.deepEqual(alerts.map((a) => `${a.previousText}→${a.latestText}`).sort(), ['v1.2→v1.3', 'v1.3→v1.4']);
  });

  it('a "changes" rule compares every value once when two batches commit before either is evaluated, the newer evaluated first', async () => {
    const unit = await device();
    await send(unit.key, [{ ts: minutes(-40), values: { mode: 'eco' } }]);
    await rule({ deviceId: unit.id, condition: 'metric', metric: 'mode', operator: 'changes', severity: 'info', durationSeconds: 60 });
    // The rule's first evaluation for the device: the same value again, no change.
    await send(unit.key, [{ ts: minutes(-30), values: { mode: 'eco' } }]);
    assert.equal((await alertsOf(unit.id)).length, 0);

    // Hold the device's evaluation lock, as a long evaluation in another process would.
    const { pool } = app.runtime.ctx;
    const holder = await pool.connect();
    const waiting = async (count: number) => {
      for (let i = 0; i < 200; i++) {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
        if (rows[0]!.n >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.fail(`expected ${count} evaluations waiting for the device lock`);
    };
    const batches: Promise<{ statusCode: number }>[] = [];
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [`vigil-alerts:${unit.id}`]);
      batches.push(post(unit.key, [{ ts: minutes(-10), values: { mode: 'boost' } }]));
      await waiting(1);
      batches.push(post(unit.key, [{ ts: minutes(-20), values: { mode: 'night' } }]));
      await waiting(2);
    } finally {
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [`vigil-alerts:${unit.id}`]);
      holder.release();
    }
    assert.deepEqual((await Promise.all(batches)).map((r) => r.statusCode), [200, 200]);
    const alerts = await alertsOf(unit.id);
    assert.deepEqual(alerts.map((a) => `${a.previousText}→${a.latestText}`).sort(), ['eco→night', 'night→boost']);
  });
});
