import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { EventItem } from './items.js';

/**
 * Every SQL statement of the write path: the batch inserts of events and telemetry with their pending
 * rollup rows. Each batch is one multi-row statement (`INSERT … SELECT FROM unnest`).
 */
type Conn = Db | Tx;

// Partition DDL is shared with retention (the layout by organization); ingest creates months ahead and on demand.
export { createPartition, existingPartitions, partitionName, type PartitionedTable } from '../core/db/partitions.js';

export interface DeviceRef {
  orgId: string;
  deviceId: string;
  siteId: string | null;
}

/**
 * Inserts a batch of events and records the newly stored ones as pending for the hourly rollups and
 * speed histograms (folded by the rollups domain), all in one statement: a resent event is not
 * stored, not returned, and so not counted twice.
 *
 * `resent` chooses the statement: a batch of new events (the common case) is a plain insert, as cheap
 * as a raw one; a batch that may hold stored events (`resent`, after the plain insert met a unique
 * violation) skips them with ON CONFLICT DO NOTHING, whose speculative insertion costs a third more.
 */
export async function insertEvents(db: Conn, device: DeviceRef, items: EventItem[], resent = false) {
  const result = await sql<{ id: number; ts: Date; client_ref: string }>`
    WITH stored AS (
      INSERT INTO events (org_id, device_id, site_id, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes)
      SELECT ${device.orgId}::uuid, ${device.deviceId}::uuid, ${device.siteId}::uuid, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes
      FROM unnest(
        ${items.map((i) => i.ts.toISOString())}::timestamptz[], ${items.map((i) => i.deviceTs)}::text[],
        ${items.map((i) => i.clientRef)}::text[], ${items.map((i) => i.kind)}::text[],
        ${items.map((i) => i.speed)}::real[], ${items.map((i) => i.speedLimit)}::real[],
        ${items.map((i) => i.severity)}::text[], ${items.map((i) => JSON.stringify(i.attributes))}::jsonb[]
      ) AS t(ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes)
      ${resent ? sql`ON CONFLICT (org_id, device_id, ts, client_ref) DO NOTHING` : sql``}
      RETURNING id, ts, client_ref, kind, speed, speed_limit
    ), pending AS (
      INSERT INTO event_rollup_pending (org_id, device_id, ts, kind, speed, speed_limit)
      SELECT ${device.orgId}::uuid, ${device.deviceId}::uuid, array_agg(ts), array_agg(kind), array_agg(speed), array_agg(speed_limit)
      FROM stored HAVING count(*) > 0
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

/** A reading of a given device: telemetry batches of several devices are written in one statement. */
export interface DeviceReading extends Reading {
  orgId: string;
  deviceId: string;
}

/**
 * Inserts telemetry readings, of one or many devices, and records the new ones as pending for the
 * hourly rollups (one pending row per device), in one statement (see insertEvents for `resent`).
 */
export async function insertTelemetry(db: Conn, readings: DeviceReading[], resent = false) {
  const result = await sql<DeviceReading>`
    WITH stored AS (
      INSERT INTO telemetry (org_id, device_id, ts, metric, value)
      SELECT * FROM unnest(${readings.map((r) => r.orgId)}::uuid[], ${readings.map((r) => r.deviceId)}::uuid[],
                           ${readings.map((r) => r.ts.toISOString())}::timestamptz[], ${readings.map((r) => r.metric)}::text[],
                           ${readings.map((r) => r.value)}::float8[]) AS t(org_id, device_id, ts, metric, value)
      ${resent ? sql`ON CONFLICT (org_id, device_id, metric, ts) DO NOTHING` : sql``}
      RETURNING org_id, device_id, ts, metric, value
    ), pending AS (
      INSERT INTO telemetry_rollup_pending (org_id, device_id, ts, metric, value)
      SELECT org_id, device_id, array_agg(ts), array_agg(metric), array_agg(value)
      FROM stored GROUP BY org_id, device_id
    )
    SELECT org_id AS "orgId", device_id AS "deviceId", ts, metric, value FROM stored`.execute(db);
  return result.rows;
}
