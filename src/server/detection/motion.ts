import { imageOf, type RgbFrame } from './letterbox.js';

/**
 * Motion gating, as Frigate does it: the detector is the expensive part, so a frame goes to it only when
 * something moved, or when objects are being tracked and have not been looked at for a while (a worker
 * standing still without a hard hat is still a violation, and still there). Motion is measured on a tiny grey
 * copy of the frame against a slowly learned background, so sensor noise and a single flicker do not count.
 */
export interface MotionOptions {
  /** Size of the grey copy motion is measured on. */
  width: number;
  height: number;
  /** A pixel has changed when it differs from the background by more than this (0–255). */
  pixelThreshold: number;
  /** Share of the frame's pixels (0–1) that must change for the frame to count as motion. */
  minChangedFraction: number;
  /** How fast the background learns the current frame (0–1 per frame): slow light changes fade in. */
  backgroundAlpha: number;
  /** Tracked objects are looked at again after this long even without motion (ms). */
  recheckIntervalMs: number;
}

export const DEFAULT_MOTION: MotionOptions = {
  width: 64,
  height: 36,
  pixelThreshold: 25,
  minChangedFraction: 0.004,
  backgroundAlpha: 0.2,
  recheckIntervalMs: 5000,
};

export interface MotionReading {
  motion: boolean;
  /** Share of the grey copy's pixels that changed (0–1). */
  changedFraction: number;
}

/** The tiny grey copy of a frame motion is measured on (a JPEG is shrunk while it is decoded: cheap). */
export async function greyThumbnail(frame: RgbFrame | Buffer, width: number, height: number): Promise<Uint8Array> {
  const data = await imageOf(frame)
    .resize(width, height, { fit: 'fill' })
    .greyscale()
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Frame differencing against a running-average background. */
export class MotionDetector {
  private background: Float32Array | null = null;

  constructor(private readonly options: Pick<MotionOptions, 'pixelThreshold' | 'minChangedFraction' | 'backgroundAlpha'>) {}

  /** Compares a grey thumbnail with the background, then lets the background learn it. The first frame is the background. */
  update(grey: Uint8Array): MotionReading {
    if (!this.background || this.background.length !== grey.length) {
      this.background = Float32Array.from(grey);
      return { motion: false, changedFraction: 0 };
    }
    const bg = this.background;
    const alpha = this.options.backgroundAlpha;
    let changed = 0;
    for (let i = 0; i < grey.length; i++) {
      const value = grey[i]!;
      if (Math.abs(value - bg[i]!) > this.options.pixelThreshold) changed++;
      bg[i] = bg[i]! + alpha * (value - bg[i]!);
    }
    const changedFraction = changed / grey.length;
    return { motion: changedFraction >= this.options.minChangedFraction, changedFraction };
  }

  reset(): void {
    this.background = null;
  }
}

export type GateReason = 'first' | 'motion' | 'recheck';

/**
 * Decides which frames the detector sees: the first one (nothing is known yet), every frame with motion, and
 * with objects tracked, one every `recheckIntervalMs` so their state stays current.
 */
export class DetectionGate {
  private lastDetectionAt: number | undefined;

  constructor(private readonly recheckIntervalMs: number) {}

  decide(ts: number, motion: boolean, tracking: boolean): GateReason | null {
    if (this.lastDetectionAt === undefined) return 'first';
    if (motion) return 'motion';
    if (tracking && ts - this.lastDetectionAt >= this.recheckIntervalMs) return 'recheck';
    return null;
  }

  detected(ts: number): void {
    this.lastDetectionAt = ts;
  }
}
