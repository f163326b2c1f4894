import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Frame } from '../decoder/frame-hub.js';

/**
 * Camera frames between the processes of one deployment, for the live view: a process whose viewers watch
 * a camera it does not decode announces its interest ("watch"), and the process that decodes it publishes
 * that camera's frames while the interest is fresh. JPEG frames are binary, so they do not go through the
 * JSON message bus: on Redis they have their own channel per camera, carried as Buffers.
 */
export interface FrameChannel {
  /** False when this process is the whole deployment (no Redis): every frame is local. */
  readonly shared: boolean;
  /** Says that this process wants the camera's frames for a while; `wantLatest`: send the latest frame now. */
  watch(cameraId: string, wantLatest: boolean): Promise<void>;
  /** Calls `handler` with each camera another process (or this one) wants frames of. */
  onWatch(handler: (cameraId: string, wantLatest: boolean) => void): () => void;
  /** Sends a frame of a camera this process decodes to the processes that watch it. */
  publish(frame: Frame): Promise<void>;
  /** Receives the camera's frames decoded by other processes; resolves once subscribed. */
  subscribe(cameraId: string, handler: (frame: Frame) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** The embedded single process: frames never leave it. */
export class LocalFrameChannel implements FrameChannel {
  readonly shared = false;
  async watch(): Promise<void> {}
  onWatch(): () => void {
    return () => undefined;
  }
  async publish(): Promise<void> {}
  async subscribe(): Promise<() => void> {
    return () => undefined;
  }
  async close(): Promise<void> {}
}

interface FrameHeader {
  cameraId: string;
  at: number;
  sequence: number;
  origin: Frame['origin'];
  /** The publishing process: it gets its own frames from its decoder, not back from Redis. */
  from: string;
}

/** A frame on the wire: the header's length (2 bytes), the header as JSON, then the JPEG. */
export function encodeFrame(frame: Frame, from: string): Buffer {
  const header: FrameHeader = { cameraId: frame.cameraId, at: frame.at, sequence: frame.sequence, origin: frame.origin, from };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(2);
  length.writeUInt16BE(json.length);
  return Buffer.concat([length, json, frame.jpeg]);
}

export function decodeFrame(payload: Buffer): { frame: Frame; from: string } | null {
  if (payload.length < 2) return null;
  const length = payload.readUInt16BE(0);
  if (payload.length < 2 + length) return null;
  try {
    const header = JSON.parse(payload.subarray(2, 2 + length).toString('utf8')) as FrameHeader;
    const jpeg = payload.subarray(2 + length);
    return { frame: { cameraId: header.cameraId, at: header.at, sequence: header.sequence, origin: header.origin, jpeg }, from: header.from };
  } catch {
    return null;
  }
}

/**
 * Frames over Redis pub/sub: `<prefix>:frames:watch` carries interest (JSON), `<prefix>:frames:<camera id>`
 * carries one camera's frames (binary), subscribed only while this process has viewers of that camera.
 */
export class RedisFrameChannel implements FrameChannel {
  readonly shared = true;
  private readonly subscriber: Redis;
  private readonly tag = randomBytes(6).toString('hex');
  private readonly watchChannel: string;
  private readonly watchHandlers = new Set<(cameraId: string, wantLatest: boolean) => void>();
  private readonly frameHandlers = new Map<string, { handlers: Set<(frame: Frame) => void>; subscribed: Promise<unknown> }>();
  private readonly ready: Promise<unknown>;

  constructor(private readonly publisher: Redis, private readonly prefix: string, private readonly onError: (error: unknown) => void) {
    this.watchChannel = `${prefix}:frames:watch`;
    this.subscriber = publisher.duplicate();
    // An outage is logged once for the publisher's connection (core/redis-outages.ts); without a listener ioredis
    // would print every reconnect attempt of this duplicate to stderr. It resubscribes by itself when Redis is back.
    this.subscriber.on('error', () => undefined);
    this.ready = this.subscriber.subscribe(this.watchChannel);
    this.subscriber.on('messageBuffer', (channelBuffer: Buffer, payload: Buffer) => {
      const channel = channelBuffer.toString();
      if (channel === this.watchChannel) this.receiveWatch(payload);
      else this.receiveFrame(channel, payload);
    });
  }

  private frameChannel(cameraId: string): string {
    return `${this.prefix}:frames:${cameraId}`;
  }

  async watch(cameraId: string, wantLatest: boolean): Promise<void> {
    await this.ready;
    await this.publisher.publish(this.watchChannel, JSON.stringify({ cameraId, wantLatest }));
  }

  onWatch(handler: (cameraId: string, wantLatest: boolean) => void): () => void {
    this.watchHandlers.add(handler);
    return () => this.watchHandlers.delete(handler);
  }

  async publish(frame: Frame): Promise<void> {
    await this.publisher.publish(this.frameChannel(frame.cameraId), encodeFrame(frame, this.tag));
  }

  async subscribe(cameraId: string, handler: (frame: Frame) => void): Promise<() => void> {
    let entry = this.frameHandlers.get(cameraId);
    if (!entry) {
      entry = { handlers: new Set(), subscribed: this.subscriber.subscribe(this.frameChannel(cameraId)) };
      this.frameHandlers.set(cameraId, entry);
    }
    entry.handlers.add(handler);
    await entry.subscribed;
    return () => {
      const current = this.frameHandlers.get(cameraId);
      if (!current?.handlers.delete(handler) || current.handlers.size > 0) return;
      this.frameHandlers.delete(cameraId);
      this.subscriber.unsubscribe(this.frameChannel(cameraId)).catch(this.onError);
    };
  }

  async close(): Promise<void> {
    this.watchHandlers.clear();
    this.frameHandlers.clear();
    this.subscriber.disconnect();
  }

  private receiveWatch(payload: Buffer): void {
    let message: { cameraId?: unknown; wantLatest?: unknown };
    try {
      message = JSON.parse(payload.toString('utf8')) as typeof message;
    } catch {
      return;
    }
    if (typeof message.cameraId !== 'string') return;
    for (const handler of this.watchHandlers) {
      try {
        handler(message.cameraId, message.wantLatest === true);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  private receiveFrame(channel: string, payload: Buffer): void {
    const decoded = decodeFrame(payload);
    if (!decoded || decoded.from === this.tag) return;
    const entry = this.frameHandlers.get(decoded.frame.cameraId);
    if (!entry || channel !== this.frameChannel(decoded.frame.cameraId)) return;
    for (const handler of entry.handlers) {
      try {
        handler(decoded.frame);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
