import { useState } from 'react';
import { Link } from 'react-router';
import type { VigilEvent } from '../api/types';
import { apiUrl } from '../api/client';
import { formatSpeed, formatTime, humanize } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { Dialog } from './Dialog';
import { EventTime } from './EventTime';
import { LoadingState } from './states';

/**
 * Events as a table: time in the site's zone (named), device, kind, speed with units, photo thumbnail.
 * Rows that arrive while the table is shown (live updates) fade in from a highlight.
 */
export function EventsTable({ events, showDevice = true, label }: { events: VigilEvent[]; showDevice?: boolean; label: string }) {
  const display = useDisplayContext();
  const fresh = useArrivals(events);
  const [viewing, setViewing] = useState<VigilEvent | null>(null);
  if (!display.ready) return <LoadingState label="Loading events…" />;

  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            {showDevice && <th scope="col">Device</th>}
            <th scope="col" className="hide-narrow">Kind</th>
            <th scope="col" className="num">Speed</th>
            <th scope="col">Photo</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const units = display.unitsFor(event.deviceId);
            const zone = display.zoneFor(event.siteId);
            return (
              <tr key={event.id} className={fresh.has(event.id) ? 'row-new' : undefined}>
                <td className="nowrap"><EventTime iso={event.ts} zone={zone} stacked /></td>
                {showDevice && <td><Link to={`/devices/${event.deviceId}`}>{event.deviceName}</Link></td>}
                <td className="hide-narrow">{humanize(event.kind)}</td>
                <td className="num nowrap">
                  {formatSpeed(event.speed, units)}
                  {event.speeding && (
                    <span className="badge badge-danger" title={event.speedLimit !== null ? `Limit ${formatSpeed(event.speedLimit, units)}` : undefined}>
                      Speeding
                    </span>
                  )}
                </td>
                <td>
                  {event.photoUrl ? (
                    <button type="button" className="photo-button" onClick={() => setViewing(event)} aria-label={`Open the photo of ${event.deviceName} at ${formatTime(event.ts, zone)}`}>
                      <img
                        className="thumb"
                        src={apiUrl(`/events/${event.id}/photo`, { size: 'thumb' })}
                        alt={`Photo of ${event.deviceName} at ${formatTime(event.ts, zone)}`}
                        loading="lazy"
                        width="80"
                        height="60"
                      />
                    </button>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {viewing && <PhotoViewer event={viewing} zone={display.zoneFor(viewing.siteId)} units={display.unitsFor(viewing.deviceId)} onClose={() => setViewing(null)} />}
    </div>
  );
}

/** An event's photo at full size in a dialog, with what it shows and a link to the file itself. */
function PhotoViewer({ event, zone, units, onClose }: { event: VigilEvent; zone: string; units: 'mph' | 'kmh'; onClose: () => void }) {
  const full = apiUrl(`/events/${event.id}/photo`);
  return (
    <Dialog title={`${event.deviceName}: ${humanize(event.kind)}`} wide onClose={onClose}>
      <figure className="photo-viewer" style={{ margin: 0 }}>
        <img src={full} alt={`Photo of ${event.deviceName} at ${formatTime(event.ts, zone)}`} />
        <figcaption className="muted small" style={{ marginTop: '0.5rem' }}>
          <EventTime iso={event.ts} zone={zone} />
          {event.speed !== null && <> · {formatSpeed(event.speed, units)}</>}
          {event.speeding && event.speedLimit !== null && <> · limit {formatSpeed(event.speedLimit, units)}</>}
        </figcaption>
      </figure>
      <div className="dialog-actions">
        <a className="button" href={full} target="_blank" rel="noopener">Open the file<span className="visually-hidden"> (new tab)</span></a>
        <button type="button" className="button button-primary" onClick={onClose}>Close</button>
      </div>
    </Dialog>
  );
}

/**
 * The ids that joined the list since the previous render, when the list moved on (some rows stayed)
 * rather than being replaced (another page or filter, the first load).
 */
function useArrivals(events: VigilEvent[]): Set<string> {
  const ids = events.map((e) => e.id);
  const [previous, setPrevious] = useState(ids);
  const [arrived, setArrived] = useState<Set<string>>(() => new Set());
  if (previous.join() !== ids.join()) {
    const before = new Set(previous);
    setPrevious(ids);
    setArrived(ids.some((id) => before.has(id)) ? new Set(ids.filter((id) => !before.has(id))) : new Set());
  }
  return arrived;
}
