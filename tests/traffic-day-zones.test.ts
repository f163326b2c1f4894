import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Daily traffic rollups are keyed by the device's local date (migration 0021). Every figure must match
 * the raw events of the range, in a zone half an hour off UTC (the hour holding local midnight belongs to
 * the day before), after the site moves to another zone, and after the background job re-keys the days.
 */
const HOUR = 3_600_000;

interface Stats {
  from: string;
  to: string;
  summary: { count: number };
  speeding: { speeding: number };
  histogram: { from: number; count: number }[];
}

describe('traffic statistics over local days', () => {
  let app: TestApp;
  let owner: SignedIn;
  let db: pg.Client;
  let siteId: string;
  let radarId: string;
  const events: { ts: Date; speed: number }[] = [];

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    siteId = (await owner.client.post('/api/v1/sites', { name: 'Ring Road', timezone: 'Asia/Kolkata' })).body.id;
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'R', serial: 'ZONE-1', speedLimit: 30, siteId });
    assert.equal(created.status, 201);
    radarId = created.body.device.id;
    // One vehicle every 37 minutes for 12 days, speeds 20–44.9 mph: every hour around every midnight has traffic.
    const start = Date.UTC(2026, 2, 1);
    for (let i = 0; i < (12 * 24 * 60) / 37; i++) events.push({ ts: new Date(start + i * 37 * 60_000), speed: 20 + ((i * 7.3) % 25) });
    const payload = { events: events.map((e, i) => ({ client_ref: `z${i}`, ts: e.ts.toISOString(), kind: 'speed', speed: Math.round(e.speed * 10) / 10, speed_limit: 30 })) };
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload });
    assert.equal(sent.statusCode, 200, sent.body);
    db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await app.close();
  });

  /** The figures straight from the stored events of [from, to), in whole hours as the statistics answer. */
  async function rawFigures(from: string, to: string, weekdaysIn?: string) {
    const weekday = weekdaysIn ? `AND date_part('isodow', date_trunc('hour', ts) AT TIME ZONE '${weekdaysIn}') <= 5` : '';
    const rows = (await db.query(`SELECT floor(speed)::int AS bin, count(*)::int AS count, count(*) FILTER (WHERE speed > speed_limit)::int AS speeding
      FROM events WHERE device_id = $1 AND ts >= $2 AND ts < $3 ${weekday} GROUP BY 1 ORDER BY 1`, [radarId, from, to])).rows;
    return {
      count: rows.reduce((a, r) => a + r.count, 0),
      speeding: rows.reduce((a, r) => a + r.speeding, 0),
      histogram: rows.map((r) => ({ from: r.bin, count: r.count })),
    };
  }

  async function statistics(query: string): Promise<Stats> {
    const response = await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radarId}&${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  }

  async function assertMatchesRaw(query: string, weekdaysIn?: string) {
    const stats = await statistics(query);
    const raw = await rawFigures(stats.from, stats.to, weekdaysIn);
    assert.ok(raw.count > 100, `the range ${stats.from}–${stats.to} holds traffic`);
    assert.equal(stats.summary.count, raw.count, query);
    assert.equal(stats.speeding.speeding, raw.speeding, query);
    assert.deepEqual(stats.histogram, raw.histogram, query);
    return stats;
  }

  const dailyDays = async () => (await db.query('SELECT DISTINCT day::text AS day FROM speed_histogram_daily WHERE device_id = $1 ORDER BY 1', [radarId])).rows.map((r) => r.day);

  it('keys daily rows by the local date and answers local-day ranges exactly, whole days and edges alike', async () => {
    await app.settleRollups();
    const zone = (await db.query('SELECT zone FROM traffic_day_zones WHERE device_id = $1', [radarId])).rows[0]?.zone;
    assert.equal(zone, 'Asia/Kolkata');
    // Traffic from 00:00Z on 1 March is 05:30 local: the first local day is 1 March, the last 13 March.
    const days = await dailyDays();
    assert.equal(days[0], '2026-03-01');
    assert.equal(days.at(-1), '2026-03-13');
    const stats = await assertMatchesRaw('from=2026-03-02&to=2026-03-08');
    // Local midnight is 18:30Z; the range widens to whole hours, from 18:00Z.
    assert.equal(stats.from, '2026-03-01T18:00:00.000Z');
    await assertMatchesRaw('from=2026-03-02T07:00:00Z&to=2026-03-09T13:00:00Z');
    await assertMatchesRaw('from=2026-03-02&to=2026-03-11&weekdaysOnly=true', 'Asia/Kolkata');
  });

  it('stays exact when the site changes time zone, before and after the days are re-keyed', async () => {
    const moved = await owner.client.patch(`/api/v1/sites/${siteId}`, { timezone: 'America/Los_Angeles' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const beforeRekey = await assertMatchesRaw('from=2026-03-03&to=2026-03-09');
    assert.equal(beforeRekey.from, '2026-03-03T08:00:00.000Z');
    const weekdaysBefore = await assertMatchesRaw('from=2026-03-02&to=2026-03-11&weekdaysOnly=true', 'America/Los_Angeles');

    assert.equal(await app.runtime.services.traffic.rekeyDayZones(), 1);
    assert.equal(await app.runtime.services.traffic.rekeyDayZones(), 0, 'nothing left to re-key');
    const zone = (await db.query('SELECT zone FROM traffic_day_zones WHERE device_id = $1', [radarId])).rows[0]?.zone;
    assert.equal(zone, 'America/Los_Angeles');
    // 00:00Z on 1 March is 16:00 on 28 February in Los Angeles.
    assert.equal((await dailyDays())[0], '2026-02-28');
    assert.deepEqual(await assertMatchesRaw('from=2026-03-03&to=2026-03-09'), beforeRekey);
    assert.deepEqual(await assertMatchesRaw('from=2026-03-02&to=2026-03-11&weekdaysOnly=true', 'America/Los_Angeles'), weekdaysBefore);

    // New batches after the re-key go under Los Angeles dates too.
    const late = new Date(Date.UTC(2026, 2, 20, 7, 30));
    const key = (await owner.client.post(`/api/v1/devices/${radarId}/keys`, {})).body.apiKey;
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key }, payload: { events: [{ ts: late.toISOString(), kind: 'speed', speed: 33, speed_limit: 30 }] } });
    assert.equal(sent.statusCode, 200, sent.body);
    await app.settleRollups();
    assert.equal((await dailyDays()).at(-1), '2026-03-20');
    const lateDay = await statistics('from=2026-03-20&to=2026-03-20');
    assert.equal(lateDay.summary.count, 1);
    assert.equal(new Date(lateDay.to).getTime() - new Date(lateDay.from).getTime(), 24 * HOUR);
  });
});
