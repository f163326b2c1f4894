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
    WHERE device_id = ${deviceId}::uuid ${options.speedingOnly ? sql`AND speed > speed_limit` : sql``}
    ORDER BY ts DESC, id DESC LIMIT ${options.limit} OFFSET ${options.offset}`.execute(db);
  return result.rows;
}

export async function deviceSpeedSummary(db: Conn, deviceId: string, since: Date) {
  const result = await sql<{ total: number; speeding: number; avg: number | null; max: number | null; min: number | null }>`
    SELECT count(*) AS total, count(*) FILTER (WHERE speed > speed_limit) AS speeding,
           avg(speed)::float8 AS avg, max(speed)::float8 AS max, min(speed)::float8 AS min
    FROM events WHERE device_id = ${deviceId}::uuid AND ts >= ${since}`.execute(db);
  return result.rows[0]!;
}

/** Gives an event its photo unless it has one: a confirmed photo is never replaced. */
export async function setFirstEventPhoto(db: Conn, deviceId: string, eventId: number, photoKey: string): Promise<boolean> {
  const result = await sql`UPDATE events SET photo_key = ${photoKey} WHERE device_id = ${deviceId}::uuid AND id = ${eventId} AND photo_key IS NULL`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Points an event at a newer photo of its own (the server's better picture of a violation); the older stays a kept version. */
export async function setEventPhoto(db: Conn, deviceId: string, eventId: number, photoKey: string): Promise<void> {
  await sql`UPDATE events SET photo_key = ${photoKey} WHERE device_id = ${deviceId}::uuid AND id = ${eventId}`.execute(db);
}

export interface PhotoUpload {
  storageKey: string;
  deviceId: string;
  eventId: number;
  originalSha256: string;
  originalBytes: number;
}

/** Records an upload under its URL's key; false when that key was used before (or its device is gone). */
export async function claimPhotoUpload(db: Conn, upload: PhotoUpload): Promise<boolean> {
  const inserted = await db.insertInto('event_photo_uploads')
    .columns(['storage_key', 'device_id', 'event_id', 'original_sha256', 'original_bytes'])
    .expression((eb) => eb.selectFrom('devices')
      .select([eb.val(upload.storageKey).as('storage_key'), 'id', eb.val(upload.eventId).as('event_id'), eb.val(upload.originalSha256).as('original_sha256'), eb.val(upload.originalBytes).as('original_bytes')])
      .where('id', '=', upload.deviceId))
    .onConflict((oc) => oc.column('storage_key').doNothing())
    .returning('storage_key')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function forgetPhotoUpload(db: Conn, storageKey: string): Promise<void> {
  await db.deleteFrom('event_photo_uploads').where('storage_key', '=', storageKey).execute();
}

export function findPhotoUpload(db: Conn, deviceId: string, eventId: number, storageKey: string) {
  return db.selectFrom('event_photo_uploads').selectAll()
    .where('storage_key', '=', storageKey).where('device_id', '=', deviceId).where('event_id', '=', eventId)
    .executeTakeFirst();
}

/** Marks an upload confirmed: whether this was its first confirmation, and how many of the event's uploads are confirmed. */
export async function confirmPhotoUpload(db: Conn, deviceId: string, eventId: number, storageKey: string) {
  const updated = await db.updateTable('event_photo_uploads').set({ confirmed_at: new Date() })
    .where('storage_key', '=', storageKey).where('confirmed_at', 'is', null).executeTakeFirst();
  const row = await db.selectFrom('event_photo_uploads').select((eb) => eb.fn.countAll<number>().as('count'))
    .where('device_id', '=', deviceId).where('event_id', '=', eventId).where('confirmed_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return { first: Number(updated.numUpdatedRows) > 0, versions: Number(row.count) };
}

/** Forgets every upload of an event (it is being deleted); returns their storage keys. */
export async function deletePhotoUploads(db: Conn, deviceId: string, eventId: number): Promise<string[]> {
  const rows = await db.deleteFrom('event_photo_uploads').where('device_id', '=', deviceId).where('event_id', '=', eventId)
    .returning('storage_key').execute();
  return rows.map((row) => row.storage_key);
}

/** An event the caller may see: their organization, and their sites when restricted. */
export async function findVisibleEvent(db: Conn, scope: Scope, eventId: number): Promise<EventRow | undefined> {
  const result = await sql<EventRow>`
    SELECT ${COLUMNS} FROM events WHERE org_id = ${scope.orgId}::uuid AND id = ${eventId}
    ${scope.siteIds ? sql`AND site_id = ANY(${scope.siteIds}::uuid[])` : sql``}`.execute(db);
  return result.rows[0];
}

export interface EventFilter {
  id?: number;
  deviceId?: string;
  siteId?: string;
  kinds?: string[];
  severity?: string;
  from?: Date;
  to?: Date;
  speedingOnly?: boolean;
  hasPhoto?: boolean;
  acknowledged?: boolean;
}

export interface EventListRow extends EventRow {
  org_id: string;
  site_id: string | null;
  severity: string | null;
  attributes: Record<string, unknown>;
  device_name: string;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_by_label: string | null;
  acknowledgement_comment: string | null;
  /** A detection violation's incident (migration 0037): null for other events. */
  violation_started_at: Date | null;
  violation_last_seen_at: Date | null;
  violation_ended_at: Date | null;
}

/** Events the caller may see, newest first, after the keyset cursor (ts, id). */
export async function listEvents(db: Conn, scope: Scope, filter: EventFilter, limit: number, after: [string, number] | null) {
  const conditions = [sql`e.org_id = ${scope.orgId}::uuid`];
  if (scope.siteIds) conditions.push(sql`e.site_id = ANY(${scope.siteIds}::uuid[])`);
  if (filter.id !== undefined) conditions.push(sql`e.id = ${filter.id}`);
  if (filter.deviceId) conditions.push(sql`e.device_id = ${filter.deviceId}::uuid`);
  if (filter.siteId) conditions.push(sql`e.site_id = ${filter.siteId}::uuid`);
  if (filter.kinds) conditions.push(sql`e.kind = ANY(${filter.kinds}::text[])`);
  if (filter.severity) conditions.push(sql`e.severity = ${filter.severity}`);
  if (filter.from) conditions.push(sql`e.ts >= ${filter.from}`);
  if (filter.to) conditions.push(sql`e.ts < ${filter.to}`);
  if (filter.speedingOnly) conditions.push(sql`e.speed > e.speed_limit`);
  if (filter.hasPhoto !== undefined) conditions.push(filter.hasPhoto ? sql`e.photo_key IS NOT NULL` : sql`e.photo_key IS NULL`);
  if (filter.acknowledged !== undefined) conditions.push(filter.acknowledged ? sql`a.event_id IS NOT NULL` : sql`a.event_id IS NULL`);
  if (after) conditions.push(sql`(e.ts, e.id) < (${after[0]}::timestamptz, ${after[1]}::bigint)`);
  const result = await sql<EventListRow>`
    SELECT e.id, e.org_id, e.device_id, e.site_id, e.ts, e.device_ts, e.kind, e.speed, e.speed_limit, e.severity, e.attributes,
           e.photo_key, e.received_at, d.name AS device_name,
           a.acknowledged_at, a.user_id AS acknowledged_by, a.user_label AS acknowledged_by_label, a.comment AS acknowledgement_comment,
           v.started_at AS violation_started_at, v.last_seen_at AS violation_last_seen_at, v.ended_at AS violation_ended_at
    FROM events e JOIN devices d ON d.id = e.device_id
    LEFT JOIN event_acknowledgements a ON a.event_id = e.id
    LEFT JOIN violations v ON v.event_id = e.id
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY e.ts DESC, e.id DESC LIMIT ${limit + 1}`.execute(db);
  return result.rows;
}

/**
 * Deletes one event and takes it out of its hour's rollups and speed histogram in the same
 * transaction (min and max of that hour are recomputed from the events left).
 */
export async function deleteEvent(db: Tx, scope: Scope, eventId: number): Promise<EventRow | undefined> {
  const deleted = await sql<EventRow & { speeding: boolean }>`
    DELETE FROM events WHERE org_id = ${scope.orgId}::uuid AND id = ${eventId}
    ${scope.siteIds ? sql`AND site_id = ANY(${scope.siteIds}::uuid[])` : sql``}
    RETURNING ${COLUMNS}, (speed > speed_limit) IS TRUE AS speeding`.execute(db);
  const row = deleted.rows[0];
  if (!row) return undefined;
  await db.deleteFrom('event_acknowledgements').where('event_id', '=', eventId).execute();
  await db.deleteFrom('violations').where('event_id', '=', eventId).execute();
  await sql`
    UPDATE event_rollups_hourly r SET
      events = r.events - 1,
      speed_count = r.speed_count - ${row.speed === null ? 0 : 1},
      speed_sum = r.speed_sum - ${row.speed ?? 0},
      speed_sum_squares = r.speed_sum_squares - ${(row.speed ?? 0) ** 2},
      speeding = r.speeding - ${row.speeding ? 1 : 0},
      speed_min = m.min, speed_max = m.max
    FROM (SELECT min(speed) AS min, max(speed) AS max FROM events
          WHERE device_id = ${row.device_id}::uuid AND kind = ${row.kind}
            AND ts >= date_trunc('hour', ${row.ts}::timestamptz) AND ts < date_trunc('hour', ${row.ts}::timestamptz) + interval '1 hour') m
    WHERE r.device_id = ${row.device_id}::uuid AND r.kind = ${row.kind} AND r.hour = date_trunc('hour', ${row.ts}::timestamptz)`.execute(db);
  await sql`DELETE FROM event_rollups_hourly WHERE device_id = ${row.device_id}::uuid AND events <= 0`.execute(db);
  // Daily traffic rows are keyed by the local date in the device's recorded zone (migration 0021), held
  // against a re-key until this transaction ends; a device without one has no daily rows yet.
  const zone = await sql<{ zone: string }>`SELECT zone FROM traffic_day_zones WHERE device_id = ${row.device_id}::uuid FOR SHARE`.execute(db);
  const local = sql`(date_trunc('hour', ${row.ts}::timestamptz) AT TIME ZONE ${zone.rows[0]?.zone ?? 'UTC'}::text)`;
  const day = sql`${local}::date`;
  if (row.speed !== null) {
    await sql`UPDATE speed_histogram_hourly SET count = count - 1
              WHERE device_id = ${row.device_id}::uuid AND hour = date_trunc('hour', ${row.ts}::timestamptz) AND bin = floor(${row.speed}::real)`.execute(db);
    await sql`DELETE FROM speed_histogram_hourly WHERE device_id = ${row.device_id}::uuid AND count <= 0`.execute(db);
    await sql`UPDATE speed_histogram_daily SET count = count - 1
              WHERE device_id = ${row.device_id}::uuid AND day = ${day} AND bin = floor(${row.speed}::real)`.execute(db);
    await sql`DELETE FROM speed_histogram_daily WHERE device_id = ${row.device_id}::uuid AND count <= 0`.execute(db);
    await sql`UPDATE speed_histogram_hour_of_day SET count = count - 1
              WHERE device_id = ${row.device_id}::uuid AND month = date_trunc('month', ${local})::date
                AND local_hour = date_part('hour', ${local}) AND bin = floor(${row.speed}::real)`.execute(db);
    await sql`DELETE FROM speed_histogram_hour_of_day WHERE device_id = ${row.device_id}::uuid AND count <= 0`.execute(db);
  }
  if (row.speed !== null && row.speed_limit !== null) {
    // Traffic statistics' excess over the limit in force (migration 0006), hourly and per local day.
    const excess = sql`greatest(ceil(${row.speed}::real - ${row.speed_limit}::real), 0)::smallint`;
    await sql`UPDATE speed_excess_hourly SET count = count - 1
              WHERE device_id = ${row.device_id}::uuid AND hour = date_trunc('hour', ${row.ts}::timestamptz)
                AND speed_limit = ${row.speed_limit}::real AND excess = ${excess}`.execute(db);
    await sql`UPDATE speed_excess_daily SET count = count - 1
              WHERE device_id = ${row.device_id}::uuid AND day = ${day}
                AND speed_limit = ${row.speed_limit}::real AND excess = ${excess}`.execute(db);
    await sql`DELETE FROM speed_excess_hourly WHERE device_id = ${row.device_id}::uuid AND count <= 0`.execute(db);
    await sql`DELETE FROM speed_excess_daily WHERE device_id = ${row.device_id}::uuid AND count <= 0`.execute(db);
  }
  return row;
}

/** Event totals over whole hours from the rollups (never a scan of raw events), in the caller's scope. */
export async function eventTotals(db: Conn, scope: Scope, filter: { from: Date; to: Date; deviceId?: string; siteId?: string }) {
  const result = await sql<{ events: number; speeding: number; devices: number }>`
    SELECT coalesce(sum(r.events), 0)::int AS events, coalesce(sum(r.speeding), 0)::int AS speeding, count(DISTINCT r.device_id)::int AS devices
    FROM event_rollups_hourly r JOIN devices d ON d.id = r.device_id
    WHERE r.org_id = ${scope.orgId}::uuid AND r.hour >= date_trunc('hour', ${filter.from}::timestamptz) AND r.hour < ${filter.to}
    ${scope.siteIds ? sql`AND d.site_id = ANY(${scope.siteIds}::uuid[])` : sql``}
    ${filter.deviceId ? sql`AND r.device_id = ${filter.deviceId}::uuid` : sql``}
    ${filter.siteId ? sql`AND d.site_id = ${filter.siteId}::uuid` : sql``}`.execute(db);
  return result.rows[0]!;
}

/**
 * Acknowledges the events among `ids` the caller may see; one already acknowledged keeps its first
 * acknowledgement. Returns the events acknowledged now (with their sites) and the ids in scope (to tell "already" from "not found").
 */
export async function acknowledgeEvents(db: Conn, scope: Scope, ids: number[], by: { userId: string | null; label: string }, comment: string | null) {
  const visible = await sql<{ id: number; site_id: string | null }>`
    SELECT id, site_id FROM events WHERE org_id = ${scope.orgId}::uuid AND id = ANY(${ids}::bigint[])
    ${scope.siteIds ? sql`AND site_id = ANY(${scope.siteIds}::uuid[])` : sql``}`.execute(db);
  const sites = new Map(visible.rows.map((row) => [Number(row.id), row.site_id]));
  const inScope = [...sites.keys()];
  if (inScope.length === 0) return { acknowledged: [], inScope };
  const rows = await db.insertInto('event_acknowledgements')
    .values(inScope.map((id) => ({ event_id: id, org_id: scope.orgId, user_id: by.userId, user_label: by.label, comment })))
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .execute();
  return { acknowledged: rows.map((row) => ({ id: Number(row.event_id), siteId: sites.get(Number(row.event_id)) ?? null })), inScope };
}
