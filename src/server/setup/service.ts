import type { AppContext } from '../core/context.js';
import { AppError } from '../core/http/errors.js';
import { hashToken, newToken, safeEqual } from '../core/tokens.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { IdentityService } from '../identity/service.js';
import type { MembersService } from '../members/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import * as store from './store.js';

export interface FirstAdminInput {
  email: string;
  name: string;
  password: string;
  organizationName: string;
}

/**
 * First run: while no user exists, a one-time token (printed at start) lets one person create the
 * platform administrator and the first organization. `vigil user create` does the same from a shell.
 */
export class SetupService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly identity: IdentityService,
    private readonly organizations: OrganizationsService,
    private readonly members: MembersService,
  ) {}

  async isRequired(): Promise<boolean> {
    return (await this.identity.countUsers()) === 0;
  }

  /** Issues a new setup token when there is no user yet; returns the setup URL to print, or null. */
  async prepare(): Promise<string | null> {
    if (!(await this.isRequired())) {
      await store.deleteSetupToken(this.ctx.db);
      return null;
    }
    const token = newToken();
    await store.saveSetupToken(this.ctx.db, hashToken(token));
    return `${this.ctx.config.publicUrl}/setup?token=${encodeURIComponent(token)}`;
  }

  async tokenValid(token: string): Promise<boolean> {
    const expected = await store.findSetupToken(this.ctx.db);
    return expected !== undefined && safeEqual(expected, hashToken(token));
  }

  async complete(token: string, input: FirstAdminInput, actor: Actor) {
    return this.ctx.db.transaction().execute(async (tx) => {
      const expected = await store.lockSetupToken(tx);
      if (!expected || !safeEqual(expected, hashToken(token))) {
        throw new AppError(403, 'setup_closed', 'this setup link is not valid or setup is already complete; sign in instead');
      }
      const result = await this.createAdmin(tx, input, actor, true);
      await store.deleteSetupToken(tx);
      return result;
    });
  }

  /** Creates a user with an organization they own (CLI). The first user ever is always a superadmin. */
  async createUserWithOrganization(input: FirstAdminInput & { superadmin?: boolean }, actor: Actor) {
    return this.ctx.db.transaction().execute(async (tx) => {
      const first = (await this.identity.countUsers()) === 0;
      const result = await this.createAdmin(tx, input, actor, first || Boolean(input.superadmin));
      if (first) await store.deleteSetupToken(tx);
      return result;
    });
  }

  private async createAdmin(tx: Parameters<IdentityService['createUser']>[0], input: FirstAdminInput, actor: Actor, superadmin: boolean) {
    const user = await this.identity.createUser(tx, { email: input.email, name: input.name, password: input.password, isSuperadmin: superadmin });
    const who = { ...actor, userId: user.id, label: user.email };
    const org = await this.organizations.create(tx, { name: input.organizationName }, who);
    await this.members.addMembership(tx, org.id, user.id, 'owner');
    await this.audit.record(who, { orgId: org.id, action: 'setup.admin_created', resourceType: 'user', resourceId: user.id, details: { superadmin } }, tx);
    return { user: { id: user.id, email: user.email, name: user.name, isSuperadmin: superadmin }, organization: { id: org.id, name: org.name, slug: org.slug } };
  }
}
