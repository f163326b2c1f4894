import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import { OFFLINE_AFTER_SECONDS, type DeviceKind, type DeviceStatus } from '../../shared/devices.js';

/** Every SQL statement about devices and device keys. Reads are scoped to the caller's organization and sites. */
type Conn = Db | Tx;

const COLUMNS = [
  'id', 'org_id', 'site_id', 'kind', 'name', 'serial', 'lat', 'lon', 'speed_limit', 'speed_units', 'settings',
  'reported_error', 'last_seen_at', 'created_at', 'updated_at',
] as const;

export interface DeviceFields {
  kind: DeviceKind;
  name: string;
  serial: string;
  siteId?: string | null;
  lat?: number | null;
  lon?: number | null;
  speedLimit?: number | null;
  speedUnits?: 'mph' | 'kmh' | null;
  settings?: Record<string, unknown>;
}

/** The SQL form of `deviceStatus()` in shared/devices.ts, for filtering lists by status. */
const statusExpression = sql<DeviceStatus>`CASE
  WHEN last_seen_at IS NULL OR last_seen_at < now() - make_interval(secs => (${JSON.stringify(OFFLINE_AFTER_SECONDS)}::jsonb ->> kind)::int) THEN 'offline'
  WHEN reported_error IS NOT NULL THEN 'error'
  ELSE 'online' END`;

function scoped(db: Conn, scope: Scope) {
  let query = db.selectFrom('devices').select(COLUMNS).where('org_id', '=', scope.orgId);
  if (scope.siteIds) query = query.where('site_id', '=', sql<string>`ANY(${scope.siteIds}::uuid[])`);
  return query;
}

export interface DeviceFilter {
  kind?: DeviceKind;
  status?: DeviceStatus;
  siteId?: string;
  search?: string;
}

export function listDevices(db: Conn, scope: Scope, filter: DeviceFilter, limit: number, after: [string, string] | null) {
  let query = scoped(db, scope).orderBy('name').orderBy('id').limit(limit + 1);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.siteId) query = query.where('site_id', '=', filter.siteId);
  if (filter.status) query = query.where(statusExpression, '=', filter.status);
  if (filter.search) query = query.where((eb) => eb.or([eb('name', 'ilike', `%${filter.search}%`), eb('serial', 'ilike', `%${filter.search}%`)]));
  if (after) query = query.where(sql<boolean>`(name, id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findDevice(db: Conn, scope: Scope, id: string) {
  return scoped(db, scope).where('id', '=', id).executeTakeFirst();
}

/** A device by id, unscoped: only for calls the device itself makes with its key. */
export function findDeviceById(db: Conn, id: string) {
  return db.selectFrom('devices').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function serialExists(db: Conn, orgId: string, serial: string): Promise<boolean> {
  const row = await db.selectFrom('devices').select('id').where('org_id', '=', orgId).where('serial', '=', serial).executeTakeFirst();
  return row !== undefined;
}

export async function countDevices(db: Conn, orgId: string): Promise<number> {
  const row = await db.selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
  return row.n;
}

export function insertDevice(db: Conn, orgId: string, device: DeviceFields) {
  return db
    .insertInto('devices')
    .values({
      org_id: orgId,
      site_id: device.siteId ?? null,
      kind: device.kind,
      name: device.name,
      serial: device.serial,
      lat: device.lat ?? null,
      lon: device.lon ?? null,
      speed_limit: device.speedLimit ?? null,
      speed_units: device.speedUnits ?? null,
      settings: JSON.stringify(device.settings ?? {}),
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export function updateDevice(db: Conn, scope: Scope, id: string, patch: Partial<DeviceFields>) {
  let query = db
    .updateTable('devices')
    .set({
      updated_at: new Date(),
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.serial !== undefined && { serial: patch.serial }),
      ...(patch.siteId !== undefined && { site_id: patch.siteId }),
      ...(patch.lat !== undefined && { lat: patch.lat }),
      ...(patch.lon !== undefined && { lon: patch.lon }),
      ...(patch.speedLimit !== undefined && { speed_limit: patch.speedLimit }),
      ...(patch.speedUnits !== undefined && { speed_units: patch.speedUnits }),
      ...(patch.settings !== undefined && { settings: JSON.stringify(patch.settings) }),
    })
    .where('org_id', '=', scope.orgId)
    .where('id', '=', id);
  if (scope.siteIds) query = query.where('site_id', '=', sql<string>`ANY(${scope.siteIds}::uuid[])`);
  return query.returning(COLUMNS).executeTakeFirst();
}

export async function deleteDevice(db: Conn, scope: Scope, id: string): Promise<boolean> {
  let query = db.deleteFrom('devices').where('org_id', '=', scope.orgId).where('id', '=', id);
  if (scope.siteIds) query = query.where('site_id', '=', sql<string>`ANY(${scope.siteIds}::uuid[])`);
  const result = await query.executeTakeFirst();
  return result.numDeletedRows > 0n;
}

const KEY_COLUMNS = ['id', 'device_id', 'key_prefix', 'created_at', 'last_used_at', 'revoked_at'] as const;

export function insertDeviceKey(db: Conn, key: { orgId: string; deviceId: string; keyHash: string; prefix: string }) {
  return db
    .insertInto('device_keys')
    .values({ org_id: key.orgId, device_id: key.deviceId, key_hash: key.keyHash, key_prefix: key.prefix })
    .returning(KEY_COLUMNS)
    .executeTakeFirstOrThrow();
}

export function listDeviceKeys(db: Conn, orgId: string, deviceId: string, limit: number, after: [string, string] | null) {
  let query = db
    .selectFrom('device_keys')
    .select(KEY_COLUMNS)
    .where('org_id', '=', orgId)
    .where('device_id', '=', deviceId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export async function revokeDeviceKey(db: Conn, orgId: string, deviceId: string, keyId: string): Promise<boolean> {
  const result = await db
    .updateTable('device_keys')
    .set({ revoked_at: new Date() })
    .where('org_id', '=', orgId)
    .where('device_id', '=', deviceId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A device's zone: its site's, else its organization's. */
export async function deviceTimezone(db: Conn, deviceId: string): Promise<string> {
  const row = await db.selectFrom('devices as d')
    .innerJoin('organizations as o', 'o.id', 'd.org_id')
    .leftJoin('sites as s', 's.id', 'd.site_id')
    .select(sql<string>`COALESCE(s.timezone, o.timezone)`.as('timezone'))
    .where('d.id', '=', deviceId)
    .executeTakeFirstOrThrow();
  return row.timezone;
}

/** The device a key belongs to, if the key is live. One indexed lookup per device request. */
export function findDeviceByKey(db: Conn, keyHash: string) {
  return db
    .selectFrom('device_keys as k')
    .innerJoin('devices as d', 'd.id', 'k.device_id')
    .innerJoin('organizations as o', 'o.id', 'd.org_id')
    .leftJoin('sites as s', 's.id', 'd.site_id')
    .select([
      'k.id as key_id', 'k.last_used_at', 'd.id', 'd.org_id', 'd.site_id', 'd.kind', 'd.name', 'd.serial',
      'd.speed_limit', 'd.speed_units', 'd.last_seen_at', 'd.reported_error',
      sql<string>`COALESCE(s.timezone, o.timezone)`.as('timezone'),
    ])
    .where('k.key_hash', '=', keyHash)
    .where('k.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Records contact: device last seen and key last used, in one statement. */
export async function recordContact(db: Conn, deviceId: string, keyId: string, at: Date): Promise<void> {
  await sql`WITH d AS (UPDATE devices SET last_seen_at = GREATEST(last_seen_at, ${at}) WHERE id = ${deviceId})
            UPDATE device_keys SET last_used_at = ${at} WHERE id = ${keyId}`.execute(db);
}

/** Records that a device was seen without a key (a camera whose stream Vigil decodes); returns when it was seen before. */
export async function recordSeen(db: Conn, deviceId: string, at: Date) {
  const result = await sql<{ org_id: string; site_id: string | null; kind: DeviceKind; reported_error: string | null; previous_seen_at: Date | null }>`
    UPDATE devices d SET last_seen_at = GREATEST(d.last_seen_at, ${at})
    FROM (SELECT id, last_seen_at FROM devices WHERE id = ${deviceId} FOR UPDATE) AS before
    WHERE d.id = before.id
    RETURNING d.org_id, d.site_id, d.kind, d.reported_error, before.last_seen_at AS previous_seen_at`.execute(db);
  return result.rows[0];
}

/**
 * Devices that went silent past their kind's threshold since the last announcement: marks them
 * announced and returns them, so each transition to offline is announced once.
 */
export async function markNewlyOffline(db: Conn) {
  const result = await sql<{ id: string; org_id: string; site_id: string | null; last_seen_at: Date }>`
    UPDATE devices SET offline_announced_at = now()
    WHERE last_seen_at IS NOT NULL
      AND last_seen_at < now() - make_interval(secs => (${JSON.stringify(OFFLINE_AFTER_SECONDS)}::jsonb ->> kind)::int)
      AND (offline_announced_at IS NULL OR offline_announced_at < last_seen_at)
    RETURNING id, org_id, site_id, last_seen_at`.execute(db);
  return result.rows;
}

/** Device counts by status and kind for the caller's scope (dashboards). */
export async function deviceCounts(db: Conn, scope: Scope) {
  const result = await sql<{ kind: DeviceKind; status: DeviceStatus; n: number }>`
    SELECT kind, ${statusExpression} AS status, count(*)::int AS n FROM devices
    WHERE org_id = ${scope.orgId}::uuid ${scope.siteIds ? sql`AND site_id = ANY(${scope.siteIds}::uuid[])` : sql``}
    GROUP BY 1, 2`.execute(db);
  return result.rows;
}
