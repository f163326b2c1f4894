import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db } from '../core/db/database.js';
import type { DeviceKind } from '../../shared/devices.js';

/** Reads for a rule preview: the caller's devices a draft rule would cover, and their recent readings of one metric. */

export interface PreviewDevice {
  id: string;
  name: string;
  kind: DeviceKind;
  site_id: string | null;
  /** The device's time zone for active hours: its site's, else the organization's. */
  timezone: string;
}

export interface DeviceSelection {
  siteId: string | null;
  deviceId: string | null;
  deviceKind: DeviceKind | null;
}

/** Devices of the caller's organization (and sites, when restricted) matching the selection, by name; `limit` rows at most. */
export async function devicesInScope(db: Db, scope: Scope, selection: DeviceSelection, limit: number): Promise<PreviewDevice[]> {
  let query = db.selectFrom('devices as d')
    .innerJoin('organizations as o', 'o.id', 'd.org_id')
    .leftJoin('sites as s', 's.id', 'd.site_id')
    .select(['d.id', 'd.name', 'd.kind', 'd.site_id', sql<string>`coalesce(s.timezone, o.timezone)`.as('timezone')])
    .where('d.org_id', '=', scope.orgId);
  if (scope.siteIds) query = query.where('d.site_id', 'in', scope.siteIds.length > 0 ? scope.siteIds : ['00000000-0000-0000-0000-000000000000']);
  if (selection.siteId) query = query.where('d.site_id', '=', selection.siteId);
  if (selection.deviceId) query = query.where('d.id', '=', selection.deviceId);
  if (selection.deviceKind) query = query.where('d.kind', '=', selection.deviceKind);
  return query.orderBy('d.name').orderBy('d.id').limit(limit).execute();
}

export interface Reading<V = number> {
  device_id: string;
  ts: Date;
  value: V;
}

/** One metric's readings of the given devices since `from`, per device in time order; at most `limit` rows. */
export async function readings(db: Db, orgId: string, deviceIds: string[], metric: string, from: Date, limit: number): Promise<Reading[]> {
  if (deviceIds.length === 0) return [];
  const result = await sql<Reading>`
    SELECT device_id, ts, value FROM telemetry
    WHERE org_id = ${orgId}::uuid AND device_id = ANY(${deviceIds}::uuid[]) AND metric = ${metric} AND ts >= ${from}
    ORDER BY device_id, ts LIMIT ${limit}`.execute(db);
  return result.rows;
}

/**
 * One key's text values (strings in telemetry_values) of the given devices since `from`, per device in
 * time order; with `baseline`, each device's last text before `from` leads its series (what a change is
 * measured from). At most `limit` rows.
 */
export async function textReadings(db: Db, orgId: string, deviceIds: string[], key: string, from: Date, baseline: boolean, limit: number): Promise<Reading<string>[]> {
  if (deviceIds.length === 0) return [];
  const before = baseline ? sql`
    UNION ALL
    SELECT d.id, p.ts, p.value FROM unnest(${deviceIds}::uuid[]) AS d(id) CROSS JOIN LATERAL (
      SELECT v.ts, v.value #>> '{}' AS value FROM telemetry_values v
      WHERE v.device_id = d.id AND v.org_id = ${orgId}::uuid AND v.key = ${key} AND v.ts < ${from} AND jsonb_typeof(v.value) = 'string'
      ORDER BY v.ts DESC LIMIT 1
    ) p` : sql``;
  const result = await sql<Reading<string>>`
    SELECT device_id, ts, value #>> '{}' AS value FROM telemetry_values
    WHERE org_id = ${orgId}::uuid AND device_id = ANY(${deviceIds}::uuid[]) AND key = ${key} AND ts >= ${from} AND jsonb_typeof(value) = 'string'
    ${before}
    ORDER BY device_id, ts LIMIT ${limit}`.execute(db);
  return result.rows;
}
