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

/** The devices with their zone and units as a relation `s(device_id, tz, units)`, joined by every query. */
function subjectRelation(q: RangeQuery): RawBuilder<unknown> {
  return sql`unnest(${q.devices.map((d) => d.id)}::uuid[], ${q.devices.map((d) => d.timezone)}::text[], ${q.devices.map((d) => d.units)}::text[])
             AS s(device_id, tz, units)`;
}

function rangeCondition(alias: string, q: RangeQuery): RawBuilder<unknown> {
  const hour = sql.ref(`${alias}.hour`);
  return sql`${hour} >= ${q.from} AND ${hour} < ${q.to}
             ${q.weekdaysOnly ? sql`AND extract(isodow FROM ${hour} AT TIME ZONE s.tz) <= 5` : sql``}`;
}

/** Speed count, sums, minimum and maximum per unit system. */
export async function speedMoments(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; count: number; sum: number; sum_squares: number; min: number | null; max: number | null }>`
    SELECT s.units, sum(r.speed_count)::int AS count, sum(r.speed_sum)::float8 AS sum, sum(r.speed_sum_squares)::float8 AS sum_squares,
           min(r.speed_min)::float8 AS min, max(r.speed_max)::float8 AS max
    FROM event_rollups_hourly r JOIN ${subjectRelation(q)} ON s.device_id = r.device_id
    WHERE ${rangeCondition('r', q)} AND r.speed_count > 0
    GROUP BY s.units`.execute(db);
  return result.rows;
}

/** The merged 1-unit speed histogram per unit system. */
export async function speedBins(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; bin: number; count: number }>`
    SELECT s.units, h.bin, sum(h.count)::int AS count
    FROM speed_histogram_hourly h JOIN ${subjectRelation(q)} ON s.device_id = h.device_id
    WHERE ${rangeCondition('h', q)}
    GROUP BY s.units, h.bin`.execute(db);
  return result.rows;
}

/** Speeds above the limit in force, per unit system and excess bin; and the limits that were in force. */
export async function excessBins(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; speed_limit: number; excess: number; count: number }>`
    SELECT s.units, x.speed_limit::float8 AS speed_limit, x.excess, sum(x.count)::int AS count
    FROM speed_excess_hourly x JOIN ${subjectRelation(q)} ON s.device_id = x.device_id
    WHERE ${rangeCondition('x', q)}
    GROUP BY s.units, x.speed_limit, x.excess`.execute(db);
  return result.rows;
}

/** Per local weekday (ISO, 1 = Monday) and hour of day: volume, speed sums, judged and speeding counts. */
export async function hourOfWeek(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; dow: number; hour: number; count: number; sum: number; judged: number; speeding: number }>`
    WITH volume AS (
      SELECT s.units, extract(isodow FROM r.hour AT TIME ZONE s.tz)::int AS dow, extract(hour FROM r.hour AT TIME ZONE s.tz)::int AS hour,
             sum(r.speed_count)::int AS count, sum(r.speed_sum)::float8 AS sum
      FROM event_rollups_hourly r JOIN ${subjectRelation(q)} ON s.device_id = r.device_id
      WHERE ${rangeCondition('r', q)} AND r.speed_count > 0
      GROUP BY 1, 2, 3
    ), judged AS (
      SELECT s.units, extract(isodow FROM x.hour AT TIME ZONE s.tz)::int AS dow, extract(hour FROM x.hour AT TIME ZONE s.tz)::int AS hour,
             sum(x.count)::int AS judged, (sum(x.count) FILTER (WHERE x.excess >= 1))::int AS speeding
      FROM speed_excess_hourly x JOIN ${subjectRelation(q)} ON s.device_id = x.device_id
      WHERE ${rangeCondition('x', q)}
      GROUP BY 1, 2, 3
    )
    SELECT units, dow, hour, coalesce(v.count, 0) AS count, coalesce(v.sum, 0) AS sum,
           coalesce(j.judged, 0) AS judged, coalesce(j.speeding, 0) AS speeding
    FROM volume v FULL JOIN judged j USING (units, dow, hour)`.execute(db);
  return result.rows;
}

/** The speed histogram per local hour of day (for each hour's percentiles). */
export async function hourOfDayBins(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; hour: number; bin: number; count: number }>`
    SELECT s.units, extract(hour FROM h.hour AT TIME ZONE s.tz)::int AS hour, h.bin, sum(h.count)::int AS count
    FROM speed_histogram_hourly h JOIN ${subjectRelation(q)} ON s.device_id = h.device_id
    WHERE ${rangeCondition('h', q)}
    GROUP BY 1, 2, 3`.execute(db);
  return result.rows;
}

/** Per local date: volume, speed sums, judged and speeding counts, and how many distinct local hours had traffic. */
export async function daily(db: Conn, q: RangeQuery) {
  const result = await sql<{ units: Units; date: string; weekday: boolean; count: number; sum: number; hours: number; judged: number; speeding: number }>`
    WITH volume AS (
      SELECT s.units, (r.hour AT TIME ZONE s.tz)::date AS date, sum(r.speed_count)::int AS count, sum(r.speed_sum)::float8 AS sum,
             count(DISTINCT extract(hour FROM r.hour AT TIME ZONE s.tz))::int AS hours
      FROM event_rollups_hourly r JOIN ${subjectRelation(q)} ON s.device_id = r.device_id
      WHERE ${rangeCondition('r', q)} AND r.speed_count > 0
      GROUP BY 1, 2
    ), judged AS (
      SELECT s.units, (x.hour AT TIME ZONE s.tz)::date AS date,
             sum(x.count)::int AS judged, (sum(x.count) FILTER (WHERE x.excess >= 1))::int AS speeding
      FROM speed_excess_hourly x JOIN ${subjectRelation(q)} ON s.device_id = x.device_id
      WHERE ${rangeCondition('x', q)}
      GROUP BY 1, 2
    )
    SELECT units, to_char(date, 'YYYY-MM-DD') AS date, extract(isodow FROM date) <= 5 AS weekday,
           coalesce(v.count, 0) AS count, coalesce(v.sum, 0) AS sum, coalesce(v.hours, 0) AS hours,
           coalesce(j.judged, 0) AS judged, coalesce(j.speeding, 0) AS speeding
    FROM volume v FULL JOIN judged j USING (units, date)
    ORDER BY date`.execute(db);
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
