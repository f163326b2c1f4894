import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashToken } from '../src/server/core/tokens.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('device registry and keys', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  const radar = (overrides: Record<string, unknown> = {}) => ({
    kind: 'speed_radar', name: 'Elm Street radar', serial: `RR-${Math.random().toString(36).slice(2, 10)}`, lat: 40.7, lon: -74.0, speedLimit: 25, ...overrides,
  });

  it('registers a radar with a RushRoster-format key shown once and stored only as a hash', async () => {
    const created = await owner.client.post('/api/v1/devices', radar());
    assert.equal(created.status, 201);
    assert.match(created.body.apiKey, /^rushroster_[0-9a-f]{64}$/);
    assert.equal(created.body.device.status, 'offline', 'never heard from yet');
    assert.equal(created.body.device.speedUnits, 'mph', 'the organization\'s units by default');
    assert.equal(created.body.key.prefix, created.body.apiKey.slice(0, 16));
    const stored = await app.runtime.ctx.pool.query('SELECT key_hash FROM device_keys WHERE device_id = $1', [created.body.device.id]);
    assert.equal(stored.rows[0].key_hash, hashToken(created.body.apiKey));
    const everything = JSON.stringify((await app.runtime.ctx.pool.query('SELECT * FROM device_keys')).rows);
    assert.ok(!everything.includes(created.body.apiKey.slice(11)), 'the key itself is nowhere in the database');
    const keys = await owner.client.get(`/api/v1/devices/${created.body.device.id}/keys`);
    assert.equal(keys.body.items.length, 1);
    assert.equal(keys.body.items[0].apiKey, undefined);
  });

  it('other kinds get vgd_ keys; only radars have a speed limit', async () => {
    const fridge = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 1', serial: 'CR-1' });
    assert.equal(fridge.status, 201);
    assert.match(fridge.body.apiKey, /^vgd_[0-9a-f]{64}$/);
    assert.equal(fridge.body.device.speedUnits, null);
    const wrong = await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Cam', serial: 'CAM-1', speedLimit: 30 });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.details[0].field, 'speedLimit');
  });

  it('rejects bad input field by field', async () => {
    const response = await owner.client.post('/api/v1/devices', { kind: 'toaster', name: '', serial: 'X', lat: 200 });
    assert.equal(response.status, 400);
    const fields = response.body.error.details.map((d: { field: string }) => d.field);
    for (const field of ['kind', 'name', 'lat']) assert.ok(fields.includes(field), `${field} in ${fields}`);
  });

  it('a serial is unique within an organization, not across organizations', async () => {
    const first = await owner.client.post('/api/v1/devices', radar({ serial: 'SAME-1' }));
    assert.equal(first.status, 201);
    const again = await owner.client.post('/api/v1/devices', radar({ serial: 'SAME-1' }));
    assert.equal(again.status, 409);
    const other = await app.owner('Other');
    assert.equal((await other.client.post('/api/v1/devices', radar({ serial: 'SAME-1' }))).status, 201);
  });

  it('rotating a key revokes the old one at once; revoking works; lists show it', async () => {
    const created = await owner.client.post('/api/v1/devices', radar());
    const id = created.body.device.id;
    const rotated = await owner.client.post(`/api/v1/devices/${id}/keys/${created.body.key.id}/rotate`);
    assert.equal(rotated.status, 201);
    assert.notEqual(rotated.body.apiKey, created.body.apiKey);
    const keys = (await owner.client.get(`/api/v1/devices/${id}/keys`)).body.items;
    assert.equal(keys.length, 2);
    assert.ok(keys.find((k: { id: string }) => k.id === created.body.key.id).revokedAt);
    assert.equal((await owner.client.post(`/api/v1/devices/${id}/keys/${created.body.key.id}/rotate`)).status, 404, 'a revoked key cannot be rotated');
    assert.equal((await owner.client.delete(`/api/v1/devices/${id}/keys/${rotated.body.key.id}`)).status, 204);
    const audit = await owner.client.get(`/api/v1/audit?resourceType=device&resourceId=${id}`);
    assert.deepEqual(audit.body.items.map((e: { action: string }) => e.action), ['device_key.revoked', 'device_key.rotated', 'device.created']);
  });

  it('lists filter by kind, site and search, and page', async () => {
    const org = await app.owner('Fleet');
    const site = (await org.client.post('/api/v1/sites', { name: 'Depot' })).body.id;
    for (let i = 0; i < 5; i++) await org.client.post('/api/v1/devices', radar({ name: `Radar ${i}`, serial: `F-R${i}`, siteId: i < 2 ? site : null }));
    await org.client.post('/api/v1/devices', { kind: 'sensor', name: 'Sensor A', serial: 'F-S1' });
    assert.equal((await org.client.get('/api/v1/devices?kind=sensor')).body.items.length, 1);
    assert.equal((await org.client.get(`/api/v1/devices?siteId=${site}`)).body.items.length, 2);
    assert.deepEqual((await org.client.get('/api/v1/devices?search=r3')).body.items.map((d: { serial: string }) => d.serial), ['F-R3']);
    assert.equal((await org.client.get('/api/v1/devices?status=offline')).body.items.length, 6);
    assert.equal((await org.client.get('/api/v1/devices?status=online')).body.items.length, 0);
    const first = await org.client.get('/api/v1/devices?limit=4');
    const second = await org.client.get(`/api/v1/devices?limit=4&cursor=${first.body.nextCursor}`);
    assert.equal(first.body.items.length + second.body.items.length, 6);
    assert.equal(second.body.nextCursor, null);
    // Device pages reach 1,000 (the console's map reads a fleet in few requests), not beyond.
    assert.equal((await org.client.get('/api/v1/devices?limit=1000')).body.items.length, 6);
    const tooMany = await org.client.get('/api/v1/devices?limit=1001');
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.details[0].field, 'limit');
  });

  it('enforces the plan device limit with a clear error', async () => {
    const small = await app.owner('Small fleet');
    await app.superadmin.client.patch(`/api/v1/organizations/${small.orgId}`, { maxDevices: 1 });
    assert.equal((await small.client.post('/api/v1/devices', radar())).status, 201);
    const over = await small.client.post('/api/v1/devices', radar());
    assert.equal(over.status, 403);
    assert.equal(over.body.error.code, 'plan_limit');
  });

  it('viewers read but cannot write; other tenants get 404; restricted users see only their sites', async () => {
    const north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id;
    const inNorth = (await owner.client.post('/api/v1/devices', radar({ siteId: north }))).body.device.id;
    const inSouth = (await owner.client.post('/api/v1/devices', radar({ siteId: south }))).body.device.id;
    const viewer = await app.member(owner, 'viewer', [north]);
    assert.equal((await viewer.client.get(`/api/v1/devices/${inNorth}`)).status, 200);
    assert.equal((await viewer.client.get(`/api/v1/devices/${inSouth}`)).status, 404);
    assert.ok((await viewer.client.get('/api/v1/devices')).body.items.every((d: { siteId: string }) => d.siteId === north));
    assert.equal((await viewer.client.post('/api/v1/devices', radar({ siteId: north }))).status, 403);
    assert.equal((await viewer.client.patch(`/api/v1/devices/${inNorth}`, { name: 'x' })).status, 403);

    const manager = await app.member(owner, 'manager', [north]);
    assert.equal((await manager.client.post('/api/v1/devices', radar())).status, 400, 'must place it in one of their sites');
    assert.equal((await manager.client.post('/api/v1/devices', radar({ siteId: south }))).status, 400);
    assert.equal((await manager.client.post('/api/v1/devices', radar({ siteId: north }))).status, 201);
    assert.equal((await manager.client.delete(`/api/v1/devices/${inSouth}`)).status, 404);

    const stranger = await app.owner('Stranger');
    for (const response of [
      await stranger.client.get(`/api/v1/devices/${inNorth}`),
      await stranger.client.patch(`/api/v1/devices/${inNorth}`, { name: 'stolen' }),
      await stranger.client.delete(`/api/v1/devices/${inNorth}`),
      await stranger.client.get(`/api/v1/devices/${inNorth}/keys`),
      await stranger.client.post(`/api/v1/devices/${inNorth}/keys`),
    ]) assert.equal(response.status, 404);
  });
});
