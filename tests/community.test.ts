import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { fuzzLocation } from '../src/server/community/location.js';
import { hashToken } from '../src/server/core/tokens.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Community sharing: what the public pages show, and above all what they never show. A realistic
 * organization (owner with an email, a site with an address, shared and private radars at exact
 * coordinates, events with photos) is scanned through every public endpoint for anything private.
 */
// Sharp black and white stripes 4 px wide (like the strokes of a number plate), so a blur shows.
const STRIPES = Buffer.alloc(640 * 480 * 3, 0).map((_, i) => (Math.floor((i / 3) % 640 / 4) % 2 === 0 ? 230 : 20));
const JPEG = await sharp(STRIPES, { raw: { width: 640, height: 480, channels: 3 } }).jpeg().toBuffer();

/** Mean difference between horizontally neighbouring grey pixels: high for sharp detail, near 0 once blurred. */
async function sharpness(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  for (let y = 0; y < info.height; y++) for (let x = 1; x < info.width; x++) sum += Math.abs(data[y * info.width + x]! - data[y * info.width + x - 1]!);
  return sum / (info.height * (info.width - 1));
}
const HOUR = 3_600_000;

function multipart(data: Buffer) {
  const boundary = '----vigiltest' + Math.random().toString(16).slice(2);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function metresBetween(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

/** A RushRoster timestamp (device local time, no offset) `hoursAgo` hours back; the test organization's zone is UTC. */
function deviceTime(hoursAgo: number): string {
  return new Date(Date.now() - hoursAgo * HOUR).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
}

interface Radar {
  id: string;
  key: string;
  serial: string;
  name: string;
  lat: number;
  lon: number;
}

describe('community sharing', () => {
  let app: TestApp;
  let owner: SignedIn;
  let stranger: SignedIn;
  let shared: Radar;
  let secret: Radar;
  let strangersRadar: Radar;
  let photoEventId: string;
  const forbidden: string[] = [];

  const anonymous = () => app.client();

  /** Retries `check` for up to 2 s: with Redis, other services' bus messages arrive a moment after their response. */
  async function soon(check: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + 2000;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  async function radar(who: SignedIn, name: string, lat: number, lon: number, siteId?: string): Promise<Radar> {
    const serial = `SN-${name.replace(/\W/g, '').toUpperCase()}-4471`;
    const created = await who.client.post('/api/v1/devices', { kind: 'speed_radar', name, serial, lat, lon, speedLimit: 25, siteId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id, key: created.body.apiKey, serial, name, lat, lon };
  }

  /** 24 vehicles over the last day, every third speeding; the first one speeding with a photo when asked. */
  async function traffic(device: Radar, withPhoto: boolean): Promise<string | undefined> {
    const events = Array.from({ length: 24 }, (_, i) => ({
      timestamp: deviceTime(i + 1), speed: i % 3 === 0 ? 38 + i / 10 : 21 + i / 10, speed_limit: 25, is_speeding: i % 3 === 0 ? 1 : 0, has_photo: withPhoto && i === 0,
    }));
    const upload = await app.runtime.app.inject({ method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': device.key, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
    assert.equal(upload.statusCode, 200, upload.body);
    if (!withPhoto) return undefined;
    const eventId = upload.json().created_events[0].event_id as string;
    const issued = (await app.runtime.app.inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/url`, headers: { 'x-api-key': device.key } })).json();
    const form = multipart(JPEG);
    const put = await app.runtime.app.inject({ method: 'PUT', url: new URL(issued.upload_url).pathname, headers: { 'content-type': form.contentType }, payload: form.body });
    assert.equal(put.statusCode, 200, put.body);
    const confirm = await app.runtime.app.inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(issued.photo_key)}`, headers: { 'x-api-key': device.key } });
    assert.equal(confirm.statusCode, 200, confirm.body);
    return eventId;
  }

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Elmwood Traffic Safety');
    stranger = await app.owner('Other Town');
    const site = await owner.client.post('/api/v1/sites', { name: 'Depot at 12 Hidden Lane', address: '12 Hidden Lane, Springfield', lat: 40.712776, lon: -74.005974 });
    assert.equal(site.status, 201);
    shared = await radar(owner, 'Elm Street northbound', 40.741895, -73.989308, site.body.id);
    secret = await radar(owner, 'Private driveway camera', 40.751234, -73.981234, site.body.id);
    strangersRadar = await radar(stranger, 'Stranger lane', 51.507351, -0.127758);
    photoEventId = (await traffic(shared, true))!;
    await traffic(secret, true);
    await traffic(strangersRadar, false);

    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: true, publicPhotos: true })).status, 200);
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: true })).status, 200);
    // The stranger shares a device but their organization does not take part: it stays private.
    assert.equal((await stranger.client.request('PUT', `/api/v1/devices/${strangersRadar.id}/sharing`, { shared: true })).status, 200);

    const viewer = await app.member(owner, 'viewer');
    const keys = (await owner.client.get(`/api/v1/devices/${shared.id}/keys`)).body.items as { prefix: string }[];
    const ownerMe = (await owner.client.get('/api/v1/auth/me')).body;
    forbidden.push(
      owner.email, viewer.email, stranger.email, ownerMe.user?.name ?? 'Olive Owner', 'Olive Owner', 'New Member',
      'Hidden Lane', 'Depot at', owner.orgId, stranger.orgId, site.body.id,
      ...[shared, secret, strangersRadar].flatMap((d) => [d.key, d.key.slice(0, 16), hashToken(d.key), d.serial]),
      ...keys.map((k) => k.prefix),
      secret.id, secret.name, strangersRadar.id, strangersRadar.name,
    );
    // Exact coordinates of every device and of the site, at full precision and at 6 and 5 decimals.
    for (const [lat, lon] of [[shared.lat, shared.lon], [secret.lat, secret.lon], [strangersRadar.lat, strangersRadar.lon], [40.712776, -74.005974]] as const) {
      for (const value of [lat, lon]) forbidden.push(String(value), value.toFixed(6), value.toFixed(5));
    }
  });
  after(async () => app.close());

  async function everyPublicBody(): Promise<{ url: string; text: string }[]> {
    const client = anonymous();
    const urls = [
      '/api/v1/public/overview',
      '/api/v1/public/devices',
      '/api/v1/public/devices?limit=1',
      `/api/v1/public/devices/${shared.id}`,
      `/api/v1/public/devices/${secret.id}`,
      `/api/v1/public/devices/${strangersRadar.id}`,
      '/api/v1/public/speeders',
      `/api/v1/public/speeders?deviceId=${shared.id}`,
      `/api/v1/public/speeders?deviceId=${secret.id}`,
      '/public',
      `/public/devices/${shared.id}`,
    ];
    const bodies = [];
    for (const url of urls) {
      const response = await client.get(url);
      bodies.push({ url, text: typeof response.body === 'string' ? response.body : JSON.stringify(response.body) });
      if (url.startsWith('/api/v1/public/') && response.status === 200) assert.match(String(response.headers['cache-control']), /^public, max-age=\d+$/, url);
    }
    const photoUrls = ((await client.get('/api/v1/public/speeders')).body.items as { photoUrl: string | null }[]).flatMap((s) => (s.photoUrl ? [s.photoUrl] : []));
    for (const url of photoUrls) {
      const photo = await app.runtime.app.inject({ method: 'GET', url });
      bodies.push({ url, text: JSON.stringify(photo.headers) + photo.rawPayload.toString('latin1') });
    }
    return bodies;
  }

  it('never answers an exact coordinate, an email, a key, a serial, a user name or a private device', async () => {
    const bodies = await everyPublicBody();
    assert.ok(bodies.length >= 12, 'the photo link was scanned too');
    for (const { url, text } of bodies) {
      for (const value of forbidden) assert.ok(!text.includes(value), `${url} contains "${value}"`);
    }
  });

  it('lists the shared device with a location moved 80–120 m, the same every time', async () => {
    const list = await anonymous().get('/api/v1/public/devices');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((d: { id: string }) => d.id), [shared.id], 'only the shared device of the sharing organization');
    const [item] = list.body.items;
    assert.equal(item.name, shared.name);
    assert.deepEqual(item.last30Days, { vehicles: 24, speeding: 8 });
    const distance = metresBetween(shared, item.location);
    assert.ok(distance >= 70 && distance <= 130, `moved ${distance.toFixed(1)} m`);
    const detail = await anonymous().get(`/api/v1/public/devices/${shared.id}`);
    assert.deepEqual(detail.body.location, item.location, 'the same spot in every answer');
    app.runtime.services.community['cache'].apply({ id: 'x', type: 'community.changed', orgId: null, data: {} });
    assert.deepEqual((await anonymous().get(`/api/v1/public/devices/${shared.id}`)).body.location, item.location, 'and after the cache is rebuilt');
  });

  it('gives a shared device\'s figures of the last 30 days and its recent speeders', async () => {
    const detail = await anonymous().get(`/api/v1/public/devices/${shared.id}`);
    assert.equal(detail.status, 200, JSON.stringify(detail.body));
    const stats = detail.body.statistics;
    assert.equal(stats.count, 24);
    assert.equal(stats.hourly.length, 24);
    assert.equal(stats.hourly.reduce((sum: number, h: { count: number }) => sum + h.count, 0), 24);
    assert.ok(stats.p85 > 25 && stats.speedingShare > 0.3 && stats.speedingShare < 0.34);
    const speeders = await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}&limit=5`);
    assert.equal(speeders.body.items.length, 5);
    assert.ok(speeders.body.nextCursor);
    assert.ok(speeders.body.items.every((s: { speed: number; speedLimit: number }) => s.speed > s.speedLimit));
    const rest = await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}&cursor=${speeders.body.nextCursor}`);
    assert.equal(speeders.body.items.length + rest.body.items.length, 8);
    const overview = await anonymous().get('/api/v1/public/overview');
    assert.deepEqual({ ...overview.body, mapTiles: undefined }, { devices: 1, organizations: 1, last30Days: { vehicles: 24, speeding: 8, speedingShare: 8 / 24 }, mapTiles: undefined });
  });

  it('answers a private device, a device of an organization that does not share and an unknown one with the same 404', async () => {
    const unknown = await anonymous().get('/api/v1/public/devices/00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
    for (const id of [secret.id, strangersRadar.id]) {
      const response = await anonymous().get(`/api/v1/public/devices/${id}`);
      assert.equal(response.status, 404);
      assert.deepEqual(response.body, unknown.body);
      assert.equal((await anonymous().get(`/api/v1/public/speeders?deviceId=${id}`)).status, 404);
    }
  });

  it('shows photos only while the organization allows them, through links that expire', async () => {
    const speeders = (await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}`)).body.items as { photoUrl: string | null }[];
    const link = speeders.find((s) => s.photoUrl)!.photoUrl!;
    const photo = await app.runtime.app.inject({ method: 'GET', url: link });
    assert.equal(photo.statusCode, 200);
    assert.equal(photo.headers['content-type'], 'image/jpeg');
    // What the public sees is blurred: the stripes (a plate's strokes) are gone, not just scaled down.
    const original = await sharpness(await sharp(JPEG).resize({ width: (await sharp(photo.rawPayload).metadata()).width }).toBuffer());
    const served = await sharpness(photo.rawPayload);
    assert.ok(original > 40 && served < original / 10, `sharpness ${served.toFixed(1)} public against ${original.toFixed(1)} original`);
    const token = link.slice('/api/v1/public/photos/'.length);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.equal((await anonymous().get(`/api/v1/public/photos/${tampered}`)).status, 404, 'a changed token');

    assert.equal((await owner.client.patch('/api/v1/organization', { publicPhotos: false })).status, 200);
    await soon(async () => {
      const after = (await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}`)).body.items as { photoUrl: string | null }[];
      assert.ok(after.every((s) => s.photoUrl === null), 'no photo links once photos are off');
    });
    assert.equal((await anonymous().get(link)).status, 404, 'an earlier link stops working at once');
    assert.equal((await owner.client.patch('/api/v1/organization', { publicPhotos: true })).status, 200);
    await soon(async () => assert.ok(((await anonymous().get('/api/v1/public/speeders')).body.items as { photoUrl: string | null }[]).some((s) => s.photoUrl)));
  });

  it('public links carry no event id: photo links and page cursors are opaque, and the old numeric photo link answers 404', async () => {
    const all = (await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}`)).body.items as { photoUrl: string | null }[];
    const link = all.find((s) => s.photoUrl)!.photoUrl!;
    const page = await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}&limit=1`);
    assert.match(link, /^\/api\/v1\/public\/photos\/[\w.-]+$/);
    assert.ok(!link.split(/[/?&=]/).includes(photoEventId) && !link.includes('?'), link);
    const decoded = Buffer.from(page.body.nextCursor, 'base64url').toString('latin1');
    // Sealed bytes: no JSON, no date, no event id (a quote character alone may occur in random bytes).
    assert.throws(() => JSON.parse(decoded), SyntaxError, 'the cursor is not a readable sort key');
    assert.ok(!/\d{4}-\d{2}-\d{2}/.test(decoded) && !decoded.includes(`,${photoEventId}`), 'the cursor names no time and no event');
    const rest = await anonymous().get(`/api/v1/public/speeders?deviceId=${shared.id}&cursor=${page.body.nextCursor}`);
    assert.equal(rest.body.items.length, 7, 'it still pages');
    assert.equal((await anonymous().get(`/api/v1/public/speeders?cursor=${Buffer.from(JSON.stringify([new Date().toISOString(), photoEventId])).toString('base64url')}`)).status, 400, 'a hand-made cursor');
    // The link as it used to be: the sequential event id, signed the old way.
    const expires = Math.floor(Date.now() / 1000) + 600;
    const signature = createHmac('sha256', app.runtime.ctx.secrets.secretKey).update(`community-photo:${photoEventId}:${expires}`).digest('base64url');
    const old = await anonymous().get(`/api/v1/public/photos/${photoEventId}?expires=${expires}&signature=${signature}`);
    assert.equal(old.status, 404);
    assert.equal((await anonymous().get(`/api/v1/public/photos/${Number(photoEventId) + 1}`)).status, 404);
  });

  it('hides everything at once when the organization or the device stops sharing', async () => {
    const client = anonymous();
    assert.equal((await client.get(`/api/v1/public/devices/${shared.id}`)).status, 200, 'cached now');
    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: false })).status, 200);
    await soon(async () => assert.equal((await client.get(`/api/v1/public/devices/${shared.id}`)).status, 404));
    assert.deepEqual((await client.get('/api/v1/public/devices')).body.items, []);
    assert.deepEqual((await client.get('/api/v1/public/speeders')).body.items, []);
    assert.equal((await client.get('/api/v1/public/overview')).body.devices, 0);
    const sharing = await owner.client.get(`/api/v1/devices/${shared.id}/sharing`);
    assert.deepEqual({ ...sharing.body }, { deviceId: shared.id, shared: true, organizationShares: false, photos: true, publicPath: null });

    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: true })).status, 200);
    await soon(async () => assert.equal((await client.get(`/api/v1/public/devices/${shared.id}`)).status, 200));
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: false })).status, 200);
    assert.equal((await client.get(`/api/v1/public/devices/${shared.id}`)).status, 404);
    assert.deepEqual((await client.get('/api/v1/public/devices')).body.items, []);
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: true })).status, 200);
  });

  it('lets managers share devices and admins opt the organization in; audits both; keeps other tenants out', async () => {
    const viewer = await app.member(owner, 'viewer');
    const operator = await app.member(owner, 'operator');
    const manager = await app.member(owner, 'manager');
    assert.equal((await viewer.client.get(`/api/v1/devices/${shared.id}/sharing`)).body.shared, true, 'anyone may see the setting');
    assert.equal((await viewer.client.request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: false })).status, 403);
    assert.equal((await operator.client.request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: false })).status, 403);
    assert.equal((await manager.client.patch('/api/v1/organization', { publicSharing: false })).status, 403, 'the organization setting is for admins');
    assert.equal((await viewer.client.patch('/api/v1/organization', { publicPhotos: true })).status, 403);
    assert.equal((await stranger.client.request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: false })).status, 404, 'another organization\'s admin');
    assert.equal((await stranger.client.get(`/api/v1/devices/${shared.id}/sharing`)).status, 404);
    assert.equal((await anonymous().request('PUT', `/api/v1/devices/${shared.id}/sharing`, { shared: false })).status, 401);

    const unshare = await manager.client.request('PUT', `/api/v1/devices/${secret.id}/sharing`, { shared: true });
    assert.equal(unshare.status, 200);
    assert.equal((await manager.client.request('PUT', `/api/v1/devices/${secret.id}/sharing`, { shared: false })).body.shared, false);
    const audit = (await owner.client.get('/api/v1/audit?limit=200')).body.items as { action: string; resourceId: string | null }[];
    assert.ok(audit.some((e) => e.action === 'device.shared' && e.resourceId === secret.id));
    assert.ok(audit.some((e) => e.action === 'device.unshared' && e.resourceId === secret.id));
    assert.ok(audit.some((e) => e.action === 'organization.updated'));

    const sensor = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Thermometer', serial: 'T-1' });
    const refused = await owner.client.request('PUT', `/api/v1/devices/${sensor.body.device.id}/sharing`, { shared: true });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /speed radars/);
  });
  it('documents every community route with its answer in the OpenAPI document', async () => {
    const paths = JSON.parse((await app.runtime.app.inject({ method: 'GET', url: '/docs/json' })).body).paths;
    const routes = [
      ['get', '/api/v1/public/overview'], ['get', '/api/v1/public/devices'], ['get', '/api/v1/public/devices/{id}'], ['get', '/api/v1/public/speeders'],
      ['get', '/api/v1/public/photos/{id}'], ['get', '/api/v1/devices/{id}/sharing'], ['put', '/api/v1/devices/{id}/sharing'],
    ] as const;
    for (const [method, path] of routes) {
      const operation = paths[path]?.[method];
      assert.ok(operation?.responses?.['200'], `${method} ${path}`);
      if (path.startsWith('/api/v1/public/')) assert.ok(operation.responses['429'], `${path} documents its rate limit`);
    }
  });
});

describe('community sharing rate limit', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ publicRateLimitPerMinute: 5 });
  });
  after(async () => app.close());

  it('answers 429 with Retry-After once an address spent its budget, and counts each address apart', async () => {
    const client = app.client();
    client.ip = '203.0.113.7';
    for (let i = 0; i < 5; i++) assert.equal((await client.get('/api/v1/public/overview')).status, 200);
    const refused = await client.get('/api/v1/public/devices');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    const other = app.client();
    other.ip = '203.0.113.8';
    assert.equal((await other.get('/api/v1/public/overview')).status, 200);
  });
});

describe('location fuzzing', () => {
  it('moves every location 70–130 m, the same way each time, differently per device and per secret, valid near the poles and the date line', () => {
    const secret = 'a'.repeat(64);
    for (let i = 0; i < 200; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const exact = { lat: -60 + (i % 120), lon: -179.9995 + (i * 1.7) % 359.999 };
      const moved = fuzzLocation(secret, id, exact.lat, exact.lon);
      const distance = metresBetween(exact, moved);
      assert.ok(distance >= 70 && distance <= 130, `${id}: ${distance.toFixed(1)} m`);
      assert.ok(moved.lon >= -180 && moved.lon <= 180);
      assert.deepEqual(fuzzLocation(secret, id, exact.lat, exact.lon), moved);
    }
    const a = fuzzLocation(secret, 'device-a', 40, -74);
    assert.notDeepEqual(fuzzLocation(secret, 'device-b', 40, -74), a);
    assert.notDeepEqual(fuzzLocation('b'.repeat(64), 'device-a', 40, -74), a);
    const polar = fuzzLocation(secret, 'device-a', 89.9999, 10);
    assert.ok(polar.lat <= 90 && polar.lon >= -180 && polar.lon <= 180);
  });
});
