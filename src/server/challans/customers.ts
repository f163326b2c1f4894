import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { isUniqueViolation } from '../core/db/database.js';
import { badRequest, conflict, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { textProblem } from '../core/text.js';
import type { Actor, AuditService } from '../audit/service.js';
import * as store from './customer-store.js';
import { changesOf } from './present.js';

export interface CustomerInput {
  name: string;
  tag: string;
  address?: string | null;
  contact?: string | null;
  active?: boolean;
  emailDomains?: string[];
}

export function presentCustomer(c: store.CustomerRow) {
  return {
    id: c.id, name: c.name, tag: c.tag, address: c.address, contact: c.contact, active: c.is_active, emailDomains: c.email_domains,
    createdAt: c.created_at.toISOString(), updatedAt: c.updated_at.toISOString(),
  };
}
export type Customer = ReturnType<typeof presentCustomer>;

// A host name: labels of letters, digits and inner hyphens, with a dot between at least two of them.
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function validated(input: CustomerInput): store.CustomerFields {
  const problems: FieldError[] = [];
  const text = (field: string, value: string | null | undefined) => {
    const trimmed = value?.trim() ?? '';
    const problem = textProblem(trimmed);
    if (problem) problems.push({ field, message: problem });
    return trimmed === '' ? null : trimmed;
  };
  const name = text('name', input.name);
  const tag = text('tag', input.tag);
  if (!name) problems.push({ field: 'name', message: 'is required' });
  if (!tag) problems.push({ field: 'tag', message: 'is required: the short name used in the register' });
  const address = text('address', input.address);
  const contact = text('contact', input.contact);
  const emailDomains = [...new Set((input.emailDomains ?? []).map((d) => d.trim().toLowerCase().replace(/^@/, '')))];
  const badDomain = emailDomains.find((d) => !DOMAIN.test(d));
  if (badDomain !== undefined) problems.push({ field: 'emailDomains', message: `"${badDomain}" is not a domain name (like acme.example)` });
  if (problems.length > 0) throw invalidFields(problems);
  return { name: name!, tag: tag!, address, contact, isActive: input.active ?? true, emailDomains };
}

const tagTaken = (tag: string) => conflict(`the tag "${tag}" is already used by another customer`, [{ field: 'tag', message: 'is already used by another customer' }]);

/**
 * The organization's customers, picked by id when a challan is made (the challan keeps the name as it was).
 * A customer named by challans is not deleted, only made inactive: it then is no longer offered for new ones.
 */
export class CustomersService {
  constructor(private readonly ctx: AppContext, private readonly audit: AuditService) {}

  async list(scope: Scope, query: PageQuery & { q?: string; active?: boolean }) {
    const page = pageRequest(query);
    const after = page.after;
    if (after && (after.length !== 2 || typeof after[0] !== 'string' || typeof after[1] !== 'string' || !UUID.test(after[1]))) {
      throw badRequest('cursor is not valid; use the nextCursor of a previous page', [{ field: 'cursor', message: 'malformed' }]);
    }
    const filter = { q: query.q?.trim() || undefined, active: query.active, onlyId: scope.customerId ?? undefined };
    const rows = await store.listCustomers(this.ctx.db, scope.orgId, filter, page.limit, after as [string, string] | null);
    const result = toPage(rows, page.limit, (c) => [c.name, c.id]);
    return { items: result.items.map(presentCustomer), nextCursor: result.nextCursor };
  }

  /** The customer row, for the challans service; undefined when the organization has none by that id. */
  find(orgId: string, id: string) {
    return store.findCustomer(this.ctx.db, orgId, id);
  }

  /** The active customer whose tag or name is `text` (either case): how the compatibility API names customers. */
  findByTagOrName(orgId: string, text: string) {
    return store.findCustomerByTagOrName(this.ctx.db, orgId, text.trim());
  }

  async get(scope: Scope, id: string): Promise<Customer> {
    // A client member reads their own customer and no other.
    const row = scope.customerId && scope.customerId !== id ? undefined : await store.findCustomer(this.ctx.db, scope.orgId, id);
    if (!row) throw notFound('customer');
    return presentCustomer(row);
  }

  async create(scope: Scope, input: CustomerInput, actor: Actor): Promise<Customer> {
    const fields = validated(input);
    try {
      const row = await this.ctx.db.transaction().execute(async (tx) => {
        const inserted = await store.insertCustomer(tx, scope.orgId, fields);
        await this.audit.record(actor, { orgId: scope.orgId, action: 'customer.created', resourceType: 'customer', resourceId: inserted.id, details: { ...fields } }, tx);
        return inserted;
      });
      return this.announce('customer.created', scope.orgId, presentCustomer(row));
    } catch (error) {
      if (isUniqueViolation(error, store.TAG_INDEX)) throw tagTaken(fields.tag);
      throw error;
    }
  }

  async update(scope: Scope, id: string, patch: Partial<CustomerInput>, actor: Actor): Promise<Customer> {
    const current = await this.get(scope, id);
    const fields = validated({ ...current, ...patch });
    const before = { name: current.name, tag: current.tag, address: current.address, contact: current.contact, isActive: current.active, emailDomains: current.emailDomains };
    const changes = changesOf(before, fields);
    try {
      const row = await this.ctx.db.transaction().execute(async (tx) => {
        const updated = await store.updateCustomer(tx, scope.orgId, id, fields);
        if (!updated) throw notFound('customer');
        await this.audit.record(actor, { orgId: scope.orgId, action: 'customer.updated', resourceType: 'customer', resourceId: id, details: { changes } }, tx);
        return updated;
      });
      return this.announce('customer.updated', scope.orgId, presentCustomer(row));
    } catch (error) {
      if (isUniqueViolation(error, store.TAG_INDEX)) throw tagTaken(fields.tag);
      throw error;
    }
  }

  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const customer = await this.get(scope, id);
    const refused = () => conflict('challans name this customer; make it inactive instead (it is then no longer offered for new challans)');
    try {
      await this.ctx.db.transaction().execute(async (tx) => {
        if (!(await store.deleteUnusedCustomer(tx, scope.orgId, id))) throw refused();
        await this.audit.record(actor, { orgId: scope.orgId, action: 'customer.deleted', resourceType: 'customer', resourceId: id, details: { name: customer.name, tag: customer.tag } }, tx);
      });
    } catch (error) {
      // A challan made for it meanwhile: the foreign key refused the delete.
      if ((error as { code?: string }).code === '23503') throw refused();
      throw error;
    }
    await this.ctx.bus.publish({ type: 'customer.deleted', orgId: scope.orgId, requires: 'challan.read', data: { customerId: id } });
  }

  private async announce(type: string, orgId: string, customer: Customer): Promise<Customer> {
    await this.ctx.bus.publish({ type, orgId, requires: 'challan.read', data: { customer } });
    return customer;
  }
}
