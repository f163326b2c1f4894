/**
 * The scale curve of a multi-process deployment on this machine, for an operator sizing one: for N = 1, 2
 * and 4 `vigil serve` processes (CLUSTER_SERVERS) and one `vigil worker` of the built server (dist/), on
 * one PostgreSQL (the PostgreSQL service; a fresh database for each N, dropped after it) and Redis for the
 * live bus, as a real multi-process deployment runs. The production shape: the servers only serve HTTP
 * (SERVE_RUNS_JOBS=false, SERVE_DECODES_CAMERAS=false); the worker runs the background jobs, the rollup
 * fold among them. For each N, one phase after the other, each for CLUSTER_SECONDS after a warm-up:
 *  1. events: CLUSTER_CLIENTS keep-alive clients, client i talking to server i mod N (round robin, as a
 *     load balancer spreads connections), each posting batches of CLUSTER_BATCH new radar events to
 *     POST /api/v1/ingest/events with its own radar's key. The phase ends when the worker has folded
 *     every pending batch into the rollups; that time counts in the rate;
 *  2. telemetry: the same with refrigeration readings (three values each) to POST /api/v1/ingest/telemetry;
 *  3. dashboard: the same clients reading as the signed-in administrator, in turn: the device list, the
 *     newest events, and the organization's traffic statistics (30 days, from the rollups).
 * Per phase: rate, latency p50/p99, errors, and the CPU split per 1,000 items: each server process, the
 * worker, PostgreSQL (its postmaster, background processes and this database's backends, from /proc),
 * Redis, the load generator (this process), and other work on the machine; then resident memory, and
 * storage per event and per telemetry row (pg_total_relation_size of every partition, indexes included).
 * Every process shares this machine's cores: the CPU per item is the sizing figure, not the throughput.
 *
 * Settings (environment): CLUSTER_SECONDS (20), CLUSTER_WARMUP_SECONDS (3), CLUSTER_SERVERS ("1,2,4"),
 * CLUSTER_CLIENTS (16), CLUSTER_BATCH (100), CLUSTER_LOG_LEVEL (info, the servers' default),
 * CLUSTER_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, where the fresh databases are created),
 * CLUSTER_REDIS_URL (redis://127.0.0.1:6379), CLUSTER_FROM_SOURCE=1 (run the TypeScript sources through tsx
 * instead of building dist/: the same code at steady state, for a working tree that does not build).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startCluster, type Cluster } from '../scripts/cluster.js';
import { eventsJson, type LoadResult, makeRows, type Outcome, percentile, post, runLoad } from './ingest.js';
import {
  type Benchmark,
  cpuSpent,
  cpuTimes,
  createScratchDatabase,
  envInt,
  freePort,
  machineCpu,
  makeTempDir,
  memoryOf,
  now,
  onCleanup,
  printTable,
  processes,
  type Reporter,
  round,
  type Row,
  sleep,
} from './lib.js';
import { createDevice, type Device, setUpAndSignIn, type SignedIn, startVigil, stopVigil, waitReady } from './vigil.js';

const FROM_SOURCE = process.env.CLUSTER_FROM_SOURCE === '1';

function settings() {
  const servers = (process.env.CLUSTER_SERVERS ?? '1,2,4').split(',').map((n) => Number(n.trim()));
  if (servers.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error(`CLUSTER_SERVERS must list server counts from 1 to 16, not "${process.env.CLUSTER_SERVERS}"`);
  const databaseUrl = process.env.CLUSTER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(databaseUrl).hostname)) throw new Error('CLUSTER_DATABASE_URL must point to loopback: the bench reads its processes from /proc');
  return {
    servers,
    seconds: envInt('CLUSTER_SECONDS', 20, 1, 3600),
    warmupSeconds: envInt('CLUSTER_WARMUP_SECONDS', 3, 0, 600),
    clients: envInt('CLUSTER_CLIENTS', 16, 1, 256),
    batch: envInt('CLUSTER_BATCH', 100, 1, 5000),
    spreadDays: 3,
    logLevel: process.env.CLUSTER_LOG_LEVEL ?? 'info',
    databaseUrl,
    redisUrl: process.env.CLUSTER_REDIS_URL ?? 'redis://127.0.0.1:6379',
    fromSource: FROM_SOURCE,
  };
}
type Settings = ReturnType<typeof settings>;

type Phase = 'events' | 'telemetry' | 'dashboard';
const UNIT: Record<Phase, string> = { events: 'events/s', telemetry: 'readings/s', dashboard: 'requests/s' };
const VALUES_PER_READING = 3;
const DASHBOARD_READS = ['/api/v1/devices?limit=50', '/api/v1/events?limit=50', '/api/v1/traffic/statistics'];
const SETTLE_DEADLINE_MS = 180_000;
const PG_SAMPLE_MS = 1000;

/** One N: its processes, the database's monitor connection and what the phases need. */
interface Deployment {
  n: number;
  cluster: Cluster;
  monitor: pg.Client;
  postmaster: number;
  user: SignedIn;
  radars: Device[];
  fridges: Device[];
  agent: http.Agent;
}

/** PostgreSQL's processes that work for this database: background processes and its backends. */
async function pgPids(d: Deployment): Promise<number[]> {
  const rows = (await d.monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname IS NULL OR datname = current_database()')).rows;
  return [d.postmaster, ...rows.map((r) => r.pid)];
}

const redisPids = () => processes().filter((p) => /^redis-server\b/.test(p.args)).map((p) => p.pid);

/** First-run setup, the administrator's session and the devices, through one server that then stops. */
async function setUp(report: Reporter, s: Settings, databaseUrl: string, keys: Record<string, string>) {
  const dataDir = path.join(makeTempDir('vigil-bench-cluster-'), 'data');
  fs.mkdirSync(dataDir, { mode: 0o755 });
  const vigil = startVigil('vigil (setup)', dataDir, await freePort(), { logLevel: 'warn', databaseUrl, env: keys, fromSource: s.fromSource });
  try {
    await waitReady(vigil, now());
    const user = await setUpAndSignIn(vigil);
    const radars: Device[] = [];
    const fridges: Device[] = [];
    for (let i = 0; i < s.clients; i++) {
      radars.push(await createDevice(vigil, user, { kind: 'speed_radar', name: `Radar ${i + 1}`, serial: `CLUSTER-R${i + 1}`, speedLimit: 30 }));
      fridges.push(await createDevice(vigil, user, { kind: 'refrigeration', name: `Fridge ${i + 1}`, serial: `CLUSTER-F${i + 1}` }));
    }
    return { user, radars, fridges };
  } finally {
    await stopVigil(vigil, report, 'setup');
  }
}

/** Each fridge's readings go back in time one second apart from the start of the run, never twice the same. */
function readingsJson(s: Settings, origin: number, counter: number[], client: number): string {
  const items: string[] = [];
  for (let i = 0; i < s.batch; i++) {
    const k = counter[client]!++;
    const ts = new Date(origin - k * 1000).toISOString();
    items.push(`{"ts":"${ts}","values":{"temperature":${2 + (k % 40) / 10},"door":${k % 17 === 0},"compressor":${k % 3 !== 0}}}`);
  }
  return `{"items":[${items.join(',')}]}`;
}

/** A phase's load for `seconds`: client i on server i mod N. */
function loader(d: Deployment, s: Settings, phase: Phase, origin: number, counter: number[], byRead: Map<string, number[]>) {
  const servers = d.cluster.servers;
  const base = (client: number) => servers[client % servers.length]!.baseUrl!;
  const abort = () => [...servers, ...d.cluster.workers].find((p) => !p.running)?.name.concat(' exited');
  const ingest = async (client: number, url: string, key: string, body: string): Promise<Outcome> => {
    const answer = await post(d.agent, new URL(url, base(client)), { 'x-api-key': key }, body);
    if (answer.status !== 200) return { accepted: 0, error: { kind: `HTTP ${answer.status}`, message: answer.body } };
    const parsed = JSON.parse(answer.body) as { accepted: number; duplicates: number; rejected: unknown[] };
    return { accepted: parsed.accepted, duplicates: parsed.duplicates, rejected: parsed.rejected.length };
  };
  return (seconds: number, tag: string): Promise<LoadResult> => {
    if (phase === 'events') {
      return runLoad(seconds, s.clients, (c, seq) => eventsJson(makeRows(s, tag, c, seq)), (c, body) => ingest(c, '/api/v1/ingest/events', d.radars[c]!.apiKey, body), abort);
    }
    if (phase === 'telemetry') {
      return runLoad(seconds, s.clients, (c) => readingsJson(s, origin, counter, c), (c, body) => ingest(c, '/api/v1/ingest/telemetry', d.fridges[c]!.apiKey, body), abort);
    }
    return runLoad(seconds, s.clients, (_c, seq) => DASHBOARD_READS[seq % DASHBOARD_READS.length]!, async (c, url) => {
      const started = now();
      const answer = await fetch(new URL(url, base(c)), { headers: { cookie: d.user.cookie }, signal: AbortSignal.timeout(30_000) });
      const body = await answer.text();
      (byRead.get(url) ?? byRead.set(url, []).get(url)!).push(now() - started);
      return answer.status === 200 ? { accepted: 1 } : { accepted: 0, error: { kind: `HTTP ${answer.status}`, message: body } };
    }, abort);
  };
}

/** Waits until the worker has folded every pending batch into the rollups; returns the seconds it took. */
async function settle(d: Deployment): Promise<number> {
  const started = now();
  for (;;) {
    const { n } = (await d.monitor.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM event_rollup_pending) + (SELECT count(*) FROM telemetry_rollup_pending) AS n',
    )).rows[0]!;
    if (Number(n) === 0) return (now() - started) / 1000;
    if (now() - started > SETTLE_DEADLINE_MS) throw new Error(`${n} batches still pending for the rollups after ${SETTLE_DEADLINE_MS / 1000} s`);
    await sleep(100);
  }
}

interface Measured {
  phase: Phase;
  n: number;
  rate: number;
  p99: number;
  /** CPU milliseconds per 1,000 items by group. */
  cpu: { servers: number; worker: number; postgres: number; redis: number; loadGenerator: number; other: number };
  /** Other work on the machine meanwhile, in % of one core. */
  otherShare: number;
}

/** One timed phase with its CPU split, as rows of N's table. */
async function measure(report: Reporter, d: Deployment, s: Settings, phase: Phase, rows: Row[]): Promise<Measured> {
  const origin = Date.now();
  const counter = new Array<number>(s.clients).fill(0);
  const byRead = new Map<string, number[]>();
  const run = loader(d, s, phase, origin, counter, byRead);
  if (s.warmupSeconds > 0) await run(s.warmupSeconds, `w${d.n}`);
  if (phase !== 'dashboard') await settle(d);

  const servers = d.cluster.servers.map((p) => p.pid);
  const worker = d.cluster.workers[0]!.pid;
  const redis = redisPids();
  const pgSeen = new Set(await pgPids(d));
  const before = cpuTimes([...servers, worker, ...pgSeen, ...redis]);
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => (await pgPids(d)).forEach((pid) => pgSeen.add(pid))).catch(() => undefined);
  }, PG_SAMPLE_MS);
  let load: LoadResult;
  try {
    load = await run(s.seconds, `m${d.n}`);
    if (phase !== 'dashboard') load.seconds += await settle(d);
  } finally {
    clearInterval(timer);
    await sampling;
  }
  (await pgPids(d)).forEach((pid) => pgSeen.add(pid));
  const after = cpuTimes([...servers, worker, ...pgSeen, ...redis]);
  const self = process.cpuUsage(selfBefore);
  const machine = machineCpu().busy - machineBefore.busy;

  const add = (row: Row) => {
    rows.push(row);
    report.log(`${d.n} server(s), ${row.metric}: ${row.value}${row.unit ? ` ${row.unit}` : ''}${row.note ? `  (${row.note})` : ''}`);
  };
  const rate = load.accepted / load.seconds;
  const sorted = [...load.latencies].sort((a, b) => a - b);
  const errors = [...load.errors].map(([kind, e]) => `${kind} × ${e.count}`);
  add({ metric: `${phase}: rate`, value: round(rate, 0), unit: UNIT[phase], note: `${load.accepted.toLocaleString('en-US')} in ${round(load.seconds, 1)} s${phase === 'dashboard' ? '' : ' (fold included)'}, ${s.clients} clients` });
  if (phase === 'telemetry') add({ metric: `${phase}: values`, value: round((rate * VALUES_PER_READING), 0), unit: 'values/s', note: 'temperature, door, compressor: three telemetry rows a reading' });
  add({ metric: `${phase}: latency p50 / p99`, value: `${round(percentile(sorted, 50), 1)} / ${round(percentile(sorted, 99), 1)}`, unit: 'ms', note: phase === 'dashboard' ? 'per request' : `per batch of ${s.batch}` });
  if (phase === 'dashboard') {
    const p50 = [...byRead].map(([url, ms]) => `${new URL(url, 'http://x').pathname.split('/').pop()} ${round(percentile(ms.sort((a, b) => a - b), 50), 1)}`);
    add({ metric: `${phase}: latency p50 of each read`, value: p50.join(' / '), unit: 'ms', note: 'devices: first page of 50; events: newest 50; statistics: the organization, 30 days' });
  }
  add({ metric: `${phase}: errors`, value: errors.length ? errors.join(', ') : 0, note: load.duplicates || load.rejected ? `${load.duplicates} duplicates, ${load.rejected} rejected` : undefined });
  for (const [kind, e] of load.errors) report.problem(`${d.n} server(s), ${phase}: ${e.count} × ${kind}, e.g. ${e.example}`);

  const per1000 = (ms: number) => (ms * 1000) / Math.max(1, load.accepted);
  const spentOf = (pids: number[]) => {
    const t = cpuSpent(before, new Map([...after].filter(([pid]) => pids.includes(pid))));
    return t.user + t.system;
  };
  const serverMs = servers.map((pid) => spentOf([pid]));
  const groups = {
    servers: serverMs.reduce((a, b) => a + b, 0),
    worker: spentOf([worker]),
    postgres: spentOf([...pgSeen]),
    redis: spentOf(redis),
    loadGenerator: (self.user + self.system) / 1000,
  };
  const ours = Object.values(groups).reduce((a, b) => a + b, 0);
  const cpu = { ...groups, other: Math.max(0, machine - ours) };
  const core = (ms: number) => `${round(ms / 10 / load.seconds, 0)}% of a core`;
  const item = phase === 'dashboard' ? 'requests' : phase === 'events' ? 'events' : 'readings';
  add({ metric: `${phase}: CPU per 1,000 ${item}, servers`, value: round(per1000(cpu.servers), 1), unit: 'ms', note: `each: ${serverMs.map((ms) => `${round(ms / 1000, 2)} s`).join(', ')}; ${core(cpu.servers)}` });
  add({ metric: `${phase}: CPU per 1,000 ${item}, worker`, value: round(per1000(cpu.worker), 1), unit: 'ms', note: `${round(cpu.worker / 1000, 2)} s; ${core(cpu.worker)}` });
  add({ metric: `${phase}: CPU per 1,000 ${item}, PostgreSQL`, value: round(per1000(cpu.postgres), 1), unit: 'ms', note: `${pgSeen.size} processes, ${round(cpu.postgres / 1000, 2)} s; ${core(cpu.postgres)}` });
  add({ metric: `${phase}: CPU per 1,000 ${item}, Redis`, value: round(per1000(cpu.redis), 2), unit: 'ms', note: `${round(cpu.redis / 1000, 2)} s; ${core(cpu.redis)}` });
  add({ metric: `${phase}: CPU per 1,000 ${item}, load generator`, value: round(per1000(cpu.loadGenerator), 1), unit: 'ms', note: `this process; ${core(cpu.loadGenerator)}` });
  add({ metric: `${phase}: CPU of other work on the machine`, value: round(cpu.other / 1000, 1), unit: 's', note: `${core(cpu.other)} of ${os.cpus().length} cores` });
  if (cpu.other / 10 / load.seconds > 20) report.problem(`${d.n} server(s), ${phase}: other work took ${core(cpu.other)}; the figures are noisy`);

  const memory = (pids: number[]) => round(memoryOf(pids).rssMb, 0);
  const pgMemory = memoryOf([...pgSeen]);
  add({
    metric: `${phase}: RSS after the phase`,
    value: servers.map((pid) => memory([pid])).join(' / '),
    unit: 'MB',
    note: `servers; worker ${memory([worker])} MB; PostgreSQL ${round(pgMemory.rssMb, 0)} MB RSS, ${round(pgMemory.pssMb, 0)} MB PSS (${pgMemory.processes} processes)`,
  });
  const perItem = Object.fromEntries(Object.entries(cpu).map(([group, ms]) => [group, per1000(ms)])) as Measured['cpu'];
  return { phase, n: d.n, rate, p99: percentile(sorted, 99), cpu: perItem, otherShare: cpu.other / 10 / load.seconds };
}

const EVENT_ROLLUPS = ['event_rollups_hourly', 'speed_histogram_hourly', 'speed_excess_hourly', 'speed_histogram_daily', 'speed_excess_daily', 'speed_histogram_hour_of_day'];

async function sizes(d: Deployment) {
  return (await d.monitor.query<{ name: string; bytes: string; count: string }>(`
    SELECT 'events' AS name, (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('events') WHERE isleaf)::text AS bytes, (SELECT count(*) FROM events)::text AS count
    UNION ALL
    SELECT 'telemetry', (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('telemetry') WHERE isleaf)::text, (SELECT count(*) FROM telemetry)::text
    UNION ALL
    SELECT 'event rollups (per radar-hour)', (SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE relkind = 'r' AND relname = ANY($1))::text,
      (SELECT count(*) FROM event_rollups_hourly)::text
    UNION ALL
    SELECT 'telemetry rollups (per metric-hour)', pg_total_relation_size('telemetry_rollups_hourly')::text, (SELECT count(*) FROM telemetry_rollups_hourly)::text`, [EVENT_ROLLUPS])).rows;
}

/**
 * Bytes per stored event and telemetry row: every partition with its indexes and TOAST, right after the
 * load; and the rollups again after VACUUM FULL, because the fold updates their rows many times (the
 * dead versions are reused by later writes, so a long-running database sits between the two figures).
 */
async function storage(d: Deployment, rows: Row[], report: Reporter): Promise<void> {
  const add = (name: string, bytes: string, count: string, when: string) => {
    const row = { metric: `storage: ${name}${when}`, value: round(Number(bytes) / Math.max(1, Number(count)), 0), unit: 'bytes/row', note: `${round(Number(bytes) / 2 ** 20, 1)} MB for ${Number(count).toLocaleString('en-US')} rows, indexes included` };
    rows.push(row);
    report.log(`${d.n} server(s), ${row.metric}: ${row.value} ${row.unit} (${row.note})`);
  };
  for (const { name, bytes, count } of await sizes(d)) add(name, bytes, count, '');
  await d.monitor.query(`VACUUM FULL ${[...EVENT_ROLLUPS, 'telemetry_rollups_hourly'].join(', ')}`);
  for (const { name, bytes, count } of await sizes(d)) if (name.includes('rollups')) add(name, bytes, count, ', after VACUUM FULL');
}

async function deploy(report: Reporter, s: Settings, n: number): Promise<{ measured: Measured[]; rows: Row[] }> {
  const scratch = await createScratchDatabase(s.databaseUrl, 'vigil_cluster');
  const keys = { SECRET_KEY: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('hex') };
  const closers: (() => Promise<void>)[] = [scratch.drop];
  try {
    const { user, radars, fridges } = await setUp(report, s, scratch.url, keys);
    const cluster = await startCluster({
      servers: n,
      workers: 1,
      fromSource: s.fromSource,
      name: `vigil-bench-cluster-${n}`,
      env: { DATABASE_URL: scratch.url, ...keys, REDIS_URL: s.redisUrl, REDIS_PREFIX: `vigil-bench-${scratch.name}`, LOG_LEVEL: s.logLevel },
      serverEnv: { SERVE_RUNS_JOBS: 'false', SERVE_DECODES_CAMERAS: 'false' },
    });
    const unregister = onCleanup(`stop the ${n}-server cluster`, () => cluster.stop());
    closers.unshift(async () => {
      unregister();
      await cluster.stop();
    });
    const monitor = new pg.Client({ connectionString: scratch.url, application_name: 'vigil-bench-monitor' });
    await monitor.connect();
    closers.unshift(() => monitor.end());
    const backend = (await monitor.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const postmaster = processes().find((p) => p.pid === backend)!.ppid;
    const agent = new http.Agent({ keepAlive: true, maxSockets: s.clients });
    closers.unshift(async () => agent.destroy());
    const d: Deployment = { n, cluster, monitor, postmaster, user, radars, fridges, agent };
    report.log(`${n} server(s) + 1 worker ready on ${scratch.name}, Redis ${s.redisUrl}`);

    const rows: Row[] = [];
    const measured: Measured[] = [];
    for (const phase of ['events', 'telemetry', 'dashboard'] as const) measured.push(await measure(report, d, s, phase, rows));
    await storage(d, rows, report);
    for (const p of [...cluster.servers, ...cluster.workers]) {
      const warnings = p.output.split('\n').filter((line) => /^\{"level":(4|5|6)\d,/.test(line));
      for (const line of warnings.slice(0, 3)) report.problem(`${p.name} (${n} servers) logged: ${line.slice(0, 400)}`);
    }
    printTable(`cluster: ${n} × vigil serve + 1 × vigil worker`, rows);
    return { measured, rows };
  } finally {
    for (const close of closers) await close().catch((error: unknown) => report.problem(`${n} server(s): cleanup failed: ${(error as Error).message}`));
  }
}

/** The curve: each phase's rate and CPU split per N, against the first N. */
function printCurve(all: Measured[]): void {
  console.log('\n### cluster: the scale curve (CPU in ms per 1,000 items = µs per item)\n');
  console.log('| Phase | Servers | Rate | × first | p99 ms | Servers CPU | Worker CPU | PostgreSQL CPU | Redis CPU | Load generator CPU | Other work, % of a core |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const m of all) {
    const first = all.find((x) => x.phase === m.phase)!;
    const c = m.cpu;
    console.log(`| ${m.phase} | ${m.n} | ${round(m.rate, 0).toLocaleString('en-US')} ${UNIT[m.phase]} | ${round(m.rate / first.rate, 2)} | ${round(m.p99, 1)} | ${round(c.servers, 1)} | ${round(c.worker, 1)} | ${round(c.postgres, 1)} | ${round(c.redis, 2)} | ${round(c.loadGenerator, 1)} | ${round(m.otherShare, 0)} |`);
  }
}

export const cluster: Benchmark = {
  name: 'cluster',
  description: 'ingest and dashboard throughput and the CPU split with 1, 2 and 4 vigil serve processes + 1 worker on one PostgreSQL and Redis',
  needsBuild: !FROM_SOURCE,
  async run(report) {
    const s = settings();
    report.log(
      `PostgreSQL service ${new URL(s.databaseUrl).host} (a fresh database per deployment), Redis ${s.redisUrl} for the live bus; ` +
        `${s.fromSource ? 'Vigil from its sources (tsx)' : 'the built server (dist/)'}: servers without jobs or cameras, one worker running the jobs; ${s.clients} clients round-robin over the servers, ` +
        `batches of ${s.batch}, ${s.warmupSeconds} s warm-up + ${s.seconds} s per phase; every process on this machine's ${os.cpus().length} cores`,
    );
    const all: Measured[] = [];
    for (const n of s.servers) {
      const { measured } = await deploy(report, s, n);
      all.push(...measured);
      for (const m of measured) {
        const first = all.find((x) => x.phase === m.phase)!;
        report.add({ metric: `${m.phase}, ${n} server(s)`, value: round(m.rate, 0), unit: UNIT[m.phase], note: `${round(m.rate / first.rate, 2)} × the rate with ${first.n}; p99 ${round(m.p99, 1)} ms` });
      }
    }
    const order: Phase[] = ['events', 'telemetry', 'dashboard'];
    printCurve(all.sort((a, b) => order.indexOf(a.phase) - order.indexOf(b.phase) || a.n - b.n));
  },
};
