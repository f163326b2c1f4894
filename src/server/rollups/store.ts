import { sql } from 'kysely';
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
    ), rollup AS (
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
    ), histogram AS (
      INSERT INTO speed_histogram_hourly AS h (device_id, hour, bin, count)
      SELECT device_id, hour, floor(speed)::smallint, count(*)
      FROM item WHERE speed IS NOT NULL GROUP BY device_id, hour, floor(speed)
      ORDER BY device_id, hour, floor(speed)
      ON CONFLICT (device_id, hour, bin) DO UPDATE SET count = h.count + EXCLUDED.count
    )
    SELECT count(*)::int AS batches FROM batch`.execute(db);
  return result.rows[0]!.batches;
}

export async function foldTelemetry(db: Conn, limit: number, wait: boolean): Promise<number> {
  const result = await sql<{ batches: number }>`
    WITH batch AS (
      DELETE FROM telemetry_rollup_pending WHERE id IN (
        SELECT id FROM telemetry_rollup_pending ORDER BY id LIMIT ${limit} FOR UPDATE ${wait ? sql`` : sql`SKIP LOCKED`})
      RETURNING org_id, device_id, ts, metric, value
    ), rollup AS (
      INSERT INTO telemetry_rollups_hourly AS r (org_id, device_id, metric, hour, count, sum, min, max)
      SELECT b.org_id, b.device_id, u.metric, date_trunc('hour', u.ts), count(*), sum(u.value), min(u.value), max(u.value)
      FROM batch b, unnest(b.ts, b.metric, b.value) AS u(ts, metric, value)
      GROUP BY b.org_id, b.device_id, u.metric, date_trunc('hour', u.ts)
      ORDER BY b.device_id, u.metric, date_trunc('hour', u.ts)
      ON CONFLICT (device_id, metric, hour) DO UPDATE SET
        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
        min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)
    )
    SELECT count(*)::int AS batches FROM batch`.execute(db);
  return result.rows[0]!.batches;
}

/** Whether any batch waits to be folded (an index probe: cheap enough to run before every rollup read). */
export async function hasPending(db: Conn, table: 'events' | 'telemetry'): Promise<boolean> {
  const result = table === 'events'
    ? await sql<{ one: number }>`SELECT 1 AS one FROM event_rollup_pending LIMIT 1`.execute(db)
    : await sql<{ one: number }>`SELECT 1 AS one FROM telemetry_rollup_pending LIMIT 1`.execute(db);
  return result.rows.length > 0;
}
