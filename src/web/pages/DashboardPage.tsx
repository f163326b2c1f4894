import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useAlertCounts, useConsoleConfig, useDeviceSummary, useEventSummary } from '../api/fleet';
import { useDeviceIndex, useEvents } from '../api/queries';
import { DeviceDrawer } from '../components/DeviceDrawer';
import { EventTime } from '../components/EventTime';
import { LazyDeviceMap, preloadDeviceMap } from '../components/map';
import { useSession } from '../components/session';
import { ErrorState, LoadingState, EmptyState } from '../components/states';
import { may } from '../lib/access';
import { useCapabilities } from '../lib/capabilities';
import { formatNumber, formatSpeed } from '../lib/format';
import { useTitle } from '../lib/title';
import { useDisplayContext } from '../lib/display';
import './operations.css';

function Kpi({ label, value, to, tone, loading, failed }: {
  label: string;
  value: number | undefined;
  to: string;
  tone: string;
  loading: boolean;
  failed: boolean;
}) {
  const shown = failed ? '—' : loading || value === undefined ? '…' : formatNumber(value);
  return (
    <li className={`kpi kpi-${tone}`}>
      <Link to={to} className="kpi-link">
        <span className="kpi-value" aria-busy={loading || undefined}>{shown}</span>
        <span className="kpi-label">{label}</span>
      </Link>
    </li>
  );
}

/** `/dashboard`: fleet health at a glance (from the summary endpoints), the live map, the latest events. */
export function DashboardPage() {
  useTitle('Overview');
  const { me, organization } = useSession();
  const devices = useDeviceSummary();
  const events = useEventSummary(24);
  const alerts = useAlertCounts(may(me, 'alert.read'));
  const capabilities = useCapabilities(me);
  const [selected, setSelected] = useState<string | null>(null);
  const close = useCallback(() => setSelected(null), []);
  const kpi = { loading: devices.isPending, failed: devices.isError };
  const eventKpi = { loading: events.isPending, failed: events.isError };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Overview</h1>
          {organization && <p className="muted">{organization.name}</p>}
        </div>
        {may(me, 'device.write') && <Link className="button button-primary" to="/devices/new">Register a device</Link>}
      </header>

      <section aria-labelledby="kpi-heading">
        <h2 id="kpi-heading" className="visually-hidden">Key figures</h2>
        <ul className="kpis">
          <Kpi label="Devices online" value={devices.data?.online} to="/devices?status=online" tone="online" {...kpi} />
          <Kpi label="Devices offline" value={devices.data?.offline} to="/devices?status=offline" tone="offline" {...kpi} />
          <Kpi label="Devices reporting errors" value={devices.data?.error} to="/devices?status=error" tone="error" {...kpi} />
          <Kpi label="Events in the last 24 h" value={events.data?.events} to="/events" tone="events" {...eventKpi} />
          {capabilities.has('speed_radar') && (
            <Kpi label="Speeding in the last 24 h" value={events.data?.speeding} to="/events?speedingOnly=true" tone="error" {...eventKpi} />
          )}
          {/* Shown once there are alerts to speak of. */}
          {(alerts.data?.totalActive ?? 0) > 0 && (
            <Kpi label={`Open alerts (${formatNumber(alerts.data!.byStatus.acknowledged)} acknowledged)`} value={alerts.data!.totalActive} to="/alerts" tone="error" loading={false} failed={false} />
          )}
        </ul>
      </section>

      <FleetMap selected={selected} onSelect={setSelected} />
      {selected && <DeviceDrawer deviceId={selected} onClose={close} />}
      <LatestEvents />
    </div>
  );
}

function FleetMap({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const devices = useDeviceIndex();
  const config = useConsoleConfig();
  useEffect(() => void preloadDeviceMap(), []);
  const items = devices.data ?? [];
  const unplaced = items.filter((d) => d.lat === null || d.lon === null).length;
  return (
    <section className="panel" aria-labelledby="map-heading">
      <div className="panel-header">
        <h2 id="map-heading">Map</h2>
        {devices.data && (
          <span className="muted map-panel-meta">
            {formatNumber(items.length - unplaced)} on the map
            {unplaced > 0 && <> · <Link to="/devices">{formatNumber(unplaced)} without a location</Link></>}
          </span>
        )}
      </div>
      {devices.isPending || config.isPending ? (
        <LoadingState label="Loading the map…" />
      ) : devices.isError ? (
        <ErrorState title="Devices could not be loaded" error={devices.error} onRetry={() => void devices.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No devices yet">
          <p><Link to="/devices/new">Register a device</Link>; it appears here, live, when it has a location.</p>
        </EmptyState>
      ) : (
        <>
          <LazyDeviceMap devices={items} tiles={config.data?.mapTiles} selectedId={selected} onSelect={onSelect} />
          <ul className="map-legend" aria-label="Map legend">
            <li><span className="map-marker map-marker-online" aria-hidden="true"><span className="map-marker-glyph">✓</span></span>Online (circle)</li>
            <li><span className="map-marker map-marker-offline" aria-hidden="true"><span className="map-marker-glyph">–</span></span>Offline (square)</li>
            <li><span className="map-marker map-marker-error" aria-hidden="true"><span className="map-marker-glyph">!</span></span>Error (diamond)</li>
            <li>Numbered circles group nearby devices; the ring shows the worst status inside.</li>
          </ul>
        </>
      )}
    </section>
  );
}

function LatestEvents() {
  const latest = useEvents({}, null, 5);
  const display = useDisplayContext();
  return (
    <section className="panel" aria-labelledby="latest-heading">
      <div className="panel-header">
        <h2 id="latest-heading">Latest events</h2>
        <Link to="/events">All events</Link>
      </div>
      {latest.isPending || !display.ready ? (
        <LoadingState label="Loading events…" />
      ) : latest.isError ? (
        <ErrorState title="Events could not be loaded" error={latest.error} onRetry={() => void latest.refetch()} />
      ) : latest.data.items.length === 0 ? (
        <EmptyState title="No events yet"><p>Events appear here as devices send them.</p></EmptyState>
      ) : (
        <ul className="event-list">
          {latest.data.items.map((event) => (
            <li key={event.id}>
              <span className="event-list-main">
                <Link to={`/devices/${event.deviceId}`}>{event.deviceName}</Link>
                {event.speed !== null && <> · {formatSpeed(event.speed, display.unitsFor(event.deviceId))}</>}
                {event.speeding && <span className="badge badge-danger">Speeding</span>}
              </span>
              <span className="muted"><EventTime iso={event.ts} zone={display.zoneFor(event.siteId)} /></span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
