import type { Db, Tx } from '../core/db/database.js';

/** The one-time first-run setup token (hashed). */
type Conn = Db | Tx;

export async function saveSetupToken(db: Conn, tokenHash: string): Promise<void> {
  await db
    .insertInto('setup_tokens')
    .values({ token_hash: tokenHash })
    .onConflict((oc) => oc.column('id').doUpdateSet({ token_hash: tokenHash }))
    .execute();
}

/** Reads the token and locks its row, so two setup submissions cannot both succeed. */
export async function lockSetupToken(db: Tx): Promise<string | undefined> {
  const row = await db.selectFrom('setup_tokens').select('token_hash').forUpdate().executeTakeFirst();
  return row?.token_hash;
}

export async function deleteSetupToken(db: Conn): Promise<void> {
  await db.deleteFrom('setup_tokens').execute();
}

export async function findSetupToken(db: Conn): Promise<string | undefined> {
  const row = await db.selectFrom('setup_tokens').select('token_hash').executeTakeFirst();
  return row?.token_hash;
}
