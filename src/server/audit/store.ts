import type { Db, Tx } from '../core/db/database.js';

/** Every SQL statement about the audit log. */
type Conn = Db | Tx;

export interface AuditEntry {
  orgId: string | null;
  actorUserId: string | null;
  actorLabel: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export async function insertAuditEntry(db: Conn, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      org_id: entry.orgId,
      actor_user_id: entry.actorUserId,
      actor_label: entry.actorLabel,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      ip: entry.ip,
      user_agent: entry.userAgent,
      details: JSON.stringify(entry.details),
    })
    .execute();
}

export interface AuditFilter {
  /** null = platform-wide (superadmin view of entries without an organization, such as failed logins). */
  orgId: string | null;
  actorUserId?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: Date;
  to?: Date;
}

export function listAuditEntries(db: Conn, filter: AuditFilter, limit: number, afterId: number | null) {
  let query = db
    .selectFrom('audit_log')
    .select(['id', 'org_id', 'actor_user_id', 'actor_label', 'action', 'resource_type', 'resource_id', 'ip', 'user_agent', 'details', 'created_at'])
    // ids grow with insertion, so newest-first by id is newest-first by time, and an exact cursor.
    .orderBy('id', 'desc')
    .limit(limit + 1);
  query = filter.orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', filter.orgId);
  if (filter.actorUserId) query = query.where('actor_user_id', '=', filter.actorUserId);
  if (filter.action) query = query.where((eb) => eb.or([eb('action', '=', filter.action!), eb('action', 'like', `${filter.action}.%`)]));
  if (filter.resourceType) query = query.where('resource_type', '=', filter.resourceType);
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId);
  if (filter.from) query = query.where('created_at', '>=', filter.from);
  if (filter.to) query = query.where('created_at', '<', filter.to);
  if (afterId !== null) query = query.where('id', '<', afterId);
  return query.execute();
}
