import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('Polo Sanca equipment telemetry compatibility', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  async function equipment(serial: string) {
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: `Fridge ${serial}`, serial });
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }
  const reading = { serial: 'EQ-TEST-001', temperature: 4.0, pressure: 120, door: 0, heater: 0, compressor: 1, fan: 1 };
  const post = (key: string | undefined, payload: unknown, form = false) =>
    app.runtime.app.inject({
      method: 'POST',
      url: '/v1/equipments/telemetry',
      headers: { ...(key && { 'x-api-key': key }), 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
      payload: form ? new URLSearchParams(payload as Record<string, string>).toString() : JSON.stringify(payload),
    });
  const latest = async (deviceId: string) =>
    Object.fromEntries((await app.runtime.ctx.pool.query(
      `SELECT DISTINCT ON (metric) metric, value FROM telemetry WHERE device_id = $1 ORDER BY metric, ts DESC`, [deviceId])).rows.map((r) => [r.metric, r.value]));

  it('records a JSON reading with the server time and marks the equipment online', async () => {
    const eq = await equipment('EQ-TEST-001');
    const response = await post(eq.key, reading);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.success, true);
    assert.ok(body.message);
    assert.ok(body.record_id);
    assert.match(body.timestamp, /Z$/);
    assert.ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 60_000);
    assert.deepEqual(await latest(eq.id), { temperature: 4, pressure: 120, door: 0, heater: 0, compressor: 1, fan: 1 });
    assert.equal((await owner.client.get(`/api/v1/devices/${eq.id}`)).body.status, 'online');
  });

  it('accepts form data, keeps 0.0 as 0, and stores ten rapid posts as ten readings', async () => {
    const eq = await equipment('EQ-FORM-1');
    const form = await post(eq.key, { ...reading, serial: 'EQ-FORM-1', temperature: '0.0', pressure: '0', door: '1' }, true);
    assert.equal(form.statusCode, 200, form.body);
    const values = await latest(eq.id);
    assert.equal(values.temperature, 0);
    assert.equal(values.pressure, 0);
    assert.equal(values.door, 1);
    const rapid = await Promise.all(Array.from({ length: 10 }, (_, i) => post(eq.key, { ...reading, serial: 'EQ-FORM-1', temperature: 4 + i / 10 })));
    assert.ok(rapid.every((r) => r.statusCode === 200));
    const stored = await app.runtime.ctx.pool.query(`SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1 AND metric = 'temperature'`, [eq.id]);
    assert.equal(stored.rows[0].n, 11);
  });

  it('answers 401 without or with a wrong key, 404 for an unknown serial, 400 per bad field', async () => {
    const eq = await equipment('EQ-TEST-A');
    const other = await equipment('EQ-TEST-B');
    assert.equal((await post(undefined, { ...reading, serial: 'EQ-TEST-A' })).statusCode, 401);
    assert.equal((await post('test_api_key_001', { ...reading, serial: 'EQ-TEST-A' })).statusCode, 401);
    assert.equal((await post(other.key, { ...reading, serial: 'EQ-NOPE' })).statusCode, 404);
    const missing = await post(eq.key, { serial: 'EQ-TEST-A', pressure: 1, door: 0, heater: 0, compressor: 0, fan: 0 });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.details[0].field, 'temperature');
    const badFlag = await post(eq.key, { ...reading, serial: 'EQ-TEST-A', door: 2 });
    assert.equal(badFlag.statusCode, 400);
    assert.equal(badFlag.json().error.details[0].field, 'door');
    assert.equal((await post(eq.key, { ...reading, serial: 'EQ-TEST-A', temperature: 1000 })).statusCode, 400);
    assert.equal((await post(eq.key, { ...reading, serial: 'EQ-TEST-A', temperature: 'warm' })).statusCode, 400);
    const radar = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'R', serial: 'R-PS' });
    assert.equal((await post(radar.body.apiKey, { ...reading, serial: 'R-PS' })).statusCode, 401, 'a radar key is not equipment');
    const counted = await app.runtime.ctx.pool.query(`SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1`, [eq.id]);
    assert.equal(counted.rows[0].n, 0, 'nothing stored from rejected posts');
  });

  it('another equipment\'s serial with this key is refused with 401', async () => {
    const a = await equipment('EQ-OWN-A');
    await equipment('EQ-OWN-B');
    assert.equal((await post(a.key, { ...reading, serial: 'EQ-OWN-B' })).statusCode, 401);
  });
});
