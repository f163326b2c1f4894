import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../src/server/core/db/database.js';
import { acquireDataDirLock } from '../src/server/core/db/data-dir-lock.js';
import { createTestDatabase, dropTestDatabase } from './helpers/app.js';
import { CliProcess, eventually, freePort, isAlive, REPO_ROOT } from './helpers/process.js';

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // As root the bundled PostgreSQL runs as the "postgres" user, who must be able to enter the folder.
  fs.chmodSync(dir, 0o755);
  return dir;
}

describe('data folder lock', () => {
  let dir: string;
  before(() => {
    dir = tempDir('vigil-lock-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lockFile = () => path.join(dir, 'vigil.lock');

  /** Another process that takes the lock through the real function and keeps it until killed. */
  async function lockHolder() {
    const module = pathToFileURL(path.join(REPO_ROOT, 'src/server/core/db/data-dir-lock.ts')).href;
    const script = `import { acquireDataDirLock } from ${JSON.stringify(module)};
      acquireDataDirLock(process.env.LOCK_DIR); console.log('locked'); setInterval(() => {}, 60000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOCK_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const locked = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('locked') && (clearTimeout(timer), resolve(true)));
      child.once('exit', () => (clearTimeout(timer), resolve(false)));
    });
    if (!locked) {
      child.kill('SIGKILL');
      throw new Error('the lock holder did not take the lock');
    }
    return { pid: child.pid!, exited, kill: () => child.kill('SIGKILL') };
  }

  it('refuses a second owner while the first one lives, and takes over once it is killed', async () => {
    const holder = await lockHolder();
    try {
      assert.equal(fs.readFileSync(lockFile(), 'utf8'), String(holder.pid));
      assert.throws(() => acquireDataDirLock(dir), (error: Error) => {
        assert.match(error.message, new RegExp(`another Vigil process \\(pid ${holder.pid}\\) is using the data folder`));
        return true;
      });
      assert.equal(fs.readFileSync(lockFile(), 'utf8'), String(holder.pid), "a refused start leaves the owner's lock alone");
    } finally {
      holder.kill();
      await holder.exited;
    }
    assert.equal(isAlive(holder.pid), false);
    const release = acquireDataDirLock(dir);
    assert.equal(fs.readFileSync(lockFile(), 'utf8'), String(process.pid), 'the stale lock (dead pid) is taken over');
    release();
    assert.equal(fs.existsSync(lockFile()), false, 'releasing removes the lock');
  });

  it('after a power loss, takes over a lock whose pid now belongs to an unrelated live process', async () => {
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => bystander.once('exit', () => resolve()));
    try {
      fs.writeFileSync(lockFile(), String(bystander.pid));
      const release = acquireDataDirLock(dir);
      assert.equal(fs.readFileSync(lockFile(), 'utf8'), String(process.pid));
      release();
      assert.equal(bystander.exitCode, null, 'the unrelated process is left alone');
    } finally {
      bystander.kill('SIGKILL');
      await exited;
    }
  });

  it('takes over the lock of a Vigil that was killed but not yet reaped by its parent (a zombie)', { skip: !fs.existsSync('/proc/self') }, async () => {
    // The shell starts a child, then becomes `sleep`, which never reaps it: the child stays a zombie. The child
    // lives a moment so that it ends after the exec (a shell reaps a child that ends before).
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.setEncoding('utf8').once('data', resolve)));
      assert.ok(await eventually(() => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z'), 5000, 20), 'the child is a zombie');
      fs.writeFileSync(lockFile(), String(zombie));
      const release = acquireDataDirLock(dir);
      assert.equal(fs.readFileSync(lockFile(), 'utf8'), String(process.pid));
      release();
    } finally {
      parent.kill('SIGKILL');
      await exited;
    }
  });

  it('takes over an unreadable lock, and releasing never removes a lock that another process holds now', () => {
    fs.writeFileSync(lockFile(), 'garbage');
    const release = acquireDataDirLock(dir);
    assert.equal(fs.readFileSync(lockFile(), 'utf8'), String(process.pid));
    fs.writeFileSync(lockFile(), '999999999'); // meanwhile taken over by someone else
    release();
    assert.equal(fs.readFileSync(lockFile(), 'utf8'), '999999999');
    fs.rmSync(lockFile());
  });
});

describe('the server on the bundled PostgreSQL survives kill -9', () => {
  let dataDir: string;
  const processes: CliProcess[] = [];
  const admin = { email: 'admin@city.example', password: 'a long enough secret', name: 'Ada Admin', organizationName: 'City Traffic' };

  before(() => {
    dataDir = tempDir('vigil-crash-');
  });
  after(async () => {
    for (const server of processes) {
      if (server.running) {
        server.child.kill('SIGTERM');
        if (!(await server.exitWithin(20_000))) server.killGroup();
      }
      // Whatever is left in its process group (an orphaned PostgreSQL) goes too.
      server.killGroup();
    }
    const postmaster = postmasterPid();
    if (postmaster && isAlive(postmaster)) {
      process.kill(postmaster, 'SIGKILL');
      await eventually(() => !isAlive(postmaster), 10_000);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function postmasterPid(): number | undefined {
    const file = path.join(dataDir, 'pg', 'postmaster.pid');
    if (!fs.existsSync(file)) return undefined;
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  async function serve(port: number): Promise<CliProcess> {
    const server = new CliProcess(['serve'], { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    processes.push(server);
    return server;
  }

  async function ready(base: string, server: CliProcess): Promise<void> {
    const up = await eventually(async () => {
      if (!server.running) return true;
      const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      return response?.status === 200;
    }, 45_000, 200);
    assert.ok(up && server.running, `the server did not become ready:\n${server.output()}`);
  }

  async function post(base: string, url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('keeps its data across kill -9, stops the orphaned PostgreSQL, and refuses a second server on the same data folder', { timeout: 150_000 }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = await serve(port);
    const [, token] = await first.waitForOutput(/\/setup\?token=(\S+)/, 60_000);
    await ready(base, first);

    const setup = await post(base, '/api/v1/setup', { token: decodeURIComponent(token!), ...admin });
    assert.equal(setup.status, 201, JSON.stringify(setup.body));
    assert.equal((await post(base, '/api/v1/auth/login', admin)).status, 200);

    // A second server on the same data folder is refused while the first runs.
    const second = await serve(await freePort());
    assert.equal(await second.exitWithin(30_000), true, `the second server kept running:\n${second.output()}`);
    assert.notEqual(second.exitCode, 0);
    assert.match(second.stderr, /another Vigil process \(pid \d+\) is using the data folder/);
    assert.equal((await fetch(`${base}/ready`)).status, 200, 'the first server is unaffected');

    const orphan = postmasterPid();
    assert.ok(orphan, 'the bundled PostgreSQL wrote its pid file');
    first.child.kill('SIGKILL');
    assert.equal(await first.exitWithin(10_000), true);
    assert.equal(isAlive(orphan!), true, 'kill -9 leaves the PostgreSQL child running as an orphan');

    const restarted = await serve(port);
    await restarted.waitForOutput(/Vigil is running at/, 60_000);
    await ready(base, restarted);
    assert.doesNotMatch(restarted.stdout, /setup\?token=/, 'no new setup link: the administrator still exists');
    assert.equal(isAlive(orphan!), false, 'the orphaned PostgreSQL was stopped');
    assert.notEqual(postmasterPid(), orphan);

    const login = await post(base, '/api/v1/auth/login', admin);
    assert.equal(login.status, 200, 'the administrator created before the crash can sign in');
    assert.equal((login.body.user as { isSuperadmin: boolean }).isSuperadmin, true);

    restarted.child.kill('SIGTERM');
    assert.equal(await restarted.exitWithin(30_000), true, 'SIGTERM stops the server');
    assert.equal(restarted.exitCode, 0);
    const last = postmasterPid();
    assert.ok(last === undefined || !isAlive(last), 'a clean stop also stops PostgreSQL');
    assert.equal(fs.existsSync(path.join(dataDir, 'vigil.lock')), false, 'a clean stop releases the data folder');
  });

  it('after a power loss, a stale postmaster.pid whose pid now belongs to another process leaves that process alone', { timeout: 90_000 }, async () => {
    // The machine went down with PostgreSQL running; after the reboot its old pid belongs to an unrelated program.
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    const bystanderExited = new Promise<void>((resolve) => bystander.once('exit', () => resolve()));
    try {
      const pgDir = path.join(dataDir, 'pg');
      assert.ok(fs.existsSync(path.join(pgDir, 'PG_VERSION')), 'the cluster of the previous test is there');
      fs.writeFileSync(path.join(pgDir, 'postmaster.pid'), `${bystander.pid}\n${pgDir}\n1700000000\n5432\n\n127.0.0.1\n  1234567     98304\nready   \n`);

      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = await serve(port);
      await server.waitForOutput(/Vigil is running at/, 60_000);
      await ready(base, server);
      assert.equal(isAlive(bystander.pid!), true, 'the unrelated process was not signalled');
      assert.equal(bystander.exitCode, null);
      assert.notEqual(postmasterPid(), bystander.pid);
      assert.equal((await post(base, '/api/v1/auth/login', admin)).status, 200, 'the data is there');

      server.child.kill('SIGTERM');
      assert.equal(await server.exitWithin(30_000), true);
    } finally {
      bystander.kill('SIGKILL');
      await bystanderExited;
    }
  });
});

describe('database types', () => {
  let url: string;
  let database: DatabaseHandle;
  before(async () => {
    url = await createTestDatabase();
    database = openDatabase(url, 2);
  });
  after(async () => {
    await database.close();
    await dropTestDatabase(url);
  });

  it('count(*) and bigint are numbers, numeric a number, date a YYYY-MM-DD string, timestamps Dates', async () => {
    const { rows } = await database.pool.query(`
      SELECT (SELECT count(*) FROM generate_series(1, 3)) AS n,
             (SELECT sum(x) FROM generate_series(1, 4) x) AS total,
             9007199254740991::bigint AS big,
             12.50::numeric(6, 2) AS num,
             (SELECT avg(x) FROM generate_series(1, 2) x) AS mean,
             NULL::numeric AS missing,
             '2024-02-29'::date AS day,
             '2024-03-01T12:34:56.789Z'::timestamptz AS at,
             '2024-03-01 12:34:56.5'::timestamp AS local`);
    const row = rows[0];
    assert.equal(row.n, 3);
    assert.equal(row.total, 10);
    assert.equal(row.big, Number.MAX_SAFE_INTEGER);
    assert.equal(row.num, 12.5);
    assert.equal(row.mean, 1.5);
    assert.equal(row.missing, null);
    assert.equal(row.day, '2024-02-29');
    assert.ok(row.at instanceof Date);
    assert.equal(row.at.toISOString(), '2024-03-01T12:34:56.789Z');
    assert.ok(row.local instanceof Date);
    assert.equal(row.local.toISOString(), '2024-03-01T12:34:56.500Z', 'a timestamp without time zone is read as UTC');
  });

  it('a date is the same calendar day whatever the session time zone, and Kysely gets the same types', async () => {
    const client = await database.pool.connect();
    try {
      await client.query(`SET TIME ZONE 'Pacific/Kiritimati'`);
      const { rows } = await client.query(`SELECT '2024-12-31'::date AS day, '2024-12-31T23:30:00Z'::timestamptz AS at`);
      assert.equal(rows[0].day, '2024-12-31');
      assert.equal(rows[0].at.toISOString(), '2024-12-31T23:30:00.000Z');
    } finally {
      await client.query('RESET TIME ZONE');
      client.release();
    }
    const result = await sql<{ n: unknown; day: unknown }>`SELECT count(*) AS n, current_date AS day FROM schema_migrations`.execute(database.db);
    assert.equal(typeof result.rows[0]!.n, 'number');
    assert.match(String(result.rows[0]!.day), /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(typeof result.rows[0]!.day, 'string');
  });
});
