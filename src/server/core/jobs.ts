import type pg from 'pg';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './db/database.js';

interface Job {
  name: string;
  intervalMs: number;
  run: (signal: AbortSignal) => Promise<unknown>;
  timer?: NodeJS.Timeout;
  running: boolean;
}

/**
 * Periodic background work shared by every Vigil process on one database: each tick of a job runs
 * in exactly one process, the one that wins the job's PostgreSQL advisory lock. A process that dies
 * loses its lock with its connection, so another process takes the next tick.
 */
export class JobRunner {
  private readonly jobs: Job[] = [];
  private started = false;

  constructor(private readonly pool: pg.Pool, private readonly logger: Logger) {}

  /** `run` gets a signal that aborts when the tick's lease is lost: a long job stops at its next step. */
  register(name: string, intervalMs: number, run: (signal: AbortSignal) => Promise<unknown>): void {
    this.jobs.push({ name, intervalMs, run, running: false });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const job of this.jobs) {
      job.timer = setInterval(() => void this.tick(job), job.intervalMs);
      job.timer.unref();
    }
  }

  /**
   * Runs one tick of a job if no other process holds it; returns whether it ran here to the end. It
   * never throws: a failure is logged and the next tick tries again, so jobs resume by themselves once
   * an unreachable database is back.
   */
  async tick(job: Job | string): Promise<boolean> {
    const entry = typeof job === 'string' ? this.jobs.find((j) => j.name === job) : job;
    if (!entry) throw new Error(`no job named ${String(job)}`);
    if (entry.running) return false;
    entry.running = true;
    const key = `vigil-job:${entry.name}`;
    const lease = new AbortController();
    const leaseLost = (error: Error) => lease.abort(error);
    let client: pg.PoolClient | undefined;
    let failure: Error | undefined;
    try {
      client = await this.pool.connect();
      client.on('error', leaseLost);
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
      if (!rows[0]?.locked) return false;
      try {
        await entry.run(lease.signal);
      } finally {
        if (!lease.signal.aborted) await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
      // The lock went with its connection while the job ran: another process may have taken it meanwhile.
      if (lease.signal.aborted) throw lease.signal.reason;
      return true;
    } catch (error) {
      failure = error as Error;
      if (lease.signal.aborted || isDatabaseUnavailable(error)) {
        this.logger.warn({ err: error, job: entry.name }, 'background job stopped: the database connection was lost; the next tick retries');
      } else {
        this.logger.error({ err: error, job: entry.name }, 'background job failed');
      }
      return false;
    } finally {
      client?.off('error', leaseLost);
      // A client whose tick failed is discarded rather than pooled: it may be broken, or its session may
      // still hold the lock (a failed unlock); closing it frees the lock in any case.
      client?.release(failure);
      entry.running = false;
    }
  }

  async stop(): Promise<void> {
    for (const job of this.jobs) clearInterval(job.timer);
    while (this.jobs.some((j) => j.running)) await new Promise((r) => setTimeout(r, 20));
  }
}
