/**
 * Event ingest throughput, measured on the built server (`node bin/vigil.js serve`, what `npm start`
 * runs) for each database: the bundled PostgreSQL (empty DATA_DIR, as bench/platform.ts starts it) and
 * the PostgreSQL service (a fresh database on it, dropped at the end). For each, one after the other
 * and each from empty event tables (TRUNCATE + CHECKPOINT) after a warm-up:
 *  1. HTTP: concurrent keep-alive clients post batches of new events (unique client_refs, timestamps
 *     spread over the last days) to POST /api/v1/ingest/events with a device key: accepted events/s
 *     (counted from the answers), batch latency p50/p99, errors, CPU per event of Vigil, PostgreSQL and
 *     the load generator, and resident memory of Vigil and PostgreSQL under the load;
 *  2. the statement Vigil issues (store.insertEvents: insert + pending rollup row), issued directly from this
 *     process over pg, same rows, concurrency, batch size and duration: the SQL cost without HTTP;
 *  3. the raw baseline: `INSERT … SELECT FROM unnest(…)` of the same rows into the same `events`
 *     table (partitions and indexes), no rollups.
 * It only prints; targets (HTTP ≥ 0.6 × raw, ≥ 50,000 events/s) are reported as met or not.
 *
 * Settings (environment): BENCH_INGEST_SECONDS (30), BENCH_INGEST_WARMUP_SECONDS (5),
 * BENCH_INGEST_CONNECTIONS (8), BENCH_INGEST_BATCH (100), BENCH_INGEST_DEVICES (1: all clients
 * send for the same device; N spreads the clients over N devices), BENCH_INGEST_SPREAD_DAYS (3),
 * BENCH_INGEST_DATABASES ("bundled,service"), BENCH_INGEST_SERVICE_URL
 * (postgres://postgres@127.0.0.1:5432/postgres, where the fresh database is created),
 * BENCH_INGEST_LOG_LEVEL (Vigil's LOG_LEVEL; default info, the server's default),
 * BENCH_INGEST_PROFILE=1 (run Vigil with --cpu-prof and print where its time went; adds overhead),
 * BENCH_INGEST_PROFILE_OUT (a folder to keep the .cpuprofile files in).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/server/core/db/schema.js';
import { installTypeParsers } from '../src/server/core/db/types.js';
import type { EventItem } from '../src/server/ingest/items.js';
import { insertEvents, type DeviceRef } from '../src/server/ingest/store.js';
import { foldEvents } from '../src/server/rollups/store.js';
import { bundledUrl, createDevice, type Device, exitReason, setUpAndSignIn, startVigil, stopVigil, type Vigil, waitReady } from './vigil.js';
import {
  allProcessCpu,
  type Benchmark,
  cpuSpent,
  cpuTimes,
  envInt,
  type CpuTime,
  freePort,
  machineCpu,
  makeTempDir,
  memoryOf,
  now,
  onCleanup,
  processes,
  type Reporter,
  ROOT,
  round,
  sleep,
  topOtherProcesses,
  watchPostgresOf,
} from './lib.js';

function settings() {
  const databases = (process.env.BENCH_INGEST_DATABASES ?? 'bundled,service').split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of databases) if (d !== 'bundled' && d !== 'service') throw new Error(`BENCH_INGEST_DATABASES: unknown "${d}" (bundled, service)`);
  const serviceUrl = process.env.BENCH_INGEST_SERVICE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const host = new URL(serviceUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`BENCH_INGEST_SERVICE_URL must point to loopback, not ${host}`);
  return {
    seconds: envInt('BENCH_INGEST_SECONDS', 30, 1, 3600),
    warmupSeconds: envInt('BENCH_INGEST_WARMUP_SECONDS', 5, 0, 600),
    connections: envInt('BENCH_INGEST_CONNECTIONS', 8, 1, 256),
    batch: envInt('BENCH_INGEST_BATCH', 100, 1, 5000),
    devices: envInt('BENCH_INGEST_DEVICES', 1, 1, 256),
    spreadDays: envInt('BENCH_INGEST_SPREAD_DAYS', 3, 1, 25),
    databases: databases as ('bundled' | 'service')[],
    serviceUrl,
    logLevel: process.env.BENCH_INGEST_LOG_LEVEL ?? 'info',
    profile: process.env.BENCH_INGEST_PROFILE === '1',
    /** A folder to copy the CPU profiles into (kept; open them in Chrome DevTools or speedscope). */
    profileOut: process.env.BENCH_INGEST_PROFILE_OUT,
  };
}
type Settings = ReturnType<typeof settings>;

const REQUEST_TIMEOUT_MS = 30_000;
const MEMORY_SAMPLE_MS = 2000;
const OBSERVE_MS = 250;
/** application_name of this process's load connections (the monitor connection has its own). */
const BENCH_APPLICATION = 'vigil-bench-load';
const DAY_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// The database side: a pool for the direct statements, a monitor connection, PostgreSQL's processes

interface Target {
  label: string;
  vigil: Vigil;
  devices: Device[];
  pool: pg.Pool;
  db: Kysely<Database>;
  monitor: pg.Client;
  database: string;
  postmasterPid: number;
}

async function postmasterPid(monitor: pg.Client): Promise<number> {
  const dir = (await monitor.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) return pid;
  } catch {
    // not readable: look for it in the process list
  }
  const found = processes().find((p) => p.args.includes(dir) && /postgres/.test(p.args));
  if (!found) throw new Error(`cannot find the postmaster of ${dir}`);
  return found.pid;
}

/**
 * PostgreSQL's processes: the postmaster and what pg_stat_activity lists (background processes and
 * backends). With `oursOnly`, backends of other databases (the shared service) are left out.
 */
async function pgPids(target: Target, oursOnly: boolean): Promise<number[]> {
  const rows = (await target.monitor.query<{ pid: number; datname: string | null }>('SELECT pid, datname FROM pg_stat_activity')).rows;
  return [target.postmasterPid, ...rows.filter((r) => !oursOnly || r.datname === null || r.datname === target.database).map((r) => r.pid)];
}

/** Empty event tables and a checkpoint, so that each measured phase starts alike. */
async function resetTables(target: Target): Promise<void> {
  await target.monitor.query('TRUNCATE events, event_rollups_hourly, speed_histogram_hourly, event_rollup_pending');
  await target.monitor.query('CHECKPOINT');
}

/** Folds the batches still pending for the rollups, as a rollup read would; returns the seconds it took. */
async function timeToSettle(target: Target): Promise<number> {
  const started = now();
  while ((await foldEvents(target.db, 500, true)) > 0) { /* until nothing is pending */ }
  return (now() - started) / 1000;
}

async function deadlocks(target: Target): Promise<number> {
  return Number((await target.monitor.query<{ n: string }>('SELECT deadlocks::text AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]?.n ?? 0);
}

async function storedCounts(target: Target): Promise<{ events: number; rolledUp: number; histogram: number }> {
  const row = (await target.monitor.query<{ events: string; rolled_up: string; histogram: string }>(`SELECT
      (SELECT count(*) FROM events)::text AS events,
      (SELECT coalesce(sum(events), 0) FROM event_rollups_hourly)::text AS rolled_up,
      (SELECT coalesce(sum(count), 0) FROM speed_histogram_hourly)::text AS histogram`)).rows[0]!;
  return { events: Number(row.events), rolledUp: Number(row.rolled_up), histogram: Number(row.histogram) };
}

// ---------------------------------------------------------------------------------------------
// Batches: every batch new (unique client_refs), timestamps spread over the last days

interface Rows {
  ts: string[];
  clientRef: string[];
  speed: number[];
}

export function makeRows(s: Pick<Settings, 'batch' | 'spreadDays'>, tag: string, worker: number, seq: number): Rows {
  const rows: Rows = { ts: [], clientRef: [], speed: [] };
  const newest = Date.now() - 1000;
  for (let i = 0; i < s.batch; i++) {
    rows.ts.push(new Date(newest - Math.floor(Math.random() * s.spreadDays * DAY_MS)).toISOString());
    rows.clientRef.push(`${tag}-${worker}-${seq}-${i}`);
    rows.speed.push(Math.round(50 + Math.random() * 600) / 10);
  }
  return rows;
}

export function eventsJson(rows: Rows): string {
  const parts: string[] = [];
  for (let i = 0; i < rows.ts.length; i++) {
    parts.push(`{"client_ref":"${rows.clientRef[i]}","ts":"${rows.ts[i]}","kind":"speed","speed":${rows.speed[i]}}`);
  }
  return `{"events":[${parts.join(',')}]}`;
}

/** What Vigil's parser makes of those items (the device's speed limit, 30, filled in). */
function eventItems(rows: Rows): EventItem[] {
  return rows.ts.map((ts, index) => ({
    index,
    ts: new Date(ts),
    deviceTs: ts,
    clientRef: rows.clientRef[index]!,
    kind: 'speed',
    speed: rows.speed[index]!,
    speedLimit: 30,
    severity: null,
    attributes: {},
  }));
}

/** The baseline: the same rows into the same table, without ON CONFLICT, RETURNING or rollups. */
const RAW_INSERT = `
  INSERT INTO events (org_id, device_id, site_id, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes)
  SELECT $1::uuid, $2::uuid, $3::uuid, ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes
  FROM unnest($4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::real[], $9::real[], $10::text[], $11::jsonb[])
    AS t(ts, device_ts, client_ref, kind, speed, speed_limit, severity, attributes)`;

function rawParams(device: DeviceRef, items: EventItem[]): unknown[] {
  return [
    device.orgId, device.deviceId, device.siteId,
    items.map((i) => i.ts.toISOString()), items.map((i) => i.deviceTs), items.map((i) => i.clientRef), items.map((i) => i.kind),
    items.map((i) => i.speed), items.map((i) => i.speedLimit), items.map((i) => i.severity), items.map((i) => JSON.stringify(i.attributes)),
  ];
}

// ---------------------------------------------------------------------------------------------
// Load: N workers, each sending one batch after the other until the time is up

export interface Outcome {
  accepted: number;
  duplicates?: number;
  rejected?: number;
  /** A short class of the failure (for counting) and an example message. */
  error?: { kind: string; message: string };
}

export interface LoadResult {
  seconds: number;
  batches: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: Map<string, { count: number; example: string }>;
  /** Milliseconds, one per batch. */
  latencies: number[];
}

export async function runLoad<P>(
  seconds: number,
  connections: number,
  prepare: (worker: number, seq: number) => P,
  send: (worker: number, payload: P) => Promise<Outcome>,
  abort: () => string | undefined,
): Promise<LoadResult> {
  const result: LoadResult = { seconds: 0, batches: 0, accepted: 0, duplicates: 0, rejected: 0, errors: new Map(), latencies: [] };
  const started = now();
  const end = started + seconds * 1000;
  let aborted: string | undefined;
  const worker = async (w: number) => {
    for (let seq = 0; now() < end && !aborted; seq++) {
      aborted ??= abort();
      if (aborted) break;
      const payload = prepare(w, seq);
      const t0 = now();
      let outcome: Outcome;
      try {
        outcome = await send(w, payload);
      } catch (error) {
        const e = error as Error & { code?: string };
        outcome = { accepted: 0, error: { kind: e.code ? `${e.constructor.name} ${e.code}` : e.constructor.name, message: e.message } };
      }
      result.latencies.push(now() - t0);
      result.batches += 1;
      result.accepted += outcome.accepted;
      result.duplicates += outcome.duplicates ?? 0;
      result.rejected += outcome.rejected ?? 0;
      if (outcome.error) {
        const entry = result.errors.get(outcome.error.kind) ?? { count: 0, example: outcome.error.message.slice(0, 300) };
        entry.count += 1;
        result.errors.set(outcome.error.kind, entry);
        await sleep(10); // a failing target is not hammered in a tight loop
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  result.seconds = (now() - started) / 1000;
  if (aborted) throw new Error(`load stopped: ${aborted}`);
  return result;
}

export function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      agent,
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
    request.end(body);
  });
}

type Mode = 'http' | 'vigil-sql' | 'raw';
const MODE_LABEL: Record<Mode, string> = {
  http: 'HTTP POST /api/v1/ingest/events',
  'vigil-sql': "Vigil's statement (insert + rollups) direct over pg",
  raw: 'raw INSERT … SELECT FROM unnest (no rollups) over pg',
};

function loader(target: Target, s: Settings, mode: Mode, tag: string, agent: http.Agent) {
  const deviceOf = (worker: number) => target.devices[worker % target.devices.length]!;
  const abort = exitReason(target.vigil.child);
  if (mode === 'http') {
    const url = new URL('/api/v1/ingest/events', target.vigil.base);
    return (seconds: number) => runLoad(seconds, s.connections, (w, seq) => eventsJson(makeRows(s, tag, w, seq)), async (w, body) => {
      const answer = await post(agent, url, { 'x-api-key': deviceOf(w).apiKey }, body);
      if (answer.status !== 200) return { accepted: 0, error: { kind: `HTTP ${answer.status}`, message: answer.body } };
      const parsed = JSON.parse(answer.body) as { accepted: number; duplicates: number; rejected: unknown[] };
      return { accepted: parsed.accepted, duplicates: parsed.duplicates, rejected: parsed.rejected.length };
    }, abort);
  }
  const pgError = (error: unknown): Outcome => {
    const e = error as Error & { code?: string };
    return { accepted: 0, error: { kind: `pg ${e.code ?? e.constructor.name}`, message: e.message } };
  };
  if (mode === 'vigil-sql') {
    return (seconds: number) => runLoad(seconds, s.connections, (w, seq) => eventItems(makeRows(s, tag, w, seq)), async (w, items) => {
      try {
        const device = deviceOf(w).ref;
        return { accepted: (await insertEvents(target.db, items.map((item) => ({ device, item })))).length };
      } catch (error) {
        return pgError(error);
      }
    }, abort);
  }
  return (seconds: number) => runLoad(seconds, s.connections, (w, seq) => rawParams(deviceOf(w).ref, eventItems(makeRows(s, tag, w, seq))), async (_w, params) => {
    try {
      return { accepted: (await target.pool.query(RAW_INSERT, params)).rowCount ?? 0 };
    } catch (error) {
      return pgError(error);
    }
  }, abort);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface PhaseResult {
  rate: number;
  load: LoadResult;
}

/**
 * One measured phase: the load, CPU time of Vigil, PostgreSQL and this process (the load generator)
 * per accepted event, the CPU other work on the machine took meanwhile, and memory sampled under load.
 */
async function measurePhase(report: Reporter, target: Target, s: Settings, mode: Mode, run: (seconds: number) => Promise<LoadResult>): Promise<PhaseResult> {
  const label = `${target.label}, ${mode}`;
  const before = cpuTimes([target.vigil.child.pid, ...(await pgPids(target, false))]);
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const processesBefore = allProcessCpu();

  const deadlocksBefore = await deadlocks(target);
  // Under load: what the load's database connections are doing (pg_stat_activity, a few times a
  // second: on CPU, waiting on a lock, on WAL, or idle = waiting for their client), and memory every
  // few seconds (pids refreshed: backends come and go).
  const seenPg = new Set<number>();
  const peak = { node: 0, pgRss: 0, pgPss: 0, pgProcesses: 0 };
  const states = new Map<string, number>();
  let observations = 0;
  let ticks = 0;
  const observe = async () => {
    const rows = (await target.monitor.query<{ state: string | null; wait: string | null }>(
      `SELECT state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
       WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
         AND (application_name = $1) = $2`,
      [BENCH_APPLICATION, mode !== 'http'],
    )).rows;
    for (const row of rows) {
      const state = row.state === 'active' ? (row.wait ?? 'on CPU') : (row.state ?? '?');
      states.set(state, (states.get(state) ?? 0) + 1);
      observations += 1;
    }
  };
  const sample = async () => {
    const pids = await pgPids(target, true);
    for (const pid of pids) seenPg.add(pid);
    const node = memoryOf([target.vigil.child.pid]);
    const pgMemory = memoryOf(pids);
    peak.node = Math.max(peak.node, node.rssMb);
    if (pgMemory.pssMb > peak.pgPss) Object.assign(peak, { pgRss: pgMemory.rssMb, pgPss: pgMemory.pssMb, pgProcesses: pgMemory.processes });
  };
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    ticks += 1;
    const memory = ticks % Math.round(MEMORY_SAMPLE_MS / OBSERVE_MS) === 0;
    sampling = sampling.then(observe).then(() => (memory ? sample() : undefined)).catch(() => undefined);
  }, OBSERVE_MS);

  let load: LoadResult;
  try {
    load = await run(s.seconds);
    // Batches still pending for the rollups are part of the work: the phase ends when they are folded
    // (Vigil folds in the background; what is left is folded here) and that time counts in the rate.
    if (mode !== 'raw') load.seconds += await timeToSettle(target);
  } finally {
    clearInterval(timer);
    await sampling;
  }
  await sample().catch(() => undefined);
  const processesAfter = allProcessCpu();
  const machineAfter = machineCpu();
  const self = process.cpuUsage(selfBefore);
  for (const pid of await pgPids(target, true)) seenPg.add(pid);

  const rate = load.accepted / load.seconds;
  const sorted = [...load.latencies].sort((a, b) => a - b);
  const errorCount = [...load.errors.values()].reduce((sum, e) => sum + e.count, 0);
  const deadlocked = (await deadlocks(target)) - deadlocksBefore;
  report.add({
    metric: `${label}: events/s`,
    value: round(rate, 0),
    unit: 'events/s',
    note: `${load.accepted.toLocaleString('en-US')} accepted in ${round(load.seconds, 1)} s; ${load.batches.toLocaleString('en-US')} batches of ${s.batch}, ${round(load.batches / load.seconds, 0)} batches/s`,
  });
  report.add({ metric: `${label}: batch latency p50`, value: round(percentile(sorted, 50), 1), unit: 'ms' });
  report.add({ metric: `${label}: batch latency p99`, value: round(percentile(sorted, 99), 1), unit: 'ms', note: `max ${round(sorted.at(-1) ?? NaN, 1)} ms` });
  report.add({
    metric: `${label}: errors`,
    value: errorCount,
    note: [
      ...[...load.errors].map(([kind, e]) => `${kind} × ${e.count}`),
      ...(load.duplicates || load.rejected ? [`${load.duplicates} duplicates, ${load.rejected} rejected`] : []),
      `PostgreSQL counted ${deadlocked} deadlocks in this database`,
    ].join('; '),
  });
  const stateList = [...states].sort((a, b) => b[1] - a[1]).map(([state, n]) => `${state} ${round((100 * n) / Math.max(1, observations), 0)}%`);
  report.add({
    metric: `${label}: load's database connections`,
    value: round(observations / Math.max(1, ticks), 1),
    unit: 'connections',
    note: `${mode === 'http' ? "Vigil's" : "this process's"} connections seen in pg_stat_activity every ${OBSERVE_MS} ms (${ticks} samples): ${stateList.join(', ')}`,
  });
  for (const [kind, e] of load.errors) report.problem(`${label}: ${e.count} × ${kind}, e.g. ${e.example}`);
  if (load.duplicates || load.rejected) report.problem(`${label}: ${load.duplicates} duplicates and ${load.rejected} rejected items although every event was new and valid`);

  const spent: [string, CpuTime][] = [
    ['Vigil (node)', cpuSpent(before, cpuTimes([target.vigil.child.pid]))],
    [`PostgreSQL (${seenPg.size} processes)`, cpuSpent(before, cpuTimes([...seenPg]))],
    ['load generator (this process)', { user: self.user / 1000, system: self.system / 1000 }],
  ];
  const events = Math.max(1, load.accepted);
  const share = (ms: number) => `${round(ms / 10 / load.seconds, 0)}% of one core`;
  let ours = 0;
  for (const [name, { user, system }] of spent) {
    ours += user + system;
    report.add({
      metric: `${label}: CPU per event, ${name}`,
      value: round(((user + system) * 1000) / events, 2),
      unit: 'µs',
      note: `${round((user + system) / 1000, 2)} s CPU (user ${round(user / 1000, 2)} + sys ${round(system / 1000, 2)}) = ${share(user + system)}`,
    });
  }
  const others = Math.max(0, machineAfter.busy - machineBefore.busy - ours);
  const steal = machineAfter.steal - machineBefore.steal;
  report.add({ metric: `${label}: CPU of other work on the machine`, value: round(others / 1000, 2), unit: 's', note: `${share(others)}; steal ${round(steal / 1000, 2)} s; ${os.cpus().length} cores` });
  if (others / 10 / load.seconds > 20) {
    const mine = new Set([process.pid, target.vigil.child.pid, ...seenPg]);
    const top = topOtherProcesses(processesBefore, processesAfter, mine)
      .map((p) => `pid ${p.pid} ${share(p.ms)}: ${p.args}`)
      .join('; ');
    report.problem(`${label}: other work on the machine took ${share(others)} during the run; the figures are noisy. Busiest: ${top || 'kernel (no process)'}`);
  }
  report.add({ metric: `${label}: RSS under load, Vigil node process`, value: round(peak.node, 1), unit: 'MB', note: `peak of samples every ${MEMORY_SAMPLE_MS / 1000} s` });
  report.add({
    metric: `${label}: RSS under load, PostgreSQL`,
    value: round(peak.pgRss, 1),
    unit: 'MB',
    note: `${peak.pgProcesses} processes, PSS ${round(peak.pgPss, 1)} MB (sample with the highest PSS)`,
  });

  // What the database holds after the phase: every accepted event stored, and (with rollups) counted once.
  const counts = await storedCounts(target);
  const expected = load.accepted;
  const check = `${counts.events.toLocaleString('en-US')} rows in events` + (mode === 'raw' ? '' : `, rollups count ${counts.rolledUp.toLocaleString('en-US')}, histogram ${counts.histogram.toLocaleString('en-US')}`);
  report.log(`${label}: ${check} (accepted ${expected.toLocaleString('en-US')})`);
  if (counts.events !== expected) report.problem(`${label}: ${counts.events} rows in events after the phase, but ${expected} events accepted`);
  if (mode !== 'raw' && (counts.rolledUp !== counts.events || counts.histogram !== counts.events)) {
    report.problem(`${label}: the rollups count ${counts.rolledUp} and the histogram ${counts.histogram} events, but events holds ${counts.events}`);
  }
  return { rate, load };
}

// ---------------------------------------------------------------------------------------------
// One database: start Vigil on it, set up, warm up and measure the three modes

async function benchDatabase(report: Reporter, s: Settings, kind: 'bundled' | 'service'): Promise<Record<Mode, number>> {
  const tmp = makeTempDir(`vigil-bench-ingest-${kind}-`);
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir, { mode: 0o755 });
  fs.chmodSync(dataDir, 0o755);
  watchPostgresOf(dataDir);
  const profileDir = s.profile ? path.join(tmp, 'profile') : undefined;
  if (profileDir) fs.mkdirSync(profileDir);
  const tag = `${kind[0]}${Date.now().toString(36)}`;
  const closers: (() => Promise<void>)[] = [];
  let dropDatabase: (() => Promise<void>) | undefined;

  let databaseUrl: string | undefined;
  let database = 'vigil';
  if (kind === 'service') {
    database = `vigil_bench_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: s.serviceUrl, connectionTimeoutMillis: 10_000 });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
    } finally {
      await admin.end();
    }
    const drop = async () => {
      const client = new pg.Client({ connectionString: s.serviceUrl, connectionTimeoutMillis: 10_000 });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    };
    const unregister = onCleanup(`drop database ${database}`, drop);
    dropDatabase = async () => {
      unregister();
      await drop();
      report.log(`dropped database ${database}`);
    };
    const url = new URL(s.serviceUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    report.log(`created database ${database} on ${url.host}`);
  }

  const port = await freePort();
  const started = now();
  const vigil = startVigil(`vigil (${kind})`, dataDir, port, { logLevel: s.logLevel, databaseUrl, profileDir });
  try {
    const ready = await waitReady(vigil, started);
    report.log(`${kind}: GET /ready 200 after ${round(ready, 0)} ms (DATA_DIR ${dataDir}, port ${port}, LOG_LEVEL ${s.logLevel})`);
    const user = await setUpAndSignIn(vigil);
    const devices: Device[] = [];
    for (let i = 0; i < s.devices; i++) {
      devices.push(await createDevice(vigil, user, { kind: 'speed_radar', name: `Bench radar ${i + 1}`, serial: `BENCH-${tag}-${i + 1}`, speedLimit: 30 }));
    }
    report.log(`${kind}: set up; ${devices.length} device(s) registered through the API`);

    const url = kind === 'bundled' ? bundledUrl(vigil) : databaseUrl!;
    installTypeParsers(); // as Vigil's openDatabase: the direct statement is read back as Vigil reads it
    const pool = new pg.Pool({ connectionString: url, application_name: BENCH_APPLICATION, max: s.connections, idleTimeoutMillis: 120_000, statement_timeout: 60_000, query_timeout: 90_000 });
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const monitor = new pg.Client({ connectionString: url, application_name: 'vigil-bench-monitor', statement_timeout: 180_000, query_timeout: 200_000 });
    monitor.on('error', () => undefined);
    await monitor.connect();
    await monitor.query("SET lock_timeout = '60s'");
    closers.unshift(async () => {
      await db.destroy().catch(() => undefined);
      await monitor.end().catch(() => undefined);
    });
    const version = (await monitor.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const label = `${kind === 'bundled' ? 'bundled' : 'service'} PG ${version.split(' ')[0]}`;
    const target: Target = { label, vigil, devices, pool, db, monitor, database, postmasterPid: await postmasterPid(monitor) };
    const settingRows = (await monitor.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN
         ('shared_buffers', 'synchronous_commit', 'fsync', 'full_page_writes', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'autovacuum', 'jit')
       ORDER BY name`,
    )).rows;
    report.add({
      metric: `${label}: database`,
      value: kind === 'bundled' ? 'bundled' : 'service',
      note: `${database}; ${settingRows.map((r) => `${r.name}=${r.setting}${r.unit ? ` ${r.unit}` : ''}`).join(', ')}`,
    });

    // A first batch that spans the whole spread of timestamps (the server creates any month's partition it needs).
    const agent = new http.Agent({ keepAlive: true, maxSockets: s.connections });
    closers.unshift(async () => agent.destroy());
    const probeRows = makeRows(s, `${tag}-probe`, 0, 0);
    probeRows.ts[0] = new Date(Date.now() - s.spreadDays * DAY_MS + 60_000).toISOString();
    const probe = await post(agent, new URL('/api/v1/ingest/events', vigil.base), { 'x-api-key': devices[0]!.apiKey }, eventsJson(probeRows));
    const probed = probe.status === 200 ? (JSON.parse(probe.body) as { accepted: number }) : undefined;
    if (probed?.accepted !== s.batch) throw new Error(`the first batch answered ${probe.status}: ${probe.body.slice(0, 500)}`);

    const idle = { node: memoryOf([vigil.child.pid]), pg: memoryOf(await pgPids(target, true)) };
    report.add({ metric: `${label}: RSS before the load, Vigil node process`, value: round(idle.node.rssMb, 1), unit: 'MB' });
    report.add({ metric: `${label}: RSS before the load, PostgreSQL`, value: round(idle.pg.rssMb, 1), unit: 'MB', note: `${idle.pg.processes} processes, PSS ${round(idle.pg.pssMb, 1)} MB` });

    const rates = {} as Record<Mode, number>;
    for (const mode of ['http', 'vigil-sql', 'raw'] as const) {
      const run = loader(target, s, mode, `${tag}-${mode}`, agent);
      report.log(`${label}, ${mode}: ${MODE_LABEL[mode]}; ${s.connections} clients, ${s.batch} events per batch, ${s.devices} device(s)`);
      if (s.warmupSeconds > 0) {
        const warm = await run(s.warmupSeconds);
        report.log(`${label}, ${mode}: warm-up ${round(warm.accepted / warm.seconds, 0)} events/s over ${round(warm.seconds, 1)} s`);
      }
      await resetTables(target);
      rates[mode] = (await measurePhase(report, target, s, mode, run)).rate;
    }
    await resetTables(target);

    const ratio = rates.http / rates.raw;
    report.add({ metric: `${label}: ratio HTTP ÷ raw INSERT`, value: round(ratio, 3), note: `target ≥ 0.6: ${ratio >= 0.6 ? 'met' : 'NOT met'}` });
    report.add({ metric: `${label}: ratio HTTP ÷ Vigil's statement direct`, value: round(rates.http / rates['vigil-sql'], 3), note: 'the cost of HTTP, parsing, validation and auth' });
    report.add({ metric: `${label}: ratio Vigil's statement ÷ raw INSERT`, value: round(rates['vigil-sql'] / rates.raw, 3), note: 'the cost of RETURNING, the pending rollup row and folding it' });
    report.add({ metric: `${label}: HTTP absolute`, value: round(rates.http, 0), unit: 'events/s', note: `target ≥ 50,000: ${rates.http >= 50_000 ? 'met' : 'NOT met'}` });
    return rates;
  } finally {
    for (const close of closers.splice(0)) await close().catch((error: unknown) => report.problem(`${kind}: cleanup step failed: ${(error as Error).message}`));
    if (!vigil.child.exited) await stopVigil(vigil, report, kind);
    if (profileDir) {
      const files = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      if (files.length === 0) report.problem(`${kind}: Vigil wrote no CPU profile`);
      for (const file of files) {
        for (const line of summarizeProfile(path.join(profileDir, file))) report.log(`${kind} profile: ${line}`);
        if (s.profileOut) {
          fs.mkdirSync(s.profileOut, { recursive: true });
          const kept = path.join(s.profileOut, `vigil-ingest-${kind}-${file}`);
          fs.copyFileSync(path.join(profileDir, file), kept);
          report.log(`${kind} profile: kept as ${kept}`);
        }
      }
    }
    // The service database goes after Vigil has stopped (its pool holds connections to it).
    await dropDatabase?.().catch((error: unknown) => report.problem(`${kind}: could not drop ${database}: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// CPU profile (BENCH_INGEST_PROFILE=1): where Vigil's CPU time went

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function summarizeProfile(file: string): string[] {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0)));
  const root = `file://${ROOT}/`;
  const where = (url: string) => {
    const local = url.startsWith(root) ? url.slice(root.length) : url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(local);
    return pkg ? `${pkg[1]}/${pkg[2]}` : local;
  };
  const keyOf = (n: ProfileNode) =>
    n.callFrame.url ? `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : n.callFrame.functionName || '(anonymous)';
  const category = (n: ProfileNode) => {
    const url = n.callFrame.url;
    if (!url) return /^\(.*\)$/.test(n.callFrame.functionName) ? n.callFrame.functionName : '(native / V8 builtins)';
    if (url.startsWith('node:')) return 'node internals';
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) return `package ${pkg[1]}`;
    return `vigil ${where(url)}`;
  };
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const busy = Math.max(1, total - idle);
  const pct = (us: number) => `${round((100 * us) / busy, 1)}%`;

  const bySelf = new Map<string, number>();
  const byCategory = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    bySelf.set(keyOf(node), (bySelf.get(keyOf(node)) ?? 0) + us);
    byCategory.set(category(node), (byCategory.get(category(node)) ?? 0) + us);
  }

  // Inclusive time per function, each stack counted once per function however deep it recurses.
  const subtotal = new Map<number, number>();
  const order: number[] = [];
  const stack = [profile.nodes[0]!.id];
  while (stack.length) {
    const id = stack.pop()!;
    order.push(id);
    for (const c of byId.get(id)?.children ?? []) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const node = byId.get(order[i]!)!;
    subtotal.set(node.id, (self.get(node.id) ?? 0) + (node.children ?? []).reduce((sum, c) => sum + (subtotal.get(c) ?? 0), 0));
  }
  const inclusive = new Map<string, number>();
  const onPath = new Map<string, number>();
  const visit = (id: number, depth: number) => {
    const node = byId.get(id)!;
    const key = keyOf(node);
    const outermost = !onPath.has(key);
    if (outermost) inclusive.set(key, (inclusive.get(key) ?? 0) + subtotal.get(id)!);
    onPath.set(key, (onPath.get(key) ?? 0) + 1);
    if (depth < 2000) for (const c of node.children ?? []) visit(c, depth + 1);
    const left = onPath.get(key)! - 1;
    if (left === 0) onPath.delete(key);
    else onPath.set(key, left);
  };
  visit(profile.nodes[0]!.id, 0);

  const top = (map: Map<string, number>, count: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
  return [
    `${path.basename(file)}: ${round(busy / 1e6, 2)} s busy of ${round(total / 1e6, 2)} s sampled (the whole life of the process; percentages of busy time)`,
    'self time by area:',
    ...top(byCategory, 15).map(([k, us]) => `  ${pct(us).padStart(6)}  ${k}`),
    'self time by function:',
    ...top(bySelf, 25).map(([k, us]) => `  ${pct(us).padStart(6)}  ${k}`),
    'inclusive time by function:',
    ...top(new Map([...inclusive].filter(([k]) => !/^\((root|program|idle)\)$/.test(k))), 40).map(([k, us]) => `  ${pct(us).padStart(6)}  ${k}`),
  ];
}

export const ingest: Benchmark = {
  name: 'ingest',
  description: 'HTTP batch ingest of events vs the same statement and a raw INSERT … unnest, on the bundled PostgreSQL and the PostgreSQL service',
  needsBuild: true,
  async run(report) {
    const s = settings();
    report.log(
      `${s.connections} concurrent clients, ${s.batch} new events per batch, ${s.devices} device(s), timestamps over the last ${s.spreadDays} days, ` +
        `${s.warmupSeconds} s warm-up + ${s.seconds} s per mode; databases: ${s.databases.join(', ')}${s.profile ? '; Vigil runs with --cpu-prof' : ''}`,
    );
    const results: [string, Record<Mode, number>][] = [];
    for (const kind of s.databases) results.push([kind, await benchDatabase(report, s, kind)]);
    for (const [kind, rates] of results) {
      report.log(`${kind}: HTTP ${round(rates.http, 0)}, Vigil's statement ${round(rates['vigil-sql'], 0)}, raw ${round(rates.raw, 0)} events/s`);
    }
  },
};
