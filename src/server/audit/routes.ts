import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { scopeOf } from '../core/access.js';
import { PageQuery, Page } from '../core/pagination.js';
import { errors, Timestamp, Uuid } from '../core/http/schemas.js';
import type { AuditService } from './service.js';

const AuditEntry = Type.Object({
  id: Type.Integer(),
  actorUserId: Type.Union([Uuid, Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  resourceType: Type.String(),
  resourceId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
});

const Filter = Type.Object({
  actorUserId: Type.Optional(Uuid),
  action: Type.Optional(Type.String({ maxLength: 100, description: 'exact action, or a prefix such as "member"' })),
  resourceType: Type.Optional(Type.String({ maxLength: 100 })),
  resourceId: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
});

type Row = Awaited<ReturnType<AuditService['list']>>['items'][number];
const present = (r: Row) => ({
  id: r.id,
  actorUserId: r.actor_user_id,
  actor: r.actor_label,
  action: r.action,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  ip: r.ip,
  userAgent: r.user_agent,
  details: r.details,
  createdAt: r.created_at.toISOString(),
});

export function auditRoutes(audit: AuditService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const list = (orgId: string | null, q: Static<typeof Filter> & PageQuery) =>
      audit.list({ orgId, ...q, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined }, q);

    app.get('/api/v1/audit', {
      config: { access: 'audit.read' },
      schema: { tags: ['audit'], summary: 'Audit log of your organization, newest first', querystring: Type.Intersect([PageQuery, Filter]), response: { 200: Page(AuditEntry), ...errors(400, 401, 403) } },
    }, async (request) => {
      const page = await list(scopeOf(request).orgId, request.query);
      return { items: page.items.map(present), nextCursor: page.nextCursor };
    });

    app.get('/api/v1/admin/audit', {
      config: { access: 'superadmin' },
      schema: {
        tags: ['platform'],
        summary: 'Platform audit entries that belong to no organization (failed logins, password resets, tokens)',
        querystring: Type.Intersect([PageQuery, Filter]),
        response: { 200: Page(AuditEntry), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const page = await list(null, request.query);
      return { items: page.items.map(present), nextCursor: page.nextCursor };
    });
  };
}
