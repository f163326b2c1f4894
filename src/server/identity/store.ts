import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { MemberRole } from '../../shared/roles.js';

/** Every SQL statement about users, sessions, personal API tokens and password resets. */
type Conn = Db | Tx;

export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_active: boolean;
  is_superadmin: boolean;
  created_at: Date;
  last_login_at: Date | null;
}

const USER_COLUMNS = ['id', 'email', 'name', 'password_hash', 'is_active', 'is_superadmin', 'created_at', 'last_login_at'] as const;

export function findUserByEmail(db: Conn, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').select(USER_COLUMNS).where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

export function findUserById(db: Conn, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export function insertUser(db: Conn, user: { email: string; name: string; passwordHash: string; isSuperadmin?: boolean }) {
  return db
    .insertInto('users')
    .values({ email: user.email, name: user.name, password_hash: user.passwordHash, is_superadmin: user.isSuperadmin ?? false })
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function updateUser(
  db: Conn,
  id: string,
  patch: { name?: string; passwordHash?: string; isActive?: boolean; isSuperadmin?: boolean; lastLoginAt?: Date },
): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({
      updated_at: new Date(),
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.passwordHash !== undefined && { password_hash: patch.passwordHash, password_changed_at: new Date() }),
      ...(patch.isActive !== undefined && { is_active: patch.isActive }),
      ...(patch.isSuperadmin !== undefined && { is_superadmin: patch.isSuperadmin }),
      ...(patch.lastLoginAt !== undefined && { last_login_at: patch.lastLoginAt }),
    })
    .where('id', '=', id)
    .returning(USER_COLUMNS)
    .executeTakeFirst();
}

export async function countUsers(db: Conn): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return row.n;
}

/** The active platform administrators, oldest first. */
export async function activeSuperadminIds(db: Conn): Promise<string[]> {
  const rows = await db.selectFrom('users').select('id').where('is_superadmin', '=', true).where('is_active', '=', true).orderBy('created_at').execute();
  return rows.map((r) => r.id);
}

export function listUsers(db: Conn, limit: number, after: [string, string] | null, search?: string) {
  let query = db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'is_active', 'is_superadmin', 'created_at', 'last_login_at', sql<string>`lower(email)`.as('sort_email')])
    .orderBy(sql`lower(email)`)
    .orderBy('id')
    .limit(limit + 1);
  if (search) query = query.where((eb) => eb.or([eb('email', 'ilike', `%${search}%`), eb('name', 'ilike', `%${search}%`)]));
  if (after) query = query.where(sql<boolean>`(lower(email), id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

/** One row describing an authenticated caller: their user and the membership for the organization in play. */
export interface IdentityRow {
  credential_id: string;
  user_id: string;
  email: string;
  name: string;
  is_superadmin: boolean;
  touched_at: Date | null;
  target_org_id: string | null;
  org_id: string | null;
  role: MemberRole | null;
  site_ids: string[] | null;
  customer_id: string | null;
}

/**
 * The membership in play is the one for `orgId` when the caller names an organization, else the
 * session's active organization, else the caller's oldest membership.
 */
function membershipFor(target: ReturnType<typeof sql>) {
  return sql`LEFT JOIN LATERAL (
      SELECT m.org_id, m.role, m.site_ids, m.customer_id FROM memberships m
      WHERE m.user_id = u.id AND m.is_active
      ORDER BY (m.org_id = ${target}) IS TRUE DESC, m.created_at
      LIMIT 1) m ON true`;
}

export async function findSessionIdentity(db: Conn, tokenHash: string, orgId: string | null, idleMinutes: number) {
  const result = await sql<IdentityRow>`
    SELECT s.id AS credential_id, u.id AS user_id, u.email, u.name, u.is_superadmin, s.last_seen_at AS touched_at,
           COALESCE(${orgId}::uuid, s.active_org_id) AS target_org_id, m.org_id, m.role, m.site_ids, m.customer_id
    FROM sessions s
    JOIN users u ON u.id = s.user_id AND u.is_active
    ${membershipFor(sql`COALESCE(${orgId}::uuid, s.active_org_id)`)}
    WHERE s.token_hash = ${tokenHash} AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - make_interval(mins => ${idleMinutes})`.execute(db);
  return result.rows[0];
}

export async function findTokenIdentity(db: Conn, tokenHash: string, orgId: string | null) {
  const result = await sql<IdentityRow>`
    SELECT t.id AS credential_id, u.id AS user_id, u.email, u.name, u.is_superadmin, t.last_used_at AS touched_at,
           ${orgId}::uuid AS target_org_id, m.org_id, m.role, m.site_ids, m.customer_id
    FROM api_tokens t
    JOIN users u ON u.id = t.user_id AND u.is_active
    ${membershipFor(sql`${orgId}::uuid`)}
    WHERE t.token_hash = ${tokenHash} AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`.execute(db);
  return result.rows[0];
}

export async function insertSession(
  db: Conn,
  session: { tokenHash: string; userId: string; activeOrgId: string | null; ip: string; userAgent: string | null; expiresAt: Date },
) {
  return db
    .insertInto('sessions')
    .values({
      token_hash: session.tokenHash,
      user_id: session.userId,
      active_org_id: session.activeOrgId,
      ip: session.ip,
      user_agent: session.userAgent,
      expires_at: session.expiresAt,
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
}

export async function touchSession(db: Conn, id: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: new Date() }).where('id', '=', id).execute();
}

export async function setSessionOrg(db: Conn, id: string, orgId: string): Promise<void> {
  await db.updateTable('sessions').set({ active_org_id: orgId }).where('id', '=', id).execute();
}

/** Revokes sessions and returns the ids revoked, so open live streams can be closed. */
export async function revokeSessions(db: Conn, where: { sessionId?: string; userId?: string; exceptSessionId?: string }) {
  let query = db.updateTable('sessions').set({ revoked_at: new Date() }).where('revoked_at', 'is', null);
  if (where.sessionId) query = query.where('id', '=', where.sessionId);
  if (where.userId) query = query.where('user_id', '=', where.userId);
  if (where.exceptSessionId) query = query.where('id', '!=', where.exceptSessionId);
  const rows = await query.returning(['id']).execute();
  return rows.map((r) => r.id);
}

export function insertApiToken(db: Conn, token: { userId: string; name: string; tokenHash: string; prefix: string; expiresAt: Date | null }) {
  return db
    .insertInto('api_tokens')
    .values({ user_id: token.userId, name: token.name, token_hash: token.tokenHash, token_prefix: token.prefix, expires_at: token.expiresAt })
    .returning(['id', 'name', 'token_prefix', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'])
    .executeTakeFirstOrThrow();
}

export function listApiTokens(db: Conn, userId: string, limit: number, after: [string, string] | null) {
  let query = db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'token_prefix', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export async function revokeApiToken(db: Conn, userId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Revokes every live API token of a user (password change or reset) and returns the ids revoked. */
export async function revokeApiTokens(db: Conn, userId: string): Promise<string[]> {
  const rows = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
    .returning(['id'])
    .execute();
  return rows.map((r) => r.id);
}

export async function touchApiToken(db: Conn, id: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

export async function insertPasswordReset(db: Conn, userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
  await db.insertInto('password_resets').values({ user_id: userId, token_hash: tokenHash, expires_at: expiresAt }).execute();
}

/** Marks a reset token used and returns its user, only if it was unused and unexpired (single use). */
export async function consumePasswordReset(db: Conn, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .updateTable('password_resets')
    .set({ used_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning(['user_id'])
    .executeTakeFirst();
  return row?.user_id;
}
