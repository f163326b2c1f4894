import { randomBytes } from 'node:crypto';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { isUniqueViolation } from '../core/db/database.js';
import type { DigestSchedule } from '../core/db/schema.js';
import { badRequest, conflict, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { seal } from '../core/secret-box.js';
import type { Actor, AuditService } from '../audit/service.js';
import * as store from './notifications-store.js';
import { digestProblem, nextDigestAt, sameDigest } from './digests.js';
import { quietHoursProblem } from './quiet-hours.js';

export function presentChannel(channel: store.ChannelRow) {
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    recipients: channel.recipients,
    url: channel.url,
    quietHours: channel.quiet_hours,
    digest: channel.digest,
    nextDigestAt: channel.next_digest_at?.toISOString() ?? null,
    enabled: channel.enabled,
    createdAt: channel.created_at.toISOString(),
    updatedAt: channel.updated_at.toISOString(),
  };
}

export function presentDelivery(row: Awaited<ReturnType<typeof store.listDeliveries>>[number]) {
  return {
    id: String(row.id),
    alertId: row.alert_id,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastError: row.last_error,
    responseStatus: row.response_status,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    digestId: row.digest_id === null ? null : String(row.digest_id),
    createdAt: row.created_at.toISOString(),
  };
}

const newSecret = () => `whsec_${randomBytes(32).toString('hex')}`;

function taken(error: unknown): never {
  if (isUniqueViolation(error)) throw conflict('a channel with this name already exists', [{ field: 'name', message: 'is taken' }]);
  throw error;
}

/**
 * An organization's notification channels (email, signed webhook, in-app; each immediate or a digest),
 * and the delivery log. Administrators only; every change is audited.
 */
export class NotificationChannelsService {
  constructor(private readonly ctx: AppContext, private readonly audit: AuditService) {}

  async list(scope: Scope, query: PageQuery) {
    const page = pageRequest(query);
    const rows = await store.listChannels(this.ctx.db, scope.orgId, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  async get(scope: Scope, id: string) {
    const channel = await store.findChannel(this.ctx.db, scope.orgId, id);
    if (!channel) throw notFound('notification channel');
    return channel;
  }

  private async check(scope: Scope, fields: store.ChannelFields): Promise<void> {
    const problems: FieldError[] = [];
    if (fields.kind === 'email' && fields.recipients.length === 0) problems.push({ field: 'recipients', message: 'an email channel needs at least one address' });
    if (fields.kind !== 'email' && fields.recipients.length > 0) problems.push({ field: 'recipients', message: 'only email channels have recipients' });
    if (fields.kind === 'webhook') {
      if (!fields.url) problems.push({ field: 'url', message: 'a webhook channel needs a URL' });
      else {
        const problem = await this.ctx.outbound.problem(fields.url);
        if (problem) problems.push({ field: 'url', message: problem });
      }
    } else if (fields.url) problems.push({ field: 'url', message: 'only webhook channels have a URL' });
    const quiet = fields.quietHours && quietHoursProblem(fields.quietHours);
    if (quiet) problems.push({ field: 'quietHours', message: quiet });
    if (fields.digest) {
      const problem = fields.kind === 'in_app' ? 'in-app notifications are live; digests are for email and webhook channels' : digestProblem(fields.digest);
      if (problem) problems.push({ field: 'digest', message: problem });
    }
    if (problems.length > 0) throw invalidFields(problems);
  }

  /** Creates a channel; a webhook's signing secret is in the answer, once. */
  async create(scope: Scope, fields: store.ChannelFields, actor: Actor) {
    await this.check(scope, fields);
    const secret = fields.kind === 'webhook' ? newSecret() : null;
    const nextDigest = await this.nextDigest(scope, fields.digest);
    const channel = await store.insertChannel(this.ctx.db, scope.orgId, fields, secret ? seal(this.ctx.secrets.encryptionKey, secret) : null, nextDigest).catch(taken);
    await this.audit.record(actor, { orgId: scope.orgId, action: 'notification_channel.created', resourceType: 'notification_channel', resourceId: channel.id, details: { name: channel.name, kind: channel.kind, url: channel.url } });
    return { channel, secret };
  }

  async update(scope: Scope, id: string, patch: Partial<Omit<store.ChannelFields, 'kind'>>, actor: Actor) {
    const current = await this.get(scope, id);
    await this.check(scope, { name: current.name, kind: current.kind, recipients: current.recipients, url: current.url, quietHours: current.quiet_hours, digest: current.digest, enabled: current.enabled, ...patch });
    const rescheduled = patch.digest !== undefined && !sameDigest(patch.digest, current.digest);
    const nextDigest = rescheduled ? { next_digest_at: await this.nextDigest(scope, patch.digest ?? null) } : {};
    const channel = await this.ctx.db.transaction().execute(async (tx) => {
      const updated = await store.updateChannel(tx, scope.orgId, id, { ...patch, ...nextDigest });
      // Turned into an immediate channel: what it held for a digest goes out now rather than never.
      if (updated && updated.digest === null) await store.releaseHeld(tx, id);
      return updated;
    }).catch(taken);
    if (!channel) throw notFound('notification channel');
    await this.audit.record(actor, { orgId: scope.orgId, action: 'notification_channel.updated', resourceType: 'notification_channel', resourceId: id, name: channel.name, details: { changes: patch } });
    return channel;
  }

  private async nextDigest(scope: Scope, digest: DigestSchedule | null): Promise<Date | null> {
    return digest ? nextDigestAt(digest, new Date(), await store.orgTimezone(this.ctx.db, scope.orgId)) : null;
  }

  async rotateSecret(scope: Scope, id: string, actor: Actor) {
    const current = await this.get(scope, id);
    if (current.kind !== 'webhook') throw badRequest('only webhook channels have a signing secret');
    const secret = newSecret();
    const channel = await store.updateChannel(this.ctx.db, scope.orgId, id, { secret_sealed: seal(this.ctx.secrets.encryptionKey, secret) });
    await this.audit.record(actor, { orgId: scope.orgId, action: 'notification_channel.secret_rotated', resourceType: 'notification_channel', resourceId: id });
    return { channel: channel!, secret };
  }

  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const channel = await this.get(scope, id);
    if (!(await store.deleteChannel(this.ctx.db, scope.orgId, id))) throw notFound('notification channel');
    await this.audit.record(actor, { orgId: scope.orgId, action: 'notification_channel.deleted', resourceType: 'notification_channel', resourceId: id, details: { name: channel.name } });
  }

  async deliveries(scope: Scope, id: string, query: PageQuery) {
    await this.get(scope, id);
    const page = pageRequest(query);
    const afterId = page.after ? Number(page.after[0]) : null;
    if (afterId !== null && !Number.isInteger(afterId)) throw badRequest('cursor is not valid');
    const rows = await store.listDeliveries(this.ctx.db, scope.orgId, id, page.limit, afterId);
    return toPage(rows, page.limit, (r) => [r.id]);
  }

}
