import type { CameraStatus } from '../../core/db/schema.js';
import type { CameraSourceSettings } from '../service.js';
import { classifyFailure } from './causes.js';
import { addressWithCredentials, placeholderArgs, redactor, rtspArgs, type FrameShape } from './ffmpeg-args.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import type { FrameHub } from './frame-hub.js';

export interface StreamTiming {
  /** A stream that delivers no frame for this long is restarted. */
  watchdogMs: number;
  /** First reconnect delay; it doubles with each failure in a row, up to `backoffMaxMs`. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A stream online this long counts as stable: its next failure starts the backoff afresh. */
  stableAfterMs: number;
  /** ffmpeg's socket timeout towards the camera. */
  socketTimeoutMs: number;
}

/** What a camera's stream tells its supervisor. */
export interface StreamListener {
  status(status: CameraStatus, cause: string | null): void;
  /** A frame from the camera itself (not the placeholder). */
  cameraFrame(intervalMs: number | null): void;
  /** A frame of the placeholder video; `chosen` when the camera is set to play it (not a fallback). */
  placeholderFrame(chosen: boolean): void;
  reconnecting(): void;
  fallback(active: boolean): void;
  /** A redacted ffmpeg stderr line. */
  line(line: string): void;
}

const PLACEHOLDER_CAUSE = 'playing the placeholder video (source file or placeholder chosen)';

/**
 * One camera's decoding: an ffmpeg child reading the camera, restarted with exponential backoff (with
 * jitter) when it fails and by a watchdog when it stops delivering frames. After the camera's
 * `fallbackAfterFailures` failures in a row its placeholder video plays, watermarked, while the camera
 * is still retried; the first frame from the camera stops the placeholder again.
 */
export class CameraStream {
  private stopped = false;
  private current: FfmpegProcess | null = null;
  private placeholder: FfmpegProcess | null = null;
  private failures = 0;
  private sequence = 0;
  private lastCameraFrameAt: number | null = null;
  private readonly wakers = new Set<() => void>();
  private running: Promise<void> | null = null;
  private state: { status: CameraStatus; cause: string | null } = { status: 'offline', cause: null };
  /** The latest ffmpeg stderr lines (redacted), for admins. */
  stderrTail: string[] = [];

  constructor(
    private readonly settings: CameraSourceSettings,
    private readonly ffmpegPath: string,
    private readonly timing: StreamTiming,
    private readonly hub: FrameHub,
    private readonly listener: StreamListener,
    /** A local file with the camera's placeholder video, or null when it has none. */
    private readonly placeholderFile: () => Promise<string | null>,
  ) {}

  get status() {
    return { ...this.state, failuresInARow: this.failures, fallbackActive: this.placeholder !== null };
  }

  start(): void {
    this.running ??= this.run().catch((error: unknown) => this.setStatus('error', `the decoder failed: ${(error as Error).message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers) wake();
    await Promise.all([this.current?.stop(), this.stopPlaceholder()]);
    await this.running;
    this.hub.clear();
    this.setStatus('offline', null);
  }

  private get shape(): FrameShape {
    return { size: this.settings.inferenceSize, fps: this.settings.targetFps };
  }

  private async run(): Promise<void> {
    const { source, usePlaceholder, rtspUrl } = this.settings;
    if (source === 'file' || usePlaceholder) return this.runPlaceholderOnly();
    if (!rtspUrl) {
      this.setStatus('error', 'no RTSP address is set');
      await this.startPlaceholder('no RTSP address is set');
      return;
    }
    this.setStatus('connecting', null);
    const redact = redactor(this.settings.credentials);
    const address = addressWithCredentials(rtspUrl, this.settings.credentials);
    while (!this.stopped) {
      const attempt = this.attempt(address, redact);
      const onlineSince = await attempt.online;
      const outcome = await attempt.process.done;
      clearInterval(attempt.watchdog);
      this.current = null;
      if (this.stopped) break;
      this.hub.clear();
      if (onlineSince !== null && Date.now() - onlineSince >= this.timing.stableAfterMs) this.failures = 0;
      this.failures += 1;
      const cause = classifyFailure(outcome, this.timing.socketTimeoutMs);
      if (this.failures >= this.settings.fallbackAfterFailures && this.settings.placeholder) await this.startPlaceholder(cause);
      this.setStatus('error', this.placeholder ? `${cause}; playing the placeholder video meanwhile` : cause);
      this.listener.reconnecting();
      await this.sleep(this.backoffMs());
    }
  }

  /** One ffmpeg run against the camera; `online` resolves at its first frame (its time) or its end (null). */
  private attempt(address: string, redact: (line: string) => string) {
    let markOnline!: (at: number | null) => void;
    const online = new Promise<number | null>((resolve) => (markOnline = resolve));
    let lastFrameAt = Date.now();
    const process = new FfmpegProcess(this.ffmpegPath, rtspArgs(address, this.settings.rtspTransport, this.shape, this.timing.socketTimeoutMs), redact, (jpeg) => {
      const now = Date.now();
      lastFrameAt = now;
      if (process.frameCount === 1) {
        markOnline(now);
        void this.stopPlaceholder();
        this.setStatus('online', null);
      }
      this.listener.cameraFrame(this.lastCameraFrameAt === null ? null : now - this.lastCameraFrameAt);
      this.lastCameraFrameAt = now;
      this.hub.publish({ cameraId: this.settings.cameraId, jpeg, at: now, sequence: ++this.sequence, origin: 'camera' });
    }, (line) => this.keepLine(line));
    this.current = process;
    void process.done.then(() => markOnline(null));
    // Opening a stream (connecting, probing it, waiting for a key frame) gets ffmpeg's socket timeout on top.
    const watchdog = setInterval(() => {
      const limit = this.timing.watchdogMs + (process.frameCount === 0 ? this.timing.socketTimeoutMs : 0);
      if (Date.now() - lastFrameAt >= limit) void process.stop(true);
    }, Math.min(1000, this.timing.watchdogMs / 4));
    watchdog.unref();
    return { process, online: online.then((at) => at), watchdog };
  }

  /** Exponential from the initial delay to the maximum, ±20 % jitter so many cameras do not retry in step. */
  private backoffMs(): number {
    const base = Math.min(this.timing.backoffMaxMs, this.timing.backoffInitialMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private async runPlaceholderOnly(): Promise<void> {
    if (!this.settings.placeholder) {
      this.setStatus('error', 'the camera plays its placeholder video, but none is uploaded');
      return;
    }
    this.setStatus('connecting', null);
    await this.startPlaceholder(null);
  }

  /** Plays the placeholder (looped, watermarked) until stopped; restarted if ffmpeg ends. */
  private async startPlaceholder(cause: string | null): Promise<void> {
    if (this.placeholder || this.stopped) return;
    const file = await this.placeholderFile().catch(() => null);
    if (!file || this.stopped) {
      if (cause === null) this.setStatus('error', 'the placeholder video could not be read from the media storage');
      return;
    }
    const play = () => {
      const process = new FfmpegProcess(this.ffmpegPath, placeholderArgs(file, this.shape), (line) => line, (jpeg) => {
        if (cause === null && this.state.status !== 'online') this.setStatus('online', PLACEHOLDER_CAUSE);
        this.listener.placeholderFrame(cause === null);
        this.hub.publish({ cameraId: this.settings.cameraId, jpeg, at: Date.now(), sequence: ++this.sequence, origin: 'placeholder' });
      }, (line) => this.keepLine(line));
      this.placeholder = process;
      void process.done.then(async () => {
        if (this.placeholder !== process) return;
        await this.sleep(1000);
        if (this.placeholder === process && !this.stopped) play();
      });
    };
    play();
    this.listener.fallback(true);
  }

  private async stopPlaceholder(): Promise<void> {
    const process = this.placeholder;
    if (!process) return;
    this.placeholder = null;
    this.listener.fallback(false);
    await process.stop();
  }

  private keepLine(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    this.listener.line(line);
  }

  private setStatus(status: CameraStatus, cause: string | null): void {
    if (this.state.status === status && this.state.cause === cause) return;
    this.state = { status, cause };
    this.listener.status(status, cause);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
