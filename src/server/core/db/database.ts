import { CompiledQuery, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { installTypeParsers } from './types.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface DatabaseHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function openDatabase(url: string, poolSize: number): DatabaseHandle {
  installTypeParsers();
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      // JIT off: Vigil's statements are short, and the ones the planner rates expensive (statistics over
      // rollups) compiled for longer (~0.5 s measured) than they ran. A SET before a connection's first
      // statement rather than a startup option, which connection poolers such as PgBouncer refuse.
      onCreateConnection: async (connection) => {
        await connection.executeQuery(CompiledQuery.raw('SET jit = off'));
      },
    }),
  });
  return {
    db,
    pool,
    async close() {
      await db.destroy();
    },
  };
}

/** PostgreSQL's unique-violation code, for stores that turn a conflict into a domain error. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export async function ping(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
