import { useEffect, useRef, useState } from 'react';
import type { ConsoleConfig } from '../../api/fleet';
import { createBaseMap, L } from './leaflet-base';

export interface LatLon {
  lat: number;
  lon: number;
}

const PIN = () => L.divIcon({
  className: 'map-marker-wrap',
  html: '<span class="map-marker map-marker-online map-marker-selected"><span class="map-marker-glyph" aria-hidden="true">●</span></span>',
  iconSize: [22, 22],
  iconAnchor: [11, 11],
});

/** Rounded to about 1 m, as a device's position is typed. */
const round = (value: number) => Math.round(value * 1e5) / 1e5;

/**
 * A map to place one point: click (or tap) to put the pin there, drag it to adjust. The typed latitude
 * and longitude fields next to it are the keyboard way; the pin follows them.
 */
export default function LocationPicker({ value, onChange, center, tiles, label, pinTitle = 'Device position' }: {
  value: LatLon | null;
  onChange: (value: LatLon) => void;
  /** Where to look when there is no point yet (the site's position). */
  center: LatLon | null;
  tiles: ConsoleConfig['mapTiles'] | undefined;
  label: string;
  /** The pin's tooltip. */
  pinTitle?: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const pin = useRef<L.Marker | null>(null);
  const change = useRef(onChange);
  const [tilesFailed, setTilesFailed] = useState(false);
  const start = useRef({ value, center });

  useEffect(() => {
    change.current = onChange;
  }, [onChange]);

  useEffect(() => {
    if (!container.current) return;
    const created = createBaseMap(container.current, tiles, () => setTilesFailed(true));
    const first = start.current.value ?? start.current.center;
    created.setView(first ? [first.lat, first.lon] : [20, 0], first ? 15 : 2);
    created.on('click', (e: L.LeafletMouseEvent) => change.current({ lat: round(e.latlng.lat), lon: round(e.latlng.wrap().lng) }));
    map.current = created;
    // Shown inside a dialog or a step that was hidden when the map was made: size it once it is visible.
    const resized = new ResizeObserver(() => created.invalidateSize());
    resized.observe(container.current);
    return () => {
      resized.disconnect();
      created.remove();
      map.current = null;
      pin.current = null;
    };
  }, [tiles]);

  useEffect(() => {
    const current = map.current;
    if (!current) return;
    if (!value) {
      pin.current?.remove();
      pin.current = null;
      return;
    }
    if (!pin.current) {
      pin.current = L.marker([value.lat, value.lon], { icon: PIN(), draggable: true, keyboard: false, title: pinTitle }).addTo(current);
      pin.current.on('dragend', () => {
        const at = pin.current!.getLatLng();
        change.current({ lat: round(at.lat), lon: round(at.wrap().lng) });
      });
    } else {
      pin.current.setLatLng([value.lat, value.lon]);
    }
    if (!current.getBounds().contains([value.lat, value.lon])) current.panTo([value.lat, value.lon]);
  }, [value, pinTitle]);

  return (
    <>
      <div className="map map-small">
        <div ref={container} style={{ height: '100%' }} role="region" aria-label={label} data-testid="location-picker" />
      </div>
      {tilesFailed && <p className="map-note" role="status">Map tiles could not be loaded: place the pin on the plain background or type the coordinates.</p>}
    </>
  );
}
