/**
 * A scale-out Vigil on this machine: N × `vigil serve` and M × `vigil worker` as real processes on one
 * PostgreSQL, with whatever Redis, broker and bucket the caller names in `env`. Used by
 * tests/cluster.test.ts and meant for benchmarks of the same shape. Each process has its own data
 * folder (as its own container would), its own port and, on an external broker, its own client id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// What a process keeps of its output: enough for a failure message, bounded for a long benchmark.
const OUTPUT_LIMIT = 200_000;

export interface ClusterOptions {
  servers: number;
  workers: number;
  /** Settings shared by every process (DATABASE_URL, SECRET_KEY, ENCRYPTION_KEY, REDIS_URL, S3_*, …). */
  env: Record<string, string>;
  /** Settings of the workers only (MQTT_URL: each worker gets its own `?clientId=`). */
  workerEnv?: Record<string, string>;
  /** Settings of the servers only. */
  serverEnv?: Record<string, string>;
  /** Run the TypeScript sources through tsx (default) rather than the build in dist/. */
  fromSource?: boolean;
  /** Unique per cluster: names the processes' broker client ids. */
  name?: string;
  startTimeoutMs?: number;
}

/** One `vigil serve` or `vigil worker` process, in its own process group. */
export class VigilProcess {
  output = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(readonly role: 'serve' | 'worker', readonly name: string, readonly dataDir: string, env: Record<string, string>, fromSource: boolean, readonly baseUrl?: string) {
    const entry = fromSource ? ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src', 'server', 'cli.ts')] : [path.join(ROOT, 'bin', 'vigil.js')];
    // A minimal environment and a working directory outside the repository: no developer's .env or
    // shell settings change what runs.
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), TMPDIR: os.tmpdir() };
    this.child = spawn(process.execPath, [...entry, role], { cwd: dataDir, env: { ...base, DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: string) => {
      this.output += chunk;
      if (this.output.length > OUTPUT_LIMIT) this.output = this.output.slice(-OUTPUT_LIMIT / 2);
    };
    this.child.stdout!.setEncoding('utf8').on('data', keep);
    this.child.stderr!.setEncoding('utf8').on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      resolve();
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The id a worker holds camera leases under (`<hostname>:<pid>`, as CameraLeaseManager names it). */
  get workerId(): string {
    return `${os.hostname()}:${this.pid}`;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** Signals the whole group (`SIGKILL`: the process dies as in a crash, nothing given back). */
  kill(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Resolves once the process is serving (`/ready` answers 200) or, for a worker, has started its jobs. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited (${this.exit?.code ?? this.exit?.signal}) before it was ready:\n${this.output}`);
      if (this.role === 'worker' ? /worker started/.test(this.output) : await answers(`${this.baseUrl}/ready`)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, then SIGKILL if it has not stopped within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(() => {
      this.kill('SIGKILL');
      resolve();
    }, graceMs)))]);
    clearTimeout(timer);
    await this.exited;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function withClientId(url: string, clientId: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('clientId', clientId);
  return parsed.toString();
}

export interface Cluster {
  servers: VigilProcess[];
  workers: VigilProcess[];
  /** Stops every process still running and removes their data folders. */
  stop(): Promise<void>;
}

/** Starts every process at once and waits until all are ready; on a failure the others are stopped. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const fromSource = options.fromSource ?? true;
  const name = options.name ?? `vigil-cluster-${process.pid}`;
  const folder = () => fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const servers: VigilProcess[] = [];
  const workers: VigilProcess[] = [];
  for (let i = 0; i < options.servers; i++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = { PUBLIC_URL: baseUrl, ...options.env, ...options.serverEnv, HOST: '127.0.0.1', PORT: String(port) };
    servers.push(new VigilProcess('serve', `server ${i + 1}`, folder(), env, fromSource, baseUrl));
  }
  for (let i = 0; i < options.workers; i++) {
    const env = { ...options.env, ...options.workerEnv };
    if (env.MQTT_URL) env.MQTT_URL = withClientId(env.MQTT_URL, `${name}-worker-${i + 1}`);
    workers.push(new VigilProcess('worker', `worker ${i + 1}`, folder(), env, fromSource));
  }
  const all = [...servers, ...workers];
  const cluster: Cluster = {
    servers,
    workers,
    async stop() {
      await Promise.all(all.map((p) => p.stop()));
      for (const p of all) fs.rmSync(p.dataDir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(all.map((p) => p.ready(options.startTimeoutMs ?? 90_000)));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
