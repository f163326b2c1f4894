import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { isDatabaseUnavailable, openDatabase, type DatabaseHandle, type Db } from './database.js';
import type { Database } from './schema.js';

/** How often the replica's lag is measured. */
export const REPLICA_CHECK_MS = 2000;

export interface ReplicaState {
  /** DATABASE_REPLICA_URL is set. */
  configured: boolean;
  /** The replica answered and is still a standby (a promoted or wrongly addressed server is never read). */
  reachable: boolean;
  /** Seconds the replica is behind the primary at the last check; null when unknown (unreachable, nothing replayed yet). */
  lagSeconds: number | null;
  /** Reads of `db` go to the replica (else to the primary). */
  inUse: boolean;
}

export interface ReadReplica {
  /**
   * For read-only statements that may trail the primary by up to the lag threshold: statistics, reports,
   * exports, list pages. Each statement goes to the replica while it is in use, and to the primary when
   * no replica is configured, it is too far behind or unreachable, or the request reads its own writes.
   * Never a write here (a standby refuses it); a read-only transaction, such as a cursor, is fine.
   */
  db: Db;
  /** How long after a session's write its reads go to the primary; see `readYourWritesMs`. */
  readonly readYourWritesMs: number;
  state(): ReplicaState;
  /** Measures the lag now and decides where reads go (the timer does this every REPLICA_CHECK_MS). */
  check(): Promise<ReplicaState>;
  /** Whether the session behind `key` wrote recently; `markWrite` records a write. */
  wroteRecently(key: string): boolean;
  markWrite(key: string): void;
  start(): void;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  url?: string;
  poolSize: number;
  /** Read at every check, so an operator's (or a test's) change takes effect without a restart. */
  maxLagSeconds: () => number;
  registry: Registry;
  logger: Logger;
}

const primaryReads = new AsyncLocalStorage<true>();

/** Runs `fn` (and everything it starts) with the replica handle's reads going to the primary: read-your-writes. */
export function readingFromPrimary<T>(fn: () => T): T {
  return primaryReads.run(true, fn);
}

/**
 * The replica handle. Without a replica it is the primary itself. With one, a router stands in for
 * Kysely's pool and picks the pool each time a statement takes a connection.
 */
export function openReadReplica(primary: DatabaseHandle, options: ReplicaOptions): ReadReplica {
  const { url, logger } = options;
  if (!url) {
    const state: ReplicaState = { configured: false, reachable: false, lagSeconds: null, inUse: false };
    return {
      db: primary.db, readYourWritesMs: 0, state: () => state, check: async () => state,
      wroteRecently: () => false, markWrite: () => undefined, start: () => undefined, close: async () => undefined,
    };
  }
  const replica = openDatabase(url, options.poolSize);
  const lagGauge = new Gauge({ name: 'vigil_database_replica_lag_seconds', help: 'Seconds the read replica is behind the primary at the last check (NaN: unknown or unreachable)', registers: [options.registry] });
  const inUseGauge = new Gauge({ name: 'vigil_database_replica_in_use', help: '1 while statistics, reports, exports and lists read from the replica; 0 while they fall back to the primary', registers: [options.registry] });
  const reads = new Counter({ name: 'vigil_database_replica_reads_total', help: 'Statements of the replica-eligible read paths, by the server that answered them', labelNames: ['target'] as const, registers: [options.registry] });
  let state: ReplicaState = { configured: true, reachable: false, lagSeconds: null, inUse: false };
  const setState = (next: ReplicaState) => {
    if (next.inUse !== state.inUse) {
      const log = next.inUse ? logger.info.bind(logger) : logger.warn.bind(logger);
      log({ lagSeconds: next.lagSeconds, reachable: next.reachable, maxLagSeconds: options.maxLagSeconds() },
        next.inUse ? 'reading statistics, reports, exports and lists from the replica' : 'read replica not usable: those reads go to the primary');
    }
    state = next;
    lagGauge.set(next.lagSeconds ?? Number.NaN);
    inUseGauge.set(next.inUse ? 1 : 0);
  };
  setState(state);

  const fromPrimary = () => {
    reads.inc({ target: 'primary' });
    return primary.pool.connect();
  };
  const router = {
    async connect(): Promise<pg.PoolClient> {
      if (!state.inUse || primaryReads.getStore()) return fromPrimary();
      try {
        const client = await replica.pool.connect();
        reads.inc({ target: 'replica' });
        return client;
      } catch (error) {
        // Gone since the last check: this read and the next ones go to the primary until a check finds it back.
        if (!isDatabaseUnavailable(error)) throw error;
        setState({ ...state, reachable: false, lagSeconds: null, inUse: false });
        return fromPrimary();
      }
    },
    // Each pool is ended by its owner.
    end: async () => undefined,
  };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: router }) });

  // A session's write reaches the replica at most maxLag after the check before the read (the replica held
  // everything committed before "check time − lag"), and checks are REPLICA_CHECK_MS apart.
  const windowMs = () => (options.maxLagSeconds() + REPLICA_CHECK_MS / 1000) * 1000;
  const writes = new Map<string, number>();

  let checking: Promise<ReplicaState> | undefined;
  const measure = async (): Promise<ReplicaState> => {
    // The primary's position first: a replica that has replayed up to it held everything committed before the check.
    let primaryLsn: string;
    try {
      primaryLsn = (await primary.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    } catch (error) {
      logger.debug({ err: error }, 'replica check: primary unreachable');
      return state;
    }
    try {
      const { rows } = await replica.pool.query<{ recovery: boolean; caught_up: boolean | null; behind: number | null }>(
        `SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up,
                EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS behind`,
        [primaryLsn],
      );
      const row = rows[0]!;
      // Not caught up: behind by the time since the last transaction it replayed (none yet: unknown).
      const lagSeconds = !row.recovery ? null : row.caught_up ? 0 : row.behind === null ? null : Math.max(0, row.behind);
      return { configured: true, reachable: row.recovery, lagSeconds, inUse: lagSeconds !== null && lagSeconds <= options.maxLagSeconds() };
    } catch (error) {
      if (state.reachable) logger.warn({ err: error }, 'read replica unreachable');
      return { configured: true, reachable: false, lagSeconds: null, inUse: false };
    }
  };
  let timer: NodeJS.Timeout | undefined;

  return {
    db,
    get readYourWritesMs() {
      return windowMs();
    },
    state: () => state,
    check() {
      checking ??= measure().then((next) => {
        setState(next);
        const now = Date.now();
        for (const [key, until] of writes) if (until <= now) writes.delete(key);
        return next;
      }).finally(() => {
        checking = undefined;
      });
      return checking;
    },
    wroteRecently: (key) => (writes.get(key) ?? 0) > Date.now(),
    markWrite: (key) => void writes.set(key, Date.now() + windowMs()),
    start() {
      timer ??= setInterval(() => void this.check(), REPLICA_CHECK_MS).unref();
    },
    async close() {
      clearInterval(timer);
      await checking;
      await db.destroy();
      await replica.close();
    },
  };
}
