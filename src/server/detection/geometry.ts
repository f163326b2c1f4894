/**
 * Boxes and polygons of the detection pipeline. Boxes are corner pairs in pixels of the original frame;
 * zone and mask polygons are drawn by people on a picture of any size, so they are kept normalised (0–1).
 */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A polygon of normalised [x, y] points (0–1 of the frame's width and height). */
export type Polygon = ReadonlyArray<readonly [number, number]>;

export function boxArea(box: Box): number {
  return Math.max(0, box.x2 - box.x1) * Math.max(0, box.y2 - box.y1);
}

export function intersectionArea(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  if (inter === 0) return 0;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

/** The share of `inner`'s area that lies inside `outer` (1: wholly inside). */
export function containment(outer: Box, inner: Box): number {
  const area = boxArea(inner);
  return area === 0 ? 0 : intersectionArea(outer, inner) / area;
}

export function centre(box: Box): { x: number; y: number } {
  return { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 };
}

/** Where a person stands: zones and masks are about the floor, not the head (Frigate's rule too). */
export function bottomCentre(box: Box): { x: number; y: number } {
  return { x: (box.x1 + box.x2) / 2, y: box.y2 };
}

/** True when the box touches (or nearly touches) an edge of the frame: the object is probably cut off. */
export function touchesEdge(box: Box, width: number, height: number, margin = 2): boolean {
  return box.x1 <= margin || box.y1 <= margin || box.x2 >= width - margin || box.y2 >= height - margin;
}

function onSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): boolean {
  const cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
  if (Math.abs(cross) > 1e-9) return false;
  return px >= Math.min(ax, bx) - 1e-9 && px <= Math.max(ax, bx) + 1e-9 && py >= Math.min(ay, by) - 1e-9 && py <= Math.max(ay, by) + 1e-9;
}

/** Ray casting; a point on the boundary counts as inside. Coordinates are in the polygon's own (normalised) space. */
export function pointInPolygon(x: number, y: number, polygon: Polygon): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (onSegment(x, y, xi, yi, xj, yj)) return true;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
