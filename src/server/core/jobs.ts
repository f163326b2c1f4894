import type pg from 'pg';
import type { Logger } from 'pino';

interface Job {
  name: string;
  intervalMs: number;
  run: () => Promise<unknown>;
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

  register(name: string, intervalMs: number, run: () => Promise<unknown>): void {
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

  /** Runs one tick of a job if no other process holds it; returns whether it ran here. */
  async tick(job: Job | string): Promise<boolean> {
    const entry = typeof job === 'string' ? this.jobs.find((j) => j.name === job) : job;
    if (!entry) throw new Error(`no job named ${String(job)}`);
    if (entry.running) return false;
    entry.running = true;
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`vigil-job:${entry.name}`]);
      if (!rows[0]?.locked) return false;
      try {
        await entry.run();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`vigil-job:${entry.name}`]);
      }
      return true;
    } catch (error) {
      this.logger.error({ err: error, job: entry.name }, 'background job failed');
      return false;
    } finally {
      client.release();
      entry.running = false;
    }
  }

  async stop(): Promise<void> {
    for (const job of this.jobs) clearInterval(job.timer);
    while (this.jobs.some((j) => j.running)) await new Promise((r) => setTimeout(r, 20));
  }
}
