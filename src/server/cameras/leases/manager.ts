import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Bus } from '../../core/bus.js';
import type { Db } from '../../core/db/database.js';
import { isDatabaseUnavailable } from '../../core/db/database.js';
import * as store from './store.js';

/** What decodes cameras in this process; the decoder supervisor is one. */
export interface CameraRunner {
  start(cameraId: string): Promise<void> | void;
  stop(cameraId: string): Promise<void> | void;
  stopAll(): Promise<void>;
}

export interface LeaseTiming {
  /** How long a lease lasts unrenewed: a dead worker's cameras are taken over after at most this plus one heartbeat. */
  ttlMs: number;
  /** How often leases are renewed and the share is rebalanced; at most a third of the TTL. */
  heartbeatMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 15_000, heartbeatMs: 5_000 };

export interface LeaseManagerDeps {
  db: Db;
  logger: Logger;
  registry: Registry;
  /** Camera news (created, changed, deleted) makes the next round come at once instead of at the next heartbeat. */
  bus?: Bus;
}

interface Held {
  /** The camera's settings version its runner started with: a newer one restarts it. */
  updatedAt: number;
  /** performance.now() after which the lease may be gone without this worker knowing: its runner stops then. */
  heldUntil: number;
  acquiredAt: number;
}

/** This process's worker id: the host and process anyone can find it by. */
export function defaultWorkerId(): string {
  return `${os.hostname()}:${process.pid}`;
}

/**
 * The share of the cameras that worker `workerId` aims for: the cameras divided among the live workers,
 * the first workers (by id) taking one more while cameras are left over, so the shares add up exactly.
 */
export function fairShare(cameras: number, workers: string[], workerId: string): number {
  const rank = workers.indexOf(workerId);
  if (rank === -1) return 0; // not (or no longer) counted among the live workers
  return Math.floor(cameras / workers.length) + (rank < cameras % workers.length ? 1 : 0);
}

/**
 * Holds this process's share of the cameras through leases in PostgreSQL and runs exactly the cameras it
 * holds. Each round (every heartbeat) it says it is alive, renews its leases, stops the cameras it lost,
 * restarts those whose settings changed, gives back cameras above its fair share (decoder stopped first)
 * and claims free or expired ones below it. Between rounds a guard stops any camera whose lease could have
 * expired unrenewed (database away, round stuck), before another worker could take it: the guard fires
 * one heartbeat before the lease's expiry.
 */
export class CameraLeaseManager {
  readonly workerId: string;
  private readonly held = new Map<string, Held>();
  private readonly timing: LeaseTiming;
  private readonly heldGauge: Gauge;
  private readonly lostCounter: Counter;
  private round: Promise<void> | undefined;
  private roundTimer?: NodeJS.Timeout;
  private guardTimer?: NodeJS.Timeout;
  private soonTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private running = false;
  /** Set by halt() and stop(): a round still under way claims nothing more. */
  private halted = false;

  constructor(
    private readonly deps: LeaseManagerDeps,
    private readonly runner: CameraRunner,
    options: Partial<LeaseTiming> & { workerId?: string } = {},
  ) {
    this.workerId = options.workerId ?? defaultWorkerId();
    this.timing = { ttlMs: options.ttlMs ?? DEFAULT_LEASE_TIMING.ttlMs, heartbeatMs: options.heartbeatMs ?? DEFAULT_LEASE_TIMING.heartbeatMs };
    if (this.timing.heartbeatMs * 3 > this.timing.ttlMs) throw new Error('the lease heartbeat must be at most a third of the lease TTL');
    const reuse = <T>(name: string, make: () => T): T => (deps.registry.getSingleMetric(name) as T | undefined) ?? make();
    this.heldGauge = reuse('vigil_camera_leases_held', () => new Gauge({ name: 'vigil_camera_leases_held', help: 'Cameras this process holds the lease of and decodes', registers: [deps.registry] }));
    this.lostCounter = reuse('vigil_camera_leases_lost_total', () => new Counter({
      name: 'vigil_camera_leases_lost_total', help: 'Cameras this process stopped because it could not renew their lease', registers: [deps.registry],
    }));
  }

  /** Starts the rounds (the first at once) and the guard. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.roundTimer = setInterval(() => void this.tick(), this.timing.heartbeatMs);
    this.guardTimer = setInterval(() => this.guard(), Math.max(50, Math.floor(this.timing.heartbeatMs / 5)));
    this.unsubscribe = this.deps.bus?.subscribe((message) => {
      const kind = (message.data.device as { kind?: string } | undefined)?.kind;
      if (message.type === 'camera.updated' || (kind === 'camera' && (message.type === 'device.created' || message.type === 'device.deleted'))) this.soon();
    });
    void this.tick();
  }

  /** Camera ids this process holds now. */
  heldCameras(): string[] {
    return [...this.held.keys()];
  }

  /** Runs one round now (or waits for the one under way); never throws. */
  async tick(): Promise<void> {
    if (this.round) return this.round;
    this.round = this.runRound()
      .catch((error: unknown) => {
        const unavailable = isDatabaseUnavailable(error);
        this.deps.logger[unavailable ? 'warn' : 'error']({ err: error, worker: this.workerId }, 'camera lease round failed; cameras stop when their lease could run out');
      })
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  /**
   * Graceful shutdown: no more rounds, every decoder stopped, then every lease and this worker's presence
   * given back at once, so the other workers take the cameras at their next round instead of at expiry.
   */
  async stop(): Promise<void> {
    this.halt();
    await this.round;
    this.held.clear();
    this.heldGauge.set(0);
    await this.runner.stopAll();
    try {
      await store.releaseAllBut(this.deps.db, this.workerId, []);
      await store.retireWorker(this.deps.db, this.workerId);
    } catch (error) {
      this.deps.logger.warn({ err: error, worker: this.workerId }, 'could not give back camera leases; other workers take them when they expire');
    }
  }

  /** Stops the timers without stopping a decoder or giving anything back, as when the process is killed. */
  halt(): void {
    this.running = false;
    this.halted = true;
    clearInterval(this.roundTimer);
    clearInterval(this.guardTimer);
    clearTimeout(this.soonTimer);
    this.unsubscribe?.();
  }

  private soon(): void {
    if (!this.running || this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.tick();
    }, 100);
  }

  private async runRound(): Promise<void> {
    const { db } = this.deps;
    const { ttlMs, heartbeatMs } = this.timing;
    const sentAt = performance.now();
    await store.announceWorker(db, this.workerId, ttlMs);

    const mine = this.heldCameras();
    const renewed = mine.length > 0 ? await store.renewLeases(db, this.workerId, mine, ttlMs) : [];
    const versions = new Map(renewed.map((lease) => [lease.camera_id, lease.updated_at.getTime()]));
    for (const cameraId of mine) {
      const held = this.held.get(cameraId);
      if (!held) continue; // the guard stopped it meanwhile
      const version = versions.get(cameraId);
      if (version === undefined) {
        await this.drop(cameraId, 'its lease was lost or the camera was deleted');
      } else {
        held.heldUntil = sentAt + ttlMs - heartbeatMs;
        if (version !== held.updatedAt) {
          held.updatedAt = version;
          await this.restart(cameraId);
        }
      }
    }
    // Leases in this worker's name it does not run (stopped by the guard, or left by a failed round).
    await store.releaseAllBut(db, this.workerId, this.heldCameras());

    const { cameras, workers } = await store.census(db);
    const share = fairShare(cameras, workers, this.workerId);
    if (this.held.size > share) await this.giveBack(this.held.size - share);
    else if (this.held.size < share && !this.halted) await this.claim(share - this.held.size);
    this.heldGauge.set(this.held.size);
  }

  /** Gives back the cameras taken most recently: each decoder stops before its lease is released. */
  private async giveBack(count: number): Promise<void> {
    const newest = [...this.held.entries()].sort((a, b) => b[1].acquiredAt - a[1].acquiredAt).slice(0, count).map(([id]) => id);
    for (const cameraId of newest) {
      this.held.delete(cameraId);
      await this.stopRunner(cameraId);
      await store.releaseLease(this.deps.db, this.workerId, cameraId);
    }
    this.deps.logger.info({ worker: this.workerId, cameras: newest }, 'gave back cameras above this worker\'s share');
  }

  private async claim(count: number): Promise<void> {
    const sentAt = performance.now();
    const claimed = await store.claimLeases(this.deps.db, this.workerId, count, this.timing.ttlMs);
    if (claimed.length === 0) return;
    const now = Date.now();
    for (const lease of claimed) {
      this.held.set(lease.camera_id, { updatedAt: lease.updated_at.getTime(), heldUntil: sentAt + this.timing.ttlMs - this.timing.heartbeatMs, acquiredAt: now });
    }
    this.deps.logger.info({ worker: this.workerId, cameras: claimed.map((l) => l.camera_id) }, 'took cameras');
    await Promise.all(claimed.map(async ({ camera_id: cameraId }) => {
      try {
        await this.runner.start(cameraId);
      } catch (error) {
        // Given back, so that this or another worker tries again at its next round.
        this.deps.logger.error({ err: error, cameraId }, 'could not start a camera; its lease is given back');
        this.held.delete(cameraId);
        await this.stopRunner(cameraId);
        await store.releaseLease(this.deps.db, this.workerId, cameraId);
      }
    }));
  }

  private async restart(cameraId: string): Promise<void> {
    this.deps.logger.info({ cameraId }, 'camera settings changed: restarting its decoder');
    await this.stopRunner(cameraId);
    if (!this.held.has(cameraId)) return;
    try {
      await this.runner.start(cameraId);
    } catch (error) {
      this.deps.logger.error({ err: error, cameraId }, 'could not restart a camera');
    }
  }

  private async drop(cameraId: string, reason: string): Promise<void> {
    if (!this.held.delete(cameraId)) return;
    this.lostCounter.inc();
    this.heldGauge.set(this.held.size);
    this.deps.logger.warn({ worker: this.workerId, cameraId }, `camera stopped: ${reason}`);
    await this.stopRunner(cameraId);
  }

  /** Stops, without waiting for the database, every camera whose lease may run out before it is renewed. */
  private guard(): void {
    const now = performance.now();
    for (const [cameraId, held] of this.held) {
      if (held.heldUntil <= now) void this.drop(cameraId, 'its lease could not be renewed in time (database unreachable or slow)');
    }
  }

  private async stopRunner(cameraId: string): Promise<void> {
    try {
      await this.runner.stop(cameraId);
    } catch (error) {
      this.deps.logger.error({ err: error, cameraId }, 'could not stop a camera decoder');
    }
  }
}
