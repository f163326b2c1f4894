import { randomInt } from 'node:crypto';
import { announceAccessChange, type Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { AppError, conflict, forbidden, invalidFields, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { RateLimit, redisOf } from '../core/rate-limit.js';
import { hashToken, newToken } from '../core/tokens.js';
import { CLIENT_ROLE, roleAtLeast, type MemberRole, type Role } from '../../shared/roles.js';
import { emailDomainAllowed, normaliseEmail } from '../../shared/validation.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { CustomersService } from '../challans/customers.js';
import type { IdentityService } from '../identity/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { SitesService } from '../sites/service.js';
import * as store from './store.js';

/**
 * A site restriction is null (every site) or at least one site. An empty list is refused rather than
 * read as "every site": the console's "no sites" must never grant them all.
 */
function restriction(siteIds: string[] | null | undefined): string[] | null {
  if (siteIds && siteIds.length === 0) throw invalidFields([{ field: 'siteIds', message: 'restrict to at least one site, or send null for every site' }]);
  return siteIds ?? null;
}

const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
// Letters and digits that cannot be misread for each other when a code is read out or typed.
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newRegistrationCode(): string {
  const groups = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join(''));
  return groups.join('-');
}

/** Codes are matched without regard to case, spaces or dashes, the way people type them. */
function canonicalCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export interface RegisterInput {
  invitationToken?: string;
  registrationCode?: string;
  email?: string;
  /** Required for a new account; someone joining with an existing account keeps their name. */
  name?: string;
  password: string;
}

export class MembersService {
  private readonly registerPerIp: RateLimit;

  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly identity: IdentityService,
    private readonly organizations: OrganizationsService,
    private readonly sites: SitesService,
    private readonly customers: CustomersService,
  ) {
    const rl = ctx.config.rateLimits;
    this.registerPerIp = new RateLimit('register-ip', rl.registerPerIp, rl.windowSeconds, redisOf(ctx));
  }

  async list(scope: Scope, query: PageQuery & { search?: string }) {
    const page = pageRequest(query);
    const rows = await store.listMembers(this.ctx.db, scope.orgId, page.limit, page.after as [string, string] | null, query.search);
    return toPage(rows, page.limit, (r) => [r.email.toLowerCase(), r.user_id]);
  }

  async invite(scope: Scope, input: { email: string; role: MemberRole; siteIds?: string[] | null; customerId?: string | null }, actor: Actor) {
    const email = normaliseEmail(input.email);
    this.assertMayGrant(scope, input.role);
    const org = await this.organizations.get(scope.orgId);
    const customerId = await this.assertEmailAllowed(org, { role: input.role, customerId: input.customerId ?? null, email, siteIds: input.siteIds });
    const siteIds = restriction(input.siteIds);
    await this.sites.assertSitesExist(scope.orgId, siteIds);
    if (await store.memberEmailExists(this.ctx.db, scope.orgId, email)) {
      throw conflict(`${email} is already a member of ${org.name}`, [{ field: 'email', message: 'is already a member' }]);
    }
    const token = newToken();
    const invitation = await store.insertInvitation(this.ctx.db, {
      orgId: scope.orgId,
      email,
      role: input.role,
      siteIds,
      customerId,
      tokenHash: hashToken(token),
      invitedBy: scope.userId,
      expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    });
    await this.audit.record(actor, {
      orgId: scope.orgId,
      action: 'member.invited',
      resourceType: 'invitation',
      resourceId: invitation.id,
      details: { email, role: input.role, siteIds: invitation.site_ids, customerId },
    });
    const inviteUrl = `${this.ctx.config.publicUrl}/invite?token=${encodeURIComponent(token)}`;
    void this.ctx.mailer.send({
      to: email,
      subject: `You are invited to ${org.name} on Vigil`,
      text: `${actor.label ?? 'An administrator'} invited you to join ${org.name} on Vigil as ${input.role}.\n\nAccept within 7 days:\n${inviteUrl}\n`,
    });
    return { ...invitation, inviteUrl };
  }

  async listInvitations(scope: Scope, query: PageQuery) {
    const page = pageRequest(query);
    const rows = await store.listInvitations(this.ctx.db, scope.orgId, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id]);
  }

  async revokeInvitation(scope: Scope, id: string, actor: Actor): Promise<void> {
    if (!(await store.revokeInvitation(this.ctx.db, scope.orgId, id))) throw notFound('open invitation');
    await this.audit.record(actor, { orgId: scope.orgId, action: 'member.invitation_revoked', resourceType: 'invitation', resourceId: id });
  }

  async update(scope: Scope, userId: string, patch: { role?: MemberRole; siteIds?: string[] | null; isActive?: boolean }, actor: Actor) {
    const member = await store.findMember(this.ctx.db, scope.orgId, userId);
    if (!member) throw notFound('member');
    this.assertMayManage(scope, member.role);
    if (patch.role) this.assertMayGrant(scope, patch.role);
    // Staff and client members come from different email domains and see different things: no switching.
    if (patch.role && (patch.role === CLIENT_ROLE) !== (member.role === CLIENT_ROLE)) {
      throw invalidFields([{ field: 'role', message: 'a client member cannot become staff, nor staff a client: remove the member and invite them again' }]);
    }
    if (member.role === CLIENT_ROLE && patch.siteIds) throw invalidFields([{ field: 'siteIds', message: 'a client member sees their customer, not sites' }]);
    const staffPatch = patch as { role?: Role; siteIds?: string[] | null; isActive?: boolean };
    const normalised = { ...staffPatch, ...(patch.siteIds !== undefined && { siteIds: restriction(patch.siteIds) }) };
    await this.sites.assertSitesExist(scope.orgId, normalised.siteIds);
    await this.ctx.db.transaction().execute(async (tx) => {
      const stillOwner = (normalised.role ?? member.role) === 'owner' && (normalised.isActive ?? member.is_active);
      if (member.role === 'owner' && !stillOwner) await this.assertNotLastOwner(tx, scope.orgId, userId);
      await store.updateMembership(tx, scope.orgId, userId, normalised);
      await this.audit.record(actor, {
        orgId: scope.orgId,
        action: 'member.updated',
        resourceType: 'user',
        resourceId: userId,
        details: { email: member.email, before: { role: member.role, siteIds: member.site_ids, isActive: member.is_active }, changes: normalised },
      }, tx);
    });
    await this.announce(scope.orgId, 'member.updated', userId);
    return (await store.findMember(this.ctx.db, scope.orgId, userId))!;
  }

  /** Live update for the member lists of those who may read them. */
  private async announce(orgId: string, type: string, userId: string): Promise<void> {
    await announceAccessChange(this.ctx.bus, { subjectIds: [userId] });
    await this.ctx.bus.publish({ type, orgId, requires: 'member.read', data: { userId } });
  }

  async remove(scope: Scope, userId: string, actor: Actor): Promise<void> {
    const member = await store.findMember(this.ctx.db, scope.orgId, userId);
    if (!member) throw notFound('member');
    if (userId !== scope.userId) this.assertMayManage(scope, member.role);
    await this.ctx.db.transaction().execute(async (tx) => {
      if (member.role === 'owner') await this.assertNotLastOwner(tx, scope.orgId, userId);
      await store.deleteMembership(tx, scope.orgId, userId);
      await this.audit.record(actor, { orgId: scope.orgId, action: 'member.removed', resourceType: 'user', resourceId: userId, details: { email: member.email, role: member.role } }, tx);
    });
    await this.announce(scope.orgId, 'member.removed', userId);
  }

  /** A new organization, with `ownerId` as its first owner. */
  async createOrganizationWithOwner(fields: Parameters<OrganizationsService['create']>[1], ownerId: string, actor: Actor) {
    return this.ctx.db.transaction().execute(async (tx) => {
      const org = await this.organizations.create(tx, fields, actor);
      await store.insertMembership(tx, { orgId: org.id, userId: ownerId, role: 'owner', siteIds: null });
      return org;
    }).then(async (org) => {
      await announceAccessChange(this.ctx.bus, { subjectIds: [ownerId] });
      return org;
    });
  }

  /**
   * Makes every platform administrator an owner of the organization (a demo made from the command line
   * belongs to its own owner, and the administrator who ran setup should find it in their list).
   */
  async addPlatformAdministrators(orgId: string, actor: Actor): Promise<string[]> {
    const ids = await this.identity.platformAdministratorIds();
    const added: string[] = [];
    await this.ctx.db.transaction().execute(async (tx) => {
      for (const userId of ids) {
        if (await store.findMember(tx, orgId, userId)) continue;
        added.push(userId);
        await store.insertMembership(tx, { orgId, userId, role: 'owner', siteIds: null });
        await this.audit.record(actor, { orgId, action: 'member.joined', resourceType: 'user', resourceId: userId, details: { role: 'owner', via: 'platform administrator' } }, tx);
      }
    });
    if (added.length > 0) await announceAccessChange(this.ctx.bus, { subjectIds: added });
    return added;
  }

  /** Adds a membership inside the caller's transaction (organization creation, setup). */
  addMembership(conn: Tx, orgId: string, userId: string, role: Role, siteIds: string[] | null = null) {
    return store.insertMembership(conn, { orgId, userId, role, siteIds });
  }

  async createRegistrationCode(
    scope: Scope,
    input: { label?: string; role: Role; siteIds?: string[] | null; maxUses: number; expiresAt?: string },
    actor: Actor,
  ) {
    this.assertMayGrant(scope, input.role);
    const siteIds = restriction(input.siteIds);
    await this.sites.assertSitesExist(scope.orgId, siteIds);
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt <= new Date()) throw invalidFields([{ field: 'expiresAt', message: 'must be in the future' }]);
    const code = newRegistrationCode();
    const row = await store.insertRegistrationCode(this.ctx.db, {
      orgId: scope.orgId,
      codeHash: hashToken(canonicalCode(code)),
      prefix: code.slice(0, 4),
      label: input.label ?? null,
      role: input.role,
      siteIds,
      maxUses: input.maxUses,
      expiresAt,
      createdBy: scope.userId,
    });
    await this.audit.record(actor, {
      orgId: scope.orgId,
      action: 'registration_code.created',
      resourceType: 'registration_code',
      resourceId: row.id,
      details: { role: row.role, maxUses: row.max_uses, label: row.label },
    });
    return { ...row, code };
  }

  async listRegistrationCodes(scope: Scope, query: PageQuery) {
    const page = pageRequest(query);
    const rows = await store.listRegistrationCodes(this.ctx.db, scope.orgId, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id]);
  }

  async revokeRegistrationCode(scope: Scope, id: string, actor: Actor): Promise<void> {
    if (!(await store.revokeRegistrationCode(this.ctx.db, scope.orgId, id))) throw notFound('registration code');
    await this.audit.record(actor, { orgId: scope.orgId, action: 'registration_code.revoked', resourceType: 'registration_code', resourceId: id });
  }

  /**
   * What an invitation link offers, for the page it opens: the organization, the role, the address it
   * was sent to, and whether that address already has an account (then its password accepts).
   */
  async previewInvitation(token: string) {
    return this.ctx.db.transaction().execute(async (tx) => {
      const invitation = await store.findOpenInvitation(tx, hashToken(token));
      if (!invitation) throw new AppError(400, 'invalid_invitation', 'this invitation is not valid, already used, revoked or expired');
      const account = await this.identity.findUserByEmail(tx, invitation.email);
      return {
        email: invitation.email,
        organizationName: invitation.organization_name,
        role: invitation.role,
        expiresAt: invitation.expires_at.toISOString(),
        accountExists: account !== undefined,
      };
    });
  }

  /**
   * Sign-up with an invitation or a registration code. Everything happens in one transaction: the
   * invitation/code use is taken only if the account and membership are created too.
   */
  async register(input: RegisterInput, actor: Actor) {
    await this.registerPerIp.consume(actor.ip ?? 'unknown');
    if (!input.invitationToken && !input.registrationCode) {
      throw invalidFields([{ field: 'registrationCode', message: 'an invitation or a registration code is required' }]);
    }
    const joined = await this.ctx.db.transaction().execute(async (tx) => {
      let grant: { orgId: string; role: MemberRole; siteIds: string[] | null; customerId: string | null; email: string; via: string; grantId: string };
      if (input.invitationToken) {
        const invitation = await store.acceptInvitation(tx, hashToken(input.invitationToken));
        if (!invitation) throw new AppError(400, 'invalid_invitation', 'this invitation is not valid, already used, revoked or expired');
        grant = {
          orgId: invitation.org_id, role: invitation.role, siteIds: invitation.site_ids, customerId: invitation.customer_id, email: invitation.email, via: 'invitation', grantId: invitation.id,
        };
      } else {
        if (!input.email) throw invalidFields([{ field: 'email', message: 'is required' }]);
        const code = await store.consumeRegistrationCode(tx, hashToken(canonicalCode(input.registrationCode!)));
        if (!code) throw new AppError(400, 'invalid_registration_code', 'this registration code is not valid, used up, revoked or expired');
        grant = { orgId: code.org_id, role: code.role, siteIds: code.site_ids, customerId: null, email: normaliseEmail(input.email), via: 'registration_code', grantId: code.id };
      }
      const org = await this.organizations.lock(tx, grant.orgId);
      // Checked again on joining: the organization's (or the customer's) domains may have changed since the invitation.
      await this.assertEmailAllowed(org, grant);
      if (org.max_users !== null && (await store.countActiveMembers(tx, org.id)) >= org.max_users) {
        throw new AppError(403, 'plan_limit', `${org.name} has reached its limit of ${org.max_users} users`);
      }
      const user = await this.existingOrNewUser(tx, grant, input);
      await store.insertMembership(tx, { orgId: org.id, userId: user.id, role: grant.role, siteIds: grant.siteIds, customerId: grant.customerId });
      await this.audit.record({ ...actor, userId: user.id, label: user.email }, {
        orgId: org.id,
        action: 'member.joined',
        resourceType: 'user',
        resourceId: user.id,
        details: { via: grant.via, grantId: grant.grantId, role: grant.role },
      }, tx);
      return { user: { id: user.id, email: user.email, name: user.name }, organization: { id: org.id, name: org.name }, role: grant.role };
    });
    await this.announce(joined.organization.id, 'member.joined', joined.user.id);
    return joined;
  }

  /** An invitation may go to someone who already has an account: they prove it with their password. */
  private async existingOrNewUser(tx: Tx, grant: { email: string; via: string }, input: RegisterInput) {
    const existing = await this.identity.findUserByEmail(tx, grant.email);
    if (!existing) {
      if (!input.name?.trim()) throw invalidFields([{ field: 'name', message: 'is required for a new account' }]);
      return this.identity.createUser(tx, { email: grant.email, name: input.name, password: input.password });
    }
    if (grant.via === 'invitation' && (await this.identity.verifyUserPassword(existing, input.password))) return existing;
    throw conflict('an account with this email already exists; sign in and accept the invitation with your password', [
      { field: 'email', message: 'is already registered' },
    ]);
  }

  /**
   * Staff come from the organization's email domains (any, when it names none); a client member from their
   * customer's, which must be named. Answers the customer of a client grant (null for staff).
   */
  private async assertEmailAllowed(
    org: { id: string; allowed_email_domains: string[] },
    grant: { role: MemberRole; customerId: string | null; email: string; siteIds?: string[] | null },
  ): Promise<string | null> {
    if (grant.role !== CLIENT_ROLE) {
      if (grant.customerId) throw invalidFields([{ field: 'customerId', message: 'is only for client members' }]);
      if (!emailDomainAllowed(org.allowed_email_domains, grant.email)) {
        throw invalidFields([{ field: 'email', message: `must be an address at ${org.allowed_email_domains.join(' or ')}` }]);
      }
      return null;
    }
    if (!grant.customerId) throw invalidFields([{ field: 'customerId', message: 'is required for a client member: the customer whose challans they see' }]);
    if (grant.siteIds) throw invalidFields([{ field: 'siteIds', message: 'a client member sees their customer, not sites' }]);
    const customer = await this.customers.find(org.id, grant.customerId);
    if (!customer) throw invalidFields([{ field: 'customerId', message: 'is not a customer of this organization' }]);
    if (customer.email_domains.length === 0) {
      throw invalidFields([{ field: 'customerId', message: `${customer.name} has no email domains yet: add them to the customer first` }]);
    }
    if (!emailDomainAllowed(customer.email_domains, grant.email)) {
      throw invalidFields([{ field: 'email', message: `must be an address at ${customer.email_domains.join(' or ')} (${customer.name})` }]);
    }
    return customer.id;
  }

  private assertMayGrant(scope: Scope, role: MemberRole): void {
    if (!roleAtLeast(scope.role, role)) throw forbidden(`you cannot grant the role ${role}, which is above your own (${scope.role})`);
  }

  private assertMayManage(scope: Scope, targetRole: MemberRole): void {
    if (!roleAtLeast(scope.role, targetRole)) throw forbidden(`you cannot change a member whose role (${targetRole}) is above yours`);
  }

  private async assertNotLastOwner(tx: Tx, orgId: string, userId: string): Promise<void> {
    const owners = await store.lockActiveOwners(tx, orgId);
    if (owners.length <= 1 && owners.includes(userId)) {
      throw conflict('an organization needs at least one owner: make someone else owner first');
    }
  }
}
