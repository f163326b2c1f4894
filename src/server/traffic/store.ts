import { sql, type RawBuilder } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import { dayZones } from '../rollups/store.js';
import { firstOfMonth, localDate, nextDate, nextMonth, startOfLocalDay } from './range.js';
import type { Units } from '../../shared/traffic.js';

/**
 * Every SQL statement of traffic statistics. Figures are read from the hourly rollups
 * (`event_rollups_hourly`, `speed_histogram_hourly`, `speed_excess_hourly`), never from raw events,
 * except `rebuildTrafficRollups`, which (re)builds a device's excess and daily rollups from its events.
 * Local hours, weekdays and dates are taken in each device's time zone: its site's, else its organization's.
 * Daily rows are keyed by local dates in the device's recorded day zone (migration 0021).
 */
type Conn = Db | Tx;

export interface SubjectDevice {
  id: string;
  name: string;
  timezone: string;
  /** The zone whose local dates key the device's daily rollups: its time zone, unless that changed and the re-key has not run yet. */
  dayZone: string;
  units: Units;
}

/** The devices a statistics request covers, within the caller's scope (one device, one site, or every visible device). */
export async function subjectDevices(db: Conn, scope: Scope, subject: { deviceId?: string; siteId?: string }): Promise<SubjectDevice[]> {
  const result = await sql<SubjectDevice>`
    SELECT d.id, d.name, COALESCE(s.timezone, o.timezone) AS timezone, COALESCE(z.zone, s.timezone, o.timezone) AS "dayZone",
           COALESCE(d.speed_units, o.units) AS units
    FROM devices d JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
    LEFT JOIN traffic_day_zones z ON z.device_id = d.id
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
 * The devices' time zone as a literal, not a parameter: with a parameter PostgreSQL looks the zone up
 * again for every row (25× slower here). Zones are validated names from sites and organizations, and
 * sql.lit quotes them.
 */
function zoneOf(q: RangeQuery): RawBuilder<unknown> {
  return sql.lit(q.devices[0]?.timezone ?? 'UTC');
}

/**
 * Every query takes devices of one unit system, one time zone and one day zone (the service groups them), so rollup
 * rows are summed without joining each one to its device, and local time is worked out per hour of the
 * range, not per rollup row (the time-zone arithmetic costs more than the rest of the query).
 *
 * `h` is each hour of the range with its local date, ISO weekday (1 = Monday) and hour of day in the
 * devices' zone (weekdays only when asked).
 */
function withLocalHours(q: RangeQuery): RawBuilder<unknown> {
  const zone = zoneOf(q);
  // date_part and a date cast, not extract and to_char: extract answers numeric, and both cost more
  // than the rest of a year's query; dates are formatted after grouping.
  return sql`WITH h AS MATERIALIZED (
      SELECT hour, local_ts::date AS date, date_part('isodow', local_ts)::int AS dow, date_part('hour', local_ts)::int AS local_hour
      FROM (SELECT g.hour, g.hour AT TIME ZONE ${zone} AS local_ts
            FROM generate_series(${q.from}::timestamptz, ${q.to}::timestamptz - interval '1 hour', interval '1 hour') AS g(hour)) l
      ${q.weekdaysOnly ? sql`WHERE date_part('isodow', local_ts) <= 5` : sql``}
    )`;
}

function ids(q: RangeQuery) {
  return q.devices.map((d) => d.id);
}

/**
 * The whole local days (or months) inside the range in the devices' day zone, [first, end) as dates (a
 * month as its first day), and the instants they span; the hours before and after them come from the
 * hourly tables. An hour belongs to the local date of its start, so in a zone offset by half an hour the
 * hour holding midnight belongs to the day before. Undefined when no whole period fits.
 */
function wholePeriods(q: RangeQuery, period: 'day' | 'month') {
  const zone = q.devices[0]?.dayZone ?? 'UTC';
  const startOf = (date: string) => (period === 'day' ? date : firstOfMonth(date));
  let first = startOf(localDate(q.from, zone));
  if (startOfLocalDay(first, zone) < q.from) first = period === 'day' ? nextDate(first) : nextMonth(first);
  const end = startOf(localDate(q.to, zone));
  if (first >= end) return undefined;
  return { first, end, firstStart: startOfLocalDay(first, zone), endStart: startOfLocalDay(end, zone) };
}

/**
 * Rows of a daily table over the whole days of the range plus rows of its hourly table over the edge
 * hours. With a weekday filter, daily rows of local weekdays when the days are in the devices' own
 * zone; otherwise (a day zone not yet re-keyed) the hourly rows of local weekdays only.
 */
function dailyAndEdges(q: RangeQuery, columns: RawBuilder<unknown>, daily: string, hourly: string): RawBuilder<unknown> {
  const parts = wholePeriods(q, 'day');
  const ownZone = q.devices.every((d) => d.dayZone === d.timezone);
  const weekdayHours = q.weekdaysOnly ? sql`AND e.hour IN (SELECT hour FROM h)` : sql``;
  if (!parts || (q.weekdaysOnly && !ownZone)) {
    return sql`SELECT ${columns} FROM ${sql.table(hourly)} e
               WHERE e.device_id = ANY(${ids(q)}::uuid[]) AND e.hour >= ${q.from} AND e.hour < ${q.to} ${weekdayHours}`;
  }
  return sql`SELECT ${columns} FROM ${sql.table(daily)} e
             WHERE e.device_id = ANY(${ids(q)}::uuid[]) AND e.day >= ${parts.first}::date AND e.day < ${parts.end}::date
               ${q.weekdaysOnly ? sql`AND date_part('isodow', e.day) <= 5` : sql``}
             UNION ALL
             SELECT ${columns} FROM ${sql.table(hourly)} e
             WHERE e.device_id = ANY(${ids(q)}::uuid[])
               AND ((e.hour >= ${q.from} AND e.hour < ${parts.firstStart}) OR (e.hour >= ${parts.endStart} AND e.hour < ${q.to})) ${weekdayHours}`;
}

/** Speed figures summed over a set of hours. */
export interface VolumeFigures {
  count: number;
  sum: number;
  sum_squares: number;
  min: number | null;
  max: number | null;
  speeding: number;
}

/** The range's volume three ways: in total, per local weekday and hour, and per local date. */
export interface Volume {
  total: VolumeFigures;
  /** `dow` 1 = Monday; `hour` the local hour of day. */
  byHourOfWeek: (VolumeFigures & { dow: number; hour: number })[];
  /** `hours`: how many hours of the date had traffic. */
  byDate: (VolumeFigures & { date: string; hours: number })[];
}

/**
 * Speed count, sums, extremes and speeding count of the range: summed per UTC hour over the devices,
 * then in one pass per local weekday and hour, per local date and in total (GROUPING SETS), so a year
 * comes back as ~530 rows, not 8,760.
 */
export async function speedVolume(db: Conn, q: RangeQuery): Promise<Volume> {
  const result = await sql<VolumeFigures & { date: string | null; dow: number | null; hour: number | null; hours: number; level: number }>`
    WITH per_hour AS (
      SELECT r.hour AT TIME ZONE ${zoneOf(q)} AS local_ts, sum(r.speed_count)::int AS count, sum(r.speed_sum)::float8 AS sum,
             sum(r.speed_sum_squares)::float8 AS sum_squares, min(r.speed_min)::float8 AS min, max(r.speed_max)::float8 AS max,
             sum(r.speeding)::int AS speeding
      FROM event_rollups_hourly r
      WHERE r.device_id = ANY(${ids(q)}::uuid[]) AND r.hour >= ${q.from} AND r.hour < ${q.to} AND r.speed_count > 0
      GROUP BY r.hour
    ), local AS (
      SELECT local_ts::date AS date, date_part('isodow', local_ts)::int AS dow, date_part('hour', local_ts)::int AS hour,
             count, sum, sum_squares, min, max, speeding
      FROM per_hour
    )
    SELECT to_char(date, 'YYYY-MM-DD') AS date, dow, hour, coalesce(sum(count), 0)::int AS count, coalesce(sum(sum), 0)::float8 AS sum,
           coalesce(sum(sum_squares), 0)::float8 AS sum_squares, min(min) AS min, max(max) AS max,
           coalesce(sum(speeding), 0)::int AS speeding, count(*)::int AS hours, GROUPING(date, dow, hour) AS level
    FROM local ${q.weekdaysOnly ? sql`WHERE dow <= 5` : sql``}
    GROUP BY GROUPING SETS ((dow, hour), (date), ())`.execute(db);
  const figures = ({ count, sum, sum_squares, min, max, speeding }: VolumeFigures): VolumeFigures => ({ count, sum, sum_squares, min, max, speeding });
  const volume: Volume = { total: { count: 0, sum: 0, sum_squares: 0, min: null, max: null, speeding: 0 }, byHourOfWeek: [], byDate: [] };
  for (const row of result.rows) {
    // GROUPING(date, dow, hour): 0b100 = grouped by weekday and hour, 0b011 = by date, 0b111 = the total.
    if (row.level === 0b100) volume.byHourOfWeek.push({ ...figures(row), dow: row.dow!, hour: row.hour! });
    else if (row.level === 0b011) volume.byDate.push({ ...figures(row), date: row.date!, hours: row.hours });
    else volume.total = figures(row);
  }
  return volume;
}

/** The merged 1-unit speed histogram. */
export async function speedBins(db: Conn, q: RangeQuery) {
  const result = await sql<{ bin: number; count: number }>`
    ${withLocalHours(q)}
    SELECT bin, sum(count)::int AS count FROM (${dailyAndEdges(q, sql`e.bin, e.count`, 'speed_histogram_daily', 'speed_histogram_hourly')}) b
    GROUP BY bin`.execute(db);
  return result.rows;
}

export interface ExcessRow {
  speed_limit: number;
  excess: number;
  count: number;
}

/** Speeds by excess over the limit in force, per limit. */
export async function speedExcess(db: Conn, q: RangeQuery): Promise<ExcessRow[]> {
  const result = await sql<ExcessRow>`
    ${withLocalHours(q)}
    SELECT speed_limit::float8 AS speed_limit, excess, count FROM (
      SELECT speed_limit, excess, sum(count)::int AS count
      FROM (${dailyAndEdges(q, sql`e.speed_limit, e.excess, e.count`, 'speed_excess_daily', 'speed_excess_hourly')}) x
      GROUP BY 1, 2) per_excess`.execute(db);
  return result.rows;
}

/**
 * The speed histogram per local hour of day (for each hour's percentiles). Whole local months come from
 * `speed_histogram_hour_of_day` (migration 0024) when the months are in the devices' own zone and every
 * weekday counts; the other hours from the hourly rows, each placed at its local hour. Several devices'
 * hourly rows are first summed per UTC hour, so each hour is placed once (100 radars' month: 390 against
 * 730 ms measured); one device's go straight to their local hour (17 against 10 ms).
 */
export async function hourOfDayBins(db: Conn, q: RangeQuery) {
  const months = !q.weekdaysOnly && q.devices.every((d) => d.dayZone === d.timezone) ? wholePeriods(q, 'month') : undefined;
  const hours = months
    ? sql`((b.hour >= ${q.from} AND b.hour < ${months.firstStart}) OR (b.hour >= ${months.endStart} AND b.hour < ${q.to}))`
    : sql`b.hour >= ${q.from} AND b.hour < ${q.to}`;
  const inRange = sql`b.device_id = ANY(${ids(q)}::uuid[]) AND ${hours}`;
  const hourly = q.devices.length > 1
    ? sql`SELECT h.local_hour AS hour, p.bin, p.count
          FROM (SELECT b.hour, b.bin, sum(b.count) AS count FROM speed_histogram_hourly b WHERE ${inRange} GROUP BY 1, 2) p JOIN h ON h.hour = p.hour`
    : sql`SELECT h.local_hour AS hour, b.bin, b.count FROM speed_histogram_hourly b JOIN h ON h.hour = b.hour WHERE ${inRange}`;
  const monthly = months
    ? sql`UNION ALL
          SELECT m.local_hour AS hour, m.bin, m.count FROM speed_histogram_hour_of_day m
          WHERE m.device_id = ANY(${ids(q)}::uuid[]) AND m.month >= ${months.first}::date AND m.month < ${months.end}::date`
    : sql``;
  const result = await sql<{ hour: number; bin: number; count: number }>`
    ${withLocalHours(q)}
    SELECT hour, bin, sum(count)::int AS count FROM (${hourly} ${monthly}) x GROUP BY 1, 2`.execute(db);
  return result.rows;
}

/**
 * (Re)builds the traffic rollups of one device from its stored events, over the whole local days (in
 * its day zone) that hold [from, to): the hourly excess, and the daily histogram and excess. One
 * transaction, holding the device's day zone against a re-key. Ingest maintains the same rows per
 * batch; this fills them for data stored before they existed (tests, and a backfill after upgrading).
 */
export async function rebuildTrafficRollups(db: Db, deviceId: string, from: Date, to: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    // The zone the fold keys this device's days in, recorded and held as a fold does.
    const zone = (await sql<{ zone: string }>`WITH ${dayZones(sql`SELECT ${deviceId}::uuid`)} SELECT zone FROM day_zone`.execute(tx)).rows[0]?.zone;
    if (!zone) return;
    const firstDay = localDate(from, zone);
    const lastDay = localDate(new Date(to.getTime() - 1), zone);
    const endDay = nextDate(lastDay);
    // The hours of those days: a day starts at most a day away from its UTC date, so a margin of two.
    const hours = sql`hour >= ${firstDay}::date - 2 AND hour < ${endDay}::date + 2
                      AND (hour AT TIME ZONE ${sql.lit(zone)})::date >= ${firstDay}::date AND (hour AT TIME ZONE ${sql.lit(zone)})::date < ${endDay}::date`;
    const days = sql`day >= ${firstDay}::date AND day < ${endDay}::date`;
    await sql`DELETE FROM speed_excess_hourly WHERE device_id = ${deviceId}::uuid AND ${hours}`.execute(tx);
    await sql`DELETE FROM speed_histogram_daily WHERE device_id = ${deviceId}::uuid AND ${days}`.execute(tx);
    await sql`DELETE FROM speed_excess_daily WHERE device_id = ${deviceId}::uuid AND ${days}`.execute(tx);
    const events = sql`(SELECT device_id, date_trunc('hour', ts) AS hour, speed, speed_limit FROM events
                        WHERE device_id = ${deviceId}::uuid AND ts >= ${firstDay}::date - 2 AND ts < ${endDay}::date + 2 AND speed IS NOT NULL) e`;
    const local = sql`(hour AT TIME ZONE ${sql.lit(zone)})::date`;
    await sql`
      INSERT INTO speed_excess_hourly (device_id, hour, speed_limit, excess, count)
      SELECT device_id, hour, speed_limit, greatest(ceil(speed - speed_limit), 0)::smallint, count(*)
      FROM ${events} WHERE speed_limit IS NOT NULL AND ${hours} GROUP BY 1, 2, 3, 4`.execute(tx);
    await sql`
      INSERT INTO speed_histogram_daily (device_id, day, bin, count)
      SELECT device_id, ${local}, floor(speed)::smallint, count(*)
      FROM ${events} WHERE ${hours} GROUP BY 1, 2, 3`.execute(tx);
    await sql`
      INSERT INTO speed_excess_daily (device_id, day, speed_limit, excess, count)
      SELECT device_id, ${local}, speed_limit, greatest(ceil(speed - speed_limit), 0)::smallint, count(*)
      FROM ${events} WHERE speed_limit IS NOT NULL AND ${hours} GROUP BY 1, 2, 3, 4`.execute(tx);
    await rebuildHourOfDay(tx, deviceId, zone, { first: firstOfMonth(firstDay), end: nextMonth(lastDay) });
  });
}

/**
 * Rebuilds a device's hour-of-day histogram rows (migration 0024) from its hourly histogram, keyed in
 * `zone`: all of them, or those of the local months [first, end) (first days of months).
 */
async function rebuildHourOfDay(tx: Tx, deviceId: string, zone: string, months?: { first: string; end: string }): Promise<void> {
  const local = sql`(hour AT TIME ZONE ${sql.lit(zone)})`;
  const inMonths = months ? sql`AND month >= ${months.first}::date AND month < ${months.end}::date` : sql``;
  // A local month starts at most a day away from its UTC date: a margin of two.
  const near = months ? sql`AND hour >= ${months.first}::date - 2 AND hour < ${months.end}::date + 2` : sql``;
  await sql`DELETE FROM speed_histogram_hour_of_day WHERE device_id = ${deviceId}::uuid ${inMonths}`.execute(tx);
  await sql`
    INSERT INTO speed_histogram_hour_of_day (device_id, month, local_hour, bin, count)
    SELECT device_id, month, local_hour, bin, sum(count) FROM (
      SELECT device_id, date_trunc('month', ${local})::date AS month, date_part('hour', ${local})::smallint AS local_hour, bin, count
      FROM speed_histogram_hourly WHERE device_id = ${deviceId}::uuid ${near}) h
    WHERE true ${inMonths}
    GROUP BY 1, 2, 3, 4`.execute(tx);
}

/** Devices whose daily traffic rollups are keyed in a zone other than their time zone now (a site or organization changed zone, or the device moved). */
export async function staleDayZones(db: Db, limit: number): Promise<{ deviceId: string; zone: string }[]> {
  const result = await sql<{ deviceId: string; zone: string }>`
    SELECT z.device_id AS "deviceId", COALESCE(s.timezone, o.timezone) AS zone
    FROM traffic_day_zones z JOIN devices d ON d.id = z.device_id JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
    WHERE z.zone <> COALESCE(s.timezone, o.timezone)
    ORDER BY z.device_id LIMIT ${limit}`.execute(db);
  return result.rows;
}

/**
 * Re-keys a device's daily and hour-of-day traffic rollups into `zone` from its hourly ones, in one transaction. The
 * zone row is updated first: folds and deletes of this device wait for the re-key (they hold the row
 * FOR SHARE), and a fold already holding it finishes, with its hourly rows, before the re-key reads them.
 */
export async function rekeyDays(db: Db, deviceId: string, zone: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const updated = await sql`UPDATE traffic_day_zones SET zone = ${zone} WHERE device_id = ${deviceId}::uuid AND zone <> ${zone}`.execute(tx);
    if (Number(updated.numAffectedRows ?? 0) === 0) return;
    const local = sql`(hour AT TIME ZONE ${sql.lit(zone)})::date`;
    await sql`DELETE FROM speed_histogram_daily WHERE device_id = ${deviceId}::uuid`.execute(tx);
    await sql`DELETE FROM speed_excess_daily WHERE device_id = ${deviceId}::uuid`.execute(tx);
    await sql`INSERT INTO speed_histogram_daily (device_id, day, bin, count)
              SELECT device_id, ${local}, bin, sum(count) FROM speed_histogram_hourly WHERE device_id = ${deviceId}::uuid GROUP BY 1, 2, 3`.execute(tx);
    await sql`INSERT INTO speed_excess_daily (device_id, day, speed_limit, excess, count)
              SELECT device_id, ${local}, speed_limit, excess, sum(count) FROM speed_excess_hourly WHERE device_id = ${deviceId}::uuid GROUP BY 1, 2, 3, 4`.execute(tx);
    await rebuildHourOfDay(tx, deviceId, zone);
  });
}
