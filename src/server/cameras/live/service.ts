import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ACCESS_CHANGED } from '../../core/access.js';
import type { Bus } from '../../core/bus.js';
import type { AppContext } from '../../core/context.js';
import { AppError } from '../../core/http/errors.js';
import type { Frame } from '../decoder/frame-hub.js';
import { LocalFrameChannel, RedisFrameChannel, type FrameChannel } from './frame-channel.js';
import { FrameRelay, type LiveFrameSource } from './frame-relay.js';

export interface LiveLimits {
  /** Open live views of one camera on this server process. */
  maxViewersPerCamera: number;
  /** Open live views of one user on this server process, all cameras together. */
  maxStreamsPerUser: number;
}

export interface LiveTiming {
  /** How long a "watch" keeps the decoding process sending a camera's frames. */
  watchTtlMs: number;
  /** How often a process with viewers renews its watch: well within the TTL, so frames never pause. */
  watchRefreshMs: number;
  /** How long a snapshot waits for a frame from the process that decodes the camera. */
  snapshotWaitMs: number;
}

export const DEFAULT_LIVE_TIMING: LiveTiming = { watchTtlMs: 6_000, watchRefreshMs: 2_000, snapshotWaitMs: 3_000 };

/** One open live view (an MJPEG response); the service hands it frames and tells it when to end. */
export interface Viewer {
  userId: string;
  sessionId: string | null;
  deliver(frame: Frame): void;
  close(reason: string): void;
  /** Check the viewer's access again now (something about who may see what changed). */
  recheck(): void;
}

export interface LiveViewDeps {
  logger: Logger;
  registry: Registry;
  bus: Bus;
  channel: FrameChannel;
  decoders: LiveFrameSource;
}

/** One camera watched from this process: one subscription to its frames, whoever many watch. */
interface Feed {
  viewers: Set<Viewer>;
  latest: Frame | null;
  stop: (() => void)[];
}

/**
 * Live view of cameras. Viewers of a camera share one feed: the frames of the decoder in this process, or,
 * when another process decodes the camera, its frames over the frame channel, asked for only while someone
 * here watches. Nothing here starts a decoder: watching costs no decode beyond the one the camera's worker
 * runs anyway.
 */
export class LiveViewService {
  private readonly feeds = new Map<string, Feed>();
  private readonly streamsByUser = new Map<string, number>();
  private readonly relay: FrameRelay;
  private readonly viewersGauge: Gauge;
  private readonly droppedFrames: Counter;
  private readonly stopBus: () => void;

  constructor(private readonly deps: LiveViewDeps, private readonly limits: LiveLimits, private readonly timing: LiveTiming = DEFAULT_LIVE_TIMING) {
    const { registry } = deps;
    const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
    this.viewersGauge = reuse('vigil_camera_viewers', () => new Gauge({
      name: 'vigil_camera_viewers', help: 'Open live views of the camera on this server process', labelNames: ['camera'], registers: [registry],
    }));
    const relayed = reuse('vigil_camera_live_relayed_frames_total', () => new Counter({
      name: 'vigil_camera_live_relayed_frames_total', help: 'Frames this process sent to other processes for their live viewers', registers: [registry],
    }));
    this.droppedFrames = reuse('vigil_camera_live_dropped_frames_total', () => new Counter({
      name: 'vigil_camera_live_dropped_frames_total', help: 'Frames skipped for live viewers whose connection had not taken the previous one', registers: [registry],
    }));
    this.relay = new FrameRelay(deps.channel, deps.decoders, timing.watchTtlMs, relayed, (error) => this.logError(error, 'could not relay a camera frame'));
    this.stopBus = deps.bus.subscribe((message) => {
      if (message.type === 'device.deleted') {
        const id = (message.data.device as { id?: string } | undefined)?.id;
        if (id) this.closeCamera(id, 'the camera was deleted');
      } else if (message.type === 'session.revoked') {
        const revoked = new Set(message.data.sessionIds as string[]);
        for (const viewer of this.allViewers()) if (viewer.sessionId && revoked.has(viewer.sessionId)) viewer.close('signed out');
      } else if (message.type === ACCESS_CHANGED) {
        for (const viewer of this.allViewers()) viewer.recheck();
      }
    });
  }

  /**
   * Adds a viewer of a camera the caller may see (checked by the caller); 429 when the camera or the user
   * has as many live views on this server as allowed. Returns the latest frame to show at once.
   */
  join(cameraId: string, viewer: Viewer): { latest: Frame | null; leave: () => void } {
    const feed = this.feeds.get(cameraId);
    if ((feed?.viewers.size ?? 0) >= this.limits.maxViewersPerCamera) {
      throw new AppError(429, 'too_many_viewers', `this camera already has ${this.limits.maxViewersPerCamera} live viewers on this server; close a view or try later`);
    }
    const userStreams = this.streamsByUser.get(viewer.userId) ?? 0;
    if (userStreams >= this.limits.maxStreamsPerUser) {
      throw new AppError(429, 'too_many_viewers', `you already have ${this.limits.maxStreamsPerUser} live camera views open; close one first`);
    }
    const joined = feed ?? this.openFeed(cameraId);
    joined.viewers.add(viewer);
    this.streamsByUser.set(viewer.userId, userStreams + 1);
    this.viewersGauge.set({ camera: cameraId }, joined.viewers.size);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.leave(cameraId, viewer);
    };
    return { latest: joined.latest, leave };
  }

  /**
   * The camera's newest frame: from this process's decoder, from a feed already open here, or asked of the
   * process that decodes it (waiting at most `snapshotWaitMs`). Null when no frame comes.
   */
  async snapshot(cameraId: string): Promise<Frame | null> {
    const here = this.deps.decoders.latestFrame(cameraId) ?? this.feeds.get(cameraId)?.latest;
    if (here) return here;
    const { channel } = this.deps;
    if (!channel.shared) return null;
    let unsubscribe: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<Frame | null>((resolve, reject) => {
        timer = setTimeout(() => resolve(null), this.timing.snapshotWaitMs);
        channel.subscribe(cameraId, resolve).then((stop) => {
          unsubscribe = stop;
          return channel.watch(cameraId, true);
        }).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      unsubscribe?.();
    }
  }

  /** A viewer's connection was too slow for a frame (it gets a newer one). */
  frameDropped(): void {
    this.droppedFrames.inc();
  }

  /** Open live views of the camera on this process. */
  viewerCount(cameraId: string): number {
    return this.feeds.get(cameraId)?.viewers.size ?? 0;
  }

  /** Cameras whose frames this process sends to other processes' viewers now. */
  relayedCameras(): string[] {
    return this.relay.relayedCameras();
  }

  async close(): Promise<void> {
    for (const viewer of this.allViewers()) viewer.close('server shutting down; reconnect');
    this.stopBus();
    this.relay.close();
    await this.deps.channel.close();
  }

  private openFeed(cameraId: string): Feed {
    const { decoders, channel } = this.deps;
    const feed: Feed = { viewers: new Set(), latest: decoders.latestFrame(cameraId), stop: [] };
    const receive = (frame: Frame) => {
      feed.latest = frame;
      for (const viewer of feed.viewers) viewer.deliver(frame);
    };
    feed.stop.push(decoders.subscribe(cameraId, receive));
    if (channel.shared) {
      // Frames from the process that decodes the camera, when it is not this one: asked for while the feed is open.
      let closed = false;
      feed.stop.push(() => (closed = true));
      const watch = () => {
        if (closed || decoders.cameraIds().includes(cameraId)) return;
        channel.watch(cameraId, feed.latest === null).catch((error: unknown) => this.logError(error, 'could not ask for a camera\'s frames'));
      };
      const refresh = setInterval(watch, this.timing.watchRefreshMs);
      feed.stop.push(() => clearInterval(refresh));
      channel.subscribe(cameraId, receive).then(
        (unsubscribe) => {
          if (closed) return unsubscribe();
          feed.stop.push(unsubscribe);
          watch(); // once subscribed, so the latest frame sent in answer is not missed
        },
        (error: unknown) => this.logError(error, 'could not subscribe to a camera\'s frames'),
      );
    }
    this.feeds.set(cameraId, feed);
    return feed;
  }

  private leave(cameraId: string, viewer: Viewer): void {
    const feed = this.feeds.get(cameraId);
    if (!feed?.viewers.delete(viewer)) return;
    const userStreams = (this.streamsByUser.get(viewer.userId) ?? 1) - 1;
    if (userStreams > 0) this.streamsByUser.set(viewer.userId, userStreams);
    else this.streamsByUser.delete(viewer.userId);
    if (feed.viewers.size > 0) {
      this.viewersGauge.set({ camera: cameraId }, feed.viewers.size);
      return;
    }
    this.feeds.delete(cameraId);
    this.viewersGauge.remove({ camera: cameraId });
    for (const stop of feed.stop) stop();
  }

  private closeCamera(cameraId: string, reason: string): void {
    for (const viewer of [...(this.feeds.get(cameraId)?.viewers ?? [])]) viewer.close(reason);
  }

  private allViewers(): Viewer[] {
    return [...this.feeds.values()].flatMap((feed) => [...feed.viewers]);
  }

  private logError(error: unknown, message: string): void {
    this.deps.logger.error({ err: error }, message);
  }
}

/** The live view of one process: frames cross processes over Redis when the deployment has it. */
export function createLiveView(ctx: AppContext, decoders: LiveFrameSource): LiveViewService {
  const { config, logger } = ctx;
  const channel = ctx.redis
    ? new RedisFrameChannel(ctx.redis, config.redisPrefix, (error) => logger.error({ err: error }, 'camera frame channel failed'))
    : new LocalFrameChannel();
  return new LiveViewService({ logger, registry: ctx.metrics.registry, bus: ctx.bus, channel, decoders }, {
    maxViewersPerCamera: config.cameraLiveMaxViewers, maxStreamsPerUser: config.cameraLiveMaxStreamsPerUser,
  });
}
