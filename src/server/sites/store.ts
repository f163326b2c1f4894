import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';

/** Every SQL statement about sites. Reads are always scoped: organization, and the caller's allowed sites. */
type Conn = Db | Tx;

const COLUMNS = ['id', 'org_id', 'name', 'address', 'lat', 'lon', 'timezone', 'created_at', 'updated_at'] as const;

export interface SiteFields {
  name: string;
  address?: string | null;
  lat?: number | null;
  lon?: number | null;
  timezone?: string;
}

function scoped(db: Conn, scope: Scope) {
  let query = db.selectFrom('sites').select(COLUMNS).where('org_id', '=', scope.orgId);
  if (scope.siteIds) query = query.where('id', '=', sql<string>`ANY(${scope.siteIds}::uuid[])`);
  return query;
}

export function listSites(db: Conn, scope: Scope, limit: number, after: [string, string] | null, search?: string) {
  let query = scoped(db, scope).orderBy('name').orderBy('id').limit(limit + 1);
  if (search) query = query.where('name', 'ilike', `%${search}%`);
  if (after) query = query.where(sql<boolean>`(name, id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findSite(db: Conn, scope: Scope, id: string) {
  return scoped(db, scope).where('id', '=', id).executeTakeFirst();
}

export function insertSite(db: Conn, orgId: string, site: SiteFields) {
  return db
    .insertInto('sites')
    .values({
      org_id: orgId,
      name: site.name,
      address: site.address ?? null,
      lat: site.lat ?? null,
      lon: site.lon ?? null,
      timezone: site.timezone ?? 'UTC',
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export function updateSite(db: Conn, scope: Scope, id: string, patch: Partial<SiteFields>) {
  let query = db
    .updateTable('sites')
    .set({
      updated_at: new Date(),
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.address !== undefined && { address: patch.address }),
      ...(patch.lat !== undefined && { lat: patch.lat }),
      ...(patch.lon !== undefined && { lon: patch.lon }),
      ...(patch.timezone !== undefined && { timezone: patch.timezone }),
    })
    .where('org_id', '=', scope.orgId)
    .where('id', '=', id);
  if (scope.siteIds) query = query.where('id', '=', sql<string>`ANY(${scope.siteIds}::uuid[])`);
  return query.returning(COLUMNS).executeTakeFirst();
}

/** How many devices are assigned to a site (the site's own detail). */
export async function countSiteDevices(db: Conn, siteId: string): Promise<number> {
  const row = await db.selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n')).where('site_id', '=', siteId).executeTakeFirstOrThrow();
  return row.n;
}

/** Deletes a site that has no devices left; false when there is no such site or it still has devices. */
export async function deleteSite(db: Conn, scope: Scope, id: string): Promise<boolean> {
  let query = db
    .deleteFrom('sites')
    .where('org_id', '=', scope.orgId)
    .where('id', '=', id)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('devices').select('id').where('devices.site_id', '=', id))));
  if (scope.siteIds) query = query.where('id', '=', sql<string>`ANY(${scope.siteIds}::uuid[])`);
  const result = await query.executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The ids among `ids` that are sites of the organization (to validate site restrictions). */
export async function existingSiteIds(db: Conn, orgId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('sites')
    .select('id')
    .where('org_id', '=', orgId)
    .where('id', '=', sql<string>`ANY(${ids}::uuid[])`)
    .execute();
  return rows.map((r) => r.id);
}
