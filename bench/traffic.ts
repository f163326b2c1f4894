/**
 * Traffic statistics latency: the statistics a user asks for (TrafficService.statistics, what
 * GET /api/v1/traffic/statistics runs, without HTTP), against computing the same figures by raw SQL
 * (`percentile_cont` and GROUP BYs over every event) on the same data in the same run, for each
 * database: the PostgreSQL service (a fresh database, dropped at the end) and the bundled PostgreSQL
 * (an empty DATA_DIR). Vigil runs in this process (startRuntime), so only the database work and the
 * assembly of the figures are measured.
 *
 * Data, loaded with SQL rather than through ingest so that 10 million events take a minute, not an hour:
 *  1. `bench_events` (an unlogged table: device, ts, speed, limit) filled by `generate_series`:
 *     a fleet of BENCH_TRAFFIC_DEVICES (100) radars × BENCH_TRAFFIC_DAYS (30) days holding
 *     BENCH_TRAFFIC_EVENTS (10,000,000) events, busier by day than by night, speeds 15–55 mph, and on
 *     half the radars the limit drops from 30 to 25 mph halfway through; plus one radar over a whole
 *     year with BENCH_TRAFFIC_YEAR_EVENTS (1,200,000) events;
 *  2. the rollups (`event_rollups_hourly`, `speed_histogram_hourly`, `speed_excess_hourly`, and the daily
 *     `speed_histogram_daily`, `speed_excess_daily`, `speed_histogram_hour_of_day`) aggregated from those rows by the same expressions
 *     the ingest statement uses (GROUP BY device and hour or local day), written in time order as the fold
 *     writes them, then VACUUM ANALYZE (as autovacuum would).
 * Cases: the fleet's month, the radar's year, and the radar's year with each local hour's 85th percentile
 * (what the console asks for a device). Each case: one warm-up, then BENCH_TRAFFIC_REPEATS (40: a p95 of fewer calls is their maximum) timed calls of the statistics and
 * BENCH_TRAFFIC_BASELINE_REPEATS (3) of the raw scan; p50/p95 and the ratio raw p95 / statistics p95.
 *
 * Settings (environment): the above, BENCH_TRAFFIC_DATABASES ("service,bundled"),
 * BENCH_TRAFFIC_SERVICE_URL (postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { sql } from 'kysely';
import type { Scope } from '../src/server/core/access.js';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { type Benchmark, createScratchDatabase, envInt, makeTempDir, now, onCleanup, type Reporter, round, watchPostgresOf } from './lib.js';

function settings() {
  const databases = (process.env.BENCH_TRAFFIC_DATABASES ?? 'service,bundled').split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of databases) if (d !== 'bundled' && d !== 'service') throw new Error(`BENCH_TRAFFIC_DATABASES: unknown "${d}" (bundled, service)`);
  const serviceUrl = process.env.BENCH_TRAFFIC_SERVICE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(serviceUrl).hostname)) throw new Error('BENCH_TRAFFIC_SERVICE_URL must point to loopback');
  return {
    databases: databases as ('bundled' | 'service')[],
    serviceUrl,
    devices: envInt('BENCH_TRAFFIC_DEVICES', 100, 1, 10_000),
    days: envInt('BENCH_TRAFFIC_DAYS', 30, 1, 400),
    events: envInt('BENCH_TRAFFIC_EVENTS', 10_000_000, 1000, 100_000_000),
    yearEvents: envInt('BENCH_TRAFFIC_YEAR_EVENTS', 1_200_000, 0, 100_000_000),
    repeats: envInt('BENCH_TRAFFIC_REPEATS', 40, 1, 1000),
    baselineRepeats: envInt('BENCH_TRAFFIC_BASELINE_REPEATS', 3, 1, 100),
  };
}
type Settings = ReturnType<typeof settings>;

const ZONE = 'America/New_York';
const FLEET_START = new Date('2025-03-01T05:00:00Z');
const YEAR_START = new Date('2024-01-01T05:00:00Z');
const DAY = 86_400_000;

/** Creates an organization, a site and the radars, and fills bench_events and the rollups (see the header). */
async function load(runtime: Runtime, s: Settings, report: Reporter, label: string) {
  const { organization, user } = await runtime.services.setup.createUserWithOrganization(
    { email: `bench-${randomBytes(3).toString('hex')}@example.com`, name: 'Bench', password: 'bench-password-0123', organizationName: 'Bench Traffic' },
    { userId: null, label: 'bench', ip: null, userAgent: null },
  );
  const scope: Scope = { orgId: organization.id, userId: user.id, role: 'owner', siteIds: null };
  const db = runtime.ctx.db;
  const started = now();
  const site = await sql<{ id: string }>`INSERT INTO sites (org_id, name, timezone) VALUES (${scope.orgId}::uuid, 'Bench street', ${ZONE}) RETURNING id`.execute(db);
  const siteId = site.rows[0]!.id;
  await sql`INSERT INTO devices (org_id, site_id, kind, name, serial, speed_limit, speed_units)
            SELECT ${scope.orgId}::uuid, ${siteId}::uuid, 'speed_radar', 'Radar ' || i, 'BENCH-' || i, 30, 'mph' FROM generate_series(0, ${s.devices}) i`.execute(db);
  const devices = (await sql<{ id: string; serial: string }>`SELECT id, serial FROM devices WHERE org_id = ${scope.orgId}::uuid ORDER BY serial`.execute(db)).rows;
  const yearDevice = devices.find((d) => d.serial === 'BENCH-0')!.id;
  const fleet = devices.filter((d) => d.id !== yearDevice).map((d) => d.id);

  await sql`CREATE UNLOGGED TABLE bench_events (device_id uuid NOT NULL, ts timestamptz NOT NULL, speed real NOT NULL, speed_limit real NOT NULL)`.execute(db);
  // Event g of a device at an even spacing over the period, nudged so that night hours hold fewer
  // vehicles (sin² of the local hour), with speeds a sum of two uniforms (a hump between 15 and 55).
  const fill = (ids: string[], start: Date, days: number, perDevice: number, limitDrop: boolean) => sql`
    INSERT INTO bench_events (device_id, ts, speed, speed_limit)
    SELECT d.id, t.ts, round((15 + random() * 20 + random() * 20)::numeric, 1)::real,
           CASE WHEN ${limitDrop} AND d.n % 2 = 0 AND t.ts >= ${new Date(start.getTime() + (days * DAY) / 2)}::timestamptz THEN 25 ELSE 30 END
    FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS d(id, n)
    CROSS JOIN LATERAL (
      SELECT ${start}::timestamptz + make_interval(secs => (g + 0.5 * sin(g * 0.7)) * ${(days * DAY) / 1000 / perDevice}) AS ts
      FROM generate_series(0, ${perDevice - 1}) g
    ) t`.execute(db);
  await fill(fleet, FLEET_START, s.days, Math.ceil(s.events / fleet.length), true);
  if (s.yearEvents > 0) await fill([yearDevice], YEAR_START, 365, s.yearEvents, true);
  const loadedEvents = now();
  // Rollup rows go in in time order, as the fold writes them over the weeks (an hour's rows of every
  // device together), not in the hash order of one big GROUP BY, which would scatter each hour over the table.
  await sql`INSERT INTO event_rollups_hourly (org_id, device_id, hour, kind, events, speed_count, speed_sum, speed_sum_squares, speed_min, speed_max, speeding)
            SELECT ${scope.orgId}::uuid, device_id, date_trunc('hour', ts), 'speed', count(*), count(speed), sum(speed), sum(speed::float8 * speed),
                   min(speed), max(speed), count(*) FILTER (WHERE speed > speed_limit)
            FROM bench_events GROUP BY device_id, date_trunc('hour', ts) ORDER BY 3, 2`.execute(db);
  await sql`INSERT INTO speed_histogram_hourly (device_id, hour, bin, count)
            SELECT device_id, date_trunc('hour', ts), floor(speed)::smallint, count(*) FROM bench_events GROUP BY 1, 2, 3 ORDER BY 2, 1`.execute(db);
  await sql`INSERT INTO speed_excess_hourly (device_id, hour, speed_limit, excess, count)
            SELECT device_id, date_trunc('hour', ts), speed_limit, greatest(ceil(speed - speed_limit), 0)::smallint, count(*) FROM bench_events GROUP BY 1, 2, 3, 4 ORDER BY 2, 1`.execute(db);
  // Daily rows under the local date of each hour in the devices' zone, recorded as the fold records it.
  await sql`INSERT INTO traffic_day_zones (device_id, zone) SELECT id, ${ZONE} FROM devices WHERE org_id = ${scope.orgId}::uuid`.execute(db);
  const localDay = sql`(date_trunc('hour', ts) AT TIME ZONE ${sql.lit(ZONE)})::date`;
  await sql`INSERT INTO speed_histogram_daily (device_id, day, bin, count)
            SELECT device_id, ${localDay}, floor(speed)::smallint, count(*) FROM bench_events GROUP BY 1, 2, 3 ORDER BY 2, 1`.execute(db);
  await sql`INSERT INTO speed_excess_daily (device_id, day, speed_limit, excess, count)
            SELECT device_id, ${localDay}, speed_limit, greatest(ceil(speed - speed_limit), 0)::smallint, count(*) FROM bench_events GROUP BY 1, 2, 3, 4 ORDER BY 2, 1`.execute(db);
  await sql`INSERT INTO speed_histogram_hour_of_day (device_id, month, local_hour, bin, count)
            SELECT device_id, date_trunc('month', local_ts)::date, date_part('hour', local_ts)::smallint, floor(speed)::smallint, count(*)
            FROM (SELECT device_id, date_trunc('hour', ts) AT TIME ZONE ${sql.lit(ZONE)} AS local_ts, speed FROM bench_events) e
            GROUP BY 1, 2, 3, 4 ORDER BY 2, 1`.execute(db);
  await sql`VACUUM ANALYZE`.execute(db);
  const counts = (await sql<{ events: number; histogram: number; excess: number }>`
    SELECT (SELECT count(*) FROM bench_events) AS events, (SELECT count(*) FROM speed_histogram_hourly) AS histogram,
           (SELECT count(*) FROM speed_excess_hourly) AS excess`.execute(db)).rows[0]!;
  report.add({ metric: `${label}: events generated`, value: counts.events, note: `${round((loadedEvents - started) / 1000)} s` });
  report.add({ metric: `${label}: rollup rows (histogram, excess)`, value: `${counts.histogram.toLocaleString('en-US')}, ${counts.excess.toLocaleString('en-US')}`, note: `built in ${round((now() - loadedEvents) / 1000)} s` });
  return { scope, fleet, yearDevice };
}

/**
 * The same figures straight from the events: summary and percentiles, bands against the limit in
 * force, the histogram, and the local hour-of-week and daily tables (each a full pass, run side by side).
 */
function rawFigures(pool: pg.Pool, deviceIds: string[], from: Date, to: Date) {
  const where = 'device_id = ANY($1::uuid[]) AND ts >= $2 AND ts < $3';
  const args = [deviceIds, from, to];
  return Promise.all([
    pool.query(`SELECT count(*), avg(speed), stddev_samp(speed), min(speed), max(speed),
                       percentile_cont(ARRAY[0.15, 0.5, 0.85, 0.95]) WITHIN GROUP (ORDER BY speed) AS percentiles,
                       count(*) FILTER (WHERE speed > speed_limit) AS speeding,
                       count(*) FILTER (WHERE ceil(speed - speed_limit) BETWEEN 1 AND 5) AS band1,
                       count(*) FILTER (WHERE ceil(speed - speed_limit) BETWEEN 6 AND 10) AS band2,
                       count(*) FILTER (WHERE ceil(speed - speed_limit) BETWEEN 11 AND 15) AS band3,
                       count(*) FILTER (WHERE ceil(speed - speed_limit) >= 16) AS band4
                FROM bench_events WHERE ${where}`, args),
    pool.query(`SELECT floor(speed) AS bin, count(*) FROM bench_events WHERE ${where} GROUP BY 1`, args),
    pool.query(`SELECT extract(isodow FROM ts AT TIME ZONE '${ZONE}') AS dow, extract(hour FROM ts AT TIME ZONE '${ZONE}') AS hour, count(*),
                       avg(speed), count(*) FILTER (WHERE speed > speed_limit),
                       percentile_cont(0.85) WITHIN GROUP (ORDER BY speed)
                FROM bench_events WHERE ${where} GROUP BY 1, 2`, args),
    pool.query(`SELECT (ts AT TIME ZONE '${ZONE}')::date AS date, count(*), avg(speed), count(*) FILTER (WHERE speed > speed_limit)
                FROM bench_events WHERE ${where} GROUP BY 1`, args),
  ]);
}

async function timed(repeats: number, work: () => Promise<unknown>): Promise<number[]> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = now();
    await work();
    times.push(now() - started);
  }
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

async function measure(runtime: Runtime, s: Settings, report: Reporter, label: string) {
  const { scope, fleet, yearDevice } = await load(runtime, s, report, label);
  const cases = [
    { name: `${s.devices} devices × ${s.days} days`, query: {}, ids: fleet, from: FLEET_START, to: new Date(FLEET_START.getTime() + s.days * DAY) },
    ...(s.yearEvents > 0 ? [
      { name: '1 device × 1 year', query: { deviceId: yearDevice }, ids: [yearDevice], from: YEAR_START, to: new Date(YEAR_START.getTime() + 365 * DAY) },
      // What the console asks for a device: each local hour's 85th percentile too.
      { name: '1 device × 1 year, hourly percentiles', query: { deviceId: yearDevice, hourlyPercentiles: true }, ids: [yearDevice], from: YEAR_START, to: new Date(YEAR_START.getTime() + 365 * DAY) },
    ] : []),
  ];
  for (const c of cases) {
    const query = { ...c.query, from: c.from.toISOString(), to: c.to.toISOString() };
    const check = await runtime.services.traffic.statistics(scope, query);
    const stats = await timed(s.repeats, () => runtime.services.traffic.statistics(scope, query));
    const raw = await timed(s.baselineRepeats, () => rawFigures(runtime.ctx.pool, c.ids, c.from, c.to));
    report.add({ metric: `${label}, ${c.name}: statistics p50 / p95`, value: `${round(quantile(stats, 0.5), 0)} / ${round(quantile(stats, 0.95), 0)}`, unit: 'ms', note: `${check.summary.count.toLocaleString('en-US')} events, ${s.repeats} runs` });
    report.add({ metric: `${label}, ${c.name}: raw percentile_cont scan p50 / p95`, value: `${round(quantile(raw, 0.5), 0)} / ${round(quantile(raw, 0.95), 0)}`, unit: 'ms', note: `${s.baselineRepeats} runs` });
    const ratio = quantile(raw, 0.95) / quantile(stats, 0.95);
    report.add({ metric: `${label}, ${c.name}: raw p95 / statistics p95`, value: round(ratio, 1), unit: '×', note: ratio >= 50 ? 'target ≥ 50× met' : 'target ≥ 50× not met' });
  }
}

async function withDatabase(kind: 'bundled' | 'service', s: Settings, report: Reporter): Promise<void> {
  const dataDir = makeTempDir('vigil-bench-traffic-');
  let databaseUrl: string | undefined;
  if (kind === 'service') {
    databaseUrl = (await createScratchDatabase(s.serviceUrl, 'vigil_bench_traffic')).url;
  } else {
    watchPostgresOf(dataDir);
  }
  const runtime = await startRuntime(testConfig({ databaseUrl, dataDir }), { logger: pino({ level: 'silent' }) });
  const unregister = onCleanup(`${kind}: stop Vigil`, () => runtime.close(), 60_000);
  try {
    await measure(runtime, s, report, kind === 'service' ? 'PostgreSQL service' : 'bundled PostgreSQL');
  } finally {
    unregister();
    await runtime.close();
  }
}

export const traffic: Benchmark = {
  name: 'traffic',
  description: 'speed statistics from hourly rollups vs the same figures by a raw percentile_cont scan (10M events)',
  needsBuild: false,
  async run(report) {
    const s = settings();
    for (const kind of s.databases) await withDatabase(kind, s, report);
  },
};
