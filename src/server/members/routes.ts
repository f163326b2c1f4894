import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { PageQuery, Page } from '../core/pagination.js';
import { Email, errors, IdParams, NoContent, NullableTimestamp, Password, RoleSchema, SiteIds, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import type { MemberRole } from '../../shared/roles.js';
import type { MembersService } from './service.js';

const CustomerId = Type.Union([Uuid, Type.Null()], { description: "A client member's customer (role client): whose challans they see; null for staff" });

const Member = Type.Object({
  userId: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  siteIds: SiteIds,
  customerId: CustomerId,
  isActive: Type.Boolean(),
  joinedAt: Timestamp,
  lastLoginAt: NullableTimestamp,
});
type MemberRow = { user_id: string; email: string; name: string; role: MemberRole; site_ids: string[] | null; customer_id: string | null; is_active: boolean; user_active: boolean; created_at: Date; last_login_at: Date | null };
const presentMember = (m: MemberRow) => ({
  userId: m.user_id,
  email: m.email,
  name: m.name,
  role: m.role,
  siteIds: m.site_ids,
  customerId: m.customer_id,
  isActive: m.is_active && m.user_active,
  joinedAt: m.created_at.toISOString(),
  lastLoginAt: m.last_login_at?.toISOString() ?? null,
});

const Invitation = Type.Object({
  id: Uuid, email: Type.String(), role: RoleSchema, siteIds: SiteIds, customerId: CustomerId, createdAt: Timestamp, expiresAt: Timestamp, acceptedAt: NullableTimestamp, revokedAt: NullableTimestamp,
});
type InvitationRow = { id: string; email: string; role: MemberRole; site_ids: string[] | null; customer_id: string | null; created_at: Date; expires_at: Date; accepted_at: Date | null; revoked_at: Date | null };
const presentInvitation = (i: InvitationRow) => ({
  id: i.id,
  email: i.email,
  role: i.role,
  siteIds: i.site_ids,
  customerId: i.customer_id,
  createdAt: i.created_at.toISOString(),
  expiresAt: i.expires_at.toISOString(),
  acceptedAt: i.accepted_at?.toISOString() ?? null,
  revokedAt: i.revoked_at?.toISOString() ?? null,
});

const RegistrationCode = Type.Object({
  id: Uuid, prefix: Type.String(), label: Type.Union([Type.String(), Type.Null()]), role: RoleSchema, siteIds: SiteIds,
  maxUses: Type.Integer(), uses: Type.Integer(), expiresAt: NullableTimestamp, revokedAt: NullableTimestamp, createdAt: Timestamp,
});
type CodeRow = { id: string; code_prefix: string; label: string | null; role: MemberRole; site_ids: string[] | null; max_uses: number; uses: number; expires_at: Date | null; revoked_at: Date | null; created_at: Date };
const presentCode = (c: CodeRow) => ({
  id: c.id,
  prefix: c.code_prefix,
  label: c.label,
  role: c.role,
  siteIds: c.site_ids,
  maxUses: c.max_uses,
  uses: c.uses,
  expiresAt: c.expires_at?.toISOString() ?? null,
  revokedAt: c.revoked_at?.toISOString() ?? null,
  createdAt: c.created_at.toISOString(),
});

const UserParams = Type.Object({ userId: Uuid });
const Search = Type.Intersect([PageQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 200 })) })]);

export function memberRoutes(members: MembersService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['members'];

    app.get('/api/v1/members', {
      config: { access: 'member.read' },
      schema: { tags, summary: 'Members of your organization', querystring: Search, response: { 200: Page(Member), ...errors(401, 403) } },
    }, async (request) => {
      const page = await members.list(scopeOf(request), request.query);
      return { items: page.items.map(presentMember), nextCursor: page.nextCursor };
    });

    app.patch('/api/v1/members/:userId', {
      config: { access: 'member.write' },
      schema: {
        tags,
        summary: 'Change a member\'s role or site restriction, or deactivate them (takes effect on their next request)',
        params: UserParams,
        body: Type.Object({ role: Type.Optional(RoleSchema), siteIds: Type.Optional(SiteIds), isActive: Type.Optional(Type.Boolean()) }, { minProperties: 1 }),
        response: { 200: Member, ...errors(400, 401, 403, 404, 409) },
      },
    }, async (request) => presentMember(await members.update(scopeOf(request), request.params.userId, request.body, requestActor(request))));

    app.delete('/api/v1/members/:userId', {
      config: { access: 'member.write' },
      schema: { tags, summary: 'Remove a member from the organization', params: UserParams, response: { 204: NoContent, ...errors(401, 403, 404, 409) } },
    }, async (request, reply) => {
      await members.remove(scopeOf(request), request.params.userId, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/invitations', {
      config: { access: 'member.read' },
      schema: { tags, summary: 'Invitations, newest first', querystring: PageQuery, response: { 200: Page(Invitation), ...errors(401, 403) } },
    }, async (request) => {
      const page = await members.listInvitations(scopeOf(request), request.query);
      return { items: page.items.map(presentInvitation), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/invitations', {
      config: { access: 'member.write' },
      schema: {
        tags,
        summary: 'Invite someone by email (link valid 7 days); the link is also returned for copying. A client (role client, with customerId) must have an address at one of the customer\'s email domains',
        body: Type.Object({ email: Email, role: RoleSchema, siteIds: Type.Optional(SiteIds), customerId: Type.Optional(CustomerId) }),
        response: { 201: Type.Intersect([Invitation, Type.Object({ inviteUrl: Type.String() })]), ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const invitation = await members.invite(scopeOf(request), request.body, requestActor(request));
      return reply.code(201).send({ ...presentInvitation(invitation), inviteUrl: invitation.inviteUrl });
    });

    app.delete('/api/v1/invitations/:id', {
      config: { access: 'member.write' },
      schema: { tags, summary: 'Revoke an open invitation', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await members.revokeInvitation(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/registration-codes', {
      config: { access: 'regcode.read' },
      schema: { tags, summary: 'Registration codes, newest first', querystring: PageQuery, response: { 200: Page(RegistrationCode), ...errors(401, 403) } },
    }, async (request) => {
      const page = await members.listRegistrationCodes(scopeOf(request), request.query);
      return { items: page.items.map(presentCode), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/registration-codes', {
      config: { access: 'regcode.write' },
      schema: {
        tags,
        summary: 'Create a registration code; the code is shown only in this response',
        body: Type.Object({
          label: Type.Optional(Type.String({ maxLength: 200 })),
          role: Type.Union([Type.Literal('admin'), Type.Literal('manager'), Type.Literal('operator'), Type.Literal('viewer')]),
          siteIds: Type.Optional(SiteIds),
          maxUses: Type.Integer({ minimum: 1, maximum: 100000 }),
          expiresAt: Type.Optional(Timestamp),
        }),
        response: { 201: Type.Intersect([RegistrationCode, Type.Object({ code: Type.String() })]), ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const created = await members.createRegistrationCode(scopeOf(request), request.body, requestActor(request));
      return reply.code(201).send({ ...presentCode(created), code: created.code });
    });

    app.delete('/api/v1/registration-codes/:id', {
      config: { access: 'regcode.write' },
      schema: { tags, summary: 'Revoke a registration code', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await members.revokeRegistrationCode(scopeOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/auth/invitation', {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'What an invitation link offers (organization, role, email, whether that email has an account); 400 once used, revoked or expired',
        querystring: Type.Object({ token: Type.String({ minLength: 10, maxLength: 200 }) }),
        response: {
          200: Type.Object({ email: Type.String(), organizationName: Type.String(), role: RoleSchema, expiresAt: Timestamp, accountExists: Type.Boolean() }),
          ...errors(400),
        },
      },
    }, async (request) => members.previewInvitation(request.query.token));

    app.post('/api/v1/auth/register', {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Sign up with an invitation token or a registration code; the organization\'s email-domain rule applies',
        body: Type.Object({
          invitationToken: Type.Optional(Type.String({ minLength: 10, maxLength: 200 })),
          registrationCode: Type.Optional(Type.String({ minLength: 4, maxLength: 50 })),
          email: Type.Optional(Email),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'required for a new account' })),
          password: Password,
        }),
        response: {
          201: Type.Object({
            user: Type.Object({ id: Uuid, email: Type.String(), name: Type.String() }),
            organization: Type.Object({ id: Uuid, name: Type.String() }),
            role: RoleSchema,
          }),
          ...errors(400, 403, 409, 429),
        },
      },
    }, async (request, reply) => reply.code(201).send(await members.register(request.body, requestActor(request))));
  };
}
