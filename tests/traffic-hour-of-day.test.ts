import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Each local hour's 85th percentile over long ranges: whole local months come from the hour-of-day
 * histogram (migration 0024), the days around them from hourly rows. Checked against the raw speeds of
 * each local hour, for one radar and for a site of two, across the clocks going forward, after an event
 * is deleted, after the site changes zone (before and after the re-key) and after a rebuild.
 */
interface Stats {
  from: string;
  to: string;
  hourly: { hour: number; count: number; p85: number | null }[];
}

describe('hourly percentiles over months', () => {
  let app: TestApp;
  let owner: SignedIn;
  let db: pg.Client;
  let siteId: string;
  const radars: { id: string; key: string }[] = [];

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    siteId = (await owner.client.post('/api/v1/sites', { name: 'Long Road', timezone: 'America/New_York' })).body.id;
    for (const [n, every] of [[1, 53], [2, 71]] as const) {
      const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: `Long ${n}`, serial: `LONG-${n}`, speedLimit: 30, siteId });
      assert.equal(created.status, 201);
      const radar = { id: created.body.device.id as string, key: created.body.apiKey as string };
      radars.push(radar);
      // 20 February to 10 May 2026 (the clocks go forward on 8 March); speeds depend on the UTC hour, so each local hour differs.
      const events: Record<string, unknown>[] = [];
      for (let t = Date.UTC(2026, 1, 20), i = 0; t < Date.UTC(2026, 4, 10); t += every * 60_000, i++) {
        events.push({ client_ref: `l${n}-${i}`, ts: new Date(t).toISOString(), kind: 'speed', speed: 18 + new Date(t).getUTCHours() + (i % 9) + n * 3 + 0.5, speed_limit: 30 });
      }
      for (let i = 0; i < events.length; i += 1000) {
        const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': radar.key }, payload: { events: events.slice(i, i + 1000) } });
        assert.equal(sent.statusCode, 200, sent.body);
      }
    }
    db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await app.close();
  });

  /** Each local hour's speeds of the stored events in [from, to), sorted, the hour taken at its start in `zone`. */
  async function rawByHour(ids: string[], from: string, to: string, zone: string): Promise<Map<number, number[]>> {
    const rows = (await db.query(`SELECT date_part('hour', date_trunc('hour', ts) AT TIME ZONE '${zone}')::int AS hour, speed::float8 AS speed
      FROM events WHERE device_id = ANY($1::uuid[]) AND ts >= $2 AND ts < $3 ORDER BY 2`, [ids, from, to])).rows;
    const byHour = new Map<number, number[]>();
    for (const row of rows) byHour.set(row.hour, [...(byHour.get(row.hour) ?? []), Number(row.speed)]);
    return byHour;
  }

  async function assertHourly(subject: string, ids: string[], range: string, zone: string): Promise<Stats> {
    const response = await owner.client.get(`/api/v1/traffic/statistics?${subject}&${range}&hourlyPercentiles=true`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const stats: Stats = response.body;
    const raw = await rawByHour(ids, stats.from, stats.to, zone);
    assert.equal(raw.size, 24, 'every local hour has traffic');
    for (const { hour, count, p85 } of stats.hourly) {
      const speeds = raw.get(hour)!;
      assert.equal(count, speeds.length, `${range}: count at ${hour}:00`);
      const rank = speeds[Math.ceil(0.85 * speeds.length) - 1]!;
      assert.ok(p85 !== null && p85 >= Math.floor(rank) && p85 <= Math.floor(rank) + 1, `${range}: p85 at ${hour}:00 is ${p85}, not in the bin of ${rank}`);
    }
    return stats;
  }

  const monthRows = async (deviceId: string) =>
    (await db.query('SELECT month::text AS month, sum(count)::int AS count FROM speed_histogram_hour_of_day WHERE device_id = $1 GROUP BY 1 ORDER BY 1', [deviceId])).rows;

  it('answers whole months from the hour-of-day histogram and the days around them from hourly rows, for a radar and a site', async () => {
    await app.settleRollups();
    const months = await monthRows(radars[0]!.id);
    assert.deepEqual(months.map((m) => m.month), ['2026-02-01', '2026-03-01', '2026-04-01', '2026-05-01']);
    const stored = Number((await db.query('SELECT count(*) FROM events WHERE device_id = $1', [radars[0]!.id])).rows[0].count);
    assert.equal(months.reduce((a, m) => a + m.count, 0), stored, 'every event of the radar is in one month and hour');
    const one = `deviceId=${radars[0]!.id}`;
    const both = radars.map((r) => r.id);
    await assertHourly(one, [radars[0]!.id], 'from=2026-03-01&to=2026-04-30', 'America/New_York');
    await assertHourly(one, [radars[0]!.id], 'from=2026-02-24&to=2026-05-06', 'America/New_York');
    await assertHourly(`siteId=${siteId}`, both, 'from=2026-02-24&to=2026-05-06', 'America/New_York');
  });

  it('stays exact after an event is deleted, the site moves to another zone (before and after the re-key) and a rebuild', async () => {
    const one = `deviceId=${radars[0]!.id}`;
    const range = 'from=2026-02-24&to=2026-05-06';
    const fastest = (await db.query('SELECT id FROM events WHERE device_id = $1 AND ts >= $2 ORDER BY speed DESC LIMIT 1', [radars[0]!.id, '2026-03-15'])).rows[0].id;
    assert.equal((await owner.client.delete(`/api/v1/events/${fastest}`)).status, 204);
    await assertHourly(one, [radars[0]!.id], range, 'America/New_York');
    const stored = Number((await db.query('SELECT count(*) FROM events WHERE device_id = $1', [radars[0]!.id])).rows[0].count);
    assert.equal((await monthRows(radars[0]!.id)).reduce((a, m) => a + m.count, 0), stored, 'the deleted event left its month and hour');

    assert.equal((await owner.client.patch(`/api/v1/sites/${siteId}`, { timezone: 'Asia/Kolkata' })).status, 200);
    await assertHourly(one, [radars[0]!.id], range, 'Asia/Kolkata');
    assert.equal(await app.runtime.services.traffic.rekeyDayZones(), 2);
    const rekeyed = await assertHourly(one, [radars[0]!.id], range, 'Asia/Kolkata');
    await assertHourly(`siteId=${siteId}`, radars.map((r) => r.id), range, 'Asia/Kolkata');
    // 00:00Z on 20 February is 05:30 in Kolkata: the first hours are still February's.
    assert.equal((await monthRows(radars[0]!.id))[0]!.month, '2026-02-01');

    await app.runtime.services.traffic.rebuildRollups(radars[0]!.id, new Date(Date.UTC(2026, 2, 10)), new Date(Date.UTC(2026, 3, 20)));
    assert.deepEqual((await owner.client.get(`/api/v1/traffic/statistics?${one}&${range}&hourlyPercentiles=true`)).body, rekeyed);
  });
});
