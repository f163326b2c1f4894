import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CameraStatus } from '../../core/db/schema.js';
import type { MediaStorage } from '../../core/media.js';
import type { CameraSourceSettings } from '../service.js';
import { CameraStream, type StreamTiming } from './camera-stream.js';
import { SOCKET_TIMEOUT_MS } from './ffmpeg-args.js';
import { FrameHub, type Frame, type FrameConsumer } from './frame-hub.js';
import { createDecoderMetrics, forgetCamera, type DecoderMetrics } from './metrics.js';

/** What the decoders need from the cameras domain (CamerasService implements it). */
export interface CameraSourceProvider {
  /** The camera's settings with its credentials unsealed. */
  sourceFor(cameraId: string): Promise<CameraSourceSettings>;
  /** Persists and announces a status change. */
  recordStatus(cameraId: string, status: CameraStatus, cause: string | null): Promise<void>;
  /** The camera delivered frames: its device counts as seen (the offline alert rules watch that). */
  recordSeen(cameraId: string): Promise<void>;
}

export interface DecoderOptions extends StreamTiming {
  ffmpegPath: string;
}

export const DEFAULT_TIMING: StreamTiming = {
  watchdogMs: 20_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 60_000,
  stableAfterMs: 60_000,
  socketTimeoutMs: SOCKET_TIMEOUT_MS,
};

/** How often a streaming camera's device is marked seen: well within its two-minute offline threshold. */
const SEEN_EVERY_MS = 30_000;

interface Running {
  stream: CameraStream;
  tempDir: string | null;
  placeholderPath: string | null;
  seenAt: number;
}

export interface DecoderDeps {
  logger: Logger;
  media: MediaStorage;
  registry: Registry;
}

/**
 * The decoders of this process, by camera id. Whoever owns a camera (the worker holding its lease) calls
 * `start` and `stop`; consumers (detector, live view) `subscribe` to a camera's frames, before or after its
 * decoder starts. A camera whose settings change is restarted by its owner (the lease manager sees the new
 * settings version and restarts decoder and detector together), not here: two restarts would start ffmpeg twice.
 */
export class DecoderSupervisor {
  private readonly running = new Map<string, Running>();
  private readonly hubs = new Map<string, FrameHub>();
  /** start/stop of one camera one after the other; status writes of one camera in order. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly statusWrites = new Map<string, Promise<void>>();
  private readonly metrics: DecoderMetrics;

  constructor(
    private readonly deps: DecoderDeps,
    private readonly cameras: CameraSourceProvider,
    private readonly options: DecoderOptions,
  ) {
    this.metrics = createDecoderMetrics(deps.registry);
  }

  /** Starts decoding a camera (no-op when it already runs here). */
  start(cameraId: string): Promise<void> {
    return this.serially(cameraId, () => this.startNow(cameraId));
  }

  stop(cameraId: string): Promise<void> {
    return this.serially(cameraId, () => this.stopNow(cameraId));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
    await Promise.all(this.statusWrites.values());
  }

  async close(): Promise<void> {
    await this.stopAll();
  }

  /** Camera ids decoded by this process. */
  cameraIds(): string[] {
    return [...this.running.keys()];
  }

  subscribe(cameraId: string, consumer: FrameConsumer): () => void {
    return this.hub(cameraId).subscribe(consumer);
  }

  latestFrame(cameraId: string): Frame | null {
    return this.hubs.get(cameraId)?.latest ?? null;
  }

  /** The decoder's state for admins; null when this process does not decode the camera. */
  state(cameraId: string) {
    const running = this.running.get(cameraId);
    if (!running) return null;
    return { ...running.stream.status, stderrTail: [...running.stream.stderrTail], latestFrameAt: this.latestFrame(cameraId)?.at ?? null };
  }

  private serially(cameraId: string, step: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(cameraId) ?? Promise.resolve()).then(step, step);
    this.chains.set(cameraId, next.catch(() => undefined));
    return next;
  }

  private hub(cameraId: string): FrameHub {
    let hub = this.hubs.get(cameraId);
    if (!hub) {
      hub = new FrameHub((error) => this.deps.logger.error({ err: error, cameraId }, 'a camera frame consumer failed'));
      this.hubs.set(cameraId, hub);
    }
    return hub;
  }

  private async startNow(cameraId: string): Promise<void> {
    if (this.running.has(cameraId)) return;
    const settings = await this.cameras.sourceFor(cameraId);
    const logger = this.deps.logger.child({ cameraId });
    const entry: Running = { stream: null as unknown as CameraStream, tempDir: null, placeholderPath: null, seenAt: 0 };
    const labels = { camera: cameraId };
    entry.stream = new CameraStream(settings, this.options.ffmpegPath, this.options, this.hub(cameraId), {
      status: (status, cause) => {
        logger[status === 'error' ? 'warn' : 'info']({ status, cause }, 'camera status');
        this.metrics.online.set(labels, status === 'online' ? 1 : 0);
        this.writeStatus(cameraId, status, cause);
      },
      cameraFrame: (intervalMs) => {
        this.metrics.frames.inc(labels);
        if (intervalMs !== null) this.metrics.frameInterval.observe(labels, intervalMs / 1000);
        this.markSeen(cameraId, entry);
      },
      placeholderFrame: (chosen) => {
        this.metrics.placeholderFrames.inc(labels);
        if (chosen) this.markSeen(cameraId, entry);
      },
      reconnecting: () => this.metrics.reconnects.inc(labels),
      fallback: (active) => this.metrics.fallback.set(labels, active ? 1 : 0),
      line: (line) => logger.debug({ ffmpeg: line }, 'ffmpeg'),
    }, () => this.placeholderFile(settings, entry));
    this.running.set(cameraId, entry);
    entry.stream.start();
  }

  private async stopNow(cameraId: string): Promise<void> {
    const entry = this.running.get(cameraId);
    if (!entry) return;
    this.running.delete(cameraId);
    await entry.stream.stop();
    // Whoever stops a camera (its lease owner handing it over) may rely on its status saying offline.
    await this.statusWrites.get(cameraId);
    if (entry.tempDir) await fs.promises.rm(entry.tempDir, { recursive: true, force: true });
    forgetCamera(this.metrics, cameraId);
    if (this.hubs.get(cameraId)?.subscriberCount === 0) this.hubs.delete(cameraId);
  }

  /** The placeholder video copied from the media storage (local or S3) into a private temporary file. */
  private async placeholderFile(settings: CameraSourceSettings, entry: Running): Promise<string | null> {
    const placeholder = settings.placeholder;
    if (!placeholder) return null;
    if (entry.placeholderPath) return entry.placeholderPath;
    const data = await this.deps.media.get(placeholder.storageKey);
    if (!data) return null;
    entry.tempDir ??= await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vigil-camera-'));
    const file = path.join(entry.tempDir, `placeholder${path.extname(placeholder.storageKey)}`);
    await fs.promises.writeFile(file, data, { mode: 0o600 });
    entry.placeholderPath = file;
    return file;
  }

  private writeStatus(cameraId: string, status: CameraStatus, cause: string | null): void {
    const previous = this.statusWrites.get(cameraId) ?? Promise.resolve();
    const next = previous.then(() => this.cameras.recordStatus(cameraId, status, cause)).catch((error: unknown) => {
      this.deps.logger.error({ err: error, cameraId }, 'could not record a camera status');
    });
    this.statusWrites.set(cameraId, next);
  }

  private markSeen(cameraId: string, entry: Running): void {
    const now = Date.now();
    if (now - entry.seenAt < SEEN_EVERY_MS) return;
    entry.seenAt = now;
    this.cameras.recordSeen(cameraId).catch((error: unknown) => this.deps.logger.error({ err: error, cameraId }, 'could not mark a camera seen'));
  }
}
