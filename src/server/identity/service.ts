import type { AppContext } from '../core/context.js';
import { announceAccessChange, type Authenticator, type Identity, type Principal, type Scope } from '../core/access.js';
import type { Tx } from '../core/db/database.js';
import { isUniqueViolation } from '../core/db/database.js';
import { AppError, conflict, forbidden, invalidFields, notFound, unauthorized } from '../core/http/errors.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyAgainstNothing, verifyPassword } from '../core/passwords.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { RateLimit, redisOf } from '../core/rate-limit.js';
import { hashToken, hmac, newToken } from '../core/tokens.js';
import { normaliseEmail } from '../../shared/validation.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import { TtlCache } from '../core/cache.js';
import { SignInLimits } from './sign-in-limits.js';
import * as store from './store.js';

export const API_TOKEN_PREFIX = 'vgl_';
const RESET_TTL_MS = 60 * 60 * 1000;
// Writing "last seen" on every request would cost a write per read; a minute's precision is plenty.
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface LoginResult {
  sessionToken: string;
  expiresAt: Date;
  /** A fresh device cookie for the browser that signed in (see sign-in-limits.ts). */
  deviceCookie: string;
}

/** What a new password ended: the sessions and API tokens the old one had let in. */
interface Ended {
  sessionIds: string[];
  tokenIds: string[];
}

export class IdentityService implements Authenticator {
  private readonly signInLimits: SignInLimits;
  private readonly resetPerIp: RateLimit;
  private readonly resetPerAccount: RateLimit;

  private readonly identities = new TtlCache<Identity>();
  private readonly userOrganizations = new TtlCache<Awaited<ReturnType<OrganizationsService['listForUser']>>>();

  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly organizations: OrganizationsService,
  ) {
    ctx.bus.subscribe((message) => {
      this.identities.apply(message);
      this.userOrganizations.apply(message);
    });
    const { rateLimits: rl } = ctx.config;
    this.signInLimits = new SignInLimits(ctx);
    this.resetPerIp = new RateLimit('reset-ip', rl.resetPerIp, rl.windowSeconds, redisOf(ctx));
    this.resetPerAccount = new RateLimit('reset-account', rl.resetPerIp, rl.windowSeconds, redisOf(ctx));
  }

  csrfFor(sessionTokenHash: string): string {
    return hmac(this.ctx.secrets.secretKey, `csrf:${sessionTokenHash}`);
  }

  async authenticate(credentials: { sessionToken?: string; bearerToken?: string; orgId?: string }): Promise<Identity | null> {
    const { db, config } = this.ctx;
    const orgId = credentials.orgId ?? null;
    const bearer = credentials.bearerToken;
    const token = bearer ?? credentials.sessionToken;
    if (!token || (bearer && !bearer.startsWith(API_TOKEN_PREFIX))) return null;
    const tokenHash = hashToken(token);
    const cacheKey = `${bearer ? 't' : 's'}:${tokenHash}:${orgId ?? ''}`;
    const cached = this.identities.get(cacheKey);
    if (cached) return cached;

    const row = bearer
      ? await store.findTokenIdentity(db, tokenHash, orgId)
      : await store.findSessionIdentity(db, tokenHash, orgId, config.sessionIdleMinutes);
    if (!row) return null;
    if (isStale(row.touched_at)) await (bearer ? store.touchApiToken(db, row.credential_id) : store.touchSession(db, row.credential_id));
    const principal: Principal = {
      userId: row.user_id,
      email: row.email,
      name: row.name,
      isSuperadmin: row.is_superadmin,
      via: bearer ? 'token' : 'session',
      sessionId: bearer ? null : row.credential_id,
      csrfToken: bearer ? null : this.csrfFor(tokenHash),
    };
    const identity = { principal, scope: await this.scopeFor(row, orgId) };
    this.identities.set(cacheKey, identity, row.user_id, row.credential_id);
    return identity;
  }

  /** Members act in their organization; superadmins may act in any organization as an owner. */
  private async scopeFor(row: store.IdentityRow, requestedOrgId: string | null): Promise<Scope | null> {
    const target = row.target_org_id;
    if (row.org_id && row.role && (target === null || row.org_id === target)) return membershipScope(row);
    if (row.is_superadmin && target && (await this.organizations.exists(target))) {
      return { orgId: target, userId: row.user_id, role: 'owner', siteIds: null };
    }
    if (requestedOrgId) throw notFound('organization');
    return row.org_id && row.role ? membershipScope(row) : null;
  }

  async login(email: string, password: string, actor: Actor, deviceCookie?: string): Promise<LoginResult> {
    const account = normaliseEmail(email);
    const ip = actor.ip ?? 'unknown';
    await this.signInLimits.countAttempt(ip);
    const user = await store.findUserByEmail(this.ctx.db, account);
    const client = this.signInLimits.clientOf(account, ip, user?.id, deviceCookie);
    await this.signInLimits.check(client);
    // Unknown emails cost the same hash verification as known ones: timing reveals nothing.
    const valid = user ? await verifyPassword(user.password_hash, password) : await verifyAgainstNothing(password);
    if (!user || !valid || !user.is_active) {
      await this.signInLimits.failed(client);
      this.ctx.metrics.logins.labels('failure').inc();
      await this.audit.record(actor, {
        orgId: null,
        action: 'auth.login_failed',
        resourceType: 'user',
        resourceId: user?.id ?? null,
        details: { email: account, reason: !user || !valid ? 'bad_credentials' : 'inactive' },
      });
      throw unauthorized('email or password is incorrect');
    }
    await this.signInLimits.succeeded(client);
    const orgs = await this.organizations.listForUser(user.id);
    const sessionToken = newToken();
    const tokenHash = hashToken(sessionToken);
    const expiresAt = new Date(Date.now() + this.ctx.config.sessionMaxDays * 86_400_000);
    await store.insertSession(this.ctx.db, {
      tokenHash,
      userId: user.id,
      activeOrgId: orgs[0]?.id ?? null,
      ip: actor.ip ?? '',
      userAgent: actor.userAgent,
      expiresAt,
    });
    await store.updateUser(this.ctx.db, user.id, { lastLoginAt: new Date() });
    this.ctx.metrics.logins.labels('success').inc();
    await this.audit.record({ ...actor, userId: user.id, label: user.email }, {
      orgId: orgs[0]?.id ?? null,
      action: 'auth.login',
      resourceType: 'user',
      resourceId: user.id,
    });
    return { sessionToken, expiresAt, deviceCookie: this.signInLimits.deviceCookieFor(user.id) };
  }

  async logout(principal: Principal, actor: Actor): Promise<void> {
    if (!principal.sessionId) return;
    const revoked = await store.revokeSessions(this.ctx.db, { sessionId: principal.sessionId });
    await this.announceRevoked(revoked);
    await this.audit.record(actor, { orgId: null, action: 'auth.logout', resourceType: 'session', resourceId: principal.sessionId });
  }

  async me(principal: Principal, scope: Scope | null) {
    let organizations = this.userOrganizations.get(principal.userId);
    if (!organizations) {
      organizations = await this.organizations.listForUser(principal.userId);
      this.userOrganizations.set(principal.userId, organizations, principal.userId, null);
    }
    // A platform administrator may act in an organization they do not belong to: its name comes from it.
    const active = scope && (organizations.find((o) => o.id === scope.orgId) ?? (await this.organizations.get(scope.orgId)));
    return {
      user: { id: principal.userId, email: principal.email, name: principal.name, isSuperadmin: principal.isSuperadmin },
      organization: scope && active ? {
        id: scope.orgId, name: active.name, role: scope.role, siteIds: scope.siteIds, customerId: scope.customerId ?? null,
        locale: active.locale, timezone: active.timezone,
      } : null,
      organizations: organizations.map((o) => ({ id: o.id, name: o.name, slug: o.slug, role: o.role })),
      csrfToken: principal.csrfToken,
    };
  }

  async switchOrganization(principal: Principal, orgId: string, actor: Actor): Promise<void> {
    if (!principal.sessionId) throw forbidden('API tokens choose an organization with the X-Vigil-Org header');
    const member = (await this.organizations.listForUser(principal.userId)).some((o) => o.id === orgId);
    if (!member && !(principal.isSuperadmin && (await this.organizations.exists(orgId)))) throw notFound('organization');
    await store.setSessionOrg(this.ctx.db, principal.sessionId, orgId);
    await announceAccessChange(this.ctx.bus, { credentialIds: [principal.sessionId] });
    await this.audit.record(actor, { orgId, action: 'auth.switch_organization', resourceType: 'organization', resourceId: orgId });
  }

  /**
   * Signs out the user's other sessions and, unless they ask to keep them (they just proved the old password),
   * revokes their API tokens: a password changed because it leaked must not leave an intruder's token working.
   */
  async changePassword(principal: Principal, input: { currentPassword: string; newPassword: string; keepApiTokens?: boolean }, actor: Actor) {
    const user = await this.requireCurrentPassword(principal, input.currentPassword);
    const passwordHash = await hashPassword(input.newPassword);
    const ended = await this.ctx.db.transaction().execute((tx) =>
      this.replacePassword(tx, user.id, passwordHash, { sessionId: principal.sessionId ?? undefined, apiTokens: input.keepApiTokens === true }));
    await this.announceEnded(ended);
    const outcome = { otherSessionsRevoked: ended.sessionIds.length, apiTokensRevoked: ended.tokenIds.length };
    await this.audit.record(actor, { orgId: null, action: 'auth.password_changed', resourceType: 'user', resourceId: user.id, details: outcome });
    return outcome;
  }

  /** Always answers the same way; the link goes by email (or to the log without SMTP). */
  async requestPasswordReset(email: string, actor: Actor): Promise<void> {
    const account = normaliseEmail(email);
    await this.resetPerIp.consume(actor.ip ?? 'unknown');
    const user = await store.findUserByEmail(this.ctx.db, account);
    if (!user || !user.is_active) return;
    try {
      await this.resetPerAccount.consume(account);
    } catch {
      return; // never reveal through a 429 that the account exists
    }
    const token = newToken();
    await store.insertPasswordReset(this.ctx.db, user.id, hashToken(token), new Date(Date.now() + RESET_TTL_MS));
    await this.audit.record(actor, { orgId: null, action: 'auth.password_reset_requested', resourceType: 'user', resourceId: user.id });
    const link = `${this.ctx.config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
    void this.ctx.mailer.send({
      to: user.email,
      subject: 'Reset your Vigil password',
      text: `Someone asked to reset the password of your Vigil account.\n\nOpen this link within one hour to choose a new password:\n${link}\n\nIf it was not you, ignore this email.`,
    });
  }

  /** A reset is what someone does who lost the password, or whose password was taken: every session and token ends. */
  async confirmPasswordReset(token: string, newPassword: string, actor: Actor) {
    const passwordHash = await hashPassword(newPassword);
    const reset = await this.ctx.db.transaction().execute(async (tx) => {
      const userId = await store.consumePasswordReset(tx, hashToken(token));
      return userId ? { userId, ended: await this.replacePassword(tx, userId, passwordHash, { apiTokens: false }) } : undefined;
    });
    if (!reset) throw new AppError(400, 'invalid_token', 'this reset link is not valid, already used or expired; request a new one');
    const { userId, ended } = reset;
    await this.announceEnded(ended);
    await this.signInLimits.forgetAccount((await store.findUserById(this.ctx.db, userId))?.email.toLowerCase() ?? '');
    const outcome = { sessionsRevoked: ended.sessionIds.length, apiTokensRevoked: ended.tokenIds.length };
    await this.audit.record({ ...actor, userId }, { orgId: null, action: 'auth.password_reset', resourceType: 'user', resourceId: userId, details: outcome });
    return outcome;
  }

  private async replacePassword(tx: Tx, userId: string, passwordHash: string, keep: { sessionId?: string; apiTokens: boolean }): Promise<Ended> {
    await store.updateUser(tx, userId, { passwordHash });
    const sessionIds = await store.revokeSessions(tx, { userId, exceptSessionId: keep.sessionId });
    const tokenIds = keep.apiTokens ? [] : await store.revokeApiTokens(tx, userId);
    return { sessionIds, tokenIds };
  }

  /** Re-authentication for sensitive changes made from a signed-in session. */
  private async requireCurrentPassword(principal: Principal, currentPassword: string): Promise<store.UserRow> {
    const user = await store.findUserById(this.ctx.db, principal.userId);
    if (!user || !(await verifyPassword(user.password_hash, currentPassword))) {
      throw invalidFields([{ field: 'currentPassword', message: 'is not your current password' }]);
    }
    return user;
  }

  /** Creates a user (setup, sign-up, CLI). Inside the caller's transaction when given one. */
  async createUser(conn: Tx, input: { email: string; name: string; password: string; isSuperadmin?: boolean }) {
    if (input.password.length < PASSWORD_MIN_LENGTH || input.password.length > PASSWORD_MAX_LENGTH) {
      throw invalidFields([{ field: 'password', message: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` }]);
    }
    try {
      return await store.insertUser(conn, {
        email: input.email.trim(),
        name: input.name.trim(),
        passwordHash: await hashPassword(input.password),
        isSuperadmin: input.isSuperadmin,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('an account with this email already exists', [{ field: 'email', message: 'is already registered' }]);
      throw error;
    }
  }

  findUserByEmail(conn: Tx, email: string) {
    return store.findUserByEmail(conn, email);
  }

  verifyUserPassword(user: store.UserRow, password: string) {
    return verifyPassword(user.password_hash, password);
  }

  countUsers(): Promise<number> {
    return store.countUsers(this.ctx.db);
  }

  /**
   * Only from a signed-in session and with the password typed again: a stolen session cookie or a leaked token
   * must not be able to mint a long-lived credential of its own.
   */
  async createApiToken(principal: Principal, input: { name: string; expiresInDays?: number; currentPassword: string }, actor: Actor) {
    if (principal.via === 'token') throw forbidden('an API token cannot create API tokens; create them signed in to the console');
    await this.requireCurrentPassword(principal, input.currentPassword);
    const { name, expiresInDays } = input;
    const token = newToken(API_TOKEN_PREFIX);
    const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
    const row = await store.insertApiToken(this.ctx.db, {
      userId: principal.userId,
      name,
      tokenHash: hashToken(token),
      prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
      expiresAt,
    });
    await this.audit.record(actor, { orgId: null, action: 'api_token.created', resourceType: 'api_token', resourceId: row.id, details: { name } });
    return { ...row, token };
  }

  async listApiTokens(principal: Principal, query: PageQuery) {
    const page = pageRequest(query);
    const rows = await store.listApiTokens(this.ctx.db, principal.userId, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id]);
  }

  async revokeApiToken(principal: Principal, id: string, actor: Actor): Promise<void> {
    if (!(await store.revokeApiToken(this.ctx.db, principal.userId, id))) throw notFound('API token');
    await announceAccessChange(this.ctx.bus, { credentialIds: [id] });
    await this.audit.record(actor, { orgId: null, action: 'api_token.revoked', resourceType: 'api_token', resourceId: id });
  }

  /** The active platform administrators (ids), oldest first. */
  platformAdministratorIds(): Promise<string[]> {
    return store.activeSuperadminIds(this.ctx.db);
  }

  async listUsers(query: PageQuery & { search?: string }) {
    const page = pageRequest(query);
    const rows = await store.listUsers(this.ctx.db, page.limit, page.after as [string, string] | null, query.search);
    return toPage(rows, page.limit, (r) => [r.sort_email, r.id]);
  }

  /** Platform administration: activate/deactivate a user or change the superadmin flag. */
  async updateUser(principal: Principal, id: string, patch: { isActive?: boolean; isSuperadmin?: boolean }, actor: Actor) {
    if (id === principal.userId && (patch.isActive === false || patch.isSuperadmin === false)) {
      throw forbidden('you cannot deactivate yourself or remove your own platform administration');
    }
    const user = await store.updateUser(this.ctx.db, id, patch);
    if (!user) throw notFound('user');
    if (patch.isActive === false) await this.announceRevoked(await store.revokeSessions(this.ctx.db, { userId: id }));
    await announceAccessChange(this.ctx.bus, { subjectIds: [id] });
    await this.audit.record(actor, { orgId: null, action: 'user.updated', resourceType: 'user', resourceId: id, details: patch });
    return user;
  }

  /** Tells open live streams (in every process) to close connections of revoked sessions. */
  private async announceRevoked(sessionIds: string[]): Promise<void> {
    if (sessionIds.length > 0) await this.ctx.bus.publish({ type: 'session.revoked', orgId: null, data: { sessionIds } });
  }

  /** After the commit: every process stops accepting the ended sessions and tokens (cached identities included). */
  private async announceEnded(ended: Ended): Promise<void> {
    await this.announceRevoked(ended.sessionIds);
    if (ended.tokenIds.length > 0) await announceAccessChange(this.ctx.bus, { credentialIds: ended.tokenIds });
  }
}

function membershipScope(row: store.IdentityRow): Scope {
  return { orgId: row.org_id!, userId: row.user_id, role: row.role!, siteIds: row.site_ids, customerId: row.customer_id };
}

function isStale(touchedAt: Date | null): boolean {
  return !touchedAt || Date.now() - touchedAt.getTime() > TOUCH_INTERVAL_MS;
}
