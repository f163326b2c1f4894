import type { FastifyRequest } from 'fastify';
import type { Db, Tx } from '../core/db/database.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { badRequest } from '../core/http/errors.js';
import { insertAuditEntry, listAuditEntries, type AuditFilter } from './store.js';

/** Who did something, as the audit log records it. */
export interface Actor {
  userId: string | null;
  label: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function requestActor(request: FastifyRequest): Actor {
  const userAgent = request.headers['user-agent'];
  return {
    userId: request.principal?.userId ?? null,
    label: request.principal?.email ?? null,
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 500) : null,
  };
}

export interface AuditRecord {
  orgId: string | null;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  /**
   * What the resource is called (a device's or a site's name), kept in the entry's details as `name`, so
   * the log reads "Elm Street radar" rather than an id, even after a rename or a deletion.
   */
  name?: string | null;
  /** `changes` (the new values) also gives `changedFields`, the fields' names, for the log's summary. */
  details?: Record<string, unknown>;
}

/** The fields of `patch` whose value differs from `before` (same field names): what an update really changed. */
export function changedValues<T extends object>(before: Partial<Record<keyof T, unknown>>, patch: T): Partial<T> {
  const changed: Partial<T> = {};
  for (const [field, value] of Object.entries(patch) as [keyof T, T[keyof T]][]) {
    if (value !== undefined && JSON.stringify(value) !== JSON.stringify(before[field] ?? null)) changed[field] = value;
  }
  return changed;
}

function detailsOf(entry: AuditRecord): Record<string, unknown> {
  const details = { ...entry.details };
  if (entry.name && details.name === undefined) details.name = entry.name;
  const changes = details.changes;
  if (changes && typeof changes === 'object' && !Array.isArray(changes) && details.changedFields === undefined) {
    details.changedFields = Object.keys(changes).filter((field) => (changes as Record<string, unknown>)[field] !== undefined);
  }
  return details;
}

export class AuditService {
  constructor(private readonly db: Db) {}

  /** Records one privileged change. Pass the transaction that makes the change, so both commit or neither. */
  async record(actor: Actor, entry: AuditRecord, conn: Db | Tx = this.db): Promise<void> {
    await insertAuditEntry(conn, {
      orgId: entry.orgId,
      actorUserId: actor.userId,
      actorLabel: actor.label,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId ?? null,
      ip: actor.ip,
      userAgent: actor.userAgent,
      details: detailsOf(entry),
    });
  }

  async list(filter: AuditFilter, query: PageQuery) {
    const page = pageRequest(query);
    const afterId = page.after ? Number(page.after[0]) : null;
    if (afterId !== null && !Number.isInteger(afterId)) throw badRequest('cursor is not valid');
    if (filter.from && filter.to && filter.from >= filter.to) throw badRequest('"from" must be before "to"', [{ field: 'from', message: 'must be before "to"' }]);
    const rows = await listAuditEntries(this.db, filter, page.limit, afterId);
    return toPage(rows, page.limit, (row) => [row.id]);
  }
}
