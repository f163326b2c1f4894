import { decodeYolo, type Detection } from './decode.js';
import { frameSize, letterbox, type RgbFrame } from './letterbox.js';
import { loadDetectionModel, type DetectionModel, type ModelOptions } from './model.js';
import { DEFAULT_MOTION, DetectionGate, greyThumbnail, MotionDetector, type GateReason, type MotionOptions } from './motion.js';
import type { Incident, IncidentChange, RuleName } from './rules.js';
import { Scene, type SceneOptions } from './scene.js';
import type { Track } from './tracker.js';

/**
 * One camera's detection pipeline: frame in, detections and incident changes out. A frame is measured for
 * motion; if the gate lets it through it is letterboxed, run through the model, decoded, filtered by the
 * camera's masks, tracked, and judged by the rules. Each stage is timed, so Vigil's own cost can be set against
 * onnxruntime's. Without a model the detector is off and says why; it never throws for that.
 */
export interface DetectorOptions extends SceneOptions {
  /** A model already loaded (shared by a worker's cameras), or a path to load one from. */
  model?: DetectionModel;
  modelPath?: string;
  modelOptions?: ModelOptions;
  /** The camera's confidence threshold (0–1). */
  confidence?: number;
  iouThreshold?: number;
  maxDetections?: number;
  motion?: Partial<MotionOptions>;
}

export interface InputFrame {
  /** A JPEG (as the camera decoder delivers), or raw RGB24 with its size. */
  jpeg?: Buffer;
  rgb?: Uint8Array;
  width?: number;
  height?: number;
  /** Capture time, ms since the epoch. */
  ts: number;
}

export type DetectorState =
  | { status: 'ready'; modelPath: string; classNames: readonly string[]; inputWidth: number; inputHeight: number; rules: RuleName[] }
  | { status: 'off' | 'error'; reason: string };

export interface FrameTiming {
  /** The tiny grey copy and its comparison with the background (every frame). */
  motionMs: number;
  /** Decoding and letterboxing into the model's input (frames the gate lets through). */
  preprocessMs: number;
  /** onnxruntime's run alone. */
  inferenceMs: number;
  postprocessMs: number;
  trackingMs: number;
  totalMs: number;
}

export interface FrameResult {
  ts: number;
  /** Why the detector ran on this frame; null: the gate skipped it (no motion, nothing to re-check). */
  ran: GateReason | null;
  motion: { motion: boolean; changedFraction: number };
  detections: Detection[];
  persons: Track[];
  changes: IncidentChange[];
  timing: FrameTiming;
}

export interface Detector {
  readonly state: DetectorState;
  /** Frames are handled one at a time in arrival order; each call resolves with its own frame's result. */
  process(frame: InputFrame): Promise<FrameResult>;
  readonly openIncidents: Incident[];
  /** Closes what is open and, if the detector loaded its own model, releases it. */
  close(ts?: number): Promise<IncidentChange[]>;
}

const emptyTiming = (): FrameTiming => ({ motionMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, trackingMs: 0, totalMs: 0 });

function offDetector(state: DetectorState): Detector {
  return {
    state,
    openIncidents: [],
    process: async (frame) => ({ ts: frame.ts, ran: null, motion: { motion: false, changedFraction: 0 }, detections: [], persons: [], changes: [], timing: emptyTiming() }),
    close: async () => [],
  };
}

function sourceOf(frame: InputFrame): RgbFrame | Buffer {
  if (frame.rgb) {
    if (!frame.width || !frame.height) throw new Error('a raw RGB frame needs its width and height');
    return { rgb: frame.rgb, width: frame.width, height: frame.height };
  }
  if (frame.jpeg) return frame.jpeg;
  throw new Error('a frame needs a JPEG or raw RGB pixels');
}

export async function createDetector(options: DetectorOptions): Promise<Detector> {
  let model = options.model;
  const ownsModel = !model;
  if (!model) {
    const load = await loadDetectionModel(options.modelPath, options.modelOptions);
    if (load.status !== 'ready') return offDetector(load);
    model = load.model;
  }
  const ready: DetectionModel = model;
  const scene = new Scene(ready.classNames, options);
  const motionOptions = { ...DEFAULT_MOTION, ...options.motion };
  const motion = new MotionDetector(motionOptions);
  const gate = new DetectionGate(motionOptions.recheckIntervalMs);
  const decodeOptions = { confidence: options.confidence ?? 0.25, iouThreshold: options.iouThreshold ?? 0.45, maxDetections: options.maxDetections ?? 100 };
  const state: DetectorState = {
    status: 'ready',
    modelPath: ready.path,
    classNames: ready.classNames,
    inputWidth: ready.inputWidth,
    inputHeight: ready.inputHeight,
    rules: scene.activeRules,
  };

  async function handle(frame: InputFrame): Promise<FrameResult> {
    const timing = emptyTiming();
    const started = performance.now();
    let mark = started;
    const lap = () => {
      const now = performance.now();
      const spent = now - mark;
      mark = now;
      return spent;
    };
    const source = sourceOf(frame);
    const size = await frameSize(source);
    const reading = motion.update(await greyThumbnail(source, motionOptions.width, motionOptions.height));
    timing.motionMs = lap();
    const ran = gate.decide(frame.ts, reading.motion, scene.tracking);
    const result: FrameResult = { ts: frame.ts, ran, motion: reading, detections: [], persons: [], changes: [], timing };
    if (ran) {
      gate.detected(frame.ts);
      const { tensor, geometry } = await letterbox(source, ready.inputWidth, ready.inputHeight);
      timing.preprocessMs = lap();
      const { output, dims, inferenceMs } = await ready.run(tensor);
      timing.inferenceMs = inferenceMs;
      const found = decodeYolo(output, dims, { classNames: ready.classNames, geometry, ...decodeOptions });
      timing.postprocessMs = lap() - inferenceMs;
      const step = scene.step({ ts: frame.ts, ...size }, found);
      Object.assign(result, step);
      timing.trackingMs = lap();
    }
    timing.totalMs = performance.now() - started;
    return result;
  }

  let queue: Promise<unknown> = Promise.resolve();
  return {
    state,
    get openIncidents() {
      return scene.openIncidents;
    },
    process(frame) {
      const next = queue.then(() => handle(frame));
      queue = next.catch(() => undefined);
      return next;
    },
    async close(ts = Date.now()) {
      await queue;
      const changes = scene.closeAll(ts);
      if (ownsModel) await ready.close();
      return changes;
    },
  };
}
