import { useEffect, useRef, useState } from 'react';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import type { ConsoleConfig } from '../../api/fleet';
import type { Device, DeviceStatus } from '../../api/types';
import { STATUS_LABELS } from '../../lib/format';
import { createBaseMap, L } from './leaflet-base';
// After Leaflet: the plugin extends the `L` Leaflet puts on window.
import 'leaflet.markercluster';

/** What the map needs of a device (the console's devices, or the public pages' shared ones). */
export type MapDevice = Pick<Device, 'id' | 'name' | 'lat' | 'lon' | 'status'>;

/** What a marker shows; a marker is rebuilt only when this changes. */
function markerState(device: MapDevice, selected: boolean): string {
  return `${device.status}|${device.lat}|${device.lon}|${device.name}|${selected}`;
}

const GLYPHS: Record<DeviceStatus, string> = { online: '✓', offline: '–', error: '!' };

/** The marker's look: colour and shape and glyph by status (static markup: no user text in it). */
function statusIcon(status: DeviceStatus, selected: boolean): L.DivIcon {
  return L.divIcon({
    className: 'map-marker-wrap',
    html: `<span class="map-marker map-marker-${status}${selected ? ' map-marker-selected' : ''}"><span class="map-marker-glyph" aria-hidden="true">${GLYPHS[status]}</span></span>`,
    iconSize: [22, 22],
    iconAnchor: [11, 11],
  });
}

interface StatusMarkerOptions extends L.MarkerOptions {
  status: DeviceStatus;
}

/** A cluster shows how many devices it holds, ringed by the worst status inside, with a "!" when any reports an error. */
function clusterIcon(cluster: L.MarkerCluster): L.DivIcon {
  const counts: Record<DeviceStatus, number> = { online: 0, offline: 0, error: 0 };
  for (const marker of cluster.getAllChildMarkers()) counts[(marker.options as StatusMarkerOptions).status] += 1;
  const total = counts.online + counts.offline + counts.error;
  const worst: DeviceStatus = counts.error > 0 ? 'error' : counts.offline > 0 ? 'offline' : 'online';
  const parts = (['online', 'offline', 'error'] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${STATUS_LABELS[s].toLowerCase()}`);
  return L.divIcon({
    className: 'map-cluster-wrap',
    html: `<span class="map-cluster map-cluster-${worst}"><span aria-hidden="true">${total}</span>${counts.error > 0 ? '<span class="map-cluster-alert" aria-hidden="true">!</span>' : ''}<span class="visually-hidden">${total} devices: ${parts.join(', ')}. Zoom in</span></span>`,
    iconSize: [40, 40],
  });
}

/**
 * The fleet on a map: one marker per located device (coloured, shaped and labelled by status), grouped
 * in clusters where they crowd, so thousands stay fluid. Updates are incremental: only markers whose
 * device changed are rebuilt. Clicking (or Enter on) a marker selects its device.
 */
export default function DeviceMap({ devices, tiles, selectedId, onSelect }: {
  devices: MapDevice[];
  tiles: ConsoleConfig['mapTiles'] | undefined;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const clusters = useRef<L.MarkerClusterGroup | null>(null);
  const markers = useRef(new Map<string, { marker: L.Marker; state: string }>());
  const fitted = useRef(false);
  const select = useRef(onSelect);
  const [tilesFailed, setTilesFailed] = useState(false);

  useEffect(() => {
    select.current = onSelect;
  }, [onSelect]);

  useEffect(() => {
    if (!container.current) return;
    const created = createBaseMap(container.current, tiles, () => setTilesFailed(true));
    created.setView([20, 0], 2);
    const group = L.markerClusterGroup({
      // Thousands of markers are added in slices of 40 ms, so the page never freezes while they load.
      chunkedLoading: true, chunkInterval: 40, chunkDelay: 10, showCoverageOnHover: false, maxClusterRadius: 50, iconCreateFunction: clusterIcon,
      chunkProgress: (processed: number, total: number) => {
        // For the benchmark and the tests: the first time every marker of the fleet is on the map.
        const element = container.current;
        if (processed < total || !element || element.hasAttribute('data-ready')) return;
        element.setAttribute('data-ready', 'true');
        performance.mark('vigil:map-rendered');
      },
    });
    group.addTo(created);
    map.current = created;
    clusters.current = group;
    const known = markers.current;
    return () => {
      created.remove();
      map.current = null;
      clusters.current = null;
      known.clear();
      fitted.current = false;
    };
  }, [tiles]);

  useEffect(() => {
    const group = clusters.current;
    const current = map.current;
    if (!group || !current) return;
    const located = devices.filter((d) => d.lat !== null && d.lon !== null);
    const seen = new Set<string>();
    const added: L.Marker[] = [];
    const removed: L.Marker[] = [];
    for (const device of located) {
      seen.add(device.id);
      const selected = device.id === selectedId;
      const state = markerState(device, selected);
      const known = markers.current.get(device.id);
      if (known?.state === state) continue;
      if (known) removed.push(known.marker);
      const options: StatusMarkerOptions = {
        icon: statusIcon(device.status, selected),
        // Leaflet sets the title as a property (never parsed as HTML): the marker's accessible name.
        title: `${device.name}: ${STATUS_LABELS[device.status]}`,
        keyboard: true,
        riseOnHover: true,
        status: device.status,
      };
      const marker = L.marker([device.lat!, device.lon!], options);
      marker.on('click', () => select.current(device.id));
      markers.current.set(device.id, { marker, state });
      added.push(marker);
    }
    for (const [id, known] of markers.current) {
      if (seen.has(id)) continue;
      removed.push(known.marker);
      markers.current.delete(id);
    }
    // The view first, so the markers are clustered once, for the zoom they are shown at.
    if (!fitted.current && located.length > 0) {
      fitted.current = true;
      current.fitBounds(L.latLngBounds(located.map((d) => [d.lat!, d.lon!] as [number, number])), { padding: [30, 30], maxZoom: 15, animate: false });
    }
    if (removed.length > 0) group.removeLayers(removed);
    if (added.length > 0) group.addLayers(added);
    container.current?.setAttribute('data-markers', String(markers.current.size));
  }, [devices, selectedId]);

  const located = devices.some((d) => d.lat !== null && d.lon !== null);
  return (
    <>
      <div className="map">
        <div ref={container} className="map-canvas" style={{ height: '100%' }} role="region" aria-label="Map of devices" />
        {!located && <div className="map-empty"><p>No device has a location yet.</p></div>}
      </div>
      {/* Under the map, not over it: the markers stay in sight. */}
      {tilesFailed && <p className="map-note" role="status">Map tiles could not be loaded: devices are shown on a plain background.</p>}
    </>
  );
}
