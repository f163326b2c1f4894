import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import { inScope, type ScopeColumns } from '../core/db/scope.js';
import { outstandingCondition } from './records-store.js';

/**
 * Every SQL statement about delivery challans and their number counters. Reads go through `inScope`:
 * a member limited to some sites sees only those sites' challans, a client member only their customer's. Writes take the organization and ids
 * a scoped read returned first.
 */
type Conn = Db | Tx;

/** How `inScope` reads a challan row: its site for members limited to sites, its customer for client members. */
export const READABLE: ScopeColumns = { customer: 'customer_id' };

const COLUMNS = [
  'c.id', 'c.org_id', 'c.site_id', 'c.number', 'c.challan_date', 'c.customer_id', 'c.customer_name', 'c.description',
  'c.delivery_executives', 'c.invoice_number', 'c.invoice_date', 'c.invoice_submitted', 'c.invoice_submitted_at',
  'c.pod_file_id', 'c.pod_uploaded_at', 'c.created_by', 'c.updated_by', 'c.created_at', 'c.updated_at', 'c.deleted_at', 'c.deleted_by', 'c.delete_reason',
  'p.version as pod_version', 'p.file_name as pod_file_name', 'p.content_type as pod_content_type', 'p.size_bytes as pod_size_bytes',
  'p.preview_key as pod_preview_key', 'cu.name as created_by_name', 'uu.name as updated_by_name', 'du.name as deleted_by_name',
] as const;

/** Which challans a read looks at: the register (live ones), the deleted ones (restorable), or either. */
export type Liveness = 'live' | 'deleted' | 'any';

function joined(db: Conn, scope: Scope, liveness: Liveness) {
  let query = db
    .selectFrom('delivery_challans as c')
    .leftJoin('challan_pod_files as p', 'p.id', 'c.pod_file_id')
    .leftJoin('users as cu', 'cu.id', 'c.created_by')
    .leftJoin('users as uu', 'uu.id', 'c.updated_by')
    .leftJoin('users as du', 'du.id', 'c.deleted_by')
    .where(inScope(scope, 'c', READABLE));
  if (liveness === 'live') query = query.where('c.deleted_at', 'is', null);
  if (liveness === 'deleted') query = query.where('c.deleted_at', 'is not', null);
  return query;
}

function visible(db: Conn, scope: Scope, liveness: Liveness) {
  return joined(db, scope, liveness).select(COLUMNS);
}

export type ChallanRow = Awaited<ReturnType<typeof findChallan>> & {};

export interface ChallanFilter {
  q?: string;
  from?: string;
  to?: string;
  customerId?: string;
  siteId?: string;
  invoice?: 'submitted' | 'pending';
  invoiceFrom?: string;
  invoiceTo?: string;
  pod?: 'received' | 'missing';
  podFrom?: string;
  podTo?: string;
  ids?: string[];
  deleted?: boolean;
  /** Only challans this many days old or older without POD or without a submitted invoice. */
  outstandingDays?: number;
}

/** The columns a list may be sorted by (each followed by the number, unique in the organization). */
export const SORT_COLUMNS = {
  number: { column: 'c.number', kind: 'text', nullable: false },
  challanDate: { column: 'c.challan_date', kind: 'date', nullable: false },
  customerName: { column: 'c.customer_name', kind: 'text', nullable: false },
  invoiceNumber: { column: 'c.invoice_number', kind: 'text', nullable: true },
  invoiceDate: { column: 'c.invoice_date', kind: 'date', nullable: true },
  invoiceSubmitted: { column: 'c.invoice_submitted', kind: 'boolean', nullable: false },
  podUploadedAt: { column: 'c.pod_uploaded_at', kind: 'timestamptz', nullable: true },
  createdAt: { column: 'c.created_at', kind: 'timestamptz', nullable: false },
  updatedAt: { column: 'c.updated_at', kind: 'timestamptz', nullable: false },
  /** The deleted challans page: the latest deletions first. */
  deletedAt: { column: 'c.deleted_at', kind: 'timestamptz', nullable: true },
} as const;
export type SortKey = keyof typeof SORT_COLUMNS;
export interface Sort {
  key: SortKey;
  order: 'asc' | 'desc';
}

/** Where the previous page ended: its last row's sort value (null for an empty nullable column) and number. */
export interface After {
  value: string | null;
  number: string;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/** A number-shaped term: ASCII letters, digits and separators, such as an invoice number "INV/2425/017343". */
const NUMBER_SHAPED = /^[a-z0-9][a-z0-9/.#-]*$/i;

/**
 * A search term anywhere in the row's text (search_text, lowercased once when the row is written), served by
 * the trigram index. The rows are exactly ILIKE's: ILIKE lowercases the text and the pattern (as the database
 * does, which for letters beyond ASCII is not always what JavaScript does) and compares them with LIKE; the
 * text is lowercase already, so only the pattern is lowered here. Not lowering every row it checks again
 * makes each check about three times cheaper, and checks are what a common word's page and count spend their
 * time on (thousands of rows). A number-shaped term with separators asks the
 * index only for its longest run of letters and digits ("017343") and checks the whole term on those few
 * rows: its other trigrams ("inv", "/24") are in almost every row, and reading their index lists cost ~15 ms
 * a statement against ~1 ms (the term is ASCII without wildcards, so strpos finds what LIKE would).
 */
function searchCondition(q: string): RawBuilder<SqlBool> {
  const term = q.toLowerCase();
  const runs = NUMBER_SHAPED.test(q) ? term.split(/[^a-z0-9]+/) : [];
  const longest = runs.reduce((best, run) => (run.length > best.length ? run : best), '');
  if (runs.length < 2 || longest.length < 3) return sql<SqlBool>`c.search_text LIKE lower(${`%${escapeLike(q)}%`})`;
  return sql<SqlBool>`(c.search_text LIKE ${`%${longest}%`} AND strpos(c.search_text, ${term}) > 0)`;
}

/**
 * The filter conditions. Day ranges are inclusive; the POD date is a day in the organization's time zone
 * `zone`. A range never matches a row whose date is empty.
 */
function conditions(filter: ChallanFilter, zone: string): RawBuilder<SqlBool>[] {
  const where: RawBuilder<SqlBool>[] = [];
  if (filter.q) where.push(searchCondition(filter.q));
  if (filter.from) where.push(sql<SqlBool>`c.challan_date >= ${filter.from}::date`);
  if (filter.to) where.push(sql<SqlBool>`c.challan_date <= ${filter.to}::date`);
  if (filter.customerId) where.push(sql<SqlBool>`c.customer_id = ${filter.customerId}::uuid`);
  if (filter.siteId) where.push(sql<SqlBool>`c.site_id = ${filter.siteId}::uuid`);
  if (filter.invoice) where.push(sql<SqlBool>`c.invoice_submitted = ${filter.invoice === 'submitted'}`);
  if (filter.invoiceFrom) where.push(sql<SqlBool>`c.invoice_date >= ${filter.invoiceFrom}::date`);
  if (filter.invoiceTo) where.push(sql<SqlBool>`c.invoice_date <= ${filter.invoiceTo}::date`);
  if (filter.pod === 'received') where.push(sql<SqlBool>`c.pod_file_id IS NOT NULL`);
  if (filter.pod === 'missing') where.push(sql<SqlBool>`c.pod_file_id IS NULL`);
  if (filter.podFrom) where.push(sql<SqlBool>`c.pod_uploaded_at >= (${filter.podFrom}::date)::timestamp AT TIME ZONE ${zone}`);
  if (filter.podTo) where.push(sql<SqlBool>`c.pod_uploaded_at < (${filter.podTo}::date + 1)::timestamp AT TIME ZONE ${zone}`);
  if (filter.ids) where.push(sql<SqlBool>`c.id = ANY(${filter.ids}::uuid[])`);
  if (filter.outstandingDays) where.push(outstandingCondition('c', sql`${zone}::text`, filter.outstandingDays, new Date()));
  return where;
}

function filtered(db: Conn, scope: Scope, filter: ChallanFilter, zone: string) {
  let query = visible(db, scope, filter.deleted ? 'deleted' : 'live');
  for (const condition of conditions(filter, zone)) query = query.where(condition);
  return query;
}

/**
 * After the cursor in the list's order. Empty values of a nullable column come last in either direction, so
 * a row is after (v, n) when its value is beyond v, or equal with a number beyond n, or empty.
 */
function afterCursor(sort: Sort, after: After): RawBuilder<SqlBool> {
  const spec = SORT_COLUMNS[sort.key];
  const column = sql.ref(spec.column);
  const op = sql.raw(sort.order === 'desc' ? '<' : '>');
  if (after.value === null) return sql<SqlBool>`(${column} IS NULL AND c.number ${op} ${after.number})`;
  const value = sql`${after.value}::${sql.raw(spec.kind)}`;
  if (!spec.nullable) return sql<SqlBool>`(${column}, c.number) ${op} (${value}, ${after.number})`;
  return sql<SqlBool>`((${column}, c.number) ${op} (${value}, ${after.number}) OR ${column} IS NULL)`;
}

/**
 * The list's order. Empty values come last; a column that is never empty says no more, because DESC NULLS
 * LAST would not match its index (DESC is NULLS FIRST) and the database would sort every match for a page.
 */
function orderOf(sort: Sort) {
  const spec = SORT_COLUMNS[sort.key];
  const direction = sort.order === 'desc' ? 'DESC' : 'ASC';
  return sql`${sql.ref(spec.column)} ${sql.raw(spec.nullable ? `${direction} NULLS LAST` : direction)}`;
}

export function listChallans(db: Conn, scope: Scope, filter: ChallanFilter, zone: string, sort: Sort, limit: number, after: After | null) {
  let query = filtered(db, scope, filter, zone)
    .orderBy(orderOf(sort))
    .orderBy('c.number', sort.order)
    .limit(limit + 1);
  if (after) query = query.where(afterCursor(sort, after));
  return query.execute();
}

const dmy = (column: string) => sql<string>`coalesce(to_char(${sql.ref(column)}, 'DD-MM-YYYY'), '')`;
const dmyTime = (column: string, zone: string) => sql<string>`coalesce(to_char(${sql.ref(column)} AT TIME ZONE ${zone}, 'DD-MM-YYYY HH24:MI'), '')`;

/**
 * A batch of the CSV export in the list's order after `after`: the cells formatted by the database (days
 * dd-mm-yyyy, times in the organization's zone `zone`), which is many times faster than formatting them in
 * JavaScript, and the keyset of each row (its sort value as text, and number) for the next batch.
 */
export function exportBatch(db: Conn, scope: Scope, filter: ChallanFilter, zone: string, sort: Sort, limit: number, after: After | null) {
  const spec = SORT_COLUMNS[sort.key];
  let query = joined(db, scope, filter.deleted ? 'deleted' : 'live')
    .select([
      'c.number', dmy('c.challan_date').as('date'), 'c.customer_name', 'c.description',
      sql<string>`array_to_string(c.delivery_executives, ', ')`.as('executives'), sql<string>`coalesce(c.invoice_number, '')`.as('invoice'),
      dmy('c.invoice_date').as('invoice_date'), 'c.invoice_submitted', sql<string>`coalesce(p.file_name, '')`.as('pod_file'),
      dmyTime('c.pod_uploaded_at', zone).as('pod_at'), dmyTime('c.created_at', zone).as('created'), sql<string>`coalesce(cu.name, '')`.as('created_by'),
      dmyTime('c.updated_at', zone).as('updated'), sql<string>`coalesce(uu.name, '')`.as('updated_by'),
      sql<string | null>`${sql.ref(spec.column)}::text`.as('sort_value'),
    ]);
  for (const condition of conditions(filter, zone)) query = query.where(condition);
  if (after) query = query.where(afterCursor(sort, after));
  return query
    .orderBy(orderOf(sort))
    .orderBy('c.number', sort.order)
    .limit(limit)
    .execute();
}

export type ExportRow = Awaited<ReturnType<typeof exportBatch>>[number];

/**
 * How many challans match, counted up to `cap` (beyond it the answer is `cap + 1`: "more than cap"). A search
 * counts newest first: the database may then walk the date index and stop at the cap, which for a common
 * word means checking some thousands of rows (their text is in that index: no table row is read for them), where collecting every match from the trigram index first
 * (what it picks without an order) costs the whole match list, ~0.5 µs a match (tens of ms for 70,000). A
 * rare word is still counted from the trigram index: the estimate of its matches makes the walk look long.
 */
export async function countChallans(db: Conn, scope: Scope, filter: ChallanFilter, zone: string, cap: number): Promise<number> {
  let inner = db.selectFrom('delivery_challans as c').select(sql.lit(1).as('one')).where(inScope(scope, 'c', READABLE))
    .where('c.deleted_at', filter.deleted ? 'is not' : 'is', null);
  for (const condition of conditions(filter, zone)) inner = inner.where(condition);
  if (filter.q) inner = inner.orderBy('c.challan_date', 'desc').orderBy('c.number', 'desc');
  const row = await db.selectFrom(inner.limit(cap + 1).as('t')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return row.n;
}

export function findChallan(db: Conn, scope: Scope, id: string, liveness: Liveness = 'live') {
  return visible(db, scope, liveness).where('c.id', '=', id).executeTakeFirst();
}

/** The challans among `ids` the caller may see, locked for the rest of the transaction (bulk changes). */
export function lockChallans(db: Tx, scope: Scope, ids: string[], liveness: Liveness = 'live') {
  return visible(db, scope, liveness).where('c.id', 'in', ids).orderBy('c.number').forUpdate('c').execute();
}

/** Today's calendar day in the organization's time zone, and that zone. */
export async function organizationToday(db: Conn, orgId: string): Promise<{ today: string; zone: string }> {
  const row = await db.selectFrom('organizations')
    .select(['timezone as zone', sql<string>`(now() AT TIME ZONE timezone)::date`.as('today')])
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow();
  return row;
}

/**
 * The next sequence of a month (YYMM), in the caller's transaction: the counter row stays locked until it
 * commits, so concurrent creates queue here and a rollback gives the number back.
 */
export async function takeSequence(db: Tx, orgId: string, month: string): Promise<number> {
  const row = await db.insertInto('challan_number_counters')
    .values({ org_id: orgId, month, last_sequence: 1 })
    .onConflict((oc) => oc.columns(['org_id', 'month']).doUpdateSet({ last_sequence: sql`challan_number_counters.last_sequence + 1` }))
    .returning('last_sequence')
    .executeTakeFirstOrThrow();
  return row.last_sequence;
}

export interface ChallanFields {
  siteId: string | null;
  challanDate: string;
  customerId: string;
  customerName: string;
  description: string;
  deliveryExecutives: string[];
  invoiceNumber: string | null;
  invoiceDate: string | null;
  invoiceSubmittedAt: Date | null;
}

function columnsOf(f: ChallanFields) {
  return {
    site_id: f.siteId, challan_date: f.challanDate, customer_id: f.customerId, customer_name: f.customerName, description: f.description,
    delivery_executives: f.deliveryExecutives, invoice_number: f.invoiceNumber, invoice_date: f.invoiceDate,
    invoice_submitted: f.invoiceSubmittedAt !== null, invoice_submitted_at: f.invoiceSubmittedAt,
  };
}

export async function insertChallan(db: Tx, orgId: string, number: string, fields: ChallanFields, userId: string | null): Promise<string> {
  const row = await db.insertInto('delivery_challans')
    .values({ org_id: orgId, number, ...columnsOf(fields), created_by: userId, updated_by: userId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateChallan(db: Tx, orgId: string, id: string, fields: ChallanFields, userId: string | null): Promise<void> {
  await db.updateTable('delivery_challans')
    .set({ ...columnsOf(fields), updated_by: userId, updated_at: new Date() })
    .where('org_id', '=', orgId).where('id', '=', id)
    .execute();
}

/** Deletes (with the reason given, if any) or restores challans. */
export async function setDeleted(db: Tx, orgId: string, ids: string[], deleted: { reason: string | null } | false, userId: string | null): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('delivery_challans')
    .set(deleted
      ? { deleted_at: new Date(), deleted_by: userId, delete_reason: deleted.reason }
      : { deleted_at: null, deleted_by: null, delete_reason: null, updated_at: new Date(), updated_by: userId })
    .where('org_id', '=', orgId).where('id', 'in', ids)
    .execute();
}
