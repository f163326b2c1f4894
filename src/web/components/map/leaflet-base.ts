import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { ConsoleConfig } from '../../api/fleet';
import './map.css';

export { L };

/** Attribution text as Leaflet wants it (it inserts HTML): the configured credit, escaped, so it shows as plain text. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A Leaflet map on `container` with the configured raster tiles. Tiles that fail (offline, blocked)
 * leave a plain background under the markers; `onTilesFailed` is told once, so the page can say so.
 */
export function createBaseMap(container: HTMLElement, tiles: ConsoleConfig['mapTiles'] | undefined, onTilesFailed: () => void): L.Map {
  const map = L.map(container, { worldCopyJump: true, minZoom: 2, zoomControl: true, attributionControl: true });
  map.attributionControl.setPrefix(false);
  if (tiles) {
    const layer = L.tileLayer(tiles.url, { attribution: escapeHtml(tiles.attribution), maxZoom: 19, subdomains: 'abc' });
    let failed = false;
    layer.on('tileerror', () => {
      if (failed) return;
      failed = true;
      onTilesFailed();
    });
    layer.addTo(map);
  }
  return map;
}
