import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../src/server/core/db/database.js';
import { JobRunner } from '../src/server/core/jobs.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { CliProcess, eventually, freePort, isAlive, sleep } from './helpers/process.js';

/** Ends every session of `database` but the caller's, as `pg_terminate_backend` by an operator or a failover does. */
async function terminateBackends(admin: pg.Client, database: string): Promise<number> {
  const { rowCount } = await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database],
  );
  return rowCount ?? 0;
}

describe('losing database connections', () => {
  let app: TestApp;
  let owner: SignedIn;
  let admin: pg.Client;
  let databaseName: string;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    databaseName = new URL(app.databaseUrl).pathname.slice(1);
    admin = new pg.Client({ connectionString: app.databaseUrl });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  it('keeps answering (2xx or 503, never 500) while every backend is terminated again and again, loses nothing it acknowledged, and works afterwards', { timeout: 60_000 }, async () => {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar', serial: 'LOSS-1', speedLimit: 30 });
    assert.equal(created.status, 201);
    const key = created.body.apiKey as string;
    const deviceId = created.body.device.id as string;
    const ingest = (ref: string) => app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key },
      payload: { events: [{ client_ref: ref, ts: new Date().toISOString(), kind: 'speed', speed: 42 }] },
    });

    const statuses: number[] = [];
    const unavailable: unknown[] = [];
    const acknowledged: string[] = [];
    let stop = false;
    let terminated = 0;
    const killer = (async () => {
      while (!stop) {
        terminated += await terminateBackends(admin, databaseName);
        await sleep(20);
      }
    })();
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const ref = `w${n}-${i}`;
        const answers = await Promise.all([
          ingest(ref).then((r) => ({ status: r.statusCode, body: r.json() as unknown, ref })),
          owner.client.get('/api/v1/devices').then((r) => ({ status: r.status, body: r.body as unknown, ref: undefined })),
          app.runtime.app.inject({ method: 'GET', url: '/ready' }).then((r) => ({ status: r.statusCode, body: r.json() as unknown, ref: undefined })),
        ]);
        for (const answer of answers) {
          statuses.push(answer.status);
          if (answer.status === 503) unavailable.push(answer.body);
          if (answer.ref && answer.status === 200) acknowledged.push(answer.ref);
        }
        await Promise.all([app.runtime.jobs.tick('rollups'), app.runtime.jobs.tick('device-offline')]);
      }
    };
    const workers = Promise.all([0, 1, 2, 3].map(worker));
    await sleep(3000);
    stop = true;
    await Promise.all([workers, killer]);

    assert.ok(terminated > 20, `backends were terminated (${terminated})`);
    const unexpected = statuses.filter((s) => !(s >= 200 && s < 300) && s !== 503);
    assert.deepEqual(unexpected, [], 'every answer is 2xx or 503');
    assert.ok(statuses.some((s) => s === 503), 'some requests met a lost connection');
    for (const body of unavailable) {
      const { error } = body as { error: { code: string; message: string } };
      assert.ok(['database_unavailable', 'not_ready'].includes(error.code), JSON.stringify(body));
      assert.ok(error.message.length > 0);
    }

    // Afterwards everything works, and every acknowledged event is stored.
    assert.equal((await app.runtime.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    assert.equal((await ingest('after')).statusCode, 200);
    assert.equal(await app.runtime.jobs.tick('rollups'), true, 'a job runs');
    const { rows } = await app.runtime.ctx.pool.query<{ client_ref: string }>('SELECT client_ref FROM events WHERE device_id = $1', [deviceId]);
    const stored = new Set(rows.map((r) => r.client_ref));
    assert.ok(acknowledged.length > 0);
    assert.deepEqual(acknowledged.filter((ref) => !stored.has(ref)), [], 'no acknowledged event is lost');
    assert.ok(stored.has('after'));
  });

  it("stops a job whose lease connection died, so that another process retakes the lease at once", { timeout: 30_000 }, async () => {
    const logger = pino({ level: 'silent' });
    const a = new JobRunner(app.runtime.ctx.pool, logger);
    const b = new JobRunner(app.runtime.ctx.pool, logger);
    let aborted = false;
    a.register('lease-loss', 60_000, (signal) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20_000);
      signal.addEventListener('abort', () => {
        aborted = true;
        clearTimeout(timer);
        resolve();
      });
    }));
    b.register('lease-loss', 60_000, async () => undefined);
    const ticking = a.tick('lease-loss');
    const leaseHolder = async () => (await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext('vigil-job:lease-loss')::oid`,
    )).rows[0]?.pid;
    assert.ok(await eventually(async () => (await leaseHolder()) !== undefined, 10_000, 20), 'the job holds its lease');
    assert.equal(await b.tick('lease-loss'), false, 'held elsewhere');
    await admin.query('SELECT pg_terminate_backend($1)', [await leaseHolder()]);
    assert.equal(await ticking, false, 'the tick reports that it did not complete');
    assert.equal(aborted, true, 'the job was told to stop');
    // The terminated backend frees its locks as it exits, a moment after its client saw the error.
    assert.equal(await eventually(() => b.tick('lease-loss'), 10_000, 20), true, 'another runner takes the lease');
  });

  it('a job runner resumes by itself once an unreachable database is back', { timeout: 30_000 }, async () => {
    // A TCP relay stands for the network path to the database: closed, PostgreSQL is unreachable.
    const target = new URL(app.databaseUrl);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((socket) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined).on('close', () => sockets.delete(s));
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as net.AddressInfo).port;
    const relayed = new URL(app.databaseUrl);
    relayed.hostname = '127.0.0.1';
    relayed.port = String(port);
    const database = openDatabase(relayed.toString(), 2);
    try {
      let runs = 0;
      const jobs = new JobRunner(database.pool, pino({ level: 'silent' }));
      jobs.register('resume', 60_000, async () => void (runs += 1));
      assert.equal(await jobs.tick('resume'), true);

      const closed = new Promise<void>((resolve) => relay.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      assert.equal(await jobs.tick('resume'), false, 'no database: the tick does not run, and does not throw');
      assert.equal(await jobs.tick('resume'), false);

      await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
      assert.equal(await jobs.tick('resume'), true, 'the job runs again');
      assert.equal(runs, 2);
    } finally {
      await database.close();
      relay.close();
      for (const s of sockets) s.destroy();
    }
  });
});

describe('the bundled PostgreSQL dying under a running Vigil', () => {
  let dataDir: string;
  const processes: CliProcess[] = [];
  const admin = { email: 'admin@city.example', password: 'a long enough secret', name: 'Ada Admin', organizationName: 'City Traffic' };

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pgloss-'));
    // As root the bundled PostgreSQL runs as the "postgres" user, who must be able to enter the folder.
    fs.chmodSync(dataDir, 0o755);
  });
  after(async () => {
    for (const server of processes) {
      if (server.running) {
        server.child.kill('SIGTERM');
        if (!(await server.exitWithin(20_000))) server.killGroup();
      }
      server.killGroup();
    }
    const postmaster = postmasterPid();
    if (postmaster && isAlive(postmaster)) process.kill(postmaster, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function postmasterPid(): number | undefined {
    const file = path.join(dataDir, 'pg', 'postmaster.pid');
    if (!fs.existsSync(file)) return undefined;
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  function serve(port: number): CliProcess {
    // The test signs in every 200 ms while PostgreSQL is away: the per-address sign-in limit must not answer first.
    const server = new CliProcess(['serve'], { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_LOGIN_PER_IP: '100000' });
    processes.push(server);
    return server;
  }

  const status = async (url: string, init?: RequestInit) =>
    (await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) }).catch(() => undefined))?.status;
  const login = (base: string) => fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin), signal: AbortSignal.timeout(15_000),
  });

  async function becomesReady(base: string, server: CliProcess): Promise<void> {
    const ready = await eventually(async () => !server.running || (await status(`${base}/ready`)) === 200, 60_000, 200);
    assert.ok(ready && server.running, `not ready:\n${server.output()}`);
  }

  it('notices the kill -9 of its PostgreSQL, answers 503 meanwhile, restarts it and keeps the data; a start 0.5 s after the kill -9 of Vigil works', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = serve(port);
    const [, token] = await server.waitForOutput(/\/setup\?token=(\S+)/, 60_000);
    await becomesReady(base, server);
    const setup = await fetch(`${base}/api/v1/setup`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: decodeURIComponent(token!), ...admin }),
    });
    assert.equal(setup.status, 201);

    const postmaster = postmasterPid()!;
    process.kill(postmaster, 'SIGKILL');
    const answers: number[] = [];
    assert.ok(await eventually(async () => (await status(`${base}/ready`)) === 503, 10_000, 20), '/ready turns false');
    answers.push((await login(base)).status);
    assert.ok(await eventually(async () => {
      const ready = await status(`${base}/ready`);
      if (ready !== 200) answers.push((await login(base)).status);
      return ready === 200;
    }, 60_000, 200), `/ready comes back:\n${server.output()}`);
    assert.ok(server.running, 'Vigil stays up');
    assert.deepEqual(answers.filter((s) => s !== 503 && s !== 200), [], 'meanwhile the API answers 503');
    assert.ok(answers.includes(503));
    assert.notEqual(postmasterPid(), postmaster, 'a new PostgreSQL server runs');
    assert.match(server.stdout, /the bundled PostgreSQL stopped unexpectedly; restarting it/);
    assert.equal((await login(base)).status, 200, 'the administrator created before is still there');

    // Now Vigil itself, with its PostgreSQL (the whole process group), then a start half a second later.
    server.killGroup('SIGKILL');
    await sleep(500);
    const again = serve(port);
    await again.waitForOutput(/Vigil is running at/, 90_000);
    await becomesReady(base, again);
    assert.equal((await login(base)).status, 200);
  });
});
