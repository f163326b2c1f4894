import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api/client';
import type { Page } from '../api/types';
import { useDevice, useEvents } from '../api/queries';
import { DeviceAttributes } from '../components/DeviceAttributes';
import { DeviceKeys } from '../components/DeviceKeys';
import { DeviceSharing } from '../components/DeviceSharing';
import { EditDeviceDialog } from '../components/EditDeviceDialog';
import { EventsTable } from '../components/EventsTable';
import { Notice, useNotice } from '../components/Notice';
import { useSession } from '../components/session';
import { EquipmentFigures } from '../components/telemetry/EquipmentFigures';
import { TelemetryPanel } from '../components/telemetry/TelemetryPanel';
import { EventTime } from '../components/EventTime';
import { MaintenanceSection } from '../components/maintenance/MaintenanceSection';
import { CommandsSection } from '../components/commands/CommandsSection';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { StatusDot } from '../components/StatusDot';
import { formatNumber, formatRelative, formatSpeed, KIND_LABELS } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { useTitle } from '../lib/title';
import { may } from '../lib/access';
import './operations.css';
import { RadarStatistics } from '../components/traffic/RadarStatistics';

/** `/devices/:id`: one device's state, settings, keys, telemetry charts and latest events. */
export function DeviceDetailPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const [editing, setEditing] = useState(false);
  const notice = useNotice();
  const device = useDevice(id);
  const events = useEvents({ deviceId: id }, null, 20);
  const display = useDisplayContext();
  useTitle(device.data?.name ?? 'Device');

  if (device.isPending || (device.isSuccess && !display.ready)) return <div className="page"><LoadingState label="Loading the device…" /></div>;
  if (device.isError) {
    const missing = device.error instanceof ApiError && (device.error.status === 404 || device.error.status === 400);
    return (
      <div className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/devices">Devices</Link></nav>
        {missing ? (
          <>
            <h1>Device not found</h1>
            <p>It may have been deleted, or it belongs to a site or organization you cannot see.</p>
          </>
        ) : (
          <ErrorState title="The device could not be loaded" error={device.error} onRetry={() => void device.refetch()} />
        )}
      </div>
    );
  }

  const d = device.data;
  const zone = display.zoneFor(d.siteId);
  const units = d.speedUnits ?? display.unitsFor(d.id);
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/devices">Devices</Link> <span aria-hidden="true">/</span> <span aria-current="page">{d.name}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1>{d.name}</h1>
          <p className="muted">{KIND_LABELS[d.kind]} · <span className="mono">{d.serial}</span></p>
        </div>
        <div className="row-actions">
          <StatusDot status={d.status} />
          <Link className="button" to={`/alerts?deviceId=${d.id}&status=all`}>Alert history</Link>
          {may(me, 'device.write') && <button type="button" className="button" onClick={() => setEditing(true)}>Edit settings</button>}
        </div>
      </header>
      <Notice message={notice.message} />
      {editing && <EditDeviceDialog device={d} onClose={() => setEditing(false)} onSaved={() => notice.show('Device saved.')} />}

      <section className="panel" aria-labelledby="details-heading">
        <h2 id="details-heading">Details</h2>
        <dl className="details">
          <div>
            <dt>Last seen</dt>
            <dd>
              {d.lastSeenAt ? <><EventTime iso={d.lastSeenAt} zone={zone} /> <span className="muted">({formatRelative(d.lastSeenAt)})</span></> : 'Never'}
            </dd>
          </div>
          <div><dt>Site</dt><dd>{d.siteId ? display.siteName(d.siteId) ?? 'Unknown site' : 'No site'} <span className="muted">· times in {zone}</span></dd></div>
          <div>
            <dt>Location</dt>
            <dd>
              {d.lat !== null && d.lon !== null ? (
                <a href={`https://www.openstreetmap.org/?mlat=${d.lat}&mlon=${d.lon}#map=17/${d.lat}/${d.lon}`} target="_blank" rel="noopener noreferrer">
                  {d.lat.toFixed(5)}, {d.lon.toFixed(5)}
                  <span className="visually-hidden"> (opens a map in a new tab)</span>
                </a>
              ) : 'Not set'}
            </dd>
          </div>
          {d.kind === 'speed_radar' && <div><dt>Speed limit</dt><dd>{d.speedLimit !== null ? formatSpeed(d.speedLimit, units) : 'Not set'}</dd></div>}
          <div><dt>Registered</dt><dd><EventTime iso={d.createdAt} zone={zone} /></dd></div>
        </dl>
      </section>

      {(d.kind === 'refrigeration' || d.kind === 'sensor') && <TelemetryPanel deviceId={d.id} zone={zone} kind={d.kind} settings={d.settings} />}
      <LatestValues deviceId={d.id} zone={zone} />
      <DeviceAttributes deviceId={d.id} deviceName={d.name} zone={zone} canEdit={may(me, 'device.write')} />
      {d.kind === 'speed_radar' && <RadarStatistics deviceId={d.id} />}
      {d.kind === 'refrigeration' && <EquipmentFigures deviceId={d.id} canEdit={may(me, 'device.write')} onEdit={() => setEditing(true)} />}

      <section className="panel" aria-labelledby="device-events-heading">
        <div className="panel-header">
          <h2 id="device-events-heading">Latest events</h2>
          <Link to={`/events?deviceId=${d.id}`}>All events of this device</Link>
        </div>
        {events.isPending ? (
          <LoadingState label="Loading events…" />
        ) : events.isError ? (
          <ErrorState title="Events could not be loaded" error={events.error} onRetry={() => void events.refetch()} />
        ) : events.data.items.length === 0 ? (
          <EmptyState title="No events yet"><p>Events from this device appear here as they arrive.</p></EmptyState>
        ) : (
          <EventsTable events={events.data.items} showDevice={false} label={`Latest events of ${d.name}`} />
        )}
      </section>

      {d.kind === 'speed_radar' && <DeviceSharing deviceId={d.id} canChange={may(me, 'device.write')} />}
      {may(me, 'device.write') && <DeviceKeys device={d} zone={zone} />}
      <CommandsSection deviceId={d.id} deviceName={d.name} zone={zone} />

      <MaintenanceSection deviceId={d.id} deviceName={d.name} zone={zone} />
    </div>
  );
}

interface LatestValue {
  key: string;
  type: 'number' | 'string' | 'json';
  value: unknown;
  ts: string;
}

/** Numbers in the organization's locale (up to 3 decimals), text as sent, JSON as JSON text. */
function shownValue(row: LatestValue): string {
  if (row.type === 'number') return formatNumber(row.value as number, 3);
  if (row.type === 'string') return String(row.value);
  return JSON.stringify(row.value);
}

/** The newest value of every telemetry key the device sent (numbers, booleans, text, JSON), by key name. */
function LatestValues({ deviceId, zone }: { deviceId: string; zone: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const latest = useQuery({
    queryKey: ['devices', deviceId, 'telemetry-latest', cursor],
    queryFn: ({ signal }) => api<Page<LatestValue>>(`/devices/${encodeURIComponent(deviceId)}/telemetry/latest`, { query: { cursor, limit: 100 }, signal }),
  });
  // Nothing to show for devices that send no telemetry (most radars): no empty panel.
  if (latest.isSuccess && latest.data.items.length === 0 && cursor === null) return null;
  return (
    <section className="panel" aria-labelledby="latest-values-heading">
      <h2 id="latest-values-heading">Latest values</h2>
      {latest.isPending ? (
        <LoadingState label="Loading latest values…" />
      ) : latest.isError ? (
        <ErrorState title="Latest values could not be loaded" error={latest.error} onRetry={() => void latest.refetch()} />
      ) : (
        <>
          <div className="table-wrap" role="region" aria-label="Latest value of each key" tabIndex={0}>
            <table className="table">
              <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Type</th><th scope="col">Time</th></tr></thead>
              <tbody>
                {latest.data.items.map((row) => (
                  <tr key={row.key}>
                    <td className="mono">{row.key}</td>
                    <td className={row.type === 'json' ? 'mono' : undefined}>{shownValue(row)}</td>
                    <td>{row.type}</td>
                    <td><EventTime iso={row.ts} zone={zone} stacked /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {(cursor !== null || latest.data.nextCursor) && (
            <div className="row-actions">
              {cursor !== null && <button type="button" className="button" onClick={() => setCursor(null)}>First keys</button>}
              {latest.data.nextCursor && <button type="button" className="button" onClick={() => setCursor(latest.data.nextCursor)}>Next keys</button>}
            </div>
          )}
        </>
      )}
    </section>
  );
}
