import { sql, type RawBuilder } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { Units } from './statistics.js';

/**
 * Every SQL statement of traffic statistics. Figures are read from the hourly rollups
 * (`event_rollups_hourly`, `speed_histogram_hourly`, `speed_excess_hourly`), never from raw events,
 * except `rebuildSpeedExcess`, which (re)builds the excess rollup of a device from its events.
 * Local hours, weekdays and dates are taken in each device's time zone: its site's, else its organization's.
 */
type Conn = Db | Tx;
const HOUR = 3_600_000;

export interface SubjectDevice {
  id: string;
  name: string;
  site_id: string | null;
  timezone: string;
  units: Units;
  speed_limit: number | null;
}

/** The devices a statistics request covers, within the caller's scope (one device, one site, or every visible device). */
export async function subjectDevices(db: Conn, scope: Scope, subject: { deviceId?: string; siteId?: string }): Promise<SubjectDevice[]> {
  const result = await sql<SubjectDevice>`
    SELECT d.id, d.name, d.site_id, COALESCE(s.timezone, o.timezone) AS timezone, COALESCE(d.speed_units, o.units) AS units, d.speed_limit
    FROM devices d JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
    WHERE d.org_id = ${scope.orgId}::uuid
    ${scope.siteIds ? sql`AND d.site_id = ANY(${scope.siteIds}::uuid[])` : sql``}
    ${subject.deviceId ? sql`AND d.id = ${subject.deviceId}::uuid` : sql``}
    ${subject.siteId ? sql`AND d.site_id = ${subject.siteId}::uuid` : sql``}
    ORDER BY d.name, d.id`.execute(db);
  return result.rows;
}

export interface RangeQuery {
  devices: SubjectDevice[];
  /** Whole UTC hours: from inclusive, to exclusive. */
  from: Date;
  to: Date;
  /** Only hours that fall Monday to Friday in the device's time zone. */
  weekdaysOnly: boolean;
}

/**
 * The CTEs every query starts with: `s(device_id, tz, units)`, the devices; and `local`, each hour of the
 * range in each of their time zones with its local date, ISO weekday (1 = Monday) and hour of day.
 * Rollup rows join `local` on (zone, hour), so the time-zone arithmetic runs once per hour of the
 * range, not once per rollup row.
 */
function withSubject(q: RangeQuery): RawBuilder<unknown> {
  return sql`WITH s AS (
      SELECT * FROM unnest(${q.devices.map((d) => d.id)}::uuid[], ${q.devices.map((d) => d.timezone)}::text[], ${q.devices.map((d) => d.units)}::text[])
        AS s(device_id, tz, units)
    ), local AS (
      SELECT z.tz, g.hour, to_char(g.hour AT TIME ZONE z.tz, 'YYYY-MM-DD') AS date,
             extract(isodow FROM g.hour AT TIME ZONE z.tz)::int AS dow, extract(hour FROM g.hour AT TIME ZONE z.tz)::int AS local_hour
      FROM (SELECT DISTINCT tz FROM s) z
      CROSS JOIN generate_series(${q.from}::timestamptz, ${q.to}::timestamptz - interval '1 hour', interval '1 hour') AS g(hour)
    ), h AS (
      SELECT * FROM local ${q.weekdaysOnly ? sql`WHERE dow <= 5` : sql``}
    )`;
}

export interface VolumeRow {
  units: Units;
  date: string;
  dow: number;
  hour: number;
  count: number;
  sum: number;
  sum_squares: number;
  min: number | null;
  max: number | null;
}

/** Speed count, sums, minimum and maximum per unit system and local hour of the range (at most one row per hour). */
export async function speedVolume(db: Conn, q: RangeQuery): Promise<VolumeRow[]> {
  const result = await sql<VolumeRow>`
    ${withSubject(q)}
    SELECT s.units, h.date, h.dow, h.local_hour AS hour, sum(r.speed_count)::int AS count, sum(r.speed_sum)::float8 AS sum,
           sum(r.speed_sum_squares)::float8 AS sum_squares, min(r.speed_min)::float8 AS min, max(r.speed_max)::float8 AS max
    FROM event_rollups_hourly r JOIN s ON s.device_id = r.device_id JOIN h ON h.tz = s.tz AND h.hour = r.hour
    WHERE r.hour >= ${q.from} AND r.hour < ${q.to} AND r.speed_count > 0
    GROUP BY 1, 2, 3, 4`.execute(db);
  return result.rows;
}

/** The merged 1-unit speed histogram per unit system and local hour of day. */
export async function speedBins(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; hour: number; bin: number; count: number }>`
    ${withSubject(q)}
    SELECT s.units, h.local_hour AS hour, b.bin, sum(b.count)::int AS count
    FROM speed_histogram_hourly b JOIN s ON s.device_id = b.device_id JOIN h ON h.tz = s.tz AND h.hour = b.hour
    WHERE b.hour >= ${q.from} AND b.hour < ${q.to}
    GROUP BY 1, 2, 3`.execute(db);
  return result.rows;
}

export interface ExcessRow {
  units: Units;
  /** Set for the per-limit rows (excess histogram), null for the per-local-hour rows. */
  speed_limit: number | null;
  excess: number | null;
  date: string | null;
  dow: number | null;
  hour: number | null;
  judged: number;
  speeding: number;
}

/**
 * In one scan: the excess histogram per unit system and limit in force; and per local hour of the range,
 * how many speeds had a limit to judge against and how many were above it.
 */
export async function speedExcess(db: Conn, q: RangeQuery): Promise<ExcessRow[]> {
  const result = await sql<ExcessRow>`
    ${withSubject(q)}
    SELECT s.units, x.speed_limit::float8 AS speed_limit, x.excess, h.date, h.dow, h.local_hour AS hour,
           sum(x.count)::int AS judged, coalesce(sum(x.count) FILTER (WHERE x.excess >= 1), 0)::int AS speeding
    FROM speed_excess_hourly x JOIN s ON s.device_id = x.device_id JOIN h ON h.tz = s.tz AND h.hour = x.hour
    WHERE x.hour >= ${q.from} AND x.hour < ${q.to}
    GROUP BY GROUPING SETS ((s.units, x.speed_limit, x.excess), (s.units, h.date, h.dow, h.local_hour))`.execute(db);
  return result.rows;
}

/**
 * (Re)builds the excess rollup of one device over whole hours from its stored events: deletes the
 * hours' rows and recounts them, in one transaction. Ingest is to maintain the same rows per batch;
 * until it does, this fills them (tests, and a one-off backfill after upgrading).
 */
export async function rebuildSpeedExcess(db: Db, deviceId: string, fromInstant: Date, toInstant: Date): Promise<number> {
  const from = new Date(Math.floor(fromInstant.getTime() / HOUR) * HOUR);
  const to = new Date(Math.ceil(toInstant.getTime() / HOUR) * HOUR);
  return db.transaction().execute(async (tx) => {
    await sql`DELETE FROM speed_excess_hourly WHERE device_id = ${deviceId}::uuid AND hour >= ${from} AND hour < ${to}`.execute(tx);
    const result = await sql`
      INSERT INTO speed_excess_hourly (device_id, hour, speed_limit, excess, count)
      SELECT device_id, date_trunc('hour', ts), speed_limit, ceil(speed - speed_limit)::smallint, count(*)
      FROM events
      WHERE device_id = ${deviceId}::uuid AND ts >= ${from} AND ts < ${to}
        AND speed IS NOT NULL AND speed_limit IS NOT NULL
      GROUP BY 1, 2, 3, 4`.execute(tx);
    return Number(result.numAffectedRows ?? 0);
  });
}
