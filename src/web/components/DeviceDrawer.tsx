import { useEffect, useRef } from 'react';
import { Link } from 'react-router';
import { useDevice, useEvents } from '../api/queries';
import { formatRelative, formatSpeed, KIND_LABELS } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { EventTime } from './EventTime';
import { EmptyState, ErrorState, LoadingState } from './states';
import { StatusDot } from './StatusDot';

/**
 * A side panel over the overview with one device: status, last contact, its latest events (live) and a
 * link to its page. Focus moves to its heading when it opens; Escape or the close button closes it.
 */
export function DeviceDrawer({ deviceId, onClose }: { deviceId: string; onClose: () => void }) {
  const device = useDevice(deviceId);
  const events = useEvents({ deviceId }, null, 5);
  const display = useDisplayContext();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, [deviceId]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const d = device.data;
  return (
    <aside className="drawer" aria-labelledby="drawer-heading">
      <div className="drawer-header">
        <h2 id="drawer-heading" ref={heading} tabIndex={-1}>{d?.name ?? 'Device'}</h2>
        <button type="button" className="icon-button" aria-label="Close device panel" onClick={onClose}><span aria-hidden="true">×</span></button>
      </div>
      {device.isPending ? (
        <LoadingState label="Loading the device…" />
      ) : device.isError ? (
        <ErrorState title="The device could not be loaded" error={device.error} onRetry={() => void device.refetch()} />
      ) : (
        <>
          <dl className="details drawer-details">
            <div><dt>Status</dt><dd><StatusDot status={device.data.status} /></dd></div>
            <div><dt>Kind</dt><dd>{KIND_LABELS[device.data.kind]}</dd></div>
            <div><dt>Last seen</dt><dd>{device.data.lastSeenAt ? formatRelative(device.data.lastSeenAt) : 'Never'}</dd></div>
            <div><dt>Site</dt><dd>{display.siteName(device.data.siteId) ?? 'No site'}</dd></div>
          </dl>
          <h3 className="drawer-subheading">Latest events</h3>
          {events.isPending || !display.ready ? (
            <LoadingState label="Loading events…" />
          ) : events.isError ? (
            <ErrorState title="Events could not be loaded" error={events.error} onRetry={() => void events.refetch()} />
          ) : events.data.items.length === 0 ? (
            <EmptyState title="No events yet" />
          ) : (
            <ul className="event-list">
              {events.data.items.map((event) => (
                <li key={event.id}>
                  <span>
                    {event.speed !== null ? formatSpeed(event.speed, display.unitsFor(event.deviceId)) : event.kind}
                    {event.speeding && <span className="badge badge-danger">Speeding</span>}
                  </span>
                  <span className="muted"><EventTime iso={event.ts} zone={display.zoneFor(event.siteId)} /></span>
                </li>
              ))}
            </ul>
          )}
          <div className="drawer-actions">
            <Link className="button button-primary" to={`/devices/${device.data.id}`}>Open device</Link>
            <Link className="button" to={`/events?deviceId=${device.data.id}`}>All its events</Link>
          </div>
        </>
      )}
    </aside>
  );
}
