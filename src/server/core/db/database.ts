import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
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
  // A connection attempt to an unreachable host gives up after 10 s (the request answers 503) instead of
  // hanging; keep-alive notices a peer that vanished without closing the connection (failover, cable).
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000, keepAlive: true });
  // A client that loses its connection (pg_terminate_backend, failover, the bundled server dying) emits
  // 'error': the pool listens only while the client is idle, so every client also gets its own listener,
  // else a loss while checked out would crash the process. The query in flight fails with the error itself,
  // and the pool discards a client that is no longer queryable when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    // JIT off: Vigil's statements are short, and the ones the planner rates expensive (statistics over
    // rollups) compiled for longer (~0.5 s measured) than they ran. A SET queued before a connection's
    // first statement rather than a startup option, which connection poolers such as PgBouncer refuse.
    // Not Kysely's onCreateConnection: a connection lost during that hook is never given back to the pool.
    // A failed SET leaves a broken client, whose next statement fails and which the pool then discards.
    client.query('SET jit = off').catch(() => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
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

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown: another backend crashed, or the server was killed
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
]);

/**
 * Whether `error` means the database is out of reach (connection refused, lost or timed out), as opposed
 * to a statement that failed. Such an error answers 503: the request was not acknowledged, and a retry may succeed.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true;
  return typeof e.message === 'string' &&
    /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/.test(e.message);
}

export async function ping(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
