import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';

/** Every SQL statement about organizations (tenants). */
type Conn = Db | Tx;

const COLUMNS = [
  'id', 'name', 'slug', 'max_users', 'max_devices', 'max_cameras', 'allowed_email_domains', 'units', 'timezone', 'locale', 'public_sharing', 'public_photos', 'retention_days', 'created_at',
] as const;

export interface OrganizationFields {
  name: string;
  slug: string;
  maxUsers?: number | null;
  maxDevices?: number | null;
  maxCameras?: number | null;
  allowedEmailDomains?: string[];
  units?: 'mph' | 'kmh';
  timezone?: string;
  /** A canonical BCP 47 tag (the service canonicalises what it is given). */
  locale?: string;
  publicSharing?: boolean;
  publicPhotos?: boolean;
  retentionDays?: number | null;
}

export function insertOrganization(db: Conn, org: OrganizationFields) {
  return db
    .insertInto('organizations')
    .values({
      name: org.name,
      slug: org.slug,
      max_users: org.maxUsers ?? null,
      max_devices: org.maxDevices ?? null,
      max_cameras: org.maxCameras ?? null,
      allowed_email_domains: org.allowedEmailDomains ?? [],
      units: org.units ?? 'mph',
      timezone: org.timezone ?? 'UTC',
      ...(org.locale !== undefined && { locale: org.locale }),
      public_sharing: org.publicSharing ?? false,
      public_photos: org.publicPhotos ?? false,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export function findOrganization(db: Conn, id: string) {
  return db.selectFrom('organizations').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

export function updateOrganization(db: Conn, id: string, patch: Partial<OrganizationFields>) {
  return db
    .updateTable('organizations')
    .set({
      updated_at: new Date(),
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.slug !== undefined && { slug: patch.slug }),
      ...(patch.maxUsers !== undefined && { max_users: patch.maxUsers }),
      ...(patch.maxDevices !== undefined && { max_devices: patch.maxDevices }),
      ...(patch.maxCameras !== undefined && { max_cameras: patch.maxCameras }),
      ...(patch.allowedEmailDomains !== undefined && { allowed_email_domains: patch.allowedEmailDomains }),
      ...(patch.units !== undefined && { units: patch.units }),
      ...(patch.timezone !== undefined && { timezone: patch.timezone }),
      ...(patch.locale !== undefined && { locale: patch.locale }),
      ...(patch.publicSharing !== undefined && { public_sharing: patch.publicSharing }),
      ...(patch.publicPhotos !== undefined && { public_photos: patch.publicPhotos }),
      ...(patch.retentionDays !== undefined && { retention_days: patch.retentionDays }),
    })
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirst();
}

/** All organizations (platform administration), by name; `search` matches name or slug. */
export function listOrganizations(db: Conn, limit: number, after: [string, string] | null, search?: string) {
  let query = db.selectFrom('organizations').select(COLUMNS).orderBy('name').orderBy('id').limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(name, id) > (${after[0]}, ${after[1]}::uuid)`);
  if (search) {
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('slug', 'ilike', pattern)]));
  }
  return query.execute();
}

/** The organizations one user belongs to, with their role in each. */
export function listUserOrganizations(db: Conn, userId: string) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('organizations as o', 'o.id', 'm.org_id')
    .select(['o.id', 'o.name', 'o.slug', 'o.locale', 'o.timezone', 'm.role', 'm.site_ids'])
    .where('m.user_id', '=', userId)
    .where('m.is_active', '=', true)
    .orderBy('o.name')
    .execute();
}

/** Locks the organization row so that limit checks (max users) and the write after them are atomic. */
export function lockOrganization(db: Tx, id: string) {
  return db.selectFrom('organizations').select(COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function platformCounts(db: Conn) {
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('organizations').select(eb.fn.countAll<number>().as('n')).as('organizations'),
      eb.selectFrom('users').select(eb.fn.countAll<number>().as('n')).as('users'),
      eb.selectFrom('sites').select(eb.fn.countAll<number>().as('n')).as('sites'),
      eb.selectFrom('devices').select(eb.fn.countAll<number>().as('n')).as('devices'),
      // events is partitioned by ts (and not in the Kysely schema): the time bound prunes to the newest partitions.
      sql<number>`(SELECT count(*) FROM events WHERE ts >= now() - interval '24 hours')`.as('events24h'),
    ])
    .executeTakeFirstOrThrow();
  return {
    organizations: Number(row.organizations),
    users: Number(row.users),
    sites: Number(row.sites),
    devices: Number(row.devices),
    eventsLast24h: Number(row.events24h),
  };
}

/** Organizations that keep raw data for a limited time. */
export function organizationsWithRetention(db: Conn) {
  return db.selectFrom('organizations').select(['id', 'retention_days']).where('retention_days', 'is not', null).execute();
}
