import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { credentialsOf, principalOf, SESSION_COOKIE } from '../core/access.js';
import type { Config } from '../core/config.js';
import { PageQuery, Page } from '../core/pagination.js';
import { Email, errors, IdParams, NoContent, NullableTimestamp, Password, Timestamp, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import type { IdentityService } from './service.js';
import { DEVICE_COOKIE, DEVICE_COOKIE_DAYS } from './sign-in-limits.js';

const Me = Type.Object({
  user: Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), isSuperadmin: Type.Boolean() }),
  organization: Type.Union([Type.Object({
    id: Uuid, name: Type.String(), role: Type.String(), siteIds: Type.Union([Type.Array(Uuid), Type.Null()]),
    customerId: Type.Union([Uuid, Type.Null()], { description: "A client member's customer (role client); null for staff" }),
    locale: Type.String({ description: "The organization's BCP 47 locale: how the console writes dates and numbers" }),
    timezone: Type.String({ description: "The organization's time zone: for things that belong to no site" }),
  }), Type.Null()]),
  organizations: Type.Array(Type.Object({ id: Uuid, name: Type.String(), slug: Type.String(), role: Type.String() })),
  csrfToken: Type.Union([Type.String(), Type.Null()]),
});

const ApiToken = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: NullableTimestamp,
  expiresAt: NullableTimestamp,
  revokedAt: NullableTimestamp,
});

/** The password typed again to confirm a sensitive change. */
const CurrentPassword = Type.String({ minLength: 1, maxLength: 256, description: 'Your current password' });

type TokenRow = { id: string; name: string; token_prefix: string; created_at: Date; last_used_at: Date | null; expires_at: Date | null; revoked_at: Date | null };
const presentToken = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  prefix: t.token_prefix,
  createdAt: t.created_at.toISOString(),
  lastUsedAt: t.last_used_at?.toISOString() ?? null,
  expiresAt: t.expires_at?.toISOString() ?? null,
  revokedAt: t.revoked_at?.toISOString() ?? null,
});

export function setSessionCookie(reply: FastifyReply, config: Config, token: string, expiresAt: Date): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.publicUrl.startsWith('https://'),
    path: '/',
    expires: expiresAt,
  });
}

const LOGIN_PATH = '/api/v1/auth/login';

/** Only ever sent back to the sign-in route, where it marks a browser the user signed in with before. */
function setDeviceCookie(reply: FastifyReply, config: Config, value: string): void {
  reply.setCookie(DEVICE_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: config.publicUrl.startsWith('https://'),
    path: LOGIN_PATH,
    maxAge: DEVICE_COOKIE_DAYS * 86_400,
  });
}

export function identityRoutes(identity: IdentityService, config: Config) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];

    app.post(LOGIN_PATH, {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in; sets the session cookie and the device cookie, and returns the CSRF token for later writes',
        body: Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 256 }) }),
        response: { 200: Me, ...errors(400, 401, 429) },
      },
    }, async (request, reply) => {
      const result = await identity.login(request.body.email, request.body.password, requestActor(request), request.cookies[DEVICE_COOKIE]);
      setSessionCookie(reply, config, result.sessionToken, result.expiresAt);
      setDeviceCookie(reply, config, result.deviceCookie);
      // The new session is read back once, through the same path as every later request (and cached).
      const signedIn = await identity.authenticate({ sessionToken: result.sessionToken });
      if (!signedIn) throw new Error('a session just created could not be read back');
      return identity.me(signedIn.principal, signedIn.scope);
    });

    app.post('/api/v1/auth/logout', {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Sign out: revokes this session', response: { 204: NoContent, ...errors(401, 403) } },
    }, async (request, reply) => {
      await identity.logout(principalOf(request), requestActor(request));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    });

    app.get('/api/v1/auth/me', {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'The signed-in user, their organizations and the CSRF token', response: { 200: Me, ...errors(401) } },
    }, async (request) => identity.me(principalOf(request), request.scope));

    // The console's probe on load: a visitor without a session is an ordinary answer (200, me null), not a
    // 401 that every browser logs as an error on the sign-in page.
    app.get('/api/v1/auth/session', {
      config: { access: 'public' },
      schema: { tags, summary: 'The signed-in user as in /auth/me, or null when signed out (never 401)', response: { 200: Type.Object({ me: Type.Union([Me, Type.Null()]) }), ...errors(400) } },
    }, async (request) => {
      const credentials = credentialsOf(request);
      const signedIn = credentials.sessionToken || credentials.bearerToken ? await identity.authenticate(credentials) : null;
      return { me: signedIn ? await identity.me(signedIn.principal, signedIn.scope) : null };
    });

    app.post('/api/v1/auth/switch-organization', {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Make another of your organizations the active one for this session', body: Type.Object({ organizationId: Uuid }), response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await identity.switchOrganization(principalOf(request), request.body.organizationId, requestActor(request));
      return reply.code(204).send(null);
    });

    app.post('/api/v1/auth/change-password', {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Change your password; signs out your other sessions and revokes your API tokens unless you keep them',
        body: Type.Object({
          currentPassword: CurrentPassword,
          newPassword: Password,
          keepApiTokens: Type.Optional(Type.Boolean({ default: false, description: 'Keep your personal API tokens working' })),
        }),
        response: { 200: Type.Object({ otherSessionsRevoked: Type.Integer(), apiTokensRevoked: Type.Integer() }), ...errors(400, 401, 403) },
      },
    }, async (request) => identity.changePassword(principalOf(request), request.body, requestActor(request)));

    app.post('/api/v1/auth/password-reset/request', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Email a one-hour reset link; answers 202 whether or not the email is registered',
        body: Type.Object({ email: Email }),
        response: { 202: Type.Object({ message: Type.String() }), ...errors(400, 429) },
      },
    }, async (request, reply) => {
      await identity.requestPasswordReset(request.body.email, requestActor(request));
      return reply.code(202).send({ message: 'If an account exists for this email, a reset link is on its way.' });
    });

    app.post('/api/v1/auth/password-reset/confirm', {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Set a new password with a reset token (single use); signs out every session and revokes every API token',
        body: Type.Object({ token: Type.String({ minLength: 10, maxLength: 200 }), newPassword: Password }),
        response: { 200: Type.Object({ sessionsRevoked: Type.Integer(), apiTokensRevoked: Type.Integer() }), ...errors(400) },
      },
    }, async (request) => identity.confirmPasswordReset(request.body.token, request.body.newPassword, requestActor(request)));

    app.get('/api/v1/auth/tokens', {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Your personal API tokens', querystring: PageQuery, response: { 200: Page(ApiToken), ...errors(401) } },
    }, async (request) => {
      const page = await identity.listApiTokens(principalOf(request), request.query);
      return { items: page.items.map(presentToken), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/auth/tokens', {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Create a personal API token (Bearer), signed in and with your password; the token is shown only in this response',
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100 }),
          expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          currentPassword: CurrentPassword,
        }),
        response: { 201: Type.Intersect([ApiToken, Type.Object({ token: Type.String() })]), ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const created = await identity.createApiToken(principalOf(request), request.body, requestActor(request));
      return reply.code(201).send({ ...presentToken(created), token: created.token });
    });

    app.delete('/api/v1/auth/tokens/:id', {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Revoke one of your API tokens', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await identity.revokeApiToken(principalOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    const AdminUser = Type.Object({
      id: Uuid, email: Type.String(), name: Type.String(), isActive: Type.Boolean(), isSuperadmin: Type.Boolean(), createdAt: Timestamp, lastLoginAt: NullableTimestamp,
    });
    type UserRow = { id: string; email: string; name: string; is_active: boolean; is_superadmin: boolean; created_at: Date; last_login_at: Date | null };
    const presentUser = (u: UserRow) => ({
      id: u.id, email: u.email, name: u.name, isActive: u.is_active, isSuperadmin: u.is_superadmin, createdAt: u.created_at.toISOString(), lastLoginAt: u.last_login_at?.toISOString() ?? null,
    });

    app.get('/api/v1/admin/users', {
      config: { access: 'superadmin' },
      schema: { tags: ['platform'], summary: 'Every user of the platform', querystring: Type.Intersect([PageQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 200 })) })]), response: { 200: Page(AdminUser), ...errors(401, 403) } },
    }, async (request) => {
      const page = await identity.listUsers(request.query);
      return { items: page.items.map(presentUser), nextCursor: page.nextCursor };
    });

    app.patch('/api/v1/admin/users/:id', {
      config: { access: 'superadmin' },
      schema: {
        tags: ['platform'],
        summary: 'Activate or deactivate a user (deactivation signs them out everywhere), or change platform administration',
        params: IdParams,
        body: Type.Object({ isActive: Type.Optional(Type.Boolean()), isSuperadmin: Type.Optional(Type.Boolean()) }, { minProperties: 1 }),
        response: { 200: AdminUser, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => presentUser(await identity.updateUser(principalOf(request), request.params.id, request.body, requestActor(request))));
  };
}
