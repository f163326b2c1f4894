import sharp from 'sharp';
import type { Box } from './geometry.js';
import { frameSize } from './letterbox.js';

/**
 * The pictures of a violation: the whole frame (the event's photo) and a thumbnail cropped around the person
 * with room around them, so a list of violations shows who at a glance while the photo keeps the context.
 */
export const THUMBNAIL_WIDTH = 320;
/** Room added on each side of the person's box, as a share of its width and height. */
export const CROP_PADDING = 0.25;

export interface Evidence {
  /** Frame size in pixels, to express the box as fractions of the picture. */
  width: number;
  height: number;
  thumbnail: Buffer;
}

/** The padded crop of `box` (frame pixels) from a JPEG frame, as a JPEG at most THUMBNAIL_WIDTH wide. */
export async function violationEvidence(jpeg: Buffer, box: Box): Promise<Evidence> {
  const { width, height } = await frameSize(jpeg);
  const padX = (box.x2 - box.x1) * CROP_PADDING;
  const padY = (box.y2 - box.y1) * CROP_PADDING;
  const left = clamp(Math.floor(box.x1 - padX), 0, width - 1);
  const top = clamp(Math.floor(box.y1 - padY), 0, height - 1);
  const right = clamp(Math.ceil(box.x2 + padX), left + 1, width);
  const bottom = clamp(Math.ceil(box.y2 + padY), top + 1, height);
  const thumbnail = await sharp(jpeg)
    .extract({ left, top, width: right - left, height: bottom - top })
    .resize({ width: THUMBNAIL_WIDTH, height: THUMBNAIL_WIDTH, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
  return { width, height, thumbnail };
}

/** The box as fractions (0–1) of the picture, like zones and masks, rounded to what a picture can show. */
export function normalisedBox(box: Box, width: number, height: number): Box {
  const round = (value: number) => Math.round(clamp(value, 0, 1) * 10_000) / 10_000;
  return { x1: round(box.x1 / width), y1: round(box.y1 / height), x2: round(box.x2 / width), y2: round(box.y2 / height) };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
