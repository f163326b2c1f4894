import { sql, type RawBuilder } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';

/** The SQL of the register's upkeep: purging long-deleted challans, and the weekly outstanding-POD digest. */
type Conn = Db | Tx;

/** Outstanding: dated `days` or more before today (in the organization's zone) and without POD or a submitted invoice. */
export function outstandingCondition(alias: string, zone: RawBuilder<unknown>, days: number, at: Date) {
  const c = (column: string) => sql.ref(`${alias}.${column}`);
  return sql<boolean>`(${c('challan_date')} <= (${at}::timestamptz AT TIME ZONE ${zone})::date - ${days}::int
    AND (${c('pod_file_id')} IS NULL OR NOT ${c('invoice_submitted')}))`;
}

/**
 * Hard-deletes up to `limit` challans deleted more than `days` ago, answering them. Their POD file rows go with
 * them (a trigger queues the files for removal); the month counters are not touched, so no number comes back.
 */
export async function purgeDeleted(db: Tx, days: number, limit: number) {
  const result = await sql<{ id: string; org_id: string; number: string }>`
    DELETE FROM delivery_challans WHERE id IN (
      SELECT id FROM delivery_challans WHERE deleted_at < now() - make_interval(days => ${days})
      ORDER BY deleted_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, org_id, number`.execute(db);
  return result.rows;
}

export async function queuedFileDeletions(db: Conn, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('challan_file_deletions').select('storage_key').orderBy('queued_at').limit(limit).execute();
  return rows.map((row) => row.storage_key);
}

export async function forgetFileDeletion(db: Conn, storageKey: string): Promise<void> {
  await db.deleteFrom('challan_file_deletions').where('storage_key', '=', storageKey).execute();
}

/**
 * Organizations whose digest of this week (Monday in their zone, from 08:00 there) is due: not yet queued,
 * with at least one outstanding challan.
 */
export async function digestsDue(db: Conn, days: number, at: Date, limit: number) {
  const local = sql`(${at}::timestamptz AT TIME ZONE o.timezone)`;
  const result = await sql<{ org_id: string; org_name: string; zone: string; week_of: string }>`
    SELECT o.id AS org_id, o.name AS org_name, o.timezone AS zone, date_trunc('week', ${local})::date::text AS week_of
    FROM organizations o
    WHERE ${local} >= date_trunc('week', ${local}) + interval '8 hours'
      AND NOT EXISTS (SELECT 1 FROM challan_digest_weeks w WHERE w.org_id = o.id AND w.week_of = date_trunc('week', ${local})::date)
      AND EXISTS (SELECT 1 FROM delivery_challans c WHERE c.org_id = o.id AND c.deleted_at IS NULL
                  AND ${outstandingCondition('c', sql`o.timezone`, days, at)})
    ORDER BY o.id LIMIT ${limit}`.execute(db);
  return result.rows;
}

/** The organization's outstanding challans, oldest first (at most `limit`), and how many there are. */
export async function outstandingChallans(db: Conn, orgId: string, zone: string, days: number, at: Date, limit: number) {
  const base = db.selectFrom('delivery_challans as c')
    .where('c.org_id', '=', orgId).where('c.deleted_at', 'is', null)
    .where(outstandingCondition('c', sql`${zone}::text`, days, at));
  const rows = await base
    .select(['c.id', 'c.number', 'c.challan_date', 'c.customer_name', 'c.site_id', 'c.invoice_number', 'c.invoice_submitted', sql<boolean>`c.pod_file_id IS NOT NULL`.as('has_pod')])
    .orderBy('c.challan_date').orderBy('c.number').limit(limit).execute();
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { rows, total: n };
}

/** Claims the week's digest for the organization: false when another process queued it first. */
export async function claimDigestWeek(db: Tx, orgId: string, weekOf: string, challans: number): Promise<boolean> {
  const row = await db.insertInto('challan_digest_weeks').values({ org_id: orgId, week_of: weekOf, challans })
    .onConflict((oc) => oc.columns(['org_id', 'week_of']).doNothing()).returning('org_id').executeTakeFirst();
  return row !== undefined;
}
