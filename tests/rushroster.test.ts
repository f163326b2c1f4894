import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

// The exact body a RushRoster field device sends (docs/device-protocols.md §2.3), byte for byte.
const DEVICE_BODY =
  '{"events": [{"timestamp": "2025-01-02T03:04:05.120000", "speed": 42.0, "speed_limit": 25.0, "is_speeding": 1, "has_photo": true}, ' +
  '{"timestamp": "2025-01-02T03:05:00", "speed": 20.0, "speed_limit": 25.0, "is_speeding": 0, "has_photo": false}]}';

describe('RushRoster device compatibility', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  async function radar() {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Maple Ave', serial: `rr-${Math.random().toString(36).slice(2)}`, speedLimit: 25, lat: 0, lon: 12.5 });
    return { id: created.body.device.id as string, key: created.body.apiKey as string, serial: created.body.device.serial as string };
  }

  // The device posts compact JSON with python-requests; no other headers matter.
  const upload = (key: string | undefined, body: string) =>
    app.runtime.app.inject({
      method: 'POST',
      url: '/api/ingest/v1/events',
      headers: { ...(key !== undefined && { 'x-api-key': key }), 'content-type': 'application/json', 'user-agent': 'python-requests/2.31.0' },
      payload: body,
    });
  const get = (key: string, url: string) => app.runtime.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });

  it('accepts the device body and echoes each timestamp byte for byte', async () => {
    const device = await radar();
    assert.equal(Buffer.byteLength(DEVICE_BODY), 242);
    const response = await upload(device.key, DEVICE_BODY);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.status, 'success');
    assert.equal(body.processed, 2);
    assert.equal(body.duplicates_skipped, 0);
    assert.deepEqual(body.created_events.map((e: { timestamp: string }) => e.timestamp), ['2025-01-02T03:04:05.120000', '2025-01-02T03:05:00']);
    assert.deepEqual(body.created_events.map((e: { has_photo: boolean }) => e.has_photo), [true, false]);
    assert.ok(body.created_events.every((e: { event_id: string }) => typeof e.event_id === 'string' && e.event_id.length > 0));
    assert.ok(response.body.includes('"timestamp":"2025-01-02T03:04:05.120000"'), 'the raw JSON carries the exact string');
  });

  it('keeps every timestamp shape exact and accepts every is_speeding form', async () => {
    const device = await radar();
    const stamps = ['2025-02-01T10:00:32.123456', '2025-02-01T10:00:33.120000', '2025-02-01T10:00:34', '2025-02-01 10:00:35'];
    const flags = [1, 0, true, 'false'];
    const body = JSON.stringify({ events: stamps.map((timestamp, i) => ({ timestamp, speed: 30 + i, speed_limit: 25, is_speeding: flags[i], has_photo: false })) });
    const created = (await upload(device.key, body)).json().created_events;
    assert.deepEqual(created.map((e: { timestamp: string }) => e.timestamp), stamps);
  });

  it('a resend stores nothing, but re-offers the event whose photo never arrived', async () => {
    const device = await radar();
    const first = (await upload(device.key, DEVICE_BODY)).json();
    const again = (await upload(device.key, DEVICE_BODY)).json();
    assert.equal(again.processed, 0);
    assert.equal(again.duplicates_skipped, 2);
    assert.equal(again.created_events.length, 1, 'only the event with a pending photo');
    assert.equal(again.created_events[0].event_id, first.created_events[0].event_id);
    assert.equal(again.created_events[0].timestamp, '2025-01-02T03:04:05.120000');
  });

  it('two cars at the same speed seconds apart are two events; concurrent resends store once', async () => {
    const device = await radar();
    const body = JSON.stringify({ events: [
      { timestamp: '2025-03-01T08:00:00', speed: 31.0, speed_limit: 25.0, is_speeding: 1, has_photo: false },
      { timestamp: '2025-03-01T08:00:02', speed: 31.0, speed_limit: 25.0, is_speeding: 1, has_photo: false },
    ] });
    const results = await Promise.all([upload(device.key, body), upload(device.key, body), upload(device.key, body)]);
    assert.equal(results.reduce((sum, r) => sum + r.json().processed, 0), 2);
    const stored = await app.runtime.ctx.pool.query('SELECT count(*)::int AS n FROM events WHERE device_id = $1', [device.id]);
    assert.equal(stored.rows[0].n, 2);
  });

  it('one bad event does not block the batch: the valid ones are stored with a 2xx', async () => {
    const device = await radar();
    const body = JSON.stringify({ events: [
      { timestamp: '2025-03-02T08:00:00', speed: 0, speed_limit: 25, is_speeding: 0, has_photo: false },
      { timestamp: '2025-03-02T08:00:01', speed: 1200, speed_limit: 25, is_speeding: 1, has_photo: false },
      { timestamp: '2025-03-02T08:00:02', speed: 33, speed_limit: 25, is_speeding: 1, has_photo: false },
    ] });
    const response = await upload(device.key, body);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().processed, 1);
    assert.deepEqual(response.json().rejected.map((r: { index: number }) => r.index), [0, 1]);
  });

  it('answers like the original: 422 for a missing key or a malformed envelope, 401 with its wording', async () => {
    const device = await radar();
    assert.equal((await upload(undefined, DEVICE_BODY)).statusCode, 422);
    const badFormat = await upload('invalid_key', DEVICE_BODY);
    assert.equal(badFormat.statusCode, 401);
    assert.deepEqual(badFormat.json(), { detail: 'Invalid API key format' });
    const unknown = await upload(`rushroster_${'a'.repeat(64)}`, DEVICE_BODY);
    assert.deepEqual(unknown.json(), { detail: 'Invalid or expired API key' });
    assert.equal((await upload(device.key, '{"events": []}')).statusCode, 422);
    const tooMany = JSON.stringify({ events: Array.from({ length: 1001 }, (_, i) => ({ timestamp: `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}`, speed: 20, speed_limit: 25 })) });
    assert.equal((await upload(device.key, tooMany)).statusCode, 422);
    assert.equal((await upload(device.key, 'not json')).statusCode, 422);
    const fridge = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'F', serial: 'F-rr' });
    assert.deepEqual((await upload(fridge.body.apiKey, DEVICE_BODY)).json(), { detail: 'Invalid API key format' });
  });

  it('restores the device\'s events newest first, clamping limit like the original', async () => {
    const device = await radar();
    const events = Array.from({ length: 120 }, (_, i) => ({ timestamp: new Date(Date.UTC(2025, 3, 1, 0, i)).toISOString().replace('Z', ''), speed: 20 + (i % 15), speed_limit: 25, is_speeding: 0, has_photo: false }));
    await upload(device.key, JSON.stringify({ events: events.slice(0, 100) }));
    await upload(device.key, JSON.stringify({ events: events.slice(100) }));
    const page = (await get(device.key, '/api/ingest/v1/events')).json();
    assert.equal(page.device_id, device.serial);
    assert.equal(page.limit, 100);
    assert.equal(page.offset, 0);
    assert.equal(page.speeding_only, false);
    assert.equal(page.count, 100);
    assert.ok(page.events[0].timestamp > page.events[99].timestamp, 'newest first');
    assert.equal((await get(device.key, '/api/ingest/v1/events?limit=1000')).json().count, 120);
    assert.equal((await get(device.key, '/api/ingest/v1/events?limit=0')).json().count, 1);
    assert.equal((await get(device.key, '/api/ingest/v1/events?offset=100&limit=50')).json().count, 20);
    const speeding = (await get(device.key, '/api/ingest/v1/events?speeding_only=true&limit=1000')).json();
    assert.ok(speeding.events.length > 0 && speeding.events.every((e: { is_speeding: boolean }) => e.is_speeding));
    const other = await radar();
    assert.equal((await get(other.key, '/api/ingest/v1/events')).json().count, 0, 'only the calling device\'s events');
  });

  it('serves heartbeat, device info (a 0 coordinate stays 0) and stats', async () => {
    const device = await radar();
    const heartbeat = await app.runtime.app.inject({ method: 'POST', url: '/api/ingest/v1/heartbeat', headers: { 'x-api-key': device.key }, payload: { timestamp: '2025-01-01T00:00:00', status: { cpu: 3 } } });
    assert.equal(heartbeat.statusCode, 200);
    assert.match(heartbeat.json().message, /Heartbeat received/);
    const info = (await get(device.key, '/api/ingest/v1/device/info')).json();
    assert.equal(info.device_id, device.serial);
    assert.equal(info.location.latitude, 0);
    assert.equal(info.location.longitude, 12.5);
    assert.equal(info.speed_limit, 25);
    const now = new Date();
    const recent = [0, 1, 2].map((i) => ({ timestamp: new Date(now.getTime() - i * 60_000).toISOString(), speed: [20, 30, 40][i], speed_limit: 25 }));
    await upload(device.key, JSON.stringify({ events: recent }));
    const stats = (await get(device.key, '/api/ingest/v1/device/stats?hours=24')).json();
    assert.deepEqual(
      { total: stats.total_events, speeding: stats.speeding_events, avg: stats.avg_speed, max: stats.max_speed, min: stats.min_speed, hours: stats.period_hours },
      { total: 3, speeding: 2, avg: 30, max: 40, min: 20, hours: 24 },
    );
  });

  it('device info says share_community only when both the device and its organization share', async () => {
    const device = await radar();
    const shareCommunity = async () => (await get(device.key, '/api/ingest/v1/device/info')).json().share_community;
    assert.equal(await shareCommunity(), false, 'nothing shared yet');
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${device.id}/sharing`, { shared: true })).status, 200);
    assert.equal(await shareCommunity(), false, 'the device is marked, but the organization does not share');
    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: true })).status, 200);
    assert.equal(await shareCommunity(), true);
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${device.id}/sharing`, { shared: false })).status, 200);
    assert.equal(await shareCommunity(), false, 'the device stopped sharing');
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${device.id}/sharing`, { shared: true })).status, 200);
    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: false })).status, 200);
    assert.equal(await shareCommunity(), false, 'the organization stopped sharing');
  });
});
