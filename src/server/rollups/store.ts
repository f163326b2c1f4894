import { sql, type RawBuilder } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';

/**
 * The fold of pending batches into the hourly rollups (the ingest statement adds one pending row per
 * batch; see migration 0011). One statement per table takes up to `limit` pending batches, deletes
 * them and adds their items to the rollups, grouped across all batches at once.
 *
 * `wait` decides what happens with batches another fold is working on: a background fold skips them
 * (SKIP LOCKED), a reader's fold waits for them, so that a read sees every batch committed before it.
 * Rollup rows are upserted in one order (device, hour, …) so concurrent folds queue, never deadlock.
 */
type Conn = Db | Tx;

export async function foldEvents(db: Conn, limit: number, wait: boolean): Promise<number> {
  const result = await sql<{ batches: number }>`
    WITH batch AS (
      DELETE FROM event_rollup_pending WHERE id IN (
        SELECT id FROM event_rollup_pending ORDER BY id LIMIT ${limit} FOR UPDATE ${wait ? sql`` : sql`SKIP LOCKED`})
      RETURNING org_id, device_id, ts, kind, speed, speed_limit
    ), item AS (
      SELECT b.org_id, b.device_id, date_trunc('hour', u.ts) AS hour, u.kind, u.speed, u.speed_limit
      FROM batch b, unnest(b.ts, b.kind, b.speed, b.speed_limit) AS u(ts, kind, speed, speed_limit)
    ), ${dayZones(sql`SELECT device_id FROM batch`)}, rollup AS (
      INSERT INTO event_rollups_hourly AS r
        (org_id, device_id, hour, kind, events, speed_count, speed_sum, speed_sum_squares, speed_min, speed_max, speeding)
      SELECT org_id, device_id, hour, kind, count(*), count(speed), coalesce(sum(speed), 0),
             coalesce(sum(speed::float8 * speed), 0), min(speed), max(speed),
             -- Speeding: strictly above the limit in force at the event.
             count(*) FILTER (WHERE speed > speed_limit)
      FROM item GROUP BY org_id, device_id, hour, kind
      ORDER BY device_id, hour, kind
      ON CONFLICT (device_id, hour, kind) DO UPDATE SET
        events = r.events + EXCLUDED.events,
        speed_count = r.speed_count + EXCLUDED.speed_count,
        speed_sum = r.speed_sum + EXCLUDED.speed_sum,
        speed_sum_squares = r.speed_sum_squares + EXCLUDED.speed_sum_squares,
        speed_min = LEAST(r.speed_min, EXCLUDED.speed_min),
        speed_max = GREATEST(r.speed_max, EXCLUDED.speed_max),
        speeding = r.speeding + EXCLUDED.speeding
    ), bins AS (
      SELECT device_id, hour, floor(speed)::smallint AS bin, count(*)::int AS count
      FROM item WHERE speed IS NOT NULL GROUP BY 1, 2, 3
    ), excesses AS (
      -- Traffic statistics (migration 0006): speeds by how far above the limit in force; 0 for every
      -- speed not above it (migration 0022).
      SELECT device_id, hour, speed_limit, greatest(ceil(speed - speed_limit), 0)::smallint AS excess, count(*)::int AS count
      FROM item WHERE speed IS NOT NULL AND speed_limit IS NOT NULL GROUP BY 1, 2, 3, 4
    ), hour_day AS (
      -- The local date each hour's daily rows go under (migration 0021), and its local month and hour of day
      -- (0024), worked out once per device and hour.
      SELECT device_id, hour, local_ts::date AS day, date_trunc('month', local_ts)::date AS month, date_part('hour', local_ts)::smallint AS local_hour
      FROM (SELECT h.device_id, h.hour, h.hour AT TIME ZONE z.zone AS local_ts
            FROM (SELECT DISTINCT device_id, hour FROM item) h JOIN day_zone z USING (device_id)) l
    ), histogram AS (
      INSERT INTO speed_histogram_hourly AS h (device_id, hour, bin, count)
      SELECT device_id, hour, bin, count FROM bins
      ORDER BY device_id, hour, bin
      ON CONFLICT (device_id, hour, bin) DO UPDATE SET count = h.count + EXCLUDED.count
    ), excess AS (
      INSERT INTO speed_excess_hourly AS x (device_id, hour, speed_limit, excess, count)
      SELECT device_id, hour, speed_limit, excess, count FROM excesses
      ORDER BY 1, 2, 3, 4
      ON CONFLICT (device_id, hour, speed_limit, excess) DO UPDATE SET count = x.count + EXCLUDED.count
    ), daily_histogram AS (
      INSERT INTO speed_histogram_daily AS d (device_id, day, bin, count)
      SELECT b.device_id, hd.day, b.bin, sum(b.count)
      FROM bins b JOIN hour_day hd USING (device_id, hour) GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3
      ON CONFLICT (device_id, day, bin) DO UPDATE SET count = d.count + EXCLUDED.count
    ), daily_excess AS (
      INSERT INTO speed_excess_daily AS x (device_id, day, speed_limit, excess, count)
      SELECT e.device_id, hd.day, e.speed_limit, e.excess, sum(e.count)
      FROM excesses e JOIN hour_day hd USING (device_id, hour) GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
      ON CONFLICT (device_id, day, speed_limit, excess) DO UPDATE SET count = x.count + EXCLUDED.count
    ), hour_of_day AS (
      INSERT INTO speed_histogram_hour_of_day AS m (device_id, month, local_hour, bin, count)
      SELECT b.device_id, hd.month, hd.local_hour, b.bin, sum(b.count)
      FROM bins b JOIN hour_day hd USING (device_id, hour) GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
      ON CONFLICT (device_id, month, local_hour, bin) DO UPDATE SET count = m.count + EXCLUDED.count
    )
    SELECT count(*)::int AS batches FROM batch`.execute(db);
  return result.rows[0]!.batches;
}

/**
 * CTEs `day_zone (device_id, zone)`: the zone keying the daily traffic rollups of each of `devices`
 * (migration 0021), locked against a re-key until the statement's transaction ends; a device without
 * one gets its current time zone, recorded here.
 */
export function dayZones(devices: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`recorded_zone AS (
      SELECT device_id, zone FROM traffic_day_zones WHERE device_id IN (${devices}) FOR SHARE
    ), day_zone AS (
      SELECT device_id, zone FROM recorded_zone
      UNION ALL
      SELECT d.id, COALESCE(s.timezone, o.timezone)
      FROM devices d JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
      WHERE d.id IN (${devices}) AND d.id NOT IN (SELECT device_id FROM recorded_zone)
    ), zone_recorded AS (
      INSERT INTO traffic_day_zones (device_id, zone)
      SELECT device_id, zone FROM day_zone WHERE device_id NOT IN (SELECT device_id FROM recorded_zone)
      ORDER BY device_id
      ON CONFLICT (device_id) DO NOTHING
    )`;
}

export async function foldTelemetry(db: Conn, limit: number, wait: boolean): Promise<number> {
  const result = await sql<{ batches: number }>`
    WITH batch AS (
      DELETE FROM telemetry_rollup_pending WHERE id IN (
        SELECT id FROM telemetry_rollup_pending ORDER BY id LIMIT ${limit} FOR UPDATE ${wait ? sql`` : sql`SKIP LOCKED`})
      RETURNING org_id, device_id, metric, hour, count, sum, min, max
    ), rollup AS (
      INSERT INTO telemetry_rollups_hourly AS r (org_id, device_id, metric, hour, count, sum, min, max)
      SELECT org_id, device_id, metric, hour, sum(count), sum(sum), min(min), max(max)
      FROM batch GROUP BY org_id, device_id, metric, hour
      ORDER BY device_id, metric, hour
      ON CONFLICT (device_id, metric, hour) DO UPDATE SET
        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
        min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)
    ), dirty AS (
      -- A reading may hold into the next hour, so that hour's equipment figures change too.
      INSERT INTO equipment_hours_dirty (device_id, hour)
      SELECT DISTINCT device_id, h FROM batch, LATERAL (VALUES (hour), (hour + interval '1 hour')) AS x(h)
      WHERE metric IN (${sql.join(EQUIPMENT_METRICS)})
      ORDER BY device_id, h
      ON CONFLICT (device_id, hour) DO UPDATE SET marked_at = now()
    )
    SELECT count(*)::int AS batches FROM batch`.execute(db);
  return result.rows[0]!.batches;
}

/** How long an hour must go without new readings before the background derives its figures. */
const QUIET_SECONDS = 15;

/** The metrics equipment figures are derived from (the Polo Sanca telemetry names). */
export const EQUIPMENT_METRICS = ['temperature', 'door', 'compressor'];

/**
 * Recomputes the equipment figures of up to `limit` dirty hours from the raw readings, whole. Each
 * reading holds until the next reading of its metric, at most `holdSeconds`; spans are clipped to the
 * hour. Door and compressor count as on when their value is 1. Returns the hours done.
 * `endedOnly` leaves hours still in progress, and hours marked in the last QUIET_SECONDS (a device
 * uploading a backlog): recomputing an hour after every fold would re-read all of its readings each
 * second, quadratic in the hour's readings. A read settles every dirty hour first.
 */
export async function deriveEquipmentHours(db: Conn, limit: number, holdSeconds: number, wait: boolean, endedOnly: boolean): Promise<number> {
  const hold = sql`make_interval(secs => ${holdSeconds})`;
  const result = await sql<{ hours: number }>`
    WITH dirty AS (
      DELETE FROM equipment_hours_dirty WHERE (device_id, hour) IN (
        SELECT device_id, hour FROM equipment_hours_dirty
        ${endedOnly ? sql`WHERE hour <= now() - interval '1 hour' AND marked_at <= now() - make_interval(secs => ${QUIET_SECONDS})` : sql``}
        ORDER BY device_id, hour LIMIT ${limit} FOR UPDATE ${wait ? sql`` : sql`SKIP LOCKED`})
      RETURNING device_id, hour
    ), reading AS (
      SELECT d.device_id, d.hour, t.metric, t.value, t.ts,
             lead(t.ts) OVER (PARTITION BY d.device_id, d.hour, t.metric ORDER BY t.ts) AS next_ts
      FROM dirty d JOIN telemetry t ON t.device_id = d.device_id
        AND t.ts >= d.hour - ${hold} AND t.ts < d.hour + interval '1 hour'
        AND t.metric IN (${sql.join(EQUIPMENT_METRICS)})
    ), span AS (
      SELECT device_id, hour, metric, value, ts,
             extract(epoch FROM least(coalesce(next_ts, ts + ${hold}), ts + ${hold}, hour + interval '1 hour') - greatest(ts, hour)) AS seconds
      FROM reading
    ), figures AS (
      SELECT s.device_id, s.hour,
             coalesce(sum(s.seconds) FILTER (WHERE s.metric = 'temperature'), 0) AS covered,
             coalesce(sum(s.seconds) FILTER (WHERE s.metric = 'door' AND s.value = 1), 0) AS door_open,
             coalesce(sum(s.seconds) FILTER (WHERE s.metric = 'compressor'), 0) AS compressor_observed,
             coalesce(sum(s.seconds) FILTER (WHERE s.metric = 'compressor' AND s.value = 1), 0) AS compressor_on,
             sum(s.seconds) FILTER (WHERE s.metric = 'temperature' AND (s.value < r.min OR s.value > r.max)) AS outside,
             min(s.value) FILTER (WHERE s.metric = 'temperature' AND s.ts >= s.hour) AS t_min,
             max(s.value) FILTER (WHERE s.metric = 'temperature' AND s.ts >= s.hour) AS t_max,
             bool_or(r.min IS NOT NULL AND r.max IS NOT NULL) AS has_range
      FROM span s
      JOIN devices dev ON dev.id = s.device_id
      LEFT JOIN LATERAL (SELECT (dev.settings #>> '{safeRange,min}')::float8 AS min, (dev.settings #>> '{safeRange,max}')::float8 AS max) r ON true
      WHERE s.seconds > 0
      GROUP BY s.device_id, s.hour
    ), written AS (
      INSERT INTO equipment_hourly AS e (org_id, device_id, hour, covered_seconds, door_open_seconds, compressor_observed_seconds,
                                         compressor_on_seconds, outside_range_seconds, temperature_min, temperature_max)
      SELECT dev.org_id, f.device_id, f.hour, f.covered, f.door_open, f.compressor_observed, f.compressor_on,
             CASE WHEN f.has_range THEN coalesce(f.outside, 0) END, f.t_min, f.t_max
      FROM figures f JOIN devices dev ON dev.id = f.device_id
      ORDER BY f.device_id, f.hour
      ON CONFLICT (device_id, hour) DO UPDATE SET
        covered_seconds = EXCLUDED.covered_seconds, door_open_seconds = EXCLUDED.door_open_seconds,
        compressor_observed_seconds = EXCLUDED.compressor_observed_seconds, compressor_on_seconds = EXCLUDED.compressor_on_seconds,
        outside_range_seconds = EXCLUDED.outside_range_seconds, temperature_min = EXCLUDED.temperature_min, temperature_max = EXCLUDED.temperature_max
    )
    SELECT count(*)::int AS hours FROM dirty`.execute(db);
  return result.rows[0]!.hours;
}

/** Whether any batch waits to be folded (an index probe: cheap enough to run before every rollup read). */
export async function hasPending(db: Conn, table: 'events' | 'telemetry' | 'equipment'): Promise<boolean> {
  const pending = { events: sql`event_rollup_pending`, telemetry: sql`telemetry_rollup_pending`, equipment: sql`equipment_hours_dirty` }[table];
  const result = await sql<{ one: number }>`SELECT 1 AS one FROM ${pending} LIMIT 1`.execute(db);
  return result.rows.length > 0;
}
