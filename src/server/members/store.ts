import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { MemberRole, Role } from '../../shared/roles.js';

/** Every SQL statement about memberships, invitations and registration codes. */
type Conn = Db | Tx;

const MEMBER_COLUMNS = [
  'm.user_id', 'u.email', 'u.name', 'm.role', 'm.site_ids', 'm.customer_id', 'm.is_active', 'u.is_active as user_active', 'm.created_at', 'u.last_login_at',
] as const;

function members(db: Conn, orgId: string) {
  return db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id').select(MEMBER_COLUMNS).where('m.org_id', '=', orgId);
}

export function listMembers(db: Conn, orgId: string, limit: number, after: [string, string] | null, search?: string) {
  let query = members(db, orgId).orderBy(sql`lower(u.email)`).orderBy('m.user_id').limit(limit + 1);
  if (search) query = query.where((eb) => eb.or([eb('u.email', 'ilike', `%${search}%`), eb('u.name', 'ilike', `%${search}%`)]));
  if (after) query = query.where(sql<boolean>`(lower(u.email), m.user_id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findMember(db: Conn, orgId: string, userId: string) {
  return members(db, orgId).where('m.user_id', '=', userId).executeTakeFirst();
}

/** Whether someone with this (normalised, lower-case) email is already a member. */
export async function memberEmailExists(db: Conn, orgId: string, email: string): Promise<boolean> {
  const row = await members(db, orgId).where(sql<boolean>`lower(u.email) = ${email}`).executeTakeFirst();
  return row !== undefined;
}

export async function insertMembership(db: Conn, m: { orgId: string; userId: string; role: MemberRole; siteIds: string[] | null; customerId?: string | null }) {
  const customerId = m.customerId ?? null;
  await db
    .insertInto('memberships')
    .values({ org_id: m.orgId, user_id: m.userId, role: m.role, site_ids: m.siteIds, customer_id: customerId })
    .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ role: m.role, site_ids: m.siteIds, customer_id: customerId, is_active: true, updated_at: new Date() }))
    .execute();
}

export async function updateMembership(
  db: Conn,
  orgId: string,
  userId: string,
  patch: { role?: Role; siteIds?: string[] | null; isActive?: boolean },
): Promise<boolean> {
  const result = await db
    .updateTable('memberships')
    .set({
      updated_at: new Date(),
      ...(patch.role !== undefined && { role: patch.role }),
      ...(patch.siteIds !== undefined && { site_ids: patch.siteIds }),
      ...(patch.isActive !== undefined && { is_active: patch.isActive }),
    })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteMembership(db: Conn, orgId: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Active owners of an organization, locked, so two concurrent demotions cannot both pass the last-owner check. */
export async function lockActiveOwners(db: Tx, orgId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('memberships')
    .select('user_id')
    .where('org_id', '=', orgId)
    .where('role', '=', 'owner')
    .where('is_active', '=', true)
    .forUpdate()
    .execute();
  return rows.map((r) => r.user_id);
}

export async function countActiveMembers(db: Conn, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('org_id', '=', orgId)
    .where('is_active', '=', true)
    .executeTakeFirstOrThrow();
  return row.n;
}

const INVITATION_COLUMNS = ['id', 'org_id', 'email', 'role', 'site_ids', 'customer_id', 'invited_by', 'created_at', 'expires_at', 'accepted_at', 'revoked_at'] as const;

export function insertInvitation(
  db: Conn,
  inv: { orgId: string; email: string; role: MemberRole; siteIds: string[] | null; customerId: string | null; tokenHash: string; invitedBy: string; expiresAt: Date },
) {
  return db
    .insertInto('invitations')
    .values({
      org_id: inv.orgId,
      email: inv.email,
      role: inv.role,
      site_ids: inv.siteIds,
      customer_id: inv.customerId,
      token_hash: inv.tokenHash,
      invited_by: inv.invitedBy,
      expires_at: inv.expiresAt,
    })
    .returning(INVITATION_COLUMNS)
    .executeTakeFirstOrThrow();
}

export function listInvitations(db: Conn, orgId: string, limit: number, after: [string, string] | null) {
  let query = db
    .selectFrom('invitations')
    .select(INVITATION_COLUMNS)
    .where('org_id', '=', orgId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export async function revokeInvitation(db: Conn, orgId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('invitations')
    .set({ revoked_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Marks an open invitation accepted and returns it; undefined when it is unknown, used, revoked or expired. */
export function acceptInvitation(db: Tx, tokenHash: string) {
  return db
    .updateTable('invitations')
    .set({ accepted_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning(INVITATION_COLUMNS)
    .executeTakeFirst();
}

/** An invitation that can still be accepted, with its organization's name (for the invitee's page). */
export function findOpenInvitation(db: Conn, tokenHash: string) {
  return db
    .selectFrom('invitations as i')
    .innerJoin('organizations as o', 'o.id', 'i.org_id')
    .select(['i.email', 'i.role', 'i.customer_id', 'i.expires_at', 'o.name as organization_name'])
    .where('i.token_hash', '=', tokenHash)
    .where('i.accepted_at', 'is', null)
    .where('i.revoked_at', 'is', null)
    .where('i.expires_at', '>', new Date())
    .executeTakeFirst();
}

const CODE_COLUMNS = ['id', 'org_id', 'code_prefix', 'label', 'role', 'site_ids', 'max_uses', 'uses', 'expires_at', 'revoked_at', 'created_by', 'created_at'] as const;

export function insertRegistrationCode(
  db: Conn,
  code: { orgId: string; codeHash: string; prefix: string; label: string | null; role: Role; siteIds: string[] | null; maxUses: number; expiresAt: Date | null; createdBy: string },
) {
  return db
    .insertInto('registration_codes')
    .values({
      org_id: code.orgId,
      code_hash: code.codeHash,
      code_prefix: code.prefix,
      label: code.label,
      role: code.role,
      site_ids: code.siteIds,
      max_uses: code.maxUses,
      expires_at: code.expiresAt,
      created_by: code.createdBy,
    })
    .returning(CODE_COLUMNS)
    .executeTakeFirstOrThrow();
}

export function listRegistrationCodes(db: Conn, orgId: string, limit: number, after: [string, string] | null) {
  let query = db
    .selectFrom('registration_codes')
    .select(CODE_COLUMNS)
    .where('org_id', '=', orgId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export async function revokeRegistrationCode(db: Conn, orgId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('registration_codes')
    .set({ revoked_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Takes one use of a code inside the sign-up transaction. The row lock of the UPDATE serialises
 * concurrent sign-ups, and a rolled-back sign-up gives the use back.
 */
export function consumeRegistrationCode(db: Tx, codeHash: string) {
  return db
    .updateTable('registration_codes')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('code_hash', '=', codeHash)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
    .where((eb) => eb('uses', '<', eb.ref('max_uses')))
    .returning(CODE_COLUMNS)
    .executeTakeFirst();
}
