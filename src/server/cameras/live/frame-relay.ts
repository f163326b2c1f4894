import type { Counter } from 'prom-client';
import type { Frame, FrameConsumer } from '../decoder/frame-hub.js';
import type { FrameChannel } from './frame-channel.js';

/** What the live view needs from this process's decoders (the DecoderSupervisor). */
export interface LiveFrameSource {
  subscribe(cameraId: string, consumer: FrameConsumer): () => void;
  latestFrame(cameraId: string): Frame | null;
  cameraIds(): string[];
}

interface Interest {
  /** Date.now() after which nobody is known to watch any more. */
  until: number;
  unsubscribe: () => void;
}

/**
 * The decoding side of cross-process live view: for each camera this process decodes and another process
 * watches, it forwards the camera's frames to the frame channel until the interest is no longer renewed.
 * A camera nobody watches costs nothing here: no subscription, no copy, no publish.
 */
export class FrameRelay {
  private readonly interest = new Map<string, Interest>();
  private readonly stopWatching: () => void;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly channel: FrameChannel,
    private readonly source: LiveFrameSource,
    private readonly ttlMs: number,
    private readonly relayed: Counter,
    private readonly onError: (error: unknown) => void,
  ) {
    this.stopWatching = channel.onWatch((cameraId, wantLatest) => this.watched(cameraId, wantLatest));
    // Forgets interest in cameras whose frames stopped coming (forwarding stops at the next frame otherwise).
    this.sweeper = setInterval(() => this.sweep(), ttlMs).unref();
  }

  /** Cameras whose frames this process sends to other processes now. */
  relayedCameras(): string[] {
    return [...this.interest.keys()];
  }

  close(): void {
    this.stopWatching();
    clearInterval(this.sweeper);
    for (const cameraId of [...this.interest.keys()]) this.forget(cameraId);
  }

  private watched(cameraId: string, wantLatest: boolean): void {
    // Only the process that decodes the camera answers; asking the supervisor never starts a decoder.
    if (!this.source.cameraIds().includes(cameraId)) return;
    const until = Date.now() + this.ttlMs;
    const entry = this.interest.get(cameraId);
    if (entry) entry.until = until;
    else this.interest.set(cameraId, { until, unsubscribe: this.source.subscribe(cameraId, (frame) => this.forward(frame)) });
    const latest = wantLatest ? this.source.latestFrame(cameraId) : null;
    if (latest) this.send(latest);
  }

  private forward(frame: Frame): void {
    const entry = this.interest.get(frame.cameraId);
    if (!entry) return;
    if (Date.now() > entry.until) this.forget(frame.cameraId);
    else this.send(frame);
  }

  private send(frame: Frame): void {
    this.relayed.inc();
    this.channel.publish(frame).catch(this.onError);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [cameraId, entry] of this.interest) if (now > entry.until) this.forget(cameraId);
  }

  private forget(cameraId: string): void {
    this.interest.get(cameraId)?.unsubscribe();
    this.interest.delete(cameraId);
  }
}
