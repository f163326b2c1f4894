import { iou, type Box } from './geometry.js';
import { boxToSource, type LetterboxGeometry } from './letterbox.js';

/**
 * The output head of Ultralytics YOLOv8/YOLO11 detection models: one tensor [1, 4 + nc, N], for each of N
 * candidate boxes its centre x, centre y, width, height (model-input pixels) and one score per class, with no
 * objectness and no NMS. Decoding picks each candidate's best class, drops weak ones, maps the box back to
 * the frame, and suppresses overlapping boxes of the same class.
 */
export interface Detection {
  classId: number;
  className: string;
  score: number;
  /** Pixels of the original frame, clipped to it. */
  box: Box;
}

export interface DecodeOptions {
  classNames: readonly string[];
  geometry: LetterboxGeometry;
  /** Candidates whose best class score is below this are dropped (the camera's confidence threshold). */
  confidence: number;
  /** Two boxes of one class overlapping more than this (IoU) are one object. */
  iouThreshold: number;
  maxDetections: number;
}

export function decodeYolo(output: Float32Array, dims: readonly number[], options: DecodeOptions): Detection[] {
  const nc = options.classNames.length;
  if (dims.length !== 3 || dims[0] !== 1 || dims[1] !== 4 + nc) {
    throw new Error(`expected an output of [1, ${4 + nc}, N] (4 box values and ${nc} class scores), got [${dims.join(', ')}]`);
  }
  const n = dims[2]!;
  const candidates: Detection[] = [];
  for (let i = 0; i < n; i++) {
    let classId = 0;
    let score = -Infinity;
    for (let c = 0; c < nc; c++) {
      const s = output[(4 + c) * n + i]!;
      if (s > score) {
        score = s;
        classId = c;
      }
    }
    if (!(score >= options.confidence)) continue;
    const cx = output[i]!;
    const cy = output[n + i]!;
    const w = output[2 * n + i]!;
    const h = output[3 * n + i]!;
    const box = boxToSource({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, options.geometry);
    if (box.x2 <= box.x1 || box.y2 <= box.y1) continue;
    candidates.push({ classId, className: options.classNames[classId]!, score, box });
  }
  return nms(candidates, options.iouThreshold, options.maxDetections);
}

/**
 * Class-aware non-maximum suppression: the strongest box of a class wins and hides weaker boxes of the same
 * class that overlap it by more than `iouThreshold`. A hard hat inside a person is a different class, so
 * both are kept.
 */
export function nms(detections: readonly Detection[], iouThreshold: number, maxDetections: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const candidate of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => k.classId === candidate.classId && iou(k.box, candidate.box) > iouThreshold)) continue;
    kept.push(candidate);
  }
  return kept;
}
