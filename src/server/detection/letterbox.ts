import sharp, { type Sharp } from 'sharp';
import type { Box } from './geometry.js';

/**
 * A YOLO model sees a fixed square (or rectangle); a camera frame of another shape is scaled to fit without
 * distortion and the rest is padded with Ultralytics' grey (114), as in training. The geometry is kept so that
 * boxes found in the model's input map back to pixels of the original frame.
 */
export const PAD_GREY = 114;

export interface RgbFrame {
  /** Packed RGB24, row after row. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface LetterboxGeometry {
  sourceWidth: number;
  sourceHeight: number;
  inputWidth: number;
  inputHeight: number;
  /** Size of the scaled picture inside the input. */
  scaledWidth: number;
  scaledHeight: number;
  /** Left and top padding in input pixels. */
  padX: number;
  padY: number;
}

export function letterboxGeometry(sourceWidth: number, sourceHeight: number, inputWidth: number, inputHeight: number): LetterboxGeometry {
  const gain = Math.min(inputWidth / sourceWidth, inputHeight / sourceHeight);
  const scaledWidth = Math.max(1, Math.min(inputWidth, Math.round(sourceWidth * gain)));
  const scaledHeight = Math.max(1, Math.min(inputHeight, Math.round(sourceHeight * gain)));
  return {
    sourceWidth,
    sourceHeight,
    inputWidth,
    inputHeight,
    scaledWidth,
    scaledHeight,
    padX: Math.floor((inputWidth - scaledWidth) / 2),
    padY: Math.floor((inputHeight - scaledHeight) / 2),
  };
}

/**
 * Maps a box from model-input pixels to original-frame pixels, clipped to the frame. Each axis has its own
 * scale (the scaled size is rounded to whole pixels), so a box drawn on the frame comes back exactly.
 */
export function boxToSource(box: Box, g: LetterboxGeometry): Box {
  const sx = g.scaledWidth / g.sourceWidth;
  const sy = g.scaledHeight / g.sourceHeight;
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return {
    x1: clip((box.x1 - g.padX) / sx, g.sourceWidth),
    y1: clip((box.y1 - g.padY) / sy, g.sourceHeight),
    x2: clip((box.x2 - g.padX) / sx, g.sourceWidth),
    y2: clip((box.y2 - g.padY) / sy, g.sourceHeight),
  };
}

/** The inverse of boxToSource (for tests and drawing): original-frame pixels to model-input pixels. */
export function boxToInput(box: Box, g: LetterboxGeometry): Box {
  const sx = g.scaledWidth / g.sourceWidth;
  const sy = g.scaledHeight / g.sourceHeight;
  return { x1: box.x1 * sx + g.padX, y1: box.y1 * sy + g.padY, x2: box.x2 * sx + g.padX, y2: box.y2 * sy + g.padY };
}

/** HWC uint8 RGB → CHW float32 in 0–1, the layout and range Ultralytics models are exported with. */
export function toChwFloat(rgb: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  for (let i = 0, p = 0; p < plane; p++, i += 3) {
    out[p] = rgb[i]! / 255;
    out[plane + p] = rgb[i + 1]! / 255;
    out[2 * plane + p] = rgb[i + 2]! / 255;
  }
  return out;
}

/** A frame as sharp reads it: raw RGB24 with its size, or an encoded image (JPEG) it decodes itself. */
export function imageOf(frame: RgbFrame | Buffer): Sharp {
  if (Buffer.isBuffer(frame)) return sharp(frame).removeAlpha().toColourspace('srgb');
  return sharp(checkedRgb(frame), { raw: { width: frame.width, height: frame.height, channels: 3 } });
}

function checkedRgb(frame: RgbFrame): Uint8Array {
  if (frame.rgb.length !== frame.width * frame.height * 3) {
    throw new Error(`an RGB frame of ${frame.width}×${frame.height} needs ${frame.width * frame.height * 3} bytes, got ${frame.rgb.length}`);
  }
  return frame.rgb;
}

/** The width and height of a frame; of a JPEG, read from its header without decoding it. */
export async function frameSize(frame: RgbFrame | Buffer): Promise<{ width: number; height: number }> {
  if (!Buffer.isBuffer(frame)) return { width: frame.width, height: frame.height };
  const { width, height } = await sharp(frame).metadata();
  return { width, height };
}

/**
 * Letterboxes a frame into the model's input: the tensor data ([1,3,H,W]) and the geometry to map boxes back.
 * A JPEG is decoded straight to the scaled size (libjpeg shrinks while decoding), never to a full-size copy.
 */
export async function letterbox(frame: RgbFrame | Buffer, inputWidth: number, inputHeight: number): Promise<{ tensor: Float32Array; geometry: LetterboxGeometry }> {
  const { width, height } = await frameSize(frame);
  const geometry = letterboxGeometry(width, height, inputWidth, inputHeight);
  let pixels: Uint8Array;
  if (!Buffer.isBuffer(frame) && geometry.scaledWidth === width && geometry.scaledHeight === height && geometry.padX === 0 && geometry.padY === 0) {
    pixels = checkedRgb(frame);
  } else {
    const { scaledWidth, scaledHeight, padX, padY } = geometry;
    const data = await imageOf(frame)
      .resize(scaledWidth, scaledHeight, { fit: 'fill' })
      .extend({
        top: padY,
        bottom: inputHeight - scaledHeight - padY,
        left: padX,
        right: inputWidth - scaledWidth - padX,
        background: { r: PAD_GREY, g: PAD_GREY, b: PAD_GREY },
      })
      .raw()
      .toBuffer();
    pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return { tensor: toChwFloat(pixels, inputWidth, inputHeight), geometry };
}
