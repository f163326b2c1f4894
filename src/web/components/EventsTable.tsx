import { useState } from 'react';
import { Link } from 'react-router';
import type { VigilEvent } from '../api/types';
import { apiUrl } from '../api/client';
import { formatSpeed, formatTime, humanize } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { EventTime } from './EventTime';
import { LoadingState } from './states';

/**
 * Events as a table: time in the site's zone (named), device, kind, speed with units, photo thumbnail.
 * Rows that arrive while the table is shown (live updates) fade in from a highlight.
 */
export function EventsTable({ events, showDevice = true, label }: { events: VigilEvent[]; showDevice?: boolean; label: string }) {
  const display = useDisplayContext();
  const fresh = useArrivals(events);
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
                <td className="nowrap"><EventTime iso={event.ts} zone={zone} /></td>
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
                    <a href={apiUrl(`/events/${event.id}/photo`)} target="_blank" rel="noopener">
                      <img
                        className="thumb"
                        src={apiUrl(`/events/${event.id}/photo`, { size: 'thumb' })}
                        alt={`Photo of ${event.deviceName} at ${formatTime(event.ts, zone)}`}
                        loading="lazy"
                        width="80"
                        height="60"
                      />
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
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
