import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { CAMERA_STATUSES, useCameras, type Camera, type CameraFilter, type CameraStatus } from '../../api/cameras';
import { useSites } from '../../api/queries';
import type { Site } from '../../api/types';
import { CameraSnapshot, CameraStatusBadge, cameraStatusWord } from '../../components/cameras/CameraPicture';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { may } from '../../lib/access';
import { formatRelative } from '../../lib/format';
import { useUpdateSearchParams } from '../../lib/params';
import { useTitle } from '../../lib/title';
import './cameras.css';

function isStatus(value: string | null): value is CameraStatus {
  return value !== null && (CAMERA_STATUSES as string[]).includes(value);
}

/**
 * `/cameras`: every camera the user may see as a tile with its latest picture, status and zone, filtered
 * by site and status (kept in the address). `?wall=1` fills the screen with the tiles for a control
 * room's wall; Escape or the button leaves it.
 */
export function CamerasPage() {
  useTitle('Cameras');
  const [params] = useSearchParams();
  const statusParam = params.get('status');
  const filter: CameraFilter = {
    siteId: params.get('siteId') || undefined,
    status: isStatus(statusParam) ? statusParam : undefined,
  };
  const wall = params.get('wall') === '1';
  const updateParams = useUpdateSearchParams();
  const sites = useSites();
  const { me } = useSession();
  const filtered = Boolean(filter.siteId || filter.status);
  const wallRef = useRef<HTMLDivElement>(null);

  // The wall asks the browser for the whole screen (where it may); leaving full screen leaves the wall.
  useEffect(() => {
    if (!wall) return;
    const element = wallRef.current;
    wallRef.current?.focus();
    if (element?.requestFullscreen && !document.fullscreenElement) element.requestFullscreen().catch(() => undefined);
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') updateParams({ wall: null });
    };
    const onFullscreen = () => {
      if (!document.fullscreenElement) updateParams({ wall: null });
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('fullscreenchange', onFullscreen);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('fullscreenchange', onFullscreen);
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    };
  }, [wall, updateParams]);

  const grid = <CameraGrid key={JSON.stringify(filter)} filter={filter} filtered={filtered} sites={sites.data} wall={wall} />;
  if (wall) {
    return (
      <div className="camera-wall" ref={wallRef} tabIndex={-1} role="region" aria-label="Camera wall">
        <div className="camera-wall-bar">
          <h1>Cameras</h1>
          <button type="button" className="button button-small" onClick={() => updateParams({ wall: null })}>Leave wall view</button>
        </div>
        {grid}
      </div>
    );
  }
  return (
    <div className="page page-cameras">
      <header className="page-header">
        <h1>Cameras</h1>
        <div className="row-actions">
          <button type="button" className="button" onClick={() => updateParams({ wall: '1' })}>Wall view</button>
          {may(me, 'camera.write') && <Link className="button button-primary" to="/devices/new?kind=camera">Add a camera</Link>}
        </div>
      </header>
      <form className="filters" role="search" aria-label="Filter cameras" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="camera-site">Site</label>
          <select id="camera-site" value={filter.siteId ?? ''} onChange={(e) => updateParams({ siteId: e.target.value })}>
            <option value="">All sites</option>
            {[...(sites.data?.values() ?? [])].map((site) => <option key={site.id} value={site.id}>{site.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="camera-status">Status</label>
          <select id="camera-status" value={filter.status ?? ''} onChange={(e) => updateParams({ status: e.target.value })}>
            <option value="">Any status</option>
            {CAMERA_STATUSES.map((status) => <option key={status} value={status}>{cameraStatusWord(status)}</option>)}
          </select>
        </div>
        {filtered && <button type="button" className="button button-quiet" onClick={() => updateParams({ siteId: null, status: null })}>Clear filters</button>}
      </form>
      {grid}
    </div>
  );
}

function CameraGrid({ filter, filtered, sites, wall }: { filter: CameraFilter; filtered: boolean; sites: Map<string, Site> | undefined; wall: boolean }) {
  const pager = useCursorPager();
  const cameras = useCameras(filter, pager.cursor);
  const { me } = useSession();

  if (cameras.isPending) return <LoadingState label="Loading cameras…" />;
  if (cameras.isError) return <ErrorState title="Cameras could not be loaded" error={cameras.error} onRetry={() => void cameras.refetch()} />;
  const { items, nextCursor } = cameras.data;
  if (items.length === 0) {
    return filtered ? (
      <EmptyState title="No cameras match these filters"><p>Try another site or status, or clear the filters.</p></EmptyState>
    ) : (
      <EmptyState title="No cameras yet">
        {may(me, 'camera.write')
          ? <p><Link to="/devices/new?kind=camera">Add a camera</Link>, then give it its RTSP address on its page.</p>
          : <p>An administrator of your organization adds cameras.</p>}
      </EmptyState>
    );
  }
  return (
    <>
      <ul className={`camera-grid${wall ? ' camera-grid-wall' : ''}`} aria-label="Cameras" aria-busy={cameras.isPlaceholderData || undefined}>
        {items.map((camera) => <CameraTile key={camera.id} camera={camera} siteName={camera.siteId ? sites?.get(camera.siteId)?.name ?? null : null} />)}
      </ul>
      <Pager label="Camera pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={cameras.isPlaceholderData} />
    </>
  );
}

function CameraTile({ camera, siteName }: { camera: Camera; siteName: string | null }) {
  return (
    <li className="camera-tile" data-camera={camera.id}>
      <CameraSnapshot camera={camera} />
      <div className="camera-tile-body">
        <div className="camera-tile-title">
          <Link to={`/cameras/${camera.id}`} className="camera-tile-name">{camera.name}</Link>
          <CameraStatusBadge status={camera.status} />
        </div>
        <p className="camera-tile-meta">
          <span>{camera.zone}</span>
          {siteName && <span> · {siteName}</span>}
          <span className="muted"> · changed <time dateTime={camera.statusChangedAt}>{formatRelative(camera.statusChangedAt)}</time></span>
        </p>
        {camera.statusCause && <p className={`camera-tile-cause${camera.status === 'error' ? ' camera-cause-error' : ''}`}>{camera.statusCause}</p>}
      </div>
    </li>
  );
}
