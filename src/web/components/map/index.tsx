import { lazy, Suspense, type ComponentProps } from 'react';
import { Spinner } from '../states';

/** The maps are loaded only when a page shows one, so Leaflet stays out of the first download. */
const loadDeviceMap = () => import('./DeviceMap');
const DeviceMap = lazy(loadDeviceMap);

/**
 * Starts downloading the map while the page fetches its data (the browser keeps one copy of the module).
 * Also the overview route's loader, so it returns null: the route has no data of its own.
 */
export function preloadDeviceMap(): null {
  void loadDeviceMap();
  return null;
}
const LocationPicker = lazy(() => import('./LocationPicker'));

export type { LatLon } from './LocationPicker';

function Loading({ height }: { height: number }) {
  return (
    <div className="state" style={{ minHeight: height, display: 'grid', placeItems: 'center' }}>
      <Spinner label="Loading the map…" />
    </div>
  );
}

export function LazyDeviceMap(props: ComponentProps<typeof DeviceMap>) {
  return <Suspense fallback={<Loading height={420} />}><DeviceMap {...props} /></Suspense>;
}

export function LazyLocationPicker(props: ComponentProps<typeof LocationPicker>) {
  return <Suspense fallback={<Loading height={300} />}><LocationPicker {...props} /></Suspense>;
}
