import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';

/** Reads and updates of stored events (the write path is in ingest/store.ts). */
type Conn = Db | Tx;

export interface EventRow {
  id: number;
  device_id: string;
  ts: Date;
  device_ts: string | null;
  kind: string;
  speed: number | null;
  speed_limit: number | null;
  photo_key: string | null;
  received_at: Date;
}

const COLUMNS = sql`id, device_id, ts, device_ts, kind, speed, speed_limit, photo_key, received_at`;

/** One event of one device, by id (ids are unique across partitions). */
export async function findDeviceEvent(db: Conn, orgId: string, eventId: number): Promise<EventRow | undefined> {
  const result = await sql<EventRow>`SELECT ${COLUMNS} FROM events WHERE org_id = ${orgId}::uuid AND id = ${eventId}`.execute(db);
  return result.rows[0];
}

/** A device's events, newest first, by offset (the RushRoster restore call pages this way). */
export async function listDeviceEvents(db: Conn, deviceId: string, options: { limit: number; offset: number; speedingOnly: boolean }) {
  const result = await sql<EventRow>`
    SELECT ${COLUMNS} FROM events
    WHERE device_id = ${deviceId}::uuid ${options.speedingOnly ? sql`AND speed >= speed_limit` : sql``}
    ORDER BY ts DESC, id DESC LIMIT ${options.limit} OFFSET ${options.offset}`.execute(db);
  return result.rows;
}

export async function deviceSpeedSummary(db: Conn, deviceId: string, since: Date) {
  const result = await sql<{ total: number; speeding: number; avg: number | null; max: number | null; min: number | null }>`
    SELECT count(*) AS total, count(*) FILTER (WHERE speed >= speed_limit) AS speeding,
           avg(speed)::float8 AS avg, max(speed)::float8 AS max, min(speed)::float8 AS min
    FROM events WHERE device_id = ${deviceId}::uuid AND ts >= ${since}`.execute(db);
  return result.rows[0]!;
}

export async function setEventPhoto(db: Conn, deviceId: string, eventId: number, photoKey: string): Promise<boolean> {
  const result = await sql`UPDATE events SET photo_key = ${photoKey} WHERE device_id = ${deviceId}::uuid AND id = ${eventId}`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** An event the caller may see: their organization, and their sites when restricted. */
export async function findVisibleEvent(db: Conn, scope: Scope, eventId: number): Promise<EventRow | undefined> {
  const result = await sql<EventRow>`
    SELECT ${COLUMNS} FROM events WHERE org_id = ${scope.orgId}::uuid AND id = ${eventId}
    ${scope.siteIds ? sql`AND site_id = ANY(${scope.siteIds}::uuid[])` : sql``}`.execute(db);
  return result.rows[0];
}
