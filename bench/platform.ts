/**
 * The platform foundation, measured on the built server (`node bin/vigil.js serve`, what `npm start` runs)
 * on the bundled PostgreSQL:
 *  1. cold start on an empty DATA_DIR (initdb + migrations) until GET /ready answers 200, shutdown
 *     on SIGTERM, and warm restart on the same DATA_DIR;
 *  2. resident memory of the Vigil process and of its PostgreSQL processes, idle and after 10,000
 *     authenticated requests;
 *  3. throughput and latency of authenticated GET /api/v1/auth/me (session cookie of the first
 *     administrator, created through first-run setup) against a Fastify hello-world with the same
 *     autocannon settings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  type Benchmark,
  type Child,
  type Reporter,
  cpuSpent,
  cpuTimes,
  type CpuTime,
  freePort,
  machineCpu,
  allProcessCpu,
  topOtherProcesses,
  makeTempDir,
  memoryOf,
  now,
  pollUntil,
  processes,
  ROOT,
  round,
  sleep,
  startChild,
  stopChild,
  tryFetch,
  watchPostgresOf,
  withDescendants,
} from './lib.js';

const LOAD = { connections: 20, duration: 10 } as const;
const WARMUP_REQUESTS = 10_000;
const IDLE_SETTLE_MS = 5_000;
const COLD_START_DEADLINE_MS = 180_000;
const WARM_START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 60_000;

const ADMIN = { email: 'bench-admin@example.com', password: 'bench-password-0123', name: 'Bench Admin', organizationName: 'Bench Org' };

/** Every variable loadConfig reads: the bench sets its own and drops the caller's, so it always measures the defaults. */
const CONFIG_VARIABLES =
  /^(PORT|HOST|PUBLIC_URL|DATA_DIR|DATABASE_URL|DATABASE_POOL_SIZE|SECRET_KEY|ENCRYPTION_KEY|LOG_LEVEL|REDIS_URL|REDIS_PREFIX|SMTP_\w+|TRUST_PROXY|BODY_LIMIT_BYTES|SESSION_\w+|RATE_LIMIT_\w+|STREAM_HEARTBEAT_SECONDS|VIGIL_PASSWORD)$/;

interface Vigil {
  child: Child;
  port: number;
  base: string;
  dataDir: string;
}

function startVigil(label: string, dataDir: string, port: number): Vigil {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!CONFIG_VARIABLES.test(key)) env[key] = value;
  Object.assign(env, { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  // cwd outside the repository, so that a developer's .env cannot change what is measured.
  const child = startChild(label, process.execPath, [path.join(ROOT, 'bin', 'vigil.js'), 'serve'], {
    cwd: path.dirname(dataDir),
    env,
  });
  return { child, port, base: `http://127.0.0.1:${port}`, dataDir };
}

const exitReason = (child: Child) => () =>
  child.exited ? `${child.label} exited (code ${child.exited.code}, signal ${child.exited.signal}):\n${tail(child)}` : undefined;

function tail(child: Child, lines = 30): string {
  return `${child.stdout}\n${child.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

/** Milliseconds from `started` until GET /ready answers 200. */
async function waitReady(vigil: Vigil, started: number, deadlineMs: number): Promise<number> {
  return pollUntil(
    `${vigil.child.label}: GET /ready`,
    async () => ((await tryFetch(`${vigil.base}/ready`, {}, 1000))?.status === 200 ? now() - started : undefined),
    { deadlineMs, intervalMs: 20, abort: exitReason(vigil.child) },
  );
}

async function stopVigil(vigil: Vigil, report: Reporter, when: string): Promise<void> {
  const stopped = await stopChild(vigil.child, 'SIGTERM', STOP_DEADLINE_MS);
  report.add({ metric: `Shutdown on SIGTERM (${when})`, value: round(stopped.ms), unit: 'ms', note: `exit code ${stopped.code ?? stopped.signal}` });
  if (stopped.killed) report.problem(`Vigil did not exit within ${STOP_DEADLINE_MS / 1000} s of SIGTERM (${when}); it was SIGKILLed`);
  else if (stopped.code !== 0) report.problem(`Vigil exited with ${stopped.code ?? stopped.signal} on SIGTERM (${when})`);
  const leftovers = postgresPids(vigil);
  if (leftovers.length) report.problem(`PostgreSQL processes ${leftovers.join(', ')} still run on the data folder after Vigil exited (${when})`);
  for (const file of ['vigil.lock', 'pg/postmaster.pid']) {
    if (fs.existsSync(path.join(vigil.dataDir, file))) report.problem(`${file} is still in DATA_DIR after a clean shutdown (${when})`);
  }
  reportLogs(vigil, report);
}

/** Warnings and errors the server logged (pino JSON on stdout at LOG_LEVEL=warn) and anything on stderr. */
function reportLogs(vigil: Vigil, report: Reporter): void {
  const logged = vigil.child.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as { level?: number; msg?: string };
      } catch {
        return undefined;
      }
    })
    .filter((entry) => entry && (entry.level ?? 0) >= 40);
  for (const entry of logged.slice(0, 10)) report.problem(`${vigil.child.label} logged: ${JSON.stringify(entry).slice(0, 600)}`);
  if (logged.length > 10) report.problem(`${vigil.child.label} logged ${logged.length - 10} more warnings/errors`);
  const stderr = vigil.child.stderr.trim();
  if (stderr) report.problem(`${vigil.child.label} wrote to stderr:\n${stderr.split('\n').slice(0, 20).join('\n')}`);
}

/**
 * The bundled PostgreSQL of this data folder. Only the postmaster has the data folder on its command
 * line (`postgres -D DATA_DIR/pg …`); its children retitle themselves (`postgres: checkpointer`, one
 * `postgres: vigil vigil 127.0.0.1(…)` per pooled connection), so they are found as its descendants.
 */
function postgresPids(vigil: Vigil): number[] {
  const all = processes();
  const postmasters = all.filter((p) => p.pid !== vigil.child.pid && p.args.includes(vigil.dataDir) && /postgres/.test(p.args));
  return withDescendants(postmasters.map((p) => p.pid), all);
}

function measureMemory(vigil: Vigil, report: Reporter, when: string): void {
  const all = processes();
  const postmasters = all.filter((p) => p.pid !== vigil.child.pid && p.args.includes(vigil.dataDir) && /postgres/.test(p.args));
  const pgPids = withDescendants(postmasters.map((p) => p.pid), all);
  const node = memoryOf([vigil.child.pid]);
  const pg = memoryOf(pgPids);
  const postmaster = memoryOf(postmasters.map((p) => p.pid));
  const others = withDescendants([vigil.child.pid], all).filter((pid) => pid !== vigil.child.pid && !pgPids.includes(pid));
  report.add({ metric: `RSS ${when}: Vigil node process`, value: round(node.rssMb), unit: 'MB', note: `pid ${vigil.child.pid}` });
  report.add({
    metric: `RSS ${when}: PostgreSQL (${pg.processes} processes)`,
    value: round(pg.rssMb),
    unit: 'MB',
    note: `PSS ${round(pg.pssMb)} MB; postmaster alone ${round(postmaster.rssMb)} MB`,
  });
  report.add({ metric: `RSS ${when}: total`, value: round(node.rssMb + pg.rssMb), unit: 'MB', note: `PSS ${round(node.pssMb + pg.pssMb)} MB` });
  if (others.length) report.log(`note: Vigil has other child processes: ${others.join(', ')}`);
}

async function signIn(vigil: Vigil): Promise<string> {
  const login = await tryFetch(`${vigil.base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  }, 10_000);
  if (login?.status !== 200) throw new Error(`login failed: ${login?.status} ${await login?.text()}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('vigil_session='));
  if (!cookie) throw new Error(`login set no vigil_session cookie: ${login.headers.getSetCookie().join(' / ')}`);
  const me = await tryFetch(`${vigil.base}/api/v1/auth/me`, { headers: { cookie } }, 10_000);
  if (me?.status !== 200) throw new Error(`GET /api/v1/auth/me with the session cookie answered ${me?.status}`);
  return cookie;
}

async function load(report: Reporter, label: string, options: autocannon.Options): Promise<autocannon.Result> {
  report.log(`${label}: autocannon ${options.url} (${options.connections} connections, ${options.amount ? `${options.amount} requests` : `${options.duration} s`})`);
  const result = await autocannon({ timeout: 10, ...options });
  if (result.errors || result.timeouts || result.non2xx) {
    report.problem(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses out of ${result.requests.total}`);
  }
  return result;
}

function addLoadRows(report: Reporter, label: string, result: autocannon.Result): void {
  report.add({ metric: `${label}: requests/s`, value: round(result.requests.average, 0), unit: 'req/s', note: `${result.requests.total.toLocaleString('en-US')} requests in ${result.duration} s, ${result['2xx'].toLocaleString('en-US')} 2xx` });
  report.add({ metric: `${label}: latency p50`, value: result.latency.p50, unit: 'ms' });
  report.add({ metric: `${label}: latency p99`, value: result.latency.p99, unit: 'ms', note: `max ${result.latency.max} ms` });
}

/**
 * A timed load run that also accounts the CPU time of each group of processes (the server's, the
 * database's, and this process, which runs autocannon), per request and as a share of one core, and
 * the CPU that other work on the machine took meanwhile (which makes the figures noisy).
 */
async function timedLoad(
  report: Reporter,
  label: string,
  options: autocannon.Options,
  groups: () => Record<string, number[]>,
): Promise<autocannon.Result> {
  const before = cpuTimes(Object.values(groups()).flat());
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const processesBefore = allProcessCpu();
  const result = await load(report, label, options);
  const processesAfter = allProcessCpu();
  const machineAfter = machineCpu();
  const self = process.cpuUsage(selfBefore);
  addLoadRows(report, label, result);
  const spent: [string, CpuTime][] = Object.entries(groups()).map(([name, pids]) => [name, cpuSpent(before, cpuTimes(pids))]);
  spent.push(['load generator (autocannon, this process)', { user: self.user / 1000, system: self.system / 1000 }]);
  const requests = Math.max(1, result.requests.total);
  const share = (ms: number) => `${round(ms / 10 / result.duration, 0)}% of one core`;
  let ours = 0;
  for (const [name, { user, system }] of spent) {
    ours += user + system;
    report.add({
      metric: `${label}: CPU per request, ${name}`,
      value: round(((user + system) * 1000) / requests, 0),
      unit: 'µs',
      note: `${round((user + system) / 1000, 2)} s CPU (user ${round(user / 1000, 2)} + sys ${round(system / 1000, 2)}) = ${share(user + system)}`,
    });
  }
  const others = Math.max(0, machineAfter.busy - machineBefore.busy - ours);
  const steal = machineAfter.steal - machineBefore.steal;
  report.add({
    metric: `${label}: CPU of other work on the machine`,
    value: round(others / 1000, 2),
    unit: 's',
    note: `${share(others)}; steal ${round(steal / 1000, 2)} s; ${os.cpus().length} cores`,
  });
  if (others / 10 / result.duration > 20) {
    const mine = new Set([process.pid, ...Object.values(groups()).flat()]);
    const top = topOtherProcesses(processesBefore, processesAfter, mine)
      .map((p) => `pid ${p.pid} ${share(p.ms)}: ${p.args}`)
      .join('; ');
    report.problem(`${label}: other work on the machine took ${share(others)} during the run; the figures are noisy. Busiest: ${top || 'kernel (no process)'}`);
  }
  return result;
}

async function helloWorld(report: Reporter): Promise<autocannon.Result> {
  const child = startChild('fastify hello-world', process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'hello-server.ts')], { cwd: ROOT });
  try {
    const port = await pollUntil('hello-world port', async () => {
      const match = /listening (\d+)/.exec(child.stdout);
      return match ? Number(match[1]) : undefined;
    }, { deadlineMs: 30_000, abort: exitReason(child) });
    const url = `http://127.0.0.1:${port}/`;
    await load(report, 'hello-world warm-up', { url, connections: LOAD.connections, amount: WARMUP_REQUESTS });
    return await timedLoad(report, 'Fastify hello-world', { url, ...LOAD }, () => ({ 'server (node)': [child.pid] }));
  } finally {
    await stopChild(child, 'SIGTERM', 10_000);
  }
}

export const platform: Benchmark = {
  name: 'platform',
  description: 'cold/warm start, resident memory, authenticated GET /api/v1/auth/me vs Fastify hello-world',
  needsBuild: true,
  async run(report) {
    const tmp = makeTempDir('vigil-bench-');
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    watchPostgresOf(dataDir);
    const port = await freePort();
    report.log(`DATA_DIR ${dataDir}, port ${port}`);

    // 1a. Cold start: empty DATA_DIR, so secrets, initdb, database creation and all migrations.
    let started = now();
    let vigil = startVigil('vigil (cold start)', dataDir, port);
    const cold = await waitReady(vigil, started, COLD_START_DEADLINE_MS);
    report.add({ metric: 'Cold start → GET /ready 200', value: round(cold), unit: 'ms', note: 'empty DATA_DIR: initdb + migrations' });

    // First-run setup with the one-time link printed on stdout (after /ready: it is printed once listening).
    const token = await pollUntil('setup link on stdout', async () => {
      const match = /\/setup\?token=(\S+)/.exec(vigil.child.stdout);
      return match ? decodeURIComponent(match[1]!) : undefined;
    }, { deadlineMs: 30_000, abort: exitReason(vigil.child) });
    const setup = await tryFetch(`${vigil.base}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, ...ADMIN }),
    }, 30_000);
    if (setup?.status !== 201) throw new Error(`POST /api/v1/setup answered ${setup?.status}: ${await setup?.text()}`);
    report.log('first-run setup done (administrator + organization created)');
    await stopVigil(vigil, report, 'after cold start');

    // 1b. Warm restart on the same DATA_DIR.
    started = now();
    vigil = startVigil('vigil (warm restart)', dataDir, port);
    const warm = await waitReady(vigil, started, WARM_START_DEADLINE_MS);
    report.add({ metric: 'Warm restart → GET /ready 200', value: round(warm), unit: 'ms', note: 'same DATA_DIR' });
    if (/\/setup\?token=/.test(vigil.child.stdout)) report.problem('a setup link was printed again although an administrator exists');

    const cookie = await signIn(vigil);
    report.log('signed in; GET /api/v1/auth/me answers 200 with the session cookie');

    // 2. Memory, idle.
    await sleep(IDLE_SETTLE_MS);
    measureMemory(vigil, report, 'idle');

    // 3. Load: 10,000 authenticated requests (also the warm-up), memory, then the timed run.
    const meUrl = `${vigil.base}/api/v1/auth/me`;
    const headers = { cookie };
    const warmup = await load(report, 'auth/me warm-up', { url: meUrl, headers, connections: LOAD.connections, amount: WARMUP_REQUESTS });
    report.log(`auth/me warm-up: ${warmup['2xx']} 2xx in ${warmup.duration} s`);
    measureMemory(vigil, report, `after ${WARMUP_REQUESTS.toLocaleString('en-US')} requests`);
    const me = await timedLoad(report, 'GET /api/v1/auth/me (authenticated)', { url: meUrl, headers, ...LOAD }, () => ({
      'Vigil (node)': [vigil.child.pid],
      PostgreSQL: postgresPids(vigil),
    }));
    measureMemory(vigil, report, `after the ${LOAD.duration} s run`);
    await stopVigil(vigil, report, 'after load');

    // The baseline runs alone, after Vigil has stopped, with the same settings.
    const hello = await helloWorld(report);
    const ratio = me.requests.average / hello.requests.average;
    report.add({
      metric: 'Ratio auth/me ÷ hello-world (requests/s)',
      value: round(ratio, 3),
      note: `target ≥ 0.3: ${ratio >= 0.3 ? 'met' : 'NOT met'}; ${LOAD.connections} connections, ${LOAD.duration} s each`,
    });
  },
};
