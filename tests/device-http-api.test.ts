import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/** ThingsBoard's HTTP device API, called as a device's HTTP client would (the key in the path). */
describe("ThingsBoard's HTTP device API", { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  const logs: string[] = [];

  before(async () => {
    app = await startTestApp({}, { logger: pino({ level: 'trace' }, { write: (line: string) => logs.push(line) }) });
    owner = await app.owner();
  });
  after(async () => app.close());

  async function device() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Probe', serial: `H-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string, keyId: created.body.key.id as string };
  }

  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const response = await app.runtime.app.inject({ method, url, payload: payload as object, headers: { 'content-type': 'application/json' } });
    return { status: response.statusCode, body: response.body ? response.json() : null };
  };

  it('stores telemetry in ThingsBoard shapes through the same ingest as the native API', async () => {
    const probe = await device();
    const sdkExample = { mx_temp: 41.9, mx_hum: 69, mx_on: false, currentFirmwareVersion: 'v1.2.2' };
    const flat = await call('POST', `/api/v1/${probe.key}/telemetry`, sdkExample);
    assert.equal(flat.status, 200, JSON.stringify(flat.body));
    assert.equal(flat.body.accepted, 1);
    const timed = await call('POST', `/api/v1/${probe.key}/telemetry`, [{ ts: Date.UTC(2026, 2, 10, 8), values: { mx_temp: 40.1 } }, { ts: Date.UTC(2026, 2, 10, 9), values: { mx_temp: 40.3 } }]);
    assert.equal(timed.body.accepted, 2);

    const latest = await owner.client.get(`/api/v1/devices/${probe.id}/telemetry/latest?limit=100`);
    const keys = (latest.body.items as { key: string }[]).map((k) => k.key).sort();
    assert.deepEqual(keys, ['currentFirmwareVersion', 'mx_hum', 'mx_on', 'mx_temp']);

    const partly = await call('POST', `/api/v1/${probe.key}/telemetry`, { ok: 1, bad: null });
    assert.equal(partly.status, 200);
    assert.equal(partly.body.rejected[0].errors[0].field, 'values.bad', 'a refused key is named, the rest stored');
    assert.equal((await call('POST', `/api/v1/${probe.key}/telemetry`, 'not an object')).status, 400);
  });

  it('stores client attributes and answers attribute requests with the keys asked for', async () => {
    const probe = await device();
    const stored = await call('POST', `/api/v1/${probe.key}/attributes`, { firmwareVersion: '1.4.2', ip: '10.0.4.17', flags: [1, 2] });
    assert.deepEqual(stored, { status: 200, body: { stored: 3 } });
    assert.equal((await owner.client.put(`/api/v1/devices/${probe.id}/attributes/shared`, { reportEvery: 60, mode: 'eco' })).status, 200);

    const some = await call('GET', `/api/v1/${probe.key}/attributes?clientKeys=firmwareVersion,flags&sharedKeys=mode`);
    assert.deepEqual(some.body, { client: { firmwareVersion: '1.4.2', flags: [1, 2] }, shared: { mode: 'eco' } });
    const all = await call('GET', `/api/v1/${probe.key}/attributes`);
    assert.deepEqual(all.body, { client: { firmwareVersion: '1.4.2', flags: [1, 2], ip: '10.0.4.17' }, shared: { mode: 'eco', reportEvery: 60 } });
    const sharedOnly = await call('GET', `/api/v1/${probe.key}/attributes?sharedKeys=reportEvery`);
    assert.deepEqual(sharedOnly.body, { client: {}, shared: { reportEvery: 60 } });

    const page = await owner.client.get(`/api/v1/devices/${probe.id}/attributes?scope=client&limit=2`);
    assert.deepEqual(page.body.items.map((a: { key: string }) => a.key), ['firmwareVersion', 'flags']);
    const rest = await owner.client.get(`/api/v1/devices/${probe.id}/attributes?scope=client&limit=2&cursor=${page.body.nextCursor}`);
    assert.deepEqual(rest.body.items.map((a: { key: string }) => a.key), ['ip']);
    assert.equal(rest.body.nextCursor, null);
  });

  it('refuses bad attributes with a reason per key, and nothing of them is stored', async () => {
    const probe = await device();
    const refused = await call('POST', `/api/v1/${probe.key}/attributes`, { ok: true, nothing: null, big: 'x'.repeat(9000) });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.error.details.map((d: { field: string }) => d.field).sort(), ['big', 'nothing']);
    assert.equal((await call('POST', `/api/v1/${probe.key}/attributes`, [1, 2])).status, 400);
    assert.deepEqual((await call('GET', `/api/v1/${probe.key}/attributes`)).body, { client: {}, shared: {} });
  });

  it('answers 401 to an unknown or revoked token', async () => {
    const probe = await device();
    assert.equal((await call('POST', `/api/v1/vgd_${'0'.repeat(64)}/telemetry`, { t: 1 })).status, 401);
    assert.equal((await call('GET', `/api/v1/nonsense/attributes`)).status, 401);
    assert.equal((await owner.client.delete(`/api/v1/devices/${probe.id}/keys/${probe.keyId}`)).status, 204);
    assert.equal((await call('POST', `/api/v1/${probe.key}/attributes`, { a: 1 })).status, 401);
  });

  it('keeps the key in the path out of the request log', async () => {
    const probe = await device();
    await call('POST', `/api/v1/${probe.key}/attributes`, { a: 1 });
    await call('GET', `/api/v1/${probe.key}/attributes?clientKeys=a`);
    assert.ok(logs.some((line) => line.includes('/api/v1/[redacted]/attributes')), 'the requests are logged, with the key replaced');
    assert.deepEqual(logs.filter((line) => line.includes(probe.key)), []);
  });
});
