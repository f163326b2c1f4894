import { sql } from 'kysely';
import { arrayLiteral } from '../core/db/array-literal.js';
import type { Db, Tx } from '../core/db/database.js';
import type { EventItem } from './items.js';

/**
 * Every SQL statement of the write path: the batch inserts of events and telemetry with their pending
 * rollup rows. Each batch is one multi-row statement (`INSERT … SELECT FROM unnest`).
 */
type Conn = Db | Tx;

// Partition DDL is shared with retention (the layout by organization); ingest creates months ahead and on demand.
export {
  createPartition, defaultPartitionBound, existingPartitions, partitionName, raiseDefaultPartitionBound, type PartitionedTable,
} from '../core/db/partitions.js';

export interface DeviceRef {
  orgId: string;
  deviceId: string;
  siteId: string | null;
}

/** An event of a given device: batches of several devices are written in one statement. */
export interface DeviceEvent {
  device: DeviceRef;
  item: EventItem;
  /** Set once stored. */
  id?: number;
}

/**
 * Inserts events, of one or many devices, and records the newly stored ones as pending for the hourly
 * rollups and speed histograms (folded by the rollups domain; one pending row per device), all in one
 * statement: a resent event is not stored, not returned, and so not counted twice. Returns the events
 * newly stored, each with its `id` set.
 *
 * `resent` chooses the statement: events all new (the common case) go in with a plain insert, as cheap
 * as a raw one, that stores every event or fails whole; their ids are drawn in the statement, in input
 * order, so nothing is read back from the rows written. Events that may have been stored before
 * (`resent`, after the plain insert met a unique violation) are skipped with ON CONFLICT DO NOTHING,
 * whose speculative insertion costs a third more, and the rows stored are returned.
 */
export async function insertEvents(db: Conn, events: DeviceEvent[], resent = false): Promise<DeviceEvent[]> {
  const input = sql`unnest(
        ${events.map((e) => e.device.orgId)}::uuid[], ${events.map((e) => e.device.deviceId)}::uuid[], ${events.map((e) => e.device.siteId)}::uuid[],
        ${events.map((e) => e.item.ts.toISOString())}::timestamptz[], ${events.map((e) => e.item.deviceTs)}::text[],
        ${events.map((e) => e.item.clientRef)}::text[], ${events.map((e) => e.item.kind)}::text[],
        ${events.map((e) => e.item.speed)}::real[], ${events.map((e) => e.item.speedLimit)}::real[],
        ${events.map((e) => e.item.severity)}::text[], ${events.map((e) => JSON.stringify(e.item.attributes))}::jsonb[]
      )`;
  const columns = sql`org_id, device_id, site_id, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes`;
  const pending = (from: string) => sql`
      INSERT INTO event_rollup_pending (org_id, device_id, ts, kind, speed, speed_limit)
      SELECT org_id, device_id, array_agg(ts), array_agg(kind), array_agg(speed), array_agg(speed_limit)
      FROM ${sql.table(from)} GROUP BY org_id, device_id`;
  if (!resent) {
    const result = await sql<{ id: number }>`
      WITH input AS MATERIALIZED (
        SELECT nextval('events_id_seq') AS id, t.*
        FROM ${input} WITH ORDINALITY AS t(${columns}, n)
      ), stored AS (
        INSERT INTO events (id, ${columns}) SELECT id, ${columns} FROM input
      ), pending AS (${pending('input')})
      SELECT id FROM input ORDER BY n`.execute(db);
    result.rows.forEach((row, index) => (events[index]!.id = row.id));
    return events;
  }
  const result = await sql<{ id: number; device_id: string; ts: Date; client_ref: string }>`
    WITH stored AS (
      INSERT INTO events (${columns})
      SELECT ${columns} FROM ${input} AS t(${columns})
      ON CONFLICT (org_id, device_id, ts, client_ref) DO NOTHING
      RETURNING id, ${columns}
    ), pending AS (${pending('stored')})
    SELECT id, device_id, ts, client_ref FROM stored`.execute(db);
  const ids = new Map(result.rows.map((row) => [eventKey(row.device_id, row.ts, row.client_ref), row.id]));
  return events.filter((event) => {
    const key = eventKey(event.device.deviceId, event.item.ts, event.item.clientRef);
    event.id = ids.get(key);
    // An event queued twice in one statement was stored once: the first of them gets the id.
    ids.delete(key);
    return event.id !== undefined;
  });
}

/** What makes an event the same event: its device, its time and its client reference. */
export function eventKey(deviceId: string, ts: Date, clientRef: string): string {
  return `${deviceId}|${ts.getTime()}|${clientRef}`;
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

/** The hourly aggregates a set of readings adds to the rollups, as rows waiting for the fold. */
function pendingTelemetry(from: string) {
  return sql`
    INSERT INTO telemetry_rollup_pending (org_id, device_id, metric, hour, count, sum, min, max)
    SELECT org_id, device_id, metric, date_trunc('hour', ts), count(*), sum(value), min(value), max(value)
    FROM ${sql.table(from)} GROUP BY 1, 2, 3, 4`;
}

/**
 * Inserts telemetry readings, of one or many devices, and records the new ones for the hourly rollups
 * (their count, sum, min and max per device, metric and hour), in one statement; returns the readings
 * newly stored. A plain insert (`resent` false, see insertEvents) either stores every reading or fails
 * whole, so it returns nothing from the database: the input is the answer.
 */
export async function insertTelemetry(db: Conn, readings: DeviceReading[], resent = false): Promise<DeviceReading[]> {
  const orgs: string[] = [];
  const devices: string[] = [];
  const times: string[] = [];
  const metrics: string[] = [];
  const values: number[] = [];
  // The readings of one item share its Date: each time is formatted once, not once per key.
  let lastTs: Date | undefined;
  let lastTime = '';
  for (const reading of readings) {
    if (reading.ts !== lastTs) {
      lastTs = reading.ts;
      lastTime = reading.ts.toISOString();
    }
    orgs.push(reading.orgId);
    devices.push(reading.deviceId);
    times.push(lastTime);
    metrics.push(reading.metric);
    values.push(reading.value);
  }
  const input = sql`unnest(${arrayLiteral(orgs)}::uuid[], ${arrayLiteral(devices)}::uuid[], ${arrayLiteral(times)}::timestamptz[],
                           ${arrayLiteral(metrics)}::text[], ${arrayLiteral(values)}::float8[]) AS t(org_id, device_id, ts, metric, value)`;
  if (!resent) {
    await sql`
      WITH input AS MATERIALIZED (SELECT * FROM ${input}),
      stored AS (INSERT INTO telemetry (org_id, device_id, ts, metric, value) SELECT * FROM input)
      ${pendingTelemetry('input')}`.execute(db);
    return readings;
  }
  const result = await sql<DeviceReading>`
    WITH stored AS (
      INSERT INTO telemetry (org_id, device_id, ts, metric, value)
      SELECT * FROM ${input}
      ON CONFLICT (org_id, device_id, metric, ts) DO NOTHING
      RETURNING org_id, device_id, ts, metric, value
    ), pending AS (${pendingTelemetry('stored')})
    SELECT org_id AS "orgId", device_id AS "deviceId", ts, metric, value FROM stored`.execute(db);
  return result.rows;
}

/** A non-numeric value of a given device (string, JSON, boolean), kept as sent. */
export interface DeviceTypedValue {
  orgId: string;
  deviceId: string;
  ts: Date;
  key: string;
  value: unknown;
}

/**
 * Inserts typed values, skipping those stored before (a resent reading); returns the `key|ts ms` of the
 * values newly stored. Few devices send them, and in small numbers: one statement per batch, no coalescing.
 */
export async function insertTelemetryValues(db: Conn, values: DeviceTypedValue[]): Promise<Set<string>> {
  const result = await sql<{ key: string; ts: Date }>`
    INSERT INTO telemetry_values (org_id, device_id, key, ts, value)
    SELECT * FROM unnest(${values.map((v) => v.orgId)}::uuid[], ${values.map((v) => v.deviceId)}::uuid[], ${values.map((v) => v.key)}::text[],
                         ${values.map((v) => v.ts.toISOString())}::timestamptz[], ${values.map((v) => JSON.stringify(v.value))}::jsonb[])
    ON CONFLICT (device_id, key, ts) DO NOTHING
    RETURNING key, ts`.execute(db);
  return new Set(result.rows.map((r) => `${r.key}|${r.ts.getTime()}`));
}
