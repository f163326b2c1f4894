import sharp from 'sharp';
import type { Logger } from 'pino';

/**
 * The small street map on a speed study's title page: the few raster tiles around the study location,
 * fetched from the configured tile server (MAP_TILE_URL), stitched with sharp and marked with a pin.
 * Tiles are optional: any tile that fails or is late (the whole fetch shares one timeout) leaves the
 * report without a map rather than with a misleading partial one, and the report says so.
 */
export const MAP_WIDTH = 512;
export const MAP_HEIGHT = 256;
const TILE = 256;
/** Street level: ~2.4 m a pixel at the equator, so the image spans about a kilometre. */
const ZOOM = 16;

export interface MapImage {
  png: Buffer;
  attribution: string;
}

export interface MapSource {
  /** `{z}/{x}/{y}` template; `{s}` (subdomain) becomes `a`, `{r}` (retina suffix) is dropped. */
  url: string;
  attribution: string;
  timeoutMs: number;
}

/** The position of a WGS 84 point on the Web Mercator world image at `zoom`, in pixels. */
export function worldPixel(lat: number, lon: number, zoom: number): { x: number; y: number } {
  const size = TILE * 2 ** zoom;
  const clamped = Math.max(-85.05112878, Math.min(85.05112878, lat));
  const rad = (clamped * Math.PI) / 180;
  return {
    x: ((lon + 180) / 360) * size,
    y: ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * size,
  };
}

function tileUrl(template: string, z: number, x: number, y: number): string {
  return template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y)).replace('{s}', 'a').replace('{r}', '');
}

const PIN = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="40" viewBox="0 0 28 40">' +
  '<path d="M14 39C14 39 2 23 2 14a12 12 0 0 1 24 0c0 9-12 25-12 25z" fill="#dc2626" stroke="#ffffff" stroke-width="2.5"/>' +
  '<circle cx="14" cy="14" r="4.5" fill="#ffffff"/></svg>',
);

async function fetchTile(url: string, signal: AbortSignal): Promise<Buffer> {
  // Tile providers' usage policies ask for an identifying User-Agent.
  const response = await fetch(url, { signal, headers: { 'user-agent': 'Vigil-Reports/1 (speed-study map)' } });
  if (!response.ok) throw new Error(`tile ${url} answered ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  // Retina (512 px) or odd-sized tiles are brought to the grid's size.
  return sharp(bytes).resize(TILE, TILE, { fit: 'fill' }).png().toBuffer();
}

/** A PNG map centred on the point with a pin on it, or null when the tiles could not all be had in time. */
export async function mapImage(source: MapSource, lat: number, lon: number, logger: Logger): Promise<MapImage | null> {
  const centre = worldPixel(lat, lon, ZOOM);
  const left = Math.round(centre.x - MAP_WIDTH / 2);
  const top = Math.round(centre.y - MAP_HEIGHT / 2);
  const firstX = Math.floor(left / TILE);
  const firstY = Math.floor(top / TILE);
  const columns = Math.floor((left + MAP_WIDTH - 1) / TILE) - firstX + 1;
  const rows = Math.floor((top + MAP_HEIGHT - 1) / TILE) - firstY + 1;
  const tilesPerSide = 2 ** ZOOM;
  const signal = AbortSignal.timeout(source.timeoutMs);
  try {
    const tiles = await Promise.all(Array.from({ length: columns * rows }, async (_, i) => {
      const column = i % columns;
      const row = Math.floor(i / columns);
      const y = firstY + row;
      // Above or below the world (near the poles) there is no tile: that part stays background.
      if (y < 0 || y >= tilesPerSide) return null;
      const x = (((firstX + column) % tilesPerSide) + tilesPerSide) % tilesPerSide;
      return { input: await fetchTile(tileUrl(source.url, ZOOM, x, y), signal), left: column * TILE, top: row * TILE };
    }));
    const grid = await sharp({ create: { width: columns * TILE, height: rows * TILE, channels: 3, background: '#e5e7eb' } })
      .composite(tiles.filter((t) => t !== null)).png().toBuffer();
    const png = await sharp(grid)
      .extract({ left: left - firstX * TILE, top: top - firstY * TILE, width: MAP_WIDTH, height: MAP_HEIGHT })
      .png().toBuffer();
    // The pin's tip (bottom centre of its 28 × 40 box) sits on the point.
    const marked = await sharp(png).composite([{ input: PIN, left: MAP_WIDTH / 2 - 14, top: MAP_HEIGHT / 2 - 40 }]).removeAlpha().png().toBuffer();
    return { png: marked, attribution: source.attribution };
  } catch (error) {
    logger.warn({ err: error }, 'report: map tiles unavailable, the title page goes without a map');
    return null;
  }
}
