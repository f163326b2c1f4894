import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';

/** Every SQL statement about an organization's customers (organization-wide: customers have no site). */
type Conn = Db | Tx;

const COLUMNS = ['id', 'org_id', 'name', 'tag', 'address', 'contact', 'is_active', 'email_domains', 'created_at', 'updated_at'] as const;

export type CustomerRow = Awaited<ReturnType<typeof findCustomer>> & {};

export interface CustomerFields {
  name: string;
  tag: string;
  address: string | null;
  contact: string | null;
  isActive: boolean;
  emailDomains: string[];
}

export const TAG_INDEX = 'challan_customers_tag';

/** By name, then id; `after` is the (name, id) of the previous page's last customer. */
/** `onlyId`: a client member's list, which holds their own customer only. */
export function listCustomers(db: Conn, orgId: string, filter: { q?: string; active?: boolean; onlyId?: string }, limit: number, after: [string, string] | null) {
  let query = db.selectFrom('challan_customers').select(COLUMNS).where('org_id', '=', orgId).orderBy('name').orderBy('id').limit(limit + 1);
  if (filter.onlyId) query = query.where('id', '=', filter.onlyId);
  if (filter.active !== undefined) query = query.where('is_active', '=', filter.active);
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    query = query.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('tag', 'ilike', pattern)]));
  }
  if (after) query = query.where(sql<boolean>`(name, id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findCustomer(db: Conn, orgId: string, id: string) {
  return db.selectFrom('challan_customers').select(COLUMNS).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

/** An active customer by tag, else by name (both without regard to case); the tag wins, being unique. */
export function findCustomerByTagOrName(db: Conn, orgId: string, text: string) {
  return db.selectFrom('challan_customers').select(COLUMNS)
    .where('org_id', '=', orgId).where('is_active', '=', true)
    .where((eb) => eb.or([eb(sql`lower(tag)`, '=', text.toLowerCase()), eb(sql`lower(name)`, '=', text.toLowerCase())]))
    .orderBy(sql`lower(tag) = ${text.toLowerCase()}`, 'desc').orderBy('name').orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

function columnsOf(f: CustomerFields) {
  return { name: f.name, tag: f.tag, address: f.address, contact: f.contact, is_active: f.isActive, email_domains: f.emailDomains };
}

export function insertCustomer(db: Conn, orgId: string, fields: CustomerFields) {
  return db.insertInto('challan_customers').values({ org_id: orgId, ...columnsOf(fields) }).returning(COLUMNS).executeTakeFirstOrThrow();
}

export function updateCustomer(db: Conn, orgId: string, id: string, fields: CustomerFields) {
  return db.updateTable('challan_customers').set({ ...columnsOf(fields), updated_at: new Date() })
    .where('org_id', '=', orgId).where('id', '=', id).returning(COLUMNS).executeTakeFirst();
}

/** False when challans (deleted ones too) still name the customer: those keep it. */
export async function deleteUnusedCustomer(db: Conn, orgId: string, id: string): Promise<boolean> {
  const used = await db.selectFrom('delivery_challans').select('id').where('customer_id', '=', id).limit(1).executeTakeFirst();
  if (used) return false;
  await db.deleteFrom('challan_customers').where('org_id', '=', orgId).where('id', '=', id).execute();
  return true;
}
