import { sql } from 'kysely';
import type { Db } from '../core/db/database.js';

/**
 * Every SQL statement of community sharing. Public reads are not scoped by a caller: they see only
 * devices that are shared *and* belong to an organization that shares, and nothing else.
 */

export function isShared(db: Db, orgId: string, deviceId: string) {
  return db.selectFrom('community_devices').select('shared_at').where('org_id', '=', orgId).where('device_id', '=', deviceId).executeTakeFirst();
}

export async function share(db: Db, orgId: string, deviceId: string): Promise<void> {
  await db.insertInto('community_devices').values({ org_id: orgId, device_id: deviceId }).onConflict((oc) => oc.column('device_id').doNothing()).execute();
}

export async function unshare(db: Db, orgId: string, deviceId: string): Promise<void> {
  await db.deleteFrom('community_devices').where('org_id', '=', orgId).where('device_id', '=', deviceId).execute();
}

/** Shared devices of sharing organizations; the only columns a public answer may be built from (and the exact location, to fuzz). */
function publicDevices(db: Db) {
  return db
    .selectFrom('community_devices as c')
    .innerJoin('devices as d', 'd.id', 'c.device_id')
    .innerJoin('organizations as o', (join) => join.onRef('o.id', '=', 'c.org_id').onRef('o.id', '=', 'd.org_id'))
    .leftJoin('sites as s', 's.id', 'd.site_id')
    .where('o.public_sharing', '=', true)
    .select(['d.id', 'd.org_id', 'd.name', 'd.kind', 'd.lat', 'd.lon', 'd.speed_limit', 'd.last_seen_at', 'o.public_photos', 'o.locale'])
    .select(sql<'mph' | 'kmh'>`COALESCE(d.speed_units, o.units)`.as('units'))
    .select(sql<string>`COALESCE(s.timezone, o.timezone)`.as('timezone'));
}

export type PublicDeviceRow = Awaited<ReturnType<typeof findPublicDevice>> & {};

export function listPublicDevices(db: Db, limit: number, after: [string, string] | null) {
  let query = publicDevices(db).orderBy('d.name').orderBy('d.id').limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(d.name, d.id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findPublicDevice(db: Db, id: string) {
  return publicDevices(db).where('d.id', '=', id).executeTakeFirst();
}

export interface DeviceTotals {
  device_id: string;
  events: number;
  speeding: number;
}

/** Vehicles and speeders per device since `since`, from the hourly rollups (folded first by the caller). */
export async function totalsByDevice(db: Db, deviceIds: string[], since: Date): Promise<DeviceTotals[]> {
  if (deviceIds.length === 0) return [];
  const result = await sql<DeviceTotals>`
    SELECT device_id, sum(speed_count)::int8 AS events, sum(speeding)::int8 AS speeding
    FROM event_rollups_hourly
    WHERE device_id = ANY(${deviceIds}::uuid[]) AND hour >= ${since}
    GROUP BY device_id`.execute(db);
  return result.rows;
}

/** The community as a whole: how many devices and organizations share, and their vehicles and speeders since `since`. */
export async function communityTotals(db: Db, since: Date) {
  const result = await sql<{ devices: number; organizations: number; events: number; speeding: number }>`
    WITH shared AS (
      SELECT c.device_id, c.org_id FROM community_devices c JOIN organizations o ON o.id = c.org_id WHERE o.public_sharing
    )
    SELECT (SELECT count(*) FROM shared) AS devices,
           (SELECT count(DISTINCT org_id) FROM shared) AS organizations,
           COALESCE(sum(r.speed_count), 0)::int8 AS events,
           COALESCE(sum(r.speeding), 0)::int8 AS speeding
    FROM event_rollups_hourly r
    WHERE r.device_id IN (SELECT device_id FROM shared) AND r.hour >= ${since}`.execute(db);
  return result.rows[0]!;
}

export interface SpeederRow {
  id: string;
  device_id: string;
  ts: Date;
  speed: number;
  speed_limit: number;
  has_photo: boolean;
  public_photos: boolean;
}

/**
 * The latest events above the limit of shared devices (all of them, or one), newest first, since `since`.
 * `before` pages by (ts, id).
 */
export async function recentSpeeders(db: Db, since: Date, limit: number, options: { deviceId?: string; before?: [string, string] | null }): Promise<SpeederRow[]> {
  const before = options.before;
  const result = await sql<SpeederRow>`
    SELECT e.id::text AS id, e.device_id, e.ts, e.speed, e.speed_limit, e.photo_key IS NOT NULL AS has_photo, o.public_photos
    FROM events e
    JOIN community_devices c ON c.device_id = e.device_id
    JOIN organizations o ON o.id = c.org_id AND o.public_sharing
    WHERE e.ts >= ${since} AND e.speed > e.speed_limit AND e.org_id = c.org_id
    ${options.deviceId ? sql`AND e.device_id = ${options.deviceId}::uuid` : sql``}
    ${before ? sql`AND (e.ts, e.id) < (${before[0]}::timestamptz, ${before[1]}::bigint)` : sql``}
    ORDER BY e.ts DESC, e.id DESC
    LIMIT ${limit + 1}`.execute(db);
  return result.rows;
}

/** The organization of an event whose photo may be public: shared device, sharing organization, photos allowed. */
export async function publicPhotoOrg(db: Db, eventId: number): Promise<string | undefined> {
  const result = await sql<{ org_id: string }>`
    SELECT e.org_id FROM events e
    JOIN community_devices c ON c.device_id = e.device_id AND c.org_id = e.org_id
    JOIN organizations o ON o.id = c.org_id AND o.public_sharing AND o.public_photos
    WHERE e.id = ${eventId} AND e.photo_key IS NOT NULL AND e.speed > e.speed_limit`.execute(db);
  return result.rows[0]?.org_id;
}
