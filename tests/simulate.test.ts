import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { createDemo, type DemoDevice, type DemoResult } from '../src/server/simulate/demo.js';
import { pythonIsoformat } from '../src/server/simulate/clock.js';
import { RefrigerationUnit } from '../src/server/simulate/fridge-model.js';
import { RadarTraffic, rushRosterBody } from '../src/server/simulate/radar-model.js';
import { DEMO_PHOTOS_PER_RADAR, takesPhoto } from '../src/server/simulate/radar-photos.js';
import sharp from 'sharp';
import { generateItems, runSimulator, type SimulatedDevice, type SimulatorStats } from '../src/server/simulate/simulator.js';
import { PASSWORD, startTestApp, uniqueEmail, type TestApp } from './helpers/app.js';

const ZONE = 'America/Denver';
const ISOFORMAT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;

/** The wall-clock time of an instant in a zone, by Intl (independent of the luxon code under test). */
function wallClock(date: Date, zone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

const asSimulated = (d: DemoDevice): SimulatedDevice => ({ key: d.key, serial: d.serial, name: d.name, timezone: d.timezone, profile: d.profile });

describe('demo organization and device simulator', () => {
  let app: TestApp;
  let baseUrl: string;
  let demo: DemoResult;
  const now = Date.now();
  const query = async (text: string, params: unknown[] = []) => {
    await app.settleRollups();
    return (await app.runtime.ctx.pool.query(text, params)).rows;
  };
  const count = async (text: string, params: unknown[] = []) => Number((await query(text, params))[0].n);
  const radars = () => demo.devices.filter((d) => d.kind === 'speed_radar');
  const fridges = () => demo.devices.filter((d) => d.kind === 'refrigeration');

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
    demo = await createDemo(app.runtime.services, {
      email: uniqueEmail('demo'), password: PASSWORD, organizationName: `Demo City ${randomBytes(2).toString('hex')}`,
      radars: 4, fridges: 2, cameras: 0, days: 1, seed: 11, now,
    });
  });
  after(async () => app.close());

  it('creates the organization, owner, sites and devices through the services', async () => {
    const orgId = demo.organization.id;
    assert.equal((await query('SELECT timezone FROM organizations WHERE id = $1', [orgId]))[0].timezone, ZONE);
    assert.equal((await query('SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2', [orgId, demo.owner.id]))[0].role, 'owner');
    assert.equal(demo.owner.isSuperadmin, false, 'the test platform already has its administrator');

    const sites = await query('SELECT name, lat, lon, timezone FROM sites WHERE org_id = $1 ORDER BY name', [orgId]);
    assert.deepEqual(sites.map((s) => s.name), ['Cold Storage Depot', 'Downtown', 'Northside']);
    assert.ok(sites.every((s) => s.timezone === ZONE));

    const devices = await query('SELECT id, kind, name, serial, lat, lon, speed_limit, speed_units, site_id FROM devices WHERE org_id = $1 ORDER BY serial', [orgId]);
    assert.equal(devices.length, 6);
    assert.deepEqual(devices.map((d) => d.kind), ['refrigeration', 'refrigeration', 'speed_radar', 'speed_radar', 'speed_radar', 'speed_radar']);
    for (const device of devices) {
      assert.ok(device.site_id, `${device.name} belongs to a site`);
      // Around downtown Denver (39.7392, -104.9903), within a few kilometres.
      assert.ok(Math.abs(device.lat - 39.7392) < 0.04 && Math.abs(device.lon + 104.9903) < 0.05, `${device.name} at ${device.lat},${device.lon}`);
    }
    for (const radar of devices.filter((d) => d.kind === 'speed_radar')) {
      assert.match(radar.name, /^[A-Z][a-z]+ St & \d+(st|nd|rd|th) Ave$/);
      assert.ok([25, 30, 35].includes(radar.speed_limit), `${radar.name}: limit ${radar.speed_limit}`);
      assert.equal(radar.speed_units, 'mph');
    }
    assert.equal(new Set(devices.map((d) => d.name)).size, 6, 'every device has its own name');

    assert.ok(radars().every((d) => /^rushroster_[0-9a-f]{64}$/.test(d.key)), 'radars get RushRoster-format keys');
    assert.ok(fridges().every((d) => /^vgd_[0-9a-f]{64}$/.test(d.key)));
    for (const device of demo.devices) {
      const principal = await app.runtime.services.devices.authenticateDevice(device.key);
      assert.equal(principal?.deviceId, device.id, 'each returned key authenticates its device');
      assert.equal(principal?.timezone, ZONE);
    }
    assert.equal(await count(`SELECT count(*) AS n FROM audit_log WHERE org_id = $1 AND action = 'device.created'`, [orgId]), 6, 'created through the services, audited');
  });

  it('loads a day of history through the ingest service, rollups included', async () => {
    assert.equal(demo.backfill.rejected, 0, demo.backfill.firstRejection ?? '');
    assert.equal(demo.backfill.duplicates, 0);
    const ids = radars().map((d) => d.id);
    const events = await count('SELECT count(*) AS n FROM events WHERE device_id = ANY($1::uuid[])', [ids]);
    assert.equal(events, demo.backfill.events);
    for (const radar of radars()) {
      assert.ok(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [radar.id]) > 100, `${radar.name} has a day of cars`);
    }
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = ANY($1::uuid[])', [ids]), events);
    assert.equal(await count('SELECT sum(count) AS n FROM speed_histogram_hourly WHERE device_id = ANY($1::uuid[])', [ids]), events);
    // Each radar's latest photographed speeders have a JPEG through the device's photo steps, for the photo viewer and public pages.
    assert.equal(demo.backfill.photos, ids.length * DEMO_PHOTOS_PER_RADAR);
    const photographed = await query('SELECT photo_key, speed, speed_limit FROM events WHERE device_id = ANY($1::uuid[]) AND photo_key IS NOT NULL', [ids]);
    assert.equal(photographed.length, demo.backfill.photos);
    assert.ok(photographed.every((e) => e.speed > e.speed_limit), 'only speeding vehicles are photographed');
    const picture = await sharp((await app.runtime.ctx.media.get(photographed[0].photo_key))!).metadata();
    assert.deepEqual([picture.format, picture.width, picture.height], ['jpeg', 640, 400]);
    const window = await query('SELECT min(ts) AS first, max(ts) AS last FROM events WHERE device_id = ANY($1::uuid[])', [ids]);
    assert.ok(window[0].first.getTime() >= now - 86_400_000 && window[0].last.getTime() < now, 'the history covers the last day only');

    // One reading a minute for a day, six metrics each, all rolled up.
    const fridgeIds = fridges().map((d) => d.id);
    assert.equal(demo.backfill.readings, 2 * 1440);
    assert.equal(demo.backfill.values, 2 * 1440 * 6);
    assert.equal(await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [fridgeIds]), 2 * 1440 * 6);
    assert.equal(await count('SELECT sum(count) AS n FROM telemetry_rollups_hourly WHERE device_id = ANY($1::uuid[])', [fridgeIds]), 2 * 1440 * 6);
    assert.equal(await count('SELECT count(*) AS n FROM maintenance_records WHERE device_id = ANY($1::uuid[])', [fridgeIds]), fridgeIds.length, 'a service history each');
    const metrics = await query('SELECT DISTINCT metric FROM telemetry WHERE device_id = $1 ORDER BY metric', [fridgeIds[0]]);
    assert.deepEqual(metrics.map((m) => m.metric), ['compressor', 'door', 'fan', 'heater', 'pressure', 'temperature']);
    const cycles = await query(`SELECT min(value) AS lo, max(value) AS hi FROM telemetry WHERE device_id = $1 AND metric = 'compressor'`, [fridgeIds[0]]);
    assert.deepEqual([cycles[0].lo, cycles[0].hi], [0, 1], 'the compressor cycles');
  });

  it('stores the RushRoster timestamps as the device writes them, read in the site time zone', async () => {
    const rows = await query(
      'SELECT device_id, ts, device_ts, client_ref, speed, speed_limit, attributes, photo_key FROM events WHERE device_id = ANY($1::uuid[])', [radars().map((d) => d.id)]);
    for (const row of rows) {
      assert.match(row.device_ts, ISOFORMAT);
      assert.equal(DateTime.fromISO(row.device_ts, { zone: ZONE }).toMillis(), row.ts.getTime());
      assert.equal(row.device_ts.slice(0, 19), wallClock(row.ts, ZONE), 'the naive string is Denver wall time');
      assert.equal(row.client_ref, `rr:${row.device_ts}|${row.speed}`);
      const car = { ms: row.ts.getTime(), timestamp: row.device_ts, speed: row.speed, speedLimit: row.speed_limit, isSpeeding: row.speed > row.speed_limit ? 1 as const : 0 as const };
      assert.deepEqual(row.attributes, { has_photo: takesPhoto(car) }, 'a radar photographs some of the speeding cars');
      if (row.photo_key) assert.equal(takesPhoto(car), true);
    }
    // Realistic traffic: the morning peak is busier than the small hours; speeds centre on the limit.
    const byHour = new Array<number>(24).fill(0);
    for (const row of rows) byHour[Number(row.device_ts.slice(11, 13))]! += 1;
    const peak = byHour[7]! + byHour[8]! + byHour[9]!;
    const night = byHour[1]! + byHour[2]! + byHour[3]! + byHour[4]!;
    assert.ok(peak > 3 * night, `07–10 h: ${peak} cars, 01–05 h: ${night}`);
    for (const radar of radars()) {
      const mine = rows.filter((r) => r.device_id === radar.id);
      const mean = mine.reduce((sum, r) => sum + r.speed, 0) / mine.length;
      const speeding = mine.filter((r) => r.speed > r.speed_limit).length / mine.length;
      assert.ok(Math.abs(mean - radar.speedLimit!) < 6, `${radar.name}: mean ${mean} at a ${radar.speedLimit} limit`);
      assert.ok(speeding > 0.1 && speeding < 0.7, `${radar.name}: ${speeding} speeding`);
      assert.ok(mine.every((r) => r.speed_limit === radar.speedLimit));
    }

    // The device resending three of those cars in its own format: all duplicates, so the history is what the device would have stored.
    const radar = radars()[0]!;
    const sample = rows.filter((r) => r.device_id === radar.id).slice(0, 3);
    const body = rushRosterBody(sample.map((r) => ({ timestamp: r.device_ts, speed: r.speed, speed_limit: r.speed_limit, is_speeding: r.speed > r.speed_limit ? 1 : 0, has_photo: false })));
    const response = await fetch(`${baseUrl}/api/ingest/v1/events`, { method: 'POST', headers: { 'x-api-key': radar.key, 'content-type': 'application/json' }, body });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { processed: number; duplicates_skipped: number };
    assert.deepEqual([answer.processed, answer.duplicates_skipped], [0, 3]);
  });

  it('drives the speed radars through the RushRoster API of the listening server', async () => {
    const ids = radars().map((d) => d.id);
    const before = await count('SELECT count(*) AS n FROM events WHERE device_id = ANY($1::uuid[])', [ids]);
    const progress: SimulatorStats[] = [];
    // No speed limits given: the simulator asks each radar's limit from GET /api/ingest/v1/device/info.
    const stats = await runSimulator({
      baseUrl, kind: 'speed_radar', devices: radars().map(asSimulated), rate: 20, durationSeconds: 2, seed: 5, flat: true,
      uploadIntervalSeconds: 0.5, progressIntervalMs: 500, onProgress: (p) => progress.push(p),
    });
    assert.ok(stats.sent > 0, 'cars were uploaded');
    assert.equal(stats.errors, 0, stats.lastError ?? '');
    assert.equal(stats.rejected, 0);
    assert.equal(stats.duplicates, 0);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.accepted, stats.sent);
    assert.equal(stats.generated, stats.sent, 'everything generated until the end was sent');
    assert.equal(stats.photoFailures, 0, stats.lastError ?? '');
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = ANY($1::uuid[]) AND ts >= $2 AND photo_key IS NOT NULL', [ids, new Date(now)]), stats.photos,
      'every photo the radars took went through the three photo steps');
    assert.equal(stats.seed, 5);
    assert.equal(progress.at(-1)?.done, true);
    assert.deepEqual(progress.at(-1), stats);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = ANY($1::uuid[])', [ids]) - before, stats.accepted);
    // The simulated cars passed after the history ended; the limit they carry is the one the server told.
    const limits = await query('SELECT DISTINCT device_id, speed_limit FROM events WHERE device_id = ANY($1::uuid[]) AND ts >= $2', [ids, new Date(now)]);
    assert.ok(limits.length > 0 && limits.length <= ids.length);
    for (const row of limits) assert.equal(row.speed_limit, radars().find((d) => d.id === row.device_id)!.speedLimit, 'the limit came from device/info');
  });

  it('drives the refrigeration units through the Polo Sanca API, one reading per request', async () => {
    const ids = fridges().map((d) => d.id);
    const before = await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [ids]);
    const stats = await runSimulator({ baseUrl, kind: 'refrigeration', devices: fridges().map(asSimulated), rate: 5, durationSeconds: 2, seed: 6 });
    assert.ok(stats.sent > 0);
    assert.equal(stats.errors, 0, stats.lastError ?? '');
    assert.equal(stats.accepted, stats.sent);
    assert.equal(stats.requests, stats.sent, 'one request per reading');
    assert.equal(await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [ids]) - before, stats.accepted * 6);
  });

  it('sends native telemetry batches', async () => {
    const ids = fridges().map((d) => d.id);
    const before = await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [ids]);
    const stats = await runSimulator({
      baseUrl, kind: 'refrigeration', protocol: 'native', devices: fridges().map(asSimulated), rate: 10, durationSeconds: 1.5, seed: 7, uploadIntervalSeconds: 0.5,
    });
    assert.ok(stats.sent > 0);
    assert.equal(stats.errors, 0, stats.lastError ?? '');
    assert.equal(stats.accepted, stats.sent);
    assert.ok(stats.requests < stats.sent, 'readings travel in batches');
    assert.equal(await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [ids]) - before, stats.accepted * 6);
  });

  it('publishes radar events and telemetry over MQTT to the embedded broker, each stored before its PUBACK', async () => {
    const mqttUrl = `mqtt://127.0.0.1:${app.runtime.mqtt.port}`;
    const radarIds = radars().map((d) => d.id);
    const eventsBefore = await count('SELECT count(*) AS n FROM events WHERE device_id = ANY($1::uuid[])', [radarIds]);
    const cars = await runSimulator({
      baseUrl, mqttUrl, kind: 'speed_radar', protocol: 'mqtt', devices: radars().map(asSimulated), rate: 40, flat: true, durationSeconds: 1.5, seed: 5, uploadIntervalSeconds: 0.5,
    });
    assert.ok(cars.sent > 0);
    assert.equal(cars.errors, 0, cars.lastError ?? '');
    assert.equal(cars.accepted, cars.sent);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = ANY($1::uuid[])', [radarIds]) - eventsBefore, cars.accepted);

    const fridgeIds = fridges().map((d) => d.id);
    const readingsBefore = await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [fridgeIds]);
    const readings = await runSimulator({
      baseUrl, mqttUrl, kind: 'refrigeration', protocol: 'mqtt', devices: fridges().map(asSimulated), rate: 10, durationSeconds: 1.5, seed: 8, uploadIntervalSeconds: 0.5,
    });
    assert.equal(readings.errors, 0, readings.lastError ?? '');
    assert.equal(await count('SELECT count(*) AS n FROM telemetry WHERE device_id = ANY($1::uuid[])', [fridgeIds]) - readingsBefore, readings.accepted * 6);
  });

  it('adds cameras on a building site that play a video made by ffmpeg, or say they have none without ffmpeg', async () => {
    const withVideo = await createDemo(app.runtime.services, {
      email: uniqueEmail('demo-cameras'), password: PASSWORD, organizationName: `Camera City ${randomBytes(2).toString('hex')}`, radars: 0, fridges: 0, cameras: 2,
    });
    assert.equal(withVideo.camerasWithoutVideo, null);
    const scope = { orgId: withVideo.organization.id, userId: withVideo.owner.id, role: 'owner' as const, siteIds: null };
    const site = withVideo.sites.find((s) => s.name === 'Riverside Build');
    assert.ok(site, 'a building site for the cameras');
    const listed = (await app.runtime.services.cameras.list(scope, {})).items;
    assert.deepEqual(listed.map((c) => [c.name, c.zone, c.site_id]).sort(), [['Main gate camera', 'Main gate', site.id], ['Tower crane camera', 'Tower crane', site.id]]);
    for (const camera of listed) {
      assert.equal(camera.use_placeholder, true, `${camera.name} plays its placeholder`);
      assert.deepEqual([camera.placeholder?.contentType, camera.placeholder?.width, camera.placeholder?.height], ['video/mp4', 640, 360]);
      assert.ok(camera.placeholder!.durationSeconds >= 5, 'a few seconds of video');
      assert.equal(await app.runtime.ctx.media.exists(camera.placeholder!.storageKey), true, 'stored in the media storage');
    }

    const withoutFfmpeg = await createDemo(app.runtime.services, {
      email: uniqueEmail('demo-no-ffmpeg'), password: PASSWORD, radars: 0, fridges: 0, cameras: 1, ffmpegPath: '/nonexistent/ffmpeg',
    });
    assert.match(withoutFfmpeg.camerasWithoutVideo ?? '', /ffmpeg is not installed/);
    assert.deepEqual(withoutFfmpeg.cameras.map((c) => [c.name, c.video]), [['Main gate camera', false]]);
    const bare = await app.runtime.services.cameras.get({ orgId: withoutFfmpeg.organization.id, userId: withoutFfmpeg.owner.id, role: 'owner', siteIds: null }, withoutFfmpeg.cameras[0]!.id);
    assert.deepEqual([bare.placeholder, bare.use_placeholder], [null, false]);
  });

  it('refuses the mqtt protocol without a broker URL', async () => {
    await assert.rejects(
      runSimulator({ baseUrl, kind: 'refrigeration', protocol: 'mqtt', devices: fridges().map(asSimulated), rate: 1, durationSeconds: 1 }),
      /--mqtt-url/,
    );
  });
});

describe('simulator generators', () => {
  const devices = [{ key: 'a', speedLimit: 25 }, { key: 'b', speedLimit: 35 }, { key: 'c', speedLimit: 30, timezone: 'Europe/Berlin' }];
  const startMs = Date.parse('2026-05-04T12:00:00Z');

  it('generates the same items for the same seed, other items for another seed', () => {
    const options = { kind: 'speed_radar' as const, devices, rate: 3, seed: 42, startMs, timezone: ZONE };
    const first = generateItems(options, 600);
    assert.deepEqual(generateItems(options, 600), first);
    assert.ok(first.every((items) => items.length > 50));
    assert.notDeepEqual(generateItems({ ...options, seed: 43 }, 600), first);
    // Slicing time differently does not change the stream.
    const traffic = new RadarTraffic({ seed: 9, speedLimit: 30, timezone: ZONE, startMs, meanPerSecond: 1 });
    const sliced = [...traffic.takeUntil(startMs + 100_000), ...traffic.takeUntil(startMs + 250_000), ...traffic.takeUntil(startMs + 600_000)];
    assert.deepEqual(sliced, new RadarTraffic({ seed: 9, speedLimit: 30, timezone: ZONE, startMs, meanPerSecond: 1 }).takeUntil(startMs + 600_000));

    const fridges = { kind: 'refrigeration' as const, devices, rate: 1, seed: 42, startMs };
    assert.deepEqual(generateItems(fridges, 3600), generateItems(fridges, 3600));
    const unit = () => new RefrigerationUnit({ seed: 1, profile: 'cooler', timezone: ZONE, startMs, intervalMs: 60_000 });
    assert.deepEqual(unit().takeUntil(startMs + 86_400_000), unit().takeUntil(startMs + 86_400_000));
  });

  it('writes timestamps and bodies the way the RushRoster firmware does', () => {
    assert.equal(pythonIsoformat(Date.UTC(2025, 0, 2, 3, 4, 5, 120)), '2025-01-02T03:04:05.120000');
    assert.equal(pythonIsoformat(Date.UTC(2025, 0, 2, 3, 5, 0)), '2025-01-02T03:05:00');
    assert.equal(pythonIsoformat(Date.UTC(2025, 0, 2, 3, 5, 0), 7), '2025-01-02T03:05:00.000007');
    // The 242-byte upload captured from a device (docs/device-protocols.md §2.3), byte for byte.
    const captured = '{"events": [{"timestamp": "2025-01-02T03:04:05.120000", "speed": 42.0, "speed_limit": 25.0, "is_speeding": 1, "has_photo": true}, ' +
      '{"timestamp": "2025-01-02T03:05:00", "speed": 20.0, "speed_limit": 25.0, "is_speeding": 0, "has_photo": false}]}';
    assert.equal(captured.length, 242);
    assert.equal(rushRosterBody([
      { timestamp: '2025-01-02T03:04:05.120000', speed: 42, speed_limit: 25, is_speeding: 1, has_photo: true },
      { timestamp: '2025-01-02T03:05:00', speed: 20, speed_limit: 25, is_speeding: 0, has_photo: false },
    ]), captured);
    const cars = new RadarTraffic({ seed: 3, speedLimit: 25, timezone: 'America/New_York', startMs, meanPerSecond: 2 }).takeUntil(startMs + 60_000);
    // 12:00 UTC in May is 08:00 in New York.
    assert.ok(cars.every((c) => ISOFORMAT.test(c.timestamp) && c.timestamp.startsWith('2026-05-04T08:00:')));
    assert.ok(cars.every((c) => Number.isInteger(c.speed) && c.speed > 0 && c.isSpeeding === (c.speed > 25 ? 1 : 0)));
  });

  it('rejects unbounded or impossible options', async () => {
    const base = { baseUrl: 'http://127.0.0.1:9', kind: 'speed_radar' as const, devices: [{ key: 'k', speedLimit: 30 }], rate: 1 };
    await assert.rejects(runSimulator({ ...base, devices: [] }), /no devices/);
    await assert.rejects(runSimulator({ ...base, rate: 0 }), /rate/);
    await assert.rejects(runSimulator({ ...base, rate: 1e9 }), /rate/);
    await assert.rejects(runSimulator({ ...base, batchSize: 5000 }), /batchSize/);
    await assert.rejects(runSimulator({ ...base, protocol: 'polosanca' }), /speak/);
    await assert.rejects(runSimulator({ ...base, kind: 'refrigeration' }), /serial/);
    await assert.rejects(runSimulator({ ...base, baseUrl: 'ftp://x' }), /http/);
  });
});

describe('simulator against a busy server', () => {
  let server: http.Server;
  let baseUrl: string;
  const bodies: string[] = [];
  let answered = 0;
  let processed = 0;
  let onSuccess: () => void = () => undefined;

  before(async () => {
    server = http.createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        bodies.push(body);
        // The first two attempts are shed, as Vigil does when INGEST_MAX_CONCURRENT batches are in flight.
        if (bodies.length <= 2) {
          response.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"detail":"too many requests; retry in 0 s"}');
          return;
        }
        const events = (JSON.parse(body) as { events: unknown[] }).events;
        processed += events.length;
        answered += 1;
        response.writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', processed: events.length, duplicates_skipped: 0, created_events: [], rejected: [] }));
        onSuccess();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('retries 429 after Retry-After with the same body, and stops cleanly when aborted', async () => {
    const abort = new AbortController();
    onSuccess = () => {
      if (answered >= 3) abort.abort();
    };
    const stats = await runSimulator({
      baseUrl, kind: 'speed_radar', devices: [{ key: `rushroster_${'a'.repeat(64)}`, speedLimit: 30 }], rate: 50, flat: true, seed: 1,
      uploadIntervalSeconds: 0.1, signal: abort.signal,
    });
    assert.equal(abort.signal.aborted, true, 'ran until aborted');
    assert.equal(stats.retries, 2);
    assert.equal(bodies[0], bodies[1]);
    assert.equal(bodies[1], bodies[2], 'a retry resends the same batch');
    assert.equal(stats.errors, 0, stats.lastError ?? '');
    assert.equal(stats.accepted, processed);
    assert.equal(stats.requests, bodies.length);
    assert.ok(stats.done);
  });
});
