import { useEffect, useState } from 'react';
import type { DetectionSettings, Polygon } from '../../api/cameras';

/** Zones in red, masks in blue and dashed: told apart by the line too, never by colour alone. */
export const ZONE_COLOUR = '#dc2626';
export const MASK_COLOUR = '#2563eb';

/** An element's size in CSS pixels, kept up to date. */
export function useElementSize(element: Element | null): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    if (!element) return;
    const measure = () => setSize({ width: element.clientWidth, height: element.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return size;
}

/** Where a picture of `aspect` (width / height) lands inside a box when shown whole (object-fit: contain). */
export function containedRect(box: { width: number; height: number }, aspect: number) {
  const width = Math.min(box.width, box.height * aspect);
  const height = width / aspect;
  return { left: (box.width - width) / 2, top: (box.height - height) / 2, width, height };
}

export const pointsAttribute = (polygon: Polygon, width: number, height: number) => polygon.map(([x, y]) => `${x * width},${y * height}`).join(' ');

/** The point a polygon's name is written at: the mean of its points. */
export function centroid(polygon: Polygon): [number, number] {
  const sum = polygon.reduce(([sx, sy], [x, y]) => [sx + x, sy + y], [0, 0]);
  return [sum[0] / polygon.length, sum[1] / polygon.length];
}

/**
 * A camera's zones and masks over its live picture: an SVG laid exactly on the picture (shown whole inside
 * the box, so its letterbox is left out), the polygons in the picture's normalised coordinates.
 */
export function ZoneOverlay({ detection, aspect }: { detection: Pick<DetectionSettings, 'zones' | 'masks'>; aspect: number }) {
  const [element, setElement] = useState<SVGSVGElement | null>(null);
  const box = useElementSize(element);
  const rect = containedRect(box, aspect);
  const names = detection.zones.map((z) => z.name).join(', ');
  const label = `${detection.zones.length === 0 ? 'No zones' : `Zones: ${names}`}; ${detection.masks.length} ${detection.masks.length === 1 ? 'mask' : 'masks'}`;
  return (
    <svg ref={setElement} className="zone-overlay" role="img" aria-label={label} data-testid="zone-overlay">
      {rect.width > 0 && (
        <g transform={`translate(${rect.left} ${rect.top})`}>
          {detection.masks.map((mask, index) => (
            <polygon key={`mask-${index}`} className="zone-shape-mask" points={pointsAttribute(mask, rect.width, rect.height)} />
          ))}
          {detection.zones.map((zone) => {
            const [cx, cy] = centroid(zone.polygon);
            return (
              <g key={zone.name}>
                <polygon className="zone-shape-zone" points={pointsAttribute(zone.polygon, rect.width, rect.height)} />
                <text className="zone-shape-label" x={cx * rect.width} y={cy * rect.height} textAnchor="middle">{zone.name}</text>
              </g>
            );
          })}
        </g>
      )}
    </svg>
  );
}
