import { Link } from 'react-router';
import { useDeviceCount, useDevices, useEventCount, useEvents } from '../api/queries';
import type { DeviceStatus } from '../api/types';
import { EventTime } from '../components/EventTime';
import { useSession } from '../components/session';
import { ErrorState, LoadingState, EmptyState } from '../components/states';
import { StatusDot } from '../components/StatusDot';
import { formatNumber, formatRelative, formatSpeed, KIND_LABELS } from '../lib/format';
import { useTitle } from '../lib/title';
import { useDisplayContext } from '../lib/display';

function Kpi({ label, value, complete, to, tone, loading, failed }: {
  label: string;
  value: number | undefined;
  complete: boolean;
  to: string;
  tone: string;
  loading: boolean;
  failed: boolean;
}) {
  const shown = failed ? '—' : loading || value === undefined ? '…' : `${formatNumber(value)}${complete ? '' : '+'}`;
  return (
    <li className={`kpi kpi-${tone}`}>
      <Link to={to} className="kpi-link">
        <span className="kpi-value" aria-busy={loading || undefined}>{shown}</span>
        <span className="kpi-label">{label}</span>
      </Link>
    </li>
  );
}

function DeviceKpi({ status, label }: { status: DeviceStatus; label: string }) {
  const count = useDeviceCount(status);
  return (
    <Kpi label={label} value={count.data?.count} complete={count.data?.complete ?? true} to={`/devices?status=${status}`} tone={status} loading={count.isPending} failed={count.isError} />
  );
}

/** `/dashboard`: fleet health at a glance, the devices, the latest events. */
export function DashboardPage() {
  useTitle('Overview');
  const { organization } = useSession();
  const events24h = useEventCount(24);
  const devices = useDevices({}, null, 10);
  const latest = useEvents({}, null, 5);
  const display = useDisplayContext();

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Overview</h1>
          {organization && <p className="muted">{organization.name}</p>}
        </div>
      </header>

      <section aria-labelledby="kpi-heading">
        <h2 id="kpi-heading" className="visually-hidden">Key figures</h2>
        <ul className="kpis">
          <DeviceKpi status="online" label="Devices online" />
          <DeviceKpi status="offline" label="Devices offline" />
          <DeviceKpi status="error" label="Devices reporting errors" />
          <Kpi label="Events in the last 24 h" value={events24h.data?.count} complete={events24h.data?.complete ?? true} to="/events" tone="events" loading={events24h.isPending} failed={events24h.isError} />
        </ul>
      </section>

      <div className="panels">
        <section className="panel" aria-labelledby="devices-heading">
          <div className="panel-header">
            <h2 id="devices-heading">Devices</h2>
            <Link to="/devices">All devices</Link>
          </div>
          {devices.isPending ? (
            <LoadingState label="Loading devices…" />
          ) : devices.isError ? (
            <ErrorState title="Devices could not be loaded" error={devices.error} onRetry={() => void devices.refetch()} />
          ) : devices.data.items.length === 0 ? (
            <EmptyState title="No devices yet">
              <p>Register a device with <code>POST /api/v1/devices</code> (see the <a href="/docs">API documentation</a>); it appears here when it reports.</p>
            </EmptyState>
          ) : (
            <ul className="device-list">
              {devices.data.items.map((device) => (
                <li key={device.id}>
                  <StatusDot status={device.status} />
                  <Link to={`/devices/${device.id}`} className="device-list-name">{device.name}</Link>
                  <span className="muted device-list-meta">
                    {KIND_LABELS[device.kind]} · {device.lastSeenAt ? `seen ${formatRelative(device.lastSeenAt)}` : 'never seen'}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>

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
      </div>
    </div>
  );
}
