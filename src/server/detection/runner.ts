import type { DevicePrincipal } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Frame, FrameConsumer } from '../cameras/decoder/frame-hub.js';
import type { CameraRunner } from '../cameras/leases/manager.js';
import type { CameraDetectionSettings, CamerasService } from '../cameras/service.js';
import type { EventPhotosService } from '../events/photos.js';
import type { IngestService } from '../ingest/service.js';
import { createDetector, type Detector } from './detector.js';
import { loadDetectionModel, type ModelLoad } from './model.js';
import type { DetectionModels } from './models.js';
import type { RuleName } from './rules.js';
import { DetectionCounters, FLUSH_EVERY_MS, type CameraClock } from './statistics.js';
import { closeAbandonedViolations } from './store.js';
import { ViolationRecorder } from './violations.js';

/** What the runner needs from the decoders (the DecoderSupervisor): a camera's frames. */
export interface FrameSource {
  subscribe(cameraId: string, consumer: FrameConsumer): () => void;
}

interface Running {
  clock: CameraClock;
  detector: Detector | null;
  recorder: ViolationRecorder | null;
  unsubscribe: () => void;
  /** The frame being analysed: one at a time per camera, frames arriving meanwhile are skipped. */
  inFlight: Promise<void> | null;
  /** Event writes in order (an incident's close after its open), apart from the analysis. */
  writes: Promise<void>;
  failures: number;
}

const ENABLED: Record<'ppe' | 'zone' | 'both', Record<RuleName, boolean>> = {
  ppe: { no_hardhat: true, no_vest: true, zone_breach: false },
  zone: { no_hardhat: false, no_vest: false, zone_breach: true },
  both: { no_hardhat: true, no_vest: true, zone_breach: true },
};

/**
 * Detection in the camera's worker. The process that holds a camera's lease starts its decoder and then
 * this runner's detector, which subscribes to the decoder's frames. The decoder is never held up: a frame is
 * handed over and returned from at once, and while one frame is being analysed the next ones are skipped
 * (counted), so a slow model lowers the analysed rate instead of building a queue. A frame that cannot be
 * read is counted and skipped. Each model is loaded once per process and shared by the cameras that use it
 * (an organization's choice, else the default); without one the camera still streams and its detection status
 * says why. A new choice restarts the detection of that organization's cameras here, not their decoders.
 */
export class DetectionRunner {
  private readonly running = new Map<string, Running>();
  private readonly counters = new DetectionCounters();
  /** Loaded models by file; a missing or unusable one is not kept, so it is tried again at the next start. */
  private readonly models = new Map<string, Promise<ModelLoad>>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly stopBus: () => void;

  constructor(
    private readonly ctx: AppContext,
    private readonly frames: FrameSource,
    private readonly cameras: CamerasService,
    private readonly ingest: IngestService,
    private readonly photos: EventPhotosService,
    private readonly choices: DetectionModels,
  ) {
    this.stopBus = ctx.bus.subscribe((message) => {
      if (message.type === 'detection.model_changed' && message.orgId) void this.restartOrganization(message.orgId);
    });
    this.flushTimer = setInterval(() => void this.flushStatistics().catch((error: unknown) => {
      this.ctx.logger.warn({ err: error }, 'could not write detection statistics; they are kept for the next try');
    }), FLUSH_EVERY_MS);
    this.flushTimer.unref();
  }

  /** The decoders and detection together, as the lease manager starts and stops cameras. */
  withDecoders(decoders: CameraRunner): CameraRunner {
    return {
      start: async (cameraId) => {
        await decoders.start(cameraId);
        await this.start(cameraId);
      },
      stop: async (cameraId) => {
        await this.stop(cameraId);
        await decoders.stop(cameraId);
      },
      stopAll: async () => {
        await this.stopAll();
        await decoders.stopAll();
      },
    };
  }

  async start(cameraId: string): Promise<void> {
    if (this.running.has(cameraId)) return;
    const settings = await this.cameras.detectionFor(cameraId);
    const clock = { cameraId, orgId: settings.orgId, timezone: settings.timezone };
    const entry: Running = { clock, detector: null, recorder: null, unsubscribe: () => undefined, inFlight: null, writes: Promise.resolve(), failures: 0 };
    this.running.set(cameraId, entry);
    // Incidents left open by a worker that died lived in its memory: they end at their last sighting.
    await this.bookkeeping(() => closeAbandonedViolations(this.ctx.db, cameraId));
    await this.attachDetector(entry, settings);
    if (this.running.get(cameraId) !== entry) return; // stopped while starting
    entry.unsubscribe = this.frames.subscribe(cameraId, (frame) => this.onFrame(entry, frame));
  }

  /** Gives the camera a detector with its settings and its organization's model, or records why it has none. */
  private async attachDetector(entry: Running, settings: CameraDetectionSettings): Promise<void> {
    const { cameraId } = settings;
    if (settings.mode === 'off') {
      await this.cameras.recordDetectionStatus(cameraId, 'off', 'detection off: switched off for this camera');
      return;
    }
    const load = await this.loadModel(await this.choices.pathFor(settings.orgId));
    if (load.status !== 'ready') {
      await this.cameras.recordDetectionStatus(cameraId, load.status, load.reason);
      return;
    }
    const recorder = new ViolationRecorder(this.ctx, this.ingest, this.photos, principalOf(settings), (incident) => {
      this.counters.violation(entry.clock, incident.startedAt, incident.rule);
    });
    const detector = await createDetector({
      model: load.model, confidence: settings.confidence, masks: settings.masks, minPersonArea: settings.minPersonArea,
      rules: { enabled: ENABLED[settings.mode], zones: settings.zones },
    });
    [entry.detector, entry.recorder] = [detector, recorder];
    const rules = detector.state.status === 'ready' ? detector.state.rules : [];
    await this.cameras.recordDetectionStatus(cameraId, 'running', rules.length === 0 ? 'no rule applies: add a zone, or use a model with hard-hat or vest classes' : null);
  }

  /**
   * An organization chose another model: its cameras running here close their open incidents and get a
   * detector with the new model; their decoders and frame subscriptions go on untouched.
   */
  private async restartOrganization(orgId: string): Promise<void> {
    for (const entry of [...this.running.values()].filter((running) => running.clock.orgId === orgId)) {
      await this.bookkeeping(async () => {
        const old = entry.detector;
        entry.detector = null; // frames arriving meanwhile are only counted
        await entry.inFlight;
        if (old) this.queueWrites(entry, await old.close(Date.now()), null);
        await entry.writes;
        if (this.running.get(entry.clock.cameraId) === entry) await this.attachDetector(entry, await this.cameras.detectionFor(entry.clock.cameraId));
      });
    }
  }

  async stop(cameraId: string): Promise<void> {
    const entry = this.running.get(cameraId);
    if (!entry) return;
    this.running.delete(cameraId);
    entry.unsubscribe();
    await entry.inFlight;
    if (entry.detector) {
      const closing = await entry.detector.close(Date.now());
      this.queueWrites(entry, closing, null);
    }
    await entry.writes;
    await this.bookkeeping(() => this.flushStatistics());
    await this.bookkeeping(() => this.cameras.recordDetectionStatus(cameraId, 'idle', null));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    this.stopBus();
    await this.stopAll();
    await this.bookkeeping(() => this.flushStatistics());
    const loads = await Promise.all(this.models.values());
    this.models.clear();
    for (const load of loads) if (load.status === 'ready') await load.model.close();
  }

  /** Writes the statistics counted so far (every minute on its own; tests and shutdown call it). */
  flushStatistics(): Promise<void> {
    return this.counters.flush(this.ctx.db);
  }

  /** A shared model; a missing or unusable one is tried again at the next camera start (the operator may have installed it). */
  private async loadModel(modelPath: string): Promise<ModelLoad> {
    let loading = this.models.get(modelPath);
    if (!loading) {
      loading = loadDetectionModel(modelPath);
      this.models.set(modelPath, loading);
    }
    const load = await loading;
    if (load.status !== 'ready' && this.models.get(modelPath) === loading) this.models.delete(modelPath);
    return load;
  }

  /** Called by the decoder for every frame: returns at once. */
  private onFrame(entry: Running, frame: Frame): void {
    this.counters.decoded(entry.clock, frame.at);
    if (!entry.detector) return;
    if (entry.inFlight) {
      this.counters.skipped(entry.clock, frame.at);
      return;
    }
    entry.inFlight = this.analyse(entry, entry.detector, frame).finally(() => {
      entry.inFlight = null;
    });
  }

  private async analyse(entry: Running, detector: Detector, frame: Frame): Promise<void> {
    let result;
    try {
      result = await detector.process({ jpeg: frame.jpeg, ts: frame.at });
    } catch (error) {
      this.counters.failed(entry.clock, frame.at);
      // A corrupt frame now and then is normal on a lossy link; the first of a run is logged, not every one.
      if (entry.failures++ === 0) this.ctx.logger.warn({ err: error, cameraId: entry.clock.cameraId }, 'a camera frame could not be analysed; skipped');
      return;
    }
    entry.failures = 0;
    if (result.ran) this.counters.inferred(entry.clock, frame.at, result.timing.inferenceMs, result.timing.totalMs);
    if (result.changes.length > 0) this.queueWrites(entry, result.changes, frame.jpeg);
  }

  private queueWrites(entry: Running, changes: Parameters<ViolationRecorder['record']>[0], jpeg: Buffer | null): void {
    const recorder = entry.recorder;
    if (!recorder || changes.length === 0) return;
    entry.writes = entry.writes.then(() => recorder.record(changes, jpeg)).catch((error: unknown) => {
      this.ctx.logger.error({ err: error, cameraId: entry.clock.cameraId }, 'could not record a violation');
    });
  }

  private async bookkeeping(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'detection bookkeeping failed');
    }
  }
}

/** The camera as the device its violations come from (it has no device key: its own worker reports for it). */
function principalOf(settings: CameraDetectionSettings): DevicePrincipal {
  return {
    deviceId: settings.cameraId, keyId: '', orgId: settings.orgId, siteId: settings.siteId, kind: 'camera', name: settings.name, serial: settings.serial,
    speedLimit: null, speedUnits: null, timezone: settings.timezone,
  };
}
