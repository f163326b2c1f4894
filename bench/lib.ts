/**
 * Shared helpers of the benchmarks: child processes that are always cleaned up, temp folders,
 * free ports, bounded polling, memory of process trees (from /proc) and the result table.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ROOT = path.resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------------------------------------
// Results

export interface Row {
  metric: string;
  value: number | string;
  unit?: string;
  note?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  /** Needs `npm run build` (run once by bench/run.ts before the first benchmark that needs it). */
  needsBuild: boolean;
  run(report: Reporter): Promise<void>;
}

/** Collects a benchmark's rows and the problems it noticed, and prints progress as it goes. */
export class Reporter {
  readonly rows: Row[] = [];
  readonly problems: string[] = [];
  constructor(readonly benchmark: string) {}

  add(row: Row): void {
    this.rows.push(row);
    this.log(`${row.metric}: ${formatValue(row.value)}${row.unit ? ` ${row.unit}` : ''}${row.note ? `  (${row.note})` : ''}`);
  }

  problem(text: string): void {
    this.problems.push(text);
    this.log(`PROBLEM: ${text}`);
  }

  log(text: string): void {
    console.log(`[${this.benchmark}] ${text}`);
  }
}

function formatValue(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function printTable(title: string, rows: Row[]): void {
  const header = ['Metric', 'Value', 'Unit', 'Notes'];
  const cells = rows.map((r) => [r.metric, formatValue(r.value), r.unit ?? '', r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    `| ${c.map((v, i) => (i === 1 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 1 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log(rule);
  for (const c of cells) console.log(line(c));
}

// ---------------------------------------------------------------------------------------------
// Time

/** An integer setting from the environment, checked against its range; the fallback when unset. */
export function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, not "${raw}"`);
  return value;
}

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Polls `check` every `intervalMs` until it returns a value, `deadlineMs` passes, or `abort()` says why to stop. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { deadlineMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<T> {
  const end = now() + options.deadlineMs;
  while (now() < end) {
    const reason = options.abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    const value = await check();
    if (value !== undefined) return value;
    await sleep(options.intervalMs ?? 25);
  }
  throw new Error(`${what}: gave up after ${options.deadlineMs} ms`);
}

// ---------------------------------------------------------------------------------------------
// Child processes and temp folders, always cleaned up

export interface Child {
  process: ChildProcess;
  pid: number;
  label: string;
  stdout: string;
  stderr: string;
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();
/** Folders whose PostgreSQL servers (orphans, if their Vigil died) are stopped on cleanup. */
const postgresDataDirs = new Set<string>();

const OUTPUT_LIMIT = 2_000_000;

export function startChild(label: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (proc.pid === undefined) throw new Error(`could not start ${label} (${command})`);
  const child: Child = {
    process: proc,
    pid: proc.pid,
    label,
    stdout: '',
    stderr: '',
    exited: null,
    exit: new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        child.exited = { code, signal };
        children.delete(child);
        resolve(child.exited);
      });
    }),
  };
  proc.once('error', () => undefined); // an exit event follows; the caller sees `exited`
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    if (child.stdout.length < OUTPUT_LIMIT) child.stdout += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (child.stderr.length < OUTPUT_LIMIT) child.stderr += d;
  });
  children.add(child);
  return child;
}

/** Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs. Returns the exit and how long it took. */
export async function stopChild(child: Child, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
  const started = now();
  if (!child.exited) child.process.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const exited = await Promise.race([child.exit, timedOut]);
  clearTimeout(timer);
  if (exited) return { ...exited, ms: now() - started, killed: false };
  child.process.kill('SIGKILL');
  const afterKill = await child.exit;
  return { ...afterKill, ms: now() - started, killed: true };
}

/** Runs a command to completion (bounded), with its output inherited or captured. */
export async function runCommand(label: string, command: string, args: string[], timeoutMs: number, options: SpawnOptions = {}) {
  const child = startChild(label, command, args, options);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const exited = await Promise.race([child.exit, timedOut]);
  clearTimeout(timer);
  if (!exited) {
    await stopChild(child, 'SIGTERM', 5000);
    throw new Error(`${label} did not finish within ${timeoutMs / 1000} s`);
  }
  return { ...exited, stdout: child.stdout, stderr: child.stderr };
}

export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // As root the bundled PostgreSQL runs as the "postgres" user, who must be able to enter the folder.
  fs.chmodSync(dir, 0o755);
  tempDirs.add(dir);
  return dir;
}

export function watchPostgresOf(dataDir: string): void {
  postgresDataDirs.add(dataDir);
}

/** Work that cleanup() does after stopping the children (e.g. dropping a database a benchmark created). */
const cleanupHooks = new Map<string, () => Promise<void>>();

/** Registers `hook` to run on cleanup (once; bounded by `timeoutMs`); the returned function unregisters it. */
export function onCleanup(label: string, hook: () => Promise<void>, timeoutMs = 30_000): () => void {
  const key = `${label}#${cleanupHooks.size}#${Math.random()}`;
  cleanupHooks.set(key, async () => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      await Promise.race([hook(), timedOut]);
    } catch (error) {
      console.error(`cleanup: ${label} failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  });
  return () => {
    cleanupHooks.delete(key);
  };
}

let cleaning: Promise<void> | undefined;

/**
 * Stops every child still running (SIGTERM, then SIGKILL), runs the onCleanup hooks, stops any
 * PostgreSQL left on our data folders, and removes temp folders.
 */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c, 'SIGTERM', 20_000).catch(() => undefined)));
    const hooks = [...cleanupHooks.values()];
    cleanupHooks.clear();
    for (const hook of hooks) await hook();
    for (const dir of postgresDataDirs) {
      const orphans = processes().filter((p) => p.args.includes(dir) && /postgres/.test(p.args));
      for (const p of orphans) {
        console.error(`cleanup: stopping PostgreSQL pid ${p.pid} left on ${dir}`);
        signal(p.pid, 'SIGINT');
      }
      const end = now() + 15_000;
      while (orphans.some((p) => alive(p.pid)) && now() < end) await sleep(100);
      for (const p of orphans) if (alive(p.pid)) signal(p.pid, 'SIGKILL');
    }
    for (const dir of tempDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        console.error(`cleanup: could not remove ${dir}: ${(error as Error).message}`);
      }
    }
    tempDirs.clear();
    postgresDataDirs.clear();
  })().finally(() => {
    cleaning = undefined;
  });
  return cleaning;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Network

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** fetch with a timeout; network errors (server not up yet) come back as `undefined`. */
export async function tryFetch(url: string, init: RequestInit = {}, timeoutMs = 2000): Promise<Response | undefined> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Processes and memory (Linux /proc)

export interface ProcessInfo {
  pid: number;
  ppid: number;
  args: string;
}

export function processes(): ProcessInfo[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,args=', '--cols', '4000'], { encoding: 'utf8', timeout: 10_000 });
  if (ps.status !== 0) throw new Error(`ps failed: ${ps.stderr}`);
  return ps.stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
}

/** The pids of `roots` and all their descendants. */
export function withDescendants(roots: number[], all: ProcessInfo[] = processes()): number[] {
  const result = new Set(roots);
  for (let changed = true, guard = 0; changed && guard < 100; guard++) {
    changed = false;
    for (const p of all) {
      if (result.has(p.ppid) && !result.has(p.pid)) {
        result.add(p.pid);
        changed = true;
      }
    }
  }
  return [...result];
}

function procKb(file: string, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process is gone
  }
}

export interface Memory {
  /** Sum of VmRSS (counts shared pages once per process). */
  rssMb: number;
  /** Sum of Pss (shared pages divided among the processes sharing them). */
  pssMb: number;
  processes: number;
}

export function memoryOf(pids: number[]): Memory {
  let rss = 0;
  let pss = 0;
  let count = 0;
  for (const pid of pids) {
    const vmRss = procKb(`/proc/${pid}/status`, 'VmRSS');
    if (vmRss === 0) continue;
    count += 1;
    rss += vmRss;
    pss += procKb(`/proc/${pid}/smaps_rollup`, 'Pss');
  }
  return { rssMb: rss / 1024, pssMb: pss / 1024, processes: count };
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).stdout?.trim()) || 100;

export interface CpuTime {
  user: number;
  system: number;
}

/** CPU time of each pid so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuTimes(pids: number[]): Map<number, CpuTime> {
  const times = new Map<number, CpuTime>();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      times.set(pid, { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS });
    } catch {
      // gone
    }
  }
  return times;
}

/** CPU milliseconds spent between two samples (processes that appeared in between count from zero). */
export function cpuSpent(before: Map<number, CpuTime>, after: Map<number, CpuTime>): CpuTime {
  const total = { user: 0, system: 0 };
  for (const [pid, t] of after) {
    total.user += t.user - (before.get(pid)?.user ?? 0);
    total.system += t.system - (before.get(pid)?.system ?? 0);
  }
  return total;
}

/** Machine-wide CPU milliseconds so far (all cores), from the first line of /proc/stat. */
export function machineCpu(): { busy: number; steal: number } {
  const [user, nice, system, , , irq, softirq, steal] = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  const ticks = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: (ticks * 1000) / CLOCK_TICKS, steal: (steal! * 1000) / CLOCK_TICKS };
}

/** CPU milliseconds so far of every process on the machine. */
export function allProcessCpu(): Map<number, number> {
  const pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  return new Map([...cpuTimes(pids)].map(([pid, t]) => [pid, t.user + t.system]));
}

/** The processes (not in `exclude`) that used the most CPU between two `allProcessCpu()` samples. */
export function topOtherProcesses(before: Map<number, number>, after: Map<number, number>, exclude: Set<number>, count = 3) {
  return [...after]
    .filter(([pid]) => !exclude.has(pid))
    .map(([pid, ms]) => ({ pid, ms: ms - (before.get(pid) ?? 0), args: commandLine(pid) }))
    .filter((p) => p.ms > 0)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

function commandLine(pid: number): string {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    if (!args) return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`; // a kernel thread
    return args.length > 100 ? `${args.slice(0, 100)}…` : args;
  } catch {
    return '?';
  }
}

/** Runs one statement on a server's maintenance database (CREATE/DROP DATABASE). */
async function onServer(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on an external server for one benchmark, dropped by `drop()` or, if the run is cut
 * short, by the cleanup hooks. `serverUrl` names the server (its database is only used to connect).
 */
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const dropIt = () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const unregister = onCleanup(`drop database ${name}`, dropIt);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: async () => { unregister(); await dropIt(); } };
}
