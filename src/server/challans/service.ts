import { Readable } from 'node:stream';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { roleMay } from '../core/permissions.js';
import { clipboardText } from '../../shared/challans.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { SitesService } from '../sites/service.js';
import type { CustomersService } from './customers.js';
import { CHALLAN_CSV_HEADER, challanCsvLine, changesOf, forReader, presentChallan, type Challan } from './present.js';
import { fieldsOf, inputOf, monthOf, numberOf, validated, type ChallanInput } from './rules.js';
import * as store from './store.js';

export type ListQuery = PageQuery & store.ChallanFilter & { sort?: store.SortKey; order?: 'asc' | 'desc' };

/**
 * "Showing X of Y": Y is exact up to this many matches, beyond it the answer says "more than". A search
 * counts less far: each match it counts is a row the database reads to check the text (the trigram index
 * only narrows), and "more than 1,000" is all a reader needs of a common word.
 */
export const COUNT_CAP = 10_000;
export const SEARCH_COUNT_CAP = 1_000;
const RESTORE_DAYS = 30;
/** Rows of the CSV export read at a time: large enough that the statements cost little, small enough for flat memory. */
const EXPORT_BATCH = 2000;
const MAX_SEQUENCE = 99_999;

const NUMBER = /^\d{9}$/;
const VALUE_CHECKS: Record<string, (value: string) => boolean> = {
  text: (v) => v.length <= 200,
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  timestamptz: (v) => !Number.isNaN(Date.parse(v)),
  boolean: (v) => v === 'true' || v === 'false',
};

/** The cursor of a list: [sort, order, last number, last value (absent when empty)]; checked before it reaches SQL. */
function cursorAfter(after: (string | number)[] | null, sort: store.Sort): store.After | null {
  if (!after) return null;
  const [key, order, number, value] = after;
  const kind = store.SORT_COLUMNS[sort.key].kind;
  const valid = key === sort.key && order === sort.order && typeof number === 'string' && NUMBER.test(number) && after.length <= 4 &&
    (value === undefined || (typeof value === 'string' && VALUE_CHECKS[kind]!(value)));
  if (!valid) throw badRequest('cursor is not valid for this sort; use the nextCursor of a previous page', [{ field: 'cursor', message: 'malformed' }]);
  return { number: number as string, value: (value as string | undefined) ?? null };
}

function sortValue(row: store.ChallanRow, key: store.SortKey): string | null {
  const value = row[store.SORT_COLUMNS[key].column.slice(2) as keyof store.ChallanRow];
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/** The delivery-challan register: numbering, date rules, changes (audited, announced on the bus), lists and exports. */
export class ChallansService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly sites: SitesService,
    private readonly customers: CustomersService,
  ) {}

  /** Today in the organization's time zone (the date rules) and the zone (POD day ranges, CSV times). */
  today(orgId: string) {
    return store.organizationToday(this.ctx.db, orgId);
  }

  async list(scope: Scope, query: ListQuery) {
    const { zone } = await this.today(scope.orgId);
    const filter = this.filterOf(scope, query);
    const cap = filter.q ? SEARCH_COUNT_CAP : COUNT_CAP;
    const count = () => store.countChallans(this.ctx.db, scope, filter, zone, cap);
    let result: Awaited<ReturnType<ChallansService['page']>>;
    let counted: number;
    if (query.cursor) {
      // A later page: the count does not need it, both statements run at once on two pooled connections.
      [result, counted] = await Promise.all([this.page(scope, query, zone), count()]);
    } else {
      // A first page that holds every match is its own count (a rare term's usual answer): no second statement.
      result = await this.page(scope, query, zone);
      counted = result.nextCursor === null ? result.items.length : await count();
    }
    return { ...result, total: Math.min(counted, cap), totalExact: counted <= cap };
  }

  private filterOf(scope: Scope, query: ListQuery): store.ChallanFilter {
    if (query.deleted && !roleMay(scope.role, 'challan.delete')) throw forbidden('only admins see deleted challans');
    for (const [from, to] of [['from', 'to'], ['invoiceFrom', 'invoiceTo'], ['podFrom', 'podTo']] as const) {
      if (query[from] && query[to] && query[from] > query[to]) throw badRequest(`"${from}" must not be after "${to}"`, [{ field: from, message: `must not be after "${to}"` }]);
    }
    return { ...query, q: query.q?.trim() || undefined };
  }

  private async page(scope: Scope, query: ListQuery, zone: string) {
    const sort: store.Sort = { key: query.sort ?? 'challanDate', order: query.order ?? 'desc' };
    const page = pageRequest(query);
    const rows = await store.listChallans(this.ctx.db, scope, this.filterOf(scope, query), zone, sort, page.limit, cursorAfter(page.after, sort));
    const result = toPage(rows, page.limit, (row) => {
      const value = sortValue(row, sort.key);
      return value === null ? [sort.key, sort.order, row.number] : [sort.key, sort.order, row.number, value];
    });
    return { items: result.items.map((row) => forReader(scope, presentChallan(row))), nextCursor: result.nextCursor };
  }

  async get(scope: Scope, id: string, liveness: store.Liveness = 'live'): Promise<Challan> {
    const row = await store.findChallan(this.ctx.db, scope, id, liveness);
    if (!row) throw notFound('challan');
    return forReader(scope, presentChallan(row));
  }

  async create(scope: Scope, input: ChallanInput, actor: Actor): Promise<Challan> {
    const today = await this.today(scope.orgId);
    const customer = await this.customers.find(scope.orgId, input.customerId);
    const fields = validated(input, { today, scope, customer, current: null, now: new Date() });
    await this.sites.assertSitesExist(scope.orgId, fields.siteId ? [fields.siteId] : null, 'siteId');
    const id = await this.ctx.db.transaction().execute(async (tx) => {
      // Last before the insert: the counter row stays locked until this transaction commits.
      const month = monthOf(fields.challanDate);
      const sequence = await store.takeSequence(tx, scope.orgId, month);
      if (sequence > MAX_SEQUENCE) throw conflict(`all ${MAX_SEQUENCE} challan numbers of ${month} are used`);
      const number = numberOf(month, sequence);
      const challanId = await store.insertChallan(tx, scope.orgId, number, fields, actor.userId);
      await this.audit.record(actor, { orgId: scope.orgId, action: 'challan.created', resourceType: 'delivery_challan', resourceId: challanId, details: { number, ...fields } }, tx);
      return challanId;
    });
    return this.announce('challan.created', scope.orgId, await this.get(scope, id));
  }

  async update(scope: Scope, id: string, patch: Partial<ChallanInput>, actor: Actor): Promise<Challan> {
    const today = await this.today(scope.orgId);
    await this.ctx.db.transaction().execute(async (tx) => {
      const [row] = await store.lockChallans(tx, scope, [id]);
      if (!row) throw notFound('challan');
      const current = fieldsOf(row);
      const input = { ...inputOf(current), ...patch };
      const customer = await this.customers.find(scope.orgId, input.customerId);
      const fields = validated(input, { today, scope, customer, current, now: new Date() });
      if (fields.siteId !== current.siteId) await this.sites.assertSitesExist(scope.orgId, fields.siteId ? [fields.siteId] : null, 'siteId');
      await this.change(tx, scope, row, fields, 'challan.updated', actor);
    });
    return this.announce('challan.updated', scope.orgId, await this.get(scope, id));
  }

  /** Writes a changed challan with its audit entry (what changed); nothing when nothing did. */
  async change(tx: Tx, scope: Scope, row: store.ChallanRow, fields: store.ChallanFields, action: string, actor: Actor): Promise<boolean> {
    const changes = changesOf(fieldsOf(row), fields);
    if (Object.keys(changes).length === 0) return false;
    await store.updateChallan(tx, scope.orgId, row.id, fields, actor.userId);
    await this.audit.record(actor, { orgId: scope.orgId, action, resourceType: 'delivery_challan', resourceId: row.id, details: { number: row.number, changes } }, tx);
    return true;
  }

  /** Soft delete: the challan leaves the register, keeps its number, and may be restored for 30 days. */
  async remove(scope: Scope, ids: string[], actor: Actor, reason?: string): Promise<{ deleted: string[]; notFound: string[] }> {
    const why = reason?.trim() || null;
    const rows = await this.ctx.db.transaction().execute(async (tx) => {
      const found = await store.lockChallans(tx, scope, ids);
      await store.setDeleted(tx, scope.orgId, found.map((r) => r.id), { reason: why }, actor.userId);
      for (const row of found) {
        await this.audit.record(actor, { orgId: scope.orgId, action: 'challan.deleted', resourceType: 'delivery_challan', resourceId: row.id, details: { number: row.number, reason: why } }, tx);
      }
      return found;
    });
    for (const row of rows) {
      await this.ctx.bus.publish({ type: 'challan.deleted', orgId: scope.orgId, siteId: row.site_id, requires: 'challan.read', data: { challanId: row.id, number: row.number } });
    }
    const deleted = new Set(rows.map((r) => r.id));
    return { deleted: [...deleted], notFound: ids.filter((id) => !deleted.has(id)) };
  }

  async restore(scope: Scope, id: string, actor: Actor): Promise<Challan> {
    await this.ctx.db.transaction().execute(async (tx) => {
      const [row] = await store.lockChallans(tx, scope, [id], 'deleted');
      if (!row) throw notFound('deleted challan');
      if (row.deleted_at!.getTime() < Date.now() - RESTORE_DAYS * 86_400_000) {
        throw new AppError(409, 'restore_expired', `challan ${row.number} was deleted more than ${RESTORE_DAYS} days ago and can no longer be restored`);
      }
      await store.setDeleted(tx, scope.orgId, [id], false, actor.userId);
      await this.audit.record(actor, { orgId: scope.orgId, action: 'challan.restored', resourceType: 'delivery_challan', resourceId: id, details: { number: row.number } }, tx);
    });
    return this.announce('challan.restored', scope.orgId, await this.get(scope, id));
  }

  /**
   * Every matching challan as CSV in the list's order, read in keyset batches and pulled by the response
   * (a batch is read only when the client has taken the previous one), so memory stays flat however many rows.
   */
  async exportCsv(scope: Scope, query: Omit<ListQuery, 'limit' | 'cursor'>): Promise<Readable> {
    const { zone } = await this.today(scope.orgId);
    const filter = this.filterOf(scope, query);
    const sort: store.Sort = { key: query.sort ?? 'challanDate', order: query.order ?? 'desc' };
    const db = this.ctx.db;
    const staff = !scope.customerId;
    async function* lines() {
      yield CHALLAN_CSV_HEADER;
      let after: store.After | null = null;
      for (;;) {
        const rows = await store.exportBatch(db, scope, filter, zone, sort, EXPORT_BATCH, after);
        if (rows.length > 0) yield rows.map((row) => challanCsvLine(row, staff)).join('');
        if (rows.length < EXPORT_BATCH) return;
        const last = rows.at(-1)!;
        after = { value: last.sort_value, number: last.number };
      }
    }
    return Readable.from(lines(), { objectMode: false });
  }

  /** The live challans among `ids` that the caller may see, by id. */
  async byIds(scope: Scope, ids: string[]): Promise<Map<string, Challan>> {
    const { zone } = await this.today(scope.orgId);
    const { items } = await this.page(scope, { ids, limit: ids.length }, zone);
    return new Map(items.map((c) => [c.id, c]));
  }

  /** The four-line clipboard blocks of the challans `ids`, in that order. */
  async clipboard(scope: Scope, ids: string[]): Promise<string> {
    const byId = await this.byIds(scope, ids);
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length > 0) throw new AppError(404, 'not_found', `challans not found: ${missing.join(', ')}`, { missing });
    return clipboardText(ids.map((id) => byId.get(id)!));
  }

  /** Live update for open registers; only members who may see the challan's site receive it. */
  async announce(type: string, orgId: string, challan: Challan): Promise<Challan> {
    await this.ctx.bus.publish({ type, orgId, siteId: challan.siteId, requires: 'challan.read', data: { challan } });
    return challan;
  }
}
