import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A `vigil` CLI process started from the sources, with its output collected. */
export class CliProcess {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string>) {
    // Its own process group, so that cleanup can also reach the PostgreSQL it starts.
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        // Empty values count as unset for Vigil and keep a developer's .env from filling them in.
        DATABASE_URL: '',
        REDIS_URL: '',
        PUBLIC_URL: '',
        SMTP_HOST: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === null && this.signal === null;
  }

  /** Waits until `pattern` appears on stdout; fails early when the process exits, or after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (!this.running) throw new Error(`the process exited (${this.exitCode ?? this.signal}) before printing ${pattern}:\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} on stdout within ${timeoutMs} ms:\n${this.output()}`);
      await sleep(50);
    }
  }

  /** Resolves true when the process exited within `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** Kills the whole process group (the CLI and whatever it started that is still in the group). */
  killGroup(signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone
    }
  }

  output(): string {
    return `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address() as net.AddressInfo;
      probe.close(() => resolve(address.port));
    });
  });
}

// Zombie-aware: where PID 1 does not reap orphans (some containers), a stopped orphan stays a zombie.
export { isAlive } from '../../src/server/core/db/data-dir-lock.js';

/** Polls `check` until it is true; false after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** A throwaway redis-server on `port` that keeps nothing on disk (for tests that stop and restart Redis), resolved once it accepts connections. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const up = await eventually(() => new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    }).on('error', () => resolve(false));
  }), 10_000, 50);
  if (!up) {
    redis.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  }
  return redis;
}
