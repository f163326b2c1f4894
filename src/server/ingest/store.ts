import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { EventItem } from './items.js';

/**
 * Every SQL statement of the write path: partitions, batch inserts of events and telemetry, and the
 * hourly rollups they update. Each batch is one multi-row statement (`INSERT … SELECT FROM unnest`).
 */
type Conn = Db | Tx;

export type PartitionedTable = 'events' | 'telemetry';

/** `events_y2026m11` for the month that contains `date` (UTC months). */
export function partitionName(table: PartitionedTable, date: Date): string {
  return `${table}_y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Creates the month's partition if it is missing. A transaction-scoped advisory lock on the name
 * keeps two processes from racing on the same partition.
 */
export async function createPartition(db: Db, table: PartitionedTable, month: Date): Promise<void> {
  const from = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1));
  const to = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
  const name = partitionName(table, from);
  await db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${name}))`.execute(tx);
    await sql`CREATE TABLE IF NOT EXISTS ${sql.table(name)} PARTITION OF ${sql.table(table)}
              FOR VALUES FROM (${sql.lit(from.toISOString())}) TO (${sql.lit(to.toISOString())})`.execute(tx);
  });
}

export async function existingPartitions(db: Conn, table: PartitionedTable): Promise<string[]> {
  const result = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table}`.execute(db);
  return result.rows.map((r) => r.name);
}

export interface DeviceRef {
  orgId: string;
  deviceId: string;
  siteId: string | null;
}

/**
 * Speeding means strictly above the limit in force at the event (a car at the posted limit is not
 * speeding), as traffic studies count "over the limit".
 *
 * Inserts a batch of events and folds the newly stored ones into the hourly rollups and speed
 * histograms, all in one statement: a resent event conflicts, is not returned, and so is not counted twice.
 */
export async function insertEvents(db: Conn, device: DeviceRef, items: EventItem[]) {
  const result = await sql<{ id: number; ts: Date; client_ref: string }>`
    WITH input AS (
      SELECT * FROM unnest(
        ${items.map((i) => i.ts.toISOString())}::timestamptz[], ${items.map((i) => i.deviceTs)}::text[],
        ${items.map((i) => i.clientRef)}::text[], ${items.map((i) => i.kind)}::text[],
        ${items.map((i) => i.speed)}::real[], ${items.map((i) => i.speedLimit)}::real[],
        ${items.map((i) => i.severity)}::text[], ${items.map((i) => JSON.stringify(i.attributes))}::jsonb[]
      ) AS t(ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes)
    ), stored AS (
      INSERT INTO events (org_id, device_id, site_id, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes)
      SELECT ${device.orgId}::uuid, ${device.deviceId}::uuid, ${device.siteId}::uuid, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes
      FROM input
      ON CONFLICT (device_id, ts, client_ref) DO NOTHING
      RETURNING id, ts, client_ref, kind, speed, speed_limit
    ), rollup AS (
      INSERT INTO event_rollups_hourly AS r
        (org_id, device_id, hour, kind, events, speed_count, speed_sum, speed_sum_squares, speed_min, speed_max, speeding)
      SELECT ${device.orgId}::uuid, ${device.deviceId}::uuid, date_trunc('hour', ts), kind, count(*), count(speed),
             coalesce(sum(speed), 0), coalesce(sum(speed::float8 * speed), 0), min(speed), max(speed),
             count(*) FILTER (WHERE speed > speed_limit)
      FROM stored GROUP BY date_trunc('hour', ts), kind
      -- One lock order for every batch: concurrent batches of a device queue instead of deadlocking.
      ORDER BY date_trunc('hour', ts), kind
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
      SELECT ${device.deviceId}::uuid, date_trunc('hour', ts), floor(speed)::smallint, count(*)
      FROM stored WHERE speed IS NOT NULL GROUP BY date_trunc('hour', ts), floor(speed)
      ORDER BY date_trunc('hour', ts), floor(speed)
      ON CONFLICT (device_id, hour, bin) DO UPDATE SET count = h.count + EXCLUDED.count
    )
    SELECT id, ts, client_ref FROM stored`.execute(db);
  return result.rows;
}

/** The stored ids of events already present (for duplicates: a resend gets the same ids back). */
export async function findEventIds(db: Conn, deviceId: string, keys: { ts: Date; clientRef: string }[]) {
  const result = await sql<{ id: number; ts: Date; client_ref: string; photo_key: string | null }>`
    SELECT e.id, e.ts, e.client_ref, e.photo_key FROM events e
    JOIN unnest(${keys.map((k) => k.ts.toISOString())}::timestamptz[], ${keys.map((k) => k.clientRef)}::text[]) AS k(ts, client_ref)
      ON e.ts = k.ts AND e.client_ref = k.client_ref
    WHERE e.device_id = ${deviceId}::uuid`.execute(db);
  return result.rows;
}

export interface Reading {
  ts: Date;
  metric: string;
  value: number;
}

/** Inserts telemetry readings and folds the new ones into the hourly rollups, in one statement. */
export async function insertTelemetry(db: Conn, device: DeviceRef, readings: Reading[]) {
  const result = await sql<Reading>`
    WITH input AS (
      SELECT * FROM unnest(${readings.map((r) => r.ts.toISOString())}::timestamptz[], ${readings.map((r) => r.metric)}::text[],
                           ${readings.map((r) => r.value)}::float8[]) AS t(ts, metric, value)
    ), stored AS (
      INSERT INTO telemetry (org_id, device_id, ts, metric, value)
      SELECT ${device.orgId}::uuid, ${device.deviceId}::uuid, ts, metric, value FROM input
      ON CONFLICT (device_id, metric, ts) DO NOTHING
      RETURNING ts, metric, value
    ), rollup AS (
      INSERT INTO telemetry_rollups_hourly AS r (org_id, device_id, metric, hour, count, sum, min, max)
      SELECT ${device.orgId}::uuid, ${device.deviceId}::uuid, metric, date_trunc('hour', ts), count(*), sum(value), min(value), max(value)
      FROM stored GROUP BY metric, date_trunc('hour', ts)
      ORDER BY metric, date_trunc('hour', ts)
      ON CONFLICT (device_id, metric, hour) DO UPDATE SET
        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
        min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)
    )
    SELECT ts, metric, value FROM stored`.execute(db);
  return result.rows;
}
