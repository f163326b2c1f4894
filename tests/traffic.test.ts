import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Traffic statistics against a direct computation over the raw events of a generated data set: every
 * figure read from the rollups must agree with the raw events, exactly or to the 1-unit bin.
 */
const ZONE = 'America/New_York';
const HOUR = 3_600_000;

function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RawEvent {
  ts: Date;
  speed: number;
  limit: number;
}

function localParts(ts: Date) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', weekday: 'short' }).formatToParts(ts);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const dow = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday'));
  return { date: `${get('year')}-${get('month')}-${get('day')}`, hour: Number(get('hour')), dow };
}

/** The raw value of rank ⌈p·n⌉: the bin the histogram percentile must fall in. */
function rawPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function assertInBin(actual: number | null, raw: number, what: string) {
  assert.ok(actual !== null && actual >= Math.floor(raw) && actual <= Math.floor(raw) + 1, `${what}: ${actual} is not in the bin of ${raw}`);
}

async function send(app: TestApp, key: string, events: object[]) {
  for (let i = 0; i < events.length; i += 1000) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key }, payload: { events: events.slice(i, i + 1000) } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().accepted, Math.min(1000, events.length - i));
  }
}

describe('traffic statistics', () => {
  let app: TestApp;
  let owner: SignedIn;
  let siteA: string;
  let siteB: string;
  let radar: { id: string; key: string };
  let metric: { id: string; key: string };
  let calming: { id: string; key: string };
  let raw: RawEvent[];
  const rangeStart = Date.UTC(2026, 9, 20, 4);
  const rangeEnd = Date.UTC(2026, 10, 8, 5);

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    siteA = (await owner.client.post('/api/v1/sites', { name: 'School Road', timezone: ZONE })).body.id;
    siteB = (await owner.client.post('/api/v1/sites', { name: 'Harbour', timezone: 'Europe/Berlin' })).body.id;
    const make = async (siteId: string, serial: string, extra: object = {}) => {
      const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: serial, serial, speedLimit: 30, siteId, ...extra });
      assert.equal(created.status, 201);
      return { id: created.body.device.id as string, key: created.body.apiKey as string };
    };
    radar = await make(siteA, 'RADAR-1');
    metric = await make(siteB, 'RADAR-KMH', { speedUnits: 'kmh', speedLimit: 50 });
    calming = await make(siteB, 'RADAR-CALM');

    // ~4,000 vehicles over 19 days (including the night clocks go back, 1 Nov 2026), mostly by day; the limit
    // drops from 30 to 25 mph on 30 Oct at noon UTC; a few exactly at the limit (not speeding).
    const next = random(42);
    raw = [];
    for (let i = 0; i < 4000; i++) {
      const ts = new Date(rangeStart + Math.floor(next() * (rangeEnd - rangeStart)));
      const limit = ts.getTime() < Date.UTC(2026, 9, 30, 12) ? 30 : 25;
      const speed = i % 97 === 0 ? limit : Math.round((18 + next() * 14 + next() * 14) * 10) / 10;
      raw.push({ ts, speed, limit });
    }
    // Both 01:30 of the night the clocks go back (05:30Z in EDT and 06:30Z in EST) are local hour 1.
    for (const [i, ts] of ['2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z', '2026-11-01T06:45:00Z'].entries()) {
      raw.push({ ts: new Date(ts), speed: 40 + i, limit: 25 });
    }
    await send(app, radar.key, raw.map((e, i) => ({ client_ref: `r${i}`, ts: e.ts.toISOString(), kind: 'speed', speed: e.speed, speed_limit: e.limit })));
  });
  after(async () => app.close());

  it('gives every figure of a device as computed directly from its raw events', async () => {
    const response = await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-10-19&to=2026-11-09&hourlyPercentiles=true`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const stats = response.body;
    const db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    // The stored values as PostgreSQL holds them (real), widened exactly to double precision.
    const stored = (await db.query('SELECT ts, speed::float8 AS speed, speed_limit::float8 AS speed_limit FROM events WHERE device_id = $1', [radar.id])).rows
      .map((r) => ({ ts: new Date(r.ts), speed: Number(r.speed), limit: Number(r.speed_limit) }));
    await db.end();
    assert.equal(stored.length, raw.length);
    const speeds = stored.map((e) => e.speed).sort((a, b) => a - b);
    const n = speeds.length;
    const sum = speeds.reduce((a, b) => a + b, 0);
    const mean = sum / n;
    const sd = Math.sqrt(speeds.reduce((a, s) => a + (s - mean) ** 2, 0) / (n - 1));

    assert.equal(stats.empty, false);
    assert.equal(stats.units, 'mph');
    assert.equal(stats.subject.timezone, ZONE);
    assert.equal(stats.summary.count, n);
    assert.ok(Math.abs(stats.summary.mean - mean) < 1e-6);
    assert.ok(Math.abs(stats.summary.stddev - sd) < 1e-6);
    assert.equal(stats.summary.min, speeds[0]);
    assert.equal(stats.summary.max, speeds[n - 1]);
    for (const [field, p] of [['p15', 0.15], ['median', 0.5], ['p85', 0.85], ['p95', 0.95]] as const) {
      assertInBin(stats.summary[field], rawPercentile(speeds, p), field);
    }

    // Pace: the 10 mph window on whole-mph boundaries with the most vehicles.
    let best = { from: 0, count: -1 };
    for (let from = Math.floor(speeds[0]!) - 9; from <= Math.floor(speeds[n - 1]!); from++) {
      const count = speeds.filter((s) => s >= from && s < from + 10).length;
      if (count > best.count) best = { from, count };
    }
    assert.deepEqual(stats.summary.pace, { from: best.from, to: best.from + 10, count: best.count, share: best.count / n });

    // Histogram and cumulative distribution, bin by bin.
    const bins = new Map<number, number>();
    for (const s of speeds) bins.set(Math.floor(s), (bins.get(Math.floor(s)) ?? 0) + 1);
    for (const { from, count } of stats.histogram) assert.equal(count, bins.get(from) ?? 0, `bin ${from}`);
    assert.equal(stats.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0), n);
    const last = stats.cumulative.at(-1);
    assert.equal(last.share, 1);
    const mid = stats.cumulative[Math.floor(stats.cumulative.length / 2)];
    assert.ok(Math.abs(mid.share - speeds.filter((s) => s < mid.speed).length / n) < 1e-12);

    // Speeding against the limit in force at each event, and the bands.
    const excess = stored.map((e) => Math.ceil(e.speed - e.limit));
    const over = excess.filter((x) => x >= 1).length;
    assert.equal(stats.speeding.speeding, over);
    assert.equal(stats.speeding.measuredWithLimit, n);
    assert.equal(stats.speeding.withoutLimit, 0);
    assert.ok(Math.abs(stats.speeding.speedingShare - over / n) < 1e-12);
    const band = (lo: number, hi: number) => excess.filter((x) => x >= lo && x <= hi).length;
    assert.deepEqual(stats.speeding.bands.map((b: { count: number }) => b.count), [band(1, 5), band(6, 10), band(11, 15), band(16, 1000)]);
    assert.deepEqual(stats.speeding.limits, [
      { limit: 25, count: stored.filter((e) => e.limit === 25).length },
      { limit: 30, count: stored.filter((e) => e.limit === 30).length },
    ]);
    assert.ok(stored.some((e) => e.speed === e.limit), 'the data set has vehicles exactly at the limit');

    // Hour-of-day × weekday in the site's time zone, the hourly profile and the daily series.
    const volume = Array.from({ length: 7 }, () => new Array(24).fill(0));
    const perDate = new Map<string, number>();
    const hourly = Array.from({ length: 24 }, () => [] as number[]);
    for (const e of stored) {
      const local = localParts(e.ts);
      volume[local.dow]![local.hour] += 1;
      perDate.set(local.date, (perDate.get(local.date) ?? 0) + 1);
      hourly[local.hour]!.push(e.speed);
    }
    assert.deepEqual(stats.heatmap.volume, volume);
    for (const h of stats.hourly) {
      assert.equal(h.count, hourly[h.hour]!.length);
      if (h.count) assertInBin(h.p85, rawPercentile(hourly[h.hour]!.sort((a, b) => a - b), 0.85), `p85 at ${h.hour}h`);
    }
    for (const day of stats.daily) assert.equal(day.count, perDate.get(day.date) ?? 0, day.date);
    assert.equal(stats.daily[0].date, '2026-10-19');
    assert.equal(stats.daily.at(-1).date, '2026-11-09');
    const days = stats.daily.slice(6, 13);
    assert.ok(Math.abs(stats.daily[12].countAverage7 - days.reduce((a: number, d: { count: number }) => a + d.count, 0) / 7) < 1e-9);
    assert.ok(stats.study.fullWeekdays >= 1 && stats.study.covers24HourWeekday);
  });

  it('puts the events of the hour clocks go back in the right local hour', async () => {
    const stats = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-11-01T05:00:00Z&to=2026-11-01T07:00:00Z`)).body;
    const expected = raw.filter((e) => e.ts.getTime() >= Date.UTC(2026, 10, 1, 5) && e.ts.getTime() < Date.UTC(2026, 10, 1, 7)).length;
    assert.equal(stats.hourly[1].count, expected);
    assert.equal(stats.hourly.reduce((a: number, h: { count: number }) => a + h.count, 0), expected);
    assert.equal(stats.heatmap.volume[6][1], expected, 'Sunday 01:00–02:00 local, both of them');
    assert.deepEqual(stats.daily.map((d: { date: string }) => d.date), ['2026-11-01']);
  });

  it('counts the 25-hour day the clocks go back as a full day only when all 25 hours had traffic', async () => {
    const stats = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-11-01&to=2026-11-01`)).body;
    // Local 2026-11-01 runs from 04:00Z (EDT) to 05:00Z the next day (EST): 25 hours.
    const start = Date.UTC(2026, 10, 1, 4);
    const hours = new Set(raw.filter((e) => e.ts.getTime() >= start && e.ts.getTime() < start + 25 * 3_600_000).map((e) => Math.floor(e.ts.getTime() / 3_600_000)));
    assert.equal(hours.size, 25, 'the generated data covers every hour of that day');
    assert.equal(stats.daily.length, 1);
    assert.equal(stats.daily[0].fullDay, true);
  });

  it('keeps only weekdays in the weekday view', async () => {
    const stats = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-10-19&to=2026-11-09&weekdaysOnly=true`)).body;
    const weekday = raw.filter((e) => localParts(e.ts).dow < 5).length;
    assert.equal(stats.summary.count, weekday);
    assert.ok(stats.heatmap.volume.slice(5).flat().every((v: number) => v === 0));
    assert.ok(stats.daily.every((d: { weekday: boolean }) => d.weekday));
  });

  it('answers an empty range with empty statistics that say so', async () => {
    const response = await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2020-01-01&to=2020-01-31`);
    assert.equal(response.status, 200);
    assert.equal(response.body.empty, true);
    assert.match(response.body.message, /No speeds were recorded for RADAR-1/);
    assert.equal(response.body.summary.count, 0);
    assert.equal(response.body.summary.p85, null);
    assert.deepEqual(response.body.histogram, []);
    assert.equal(response.body.daily.length, 31);
  });

  it('converts between mph and km/h', async () => {
    const speedsKmh = [48, 50.5, 52, 55, 61.3, 70];
    await send(app, metric.key, speedsKmh.map((speed, i) => ({ client_ref: `m${i}`, ts: new Date(Date.UTC(2026, 9, 21, 10, i)).toISOString(), kind: 'speed', speed })));
    const range = 'from=2026-10-21T00:00:00Z&to=2026-10-22T00:00:00Z';
    const native = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${metric.id}&${range}`)).body;
    assert.equal(native.units, 'kmh');
    assert.equal(native.converted, false);
    assert.equal(native.summary.pace.to - native.summary.pace.from, 16);
    assert.equal(native.speeding.speeding, 5);
    const mph = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${metric.id}&${range}&units=mph`)).body;
    assert.equal(mph.converted, true);
    assert.equal(mph.summary.count, 6);
    assert.ok(Math.abs(mph.summary.mean - native.summary.mean / 1.609344) < 1e-6);
    assert.ok(Math.abs(mph.summary.max - 70 / 1.609344) < 1e-4);
    assert.ok(Math.abs(mph.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0) - 6) < 1e-9);
    assert.equal(mph.speeding.limits[0].limit, 31.1);
    assert.equal(mph.summary.pace.to - mph.summary.pace.from, 10);
  });

  it('compares two periods and says whether the change is meaningful', async () => {
    // The same 2,000 vehicles before (week 1) and, 6 mph slower each, after calming (week 3); week 2 repeats week 1.
    const next = random(7);
    const base = Array.from({ length: 2000 }, () => Math.round((25 + next() * 10 + next() * 10) * 10) / 10);
    const week = (start: number, shift: number, tag: string) => base.map((speed, i) => ({
      client_ref: `${tag}${i}`, ts: new Date(start + Math.floor((i / base.length) * 7 * 24 * HOUR)).toISOString(), kind: 'speed', speed: speed + shift,
    }));
    await send(app, calming.key, [...week(Date.UTC(2026, 8, 1), 0, 'a'), ...week(Date.UTC(2026, 8, 8), 0, 'b'), ...week(Date.UTC(2026, 8, 15), -6, 'c')]);
    const base1 = 'beforeFrom=2026-09-01T00:00:00Z&beforeTo=2026-09-08T00:00:00Z';
    const calmed = (await owner.client.get(`/api/v1/traffic/comparison?deviceId=${calming.id}&${base1}&afterFrom=2026-09-15T00:00:00Z&afterTo=2026-09-22T00:00:00Z`)).body;
    const p85 = calmed.figures.find((f: { figure: string }) => f.figure === 'p85');
    assert.ok(Math.abs(p85.change + 6) < 1e-9, `p85 change ${p85.change}`);
    assert.ok(Math.abs(calmed.tests.mean.change + 6) < 1e-3);
    assert.equal(calmed.tests.p85.meaningful, true);
    assert.equal(calmed.tests.mean.meaningful, true);
    assert.equal(calmed.tests.distribution.meaningful, true);
    assert.ok(calmed.tests.distribution.probabilityFaster < 0.5);
    assert.match(calmed.conclusions[0], /85th-percentile speed fell .* a real change/);

    const same = (await owner.client.get(`/api/v1/traffic/comparison?deviceId=${calming.id}&${base1}&afterFrom=2026-09-08T00:00:00Z&afterTo=2026-09-15T00:00:00Z`)).body;
    assert.equal(same.tests.p85.change, 0);
    assert.equal(same.tests.p85.meaningful, false);
    assert.equal(same.tests.mean.meaningful, false);
    assert.equal(same.tests.distribution.meaningful, false);
    assert.match(same.conclusions[1], /not a meaningful change/);
  });

  it('keeps the figures right when an event is deleted, and a rebuild from the raw events gives the same figures', async () => {
    const url = `/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-10-19&to=2026-11-09`;
    const before = (await owner.client.get(url)).body;
    const fastest = (await owner.client.get(`/api/v1/events?deviceId=${radar.id}&limit=200`)).body.items
      .reduce((a: { speed: number }, b: { speed: number }) => (b.speed > a.speed ? b : a));
    assert.equal((await owner.client.delete(`/api/v1/events/${fastest.id}`)).status, 204);
    const afterDelete = (await owner.client.get(url)).body;
    assert.equal(afterDelete.summary.count, before.summary.count - 1);
    assert.equal(afterDelete.speeding.speeding, before.speeding.speeding - (fastest.speeding ? 1 : 0));
    const bin = Math.floor(fastest.speed);
    const count = (stats: { histogram: { from: number; count: number }[] }) => stats.histogram.find((h) => h.from === bin)?.count ?? 0;
    assert.equal(count(afterDelete), count(before) - 1);

    await app.runtime.services.traffic.rebuildRollups(radar.id, new Date(rangeStart), new Date(rangeEnd));
    const rebuilt = (await owner.client.get(url)).body;
    assert.deepEqual(rebuilt, afterDelete);
  });

  it('gives each local hour\'s 85th percentile over several radars of a site', async () => {
    const twin = (await owner.client.post('/api/v1/sites', { name: 'Twin Road', timezone: ZONE })).body.id;
    const radars = [];
    for (const serial of ['TWIN-1', 'TWIN-2']) {
      const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: serial, serial, speedLimit: 30, siteId: twin });
      radars.push({ id: created.body.device.id as string, key: created.body.apiKey as string });
    }
    // 21 October 2026 in New York (EDT, UTC−4): at 08:00 one radar sees 20–29 mph and the other 40–49; at 17:00 only the first, 30–39.
    const at = (hour: number, minute: number) => new Date(Date.UTC(2026, 9, 21, hour + 4, minute)).toISOString();
    const events = (from: number, hour: number) => Array.from({ length: 10 }, (_, i) => ({ client_ref: `t${hour}-${from + i}`, ts: at(hour, i * 5), kind: 'speed', speed: from + i + 0.5, speed_limit: 30 }));
    await send(app, radars[0]!.key, [...events(20, 8), ...events(30, 17)]);
    await send(app, radars[1]!.key, events(40, 8));
    const response = await owner.client.get(`/api/v1/traffic/statistics?siteId=${twin}&from=2026-10-21&to=2026-10-21&hourlyPercentiles=true`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const hourly = response.body.hourly as { hour: number; count: number; p85: number | null }[];
    assert.deepEqual([hourly[8]!.count, hourly[17]!.count, hourly[12]!.count], [20, 10, 0]);
    // 20 speeds at 08:00: the 17th is 46.5; 10 at 17:00: the 9th is 38.5.
    assertInBin(hourly[8]!.p85, 46.5, '08:00');
    assertInBin(hourly[17]!.p85, 38.5, '17:00');
    assert.equal(hourly[12]!.p85, null);
  });

  it('rejects bad input with a reason', async () => {
    const both = await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&siteId=${siteA}`);
    assert.equal(both.status, 400);
    const backwards = await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-11-09&to=2026-11-01`);
    assert.equal(backwards.status, 400);
    assert.match(backwards.body.error.message, /before/);
    assert.equal((await owner.client.get(`/api/v1/traffic/statistics?from=yesterday-ish`)).status, 400);
  });

  it('keeps tenants and restricted viewers to what they may see', async () => {
    const stranger = await app.owner('Other Town');
    assert.equal((await stranger.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}`)).status, 404);
    assert.equal((await stranger.client.get(`/api/v1/traffic/statistics?siteId=${siteA}`)).status, 404);
    const strangerOrg = (await stranger.client.get('/api/v1/traffic/statistics?from=2026-09-01&to=2026-11-09')).body;
    assert.equal(strangerOrg.summary.count, 0);

    const viewer = await app.member(owner, 'viewer', [siteB]);
    assert.equal((await viewer.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}`)).status, 404);
    assert.equal((await viewer.client.get(`/api/v1/traffic/statistics?siteId=${siteA}`)).status, 404);
    const visible = (await viewer.client.get('/api/v1/traffic/statistics?from=2026-09-01&to=2026-11-09')).body;
    assert.equal(visible.subject.devices, 2);
    assert.equal(visible.summary.count, 6 + 6000);
    const site = await owner.client.get(`/api/v1/traffic/statistics?siteId=${siteA}&from=2026-10-19&to=2026-11-09`);
    const device = await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=2026-10-19&to=2026-11-09`);
    assert.ok(site.body.summary.count > 4000);
    assert.deepEqual(site.body.summary, device.body.summary, 'the site has this one radar');
  });
});
