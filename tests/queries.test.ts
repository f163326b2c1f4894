import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('event and telemetry queries', () => {
  let app: TestApp;
  let owner: SignedIn;
  let north: string;
  let radarNorth: { id: string; key: string };
  let radarSouth: { id: string; key: string };
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id;
    const make = async (siteId: string, serial: string) => {
      const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: serial, serial, speedLimit: 30, siteId });
      return { id: created.body.device.id, key: created.body.apiKey };
    };
    radarNorth = await make(north, 'N-1');
    radarSouth = await make(south, 'S-1');
    const events = (n: number, offsetMinutes: number) =>
      Array.from({ length: n }, (_, i) => ({ client_ref: `e${i}`, ts: new Date(Date.UTC(2026, 2, 1, 6, offsetMinutes + i)).toISOString(), kind: 'speed', speed: 20 + (i % 20) }));
    for (const [device, batch] of [[radarNorth, events(30, 0)], [radarSouth, events(12, 100)]] as const) {
      const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': device.key }, payload: { events: batch } });
      assert.equal(response.json().accepted, batch.length);
    }
  });
  after(async () => app.close());

  it('lists events newest first with filters and a cursor', async () => {
    const all = await owner.client.get('/api/v1/events?limit=200');
    assert.equal(all.body.items.length, 42);
    const times = all.body.items.map((e: { ts: string }) => e.ts);
    assert.deepEqual(times, [...times].sort().reverse());
    const north = await owner.client.get(`/api/v1/events?deviceId=${radarNorth.id}&limit=200`);
    assert.equal(north.body.items.length, 30);
    const speeding = await owner.client.get('/api/v1/events?speedingOnly=true&limit=200');
    assert.ok(speeding.body.items.length > 0 && speeding.body.items.every((e: { speeding: boolean; speed: number }) => e.speeding && e.speed > 30));
    const window = await owner.client.get('/api/v1/events?from=2026-03-01T06:10:00Z&to=2026-03-01T06:20:00Z&limit=200');
    assert.equal(window.body.items.length, 10);
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await owner.client.get(`/api/v1/events?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      page.body.items.forEach((e) => seen.add(e.id));
      cursor = page.body.nextCursor;
      if (!cursor) break;
    }
    assert.equal(seen.size, 42);
    assert.equal((await owner.client.get('/api/v1/events?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z')).status, 400);
  });

  it('restricted viewers see only their sites\' events; other tenants see none', async () => {
    const viewer = await app.member(owner, 'viewer', [north]);
    const list = await viewer.client.get('/api/v1/events?limit=200');
    assert.equal(list.body.items.length, 30);
    const southEvent = (await owner.client.get(`/api/v1/events?deviceId=${radarSouth.id}&limit=1`)).body.items[0];
    assert.equal((await viewer.client.get(`/api/v1/events/${southEvent.id}`)).status, 404);
    assert.equal((await owner.client.get(`/api/v1/events/${southEvent.id}`)).body.deviceName, 'S-1');
    const stranger = await app.owner('Stranger');
    assert.equal((await stranger.client.get('/api/v1/events')).body.items.length, 0);
    assert.equal((await stranger.client.get(`/api/v1/events/${southEvent.id}`)).status, 404);
    assert.equal((await stranger.client.delete(`/api/v1/events/${southEvent.id}`)).status, 404);
  });

  it('exports the current filter as CSV', async () => {
    const response = await owner.client.request('GET', `/api/v1/events.csv?deviceId=${radarNorth.id}`);
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /text\/csv/);
    assert.match(String(response.headers['content-disposition']), /attachment; filename="events-/);
    const rows = parse(response.body as string, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 30);
    assert.equal(rows[0]!.device, 'N-1');
    assert.ok(rows.every((r) => r.device_id === radarNorth.id));
  });

  it('admins delete an event: audited, and the rollups forget it', async () => {
    const viewer = await app.member(owner, 'manager');
    const target = (await owner.client.get(`/api/v1/events?deviceId=${radarNorth.id}&limit=1`)).body.items[0];
    assert.equal((await viewer.client.delete(`/api/v1/events/${target.id}`)).status, 403);
    await app.settleRollups();
    const before = await app.runtime.ctx.pool.query('SELECT sum(events)::int AS n FROM event_rollups_hourly WHERE device_id = $1', [radarNorth.id]);
    assert.equal((await owner.client.delete(`/api/v1/events/${target.id}`)).status, 204);
    assert.equal((await owner.client.get(`/api/v1/events/${target.id}`)).status, 404);
    const after = await app.runtime.ctx.pool.query('SELECT sum(events)::int AS n FROM event_rollups_hourly WHERE device_id = $1', [radarNorth.id]);
    assert.equal(after.rows[0].n, before.rows[0].n - 1);
    const hist = await app.runtime.ctx.pool.query('SELECT sum(count)::int AS n FROM speed_histogram_hourly WHERE device_id = $1', [radarNorth.id]);
    assert.equal(hist.rows[0].n, after.rows[0].n);
    const audit = await owner.client.get(`/api/v1/audit?action=event.deleted&resourceId=${target.id}`);
    assert.equal(audit.body.items.length, 1);
  });

  it('summarises devices by status and events over a range from the rollups, within the caller\'s sites', async () => {
    const devices = await owner.client.get('/api/v1/devices/summary');
    assert.equal(devices.status, 200);
    assert.equal(devices.body.total, devices.body.online + devices.body.offline + devices.body.error);
    assert.equal(devices.body.byKind.speed_radar, 2);
    const range = 'from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z';
    const all = (await owner.client.get(`/api/v1/events/summary?${range}`)).body;
    const raw = await app.runtime.ctx.pool.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE speed > speed_limit)::int AS s FROM events WHERE org_id = $1 AND ts >= '2026-03-01' AND ts < '2026-03-02'`, [owner.orgId]);
    assert.equal(all.events, raw.rows[0].n);
    assert.equal(all.speeding, raw.rows[0].s);
    assert.equal(all.devices, 2);
    const viewer = await app.member(owner, 'viewer', [north]);
    const mine = (await viewer.client.get(`/api/v1/events/summary?${range}`)).body;
    assert.equal(mine.devices, 1);
    assert.ok(mine.events < all.events);
    assert.equal((await viewer.client.get('/api/v1/devices/summary')).body.byKind.speed_radar, 1);
    const stranger = await app.owner('Counting');
    assert.equal((await stranger.client.get(`/api/v1/events/summary?${range}`)).body.events, 0);
  });

  it('serves telemetry raw and bucketed; hour buckets from rollups agree with raw values', async () => {
    const fridge = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold', serial: 'C-1', siteId: north });
    const items = Array.from({ length: 120 }, (_, i) => ({ ts: new Date(Date.UTC(2026, 2, 2, 0, i)).toISOString(), values: { temperature: 2 + (i % 10) / 2 } }));
    await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': fridge.body.apiKey }, payload: { items } });
    const base = `/api/v1/devices/${fridge.body.device.id}/telemetry?from=2026-03-02T00:00:00Z&to=2026-03-02T02:00:00Z`;
    const raw = await owner.client.get(base);
    assert.equal(raw.body.values.length, 120);
    const hourly = await owner.client.get(`${base}&bucket=1h`);
    assert.equal(hourly.body.buckets.length, 2);
    assert.deepEqual(hourly.body.buckets.map((b: { count: number; min: number; max: number; avg: number }) => [b.count, b.min, b.max, b.avg]), [[60, 2, 6.5, 4.25], [60, 2, 6.5, 4.25]]);
    const fiveMinutes = await owner.client.get(`${base}&bucket=5m`);
    assert.equal(fiveMinutes.body.buckets.length, 24);
    const tooFine = await owner.client.get(`/api/v1/devices/${fridge.body.device.id}/telemetry?from=2025-01-01T00:00:00Z&to=2026-03-02T00:00:00Z&bucket=1m`);
    assert.equal(tooFine.status, 400);
    const stranger = await app.owner('Other');
    assert.equal((await stranger.client.get(base)).status, 404);
  });
});
