import { Link } from 'react-router';
import type { Speeder } from '../../api/community';
import { formatSpeed } from '../../lib/format';

function formatWhen(iso: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** Recent speeders: every text is rendered by React, so nothing a device owner typed can run as markup. */
export function SpeedersTable({ speeders, units, names, label }: {
  speeders: Speeder[];
  units: (deviceId: string) => 'mph' | 'kmh';
  names?: Map<string, string>;
  label: string;
}) {
  return (
    <div className="public-table-wrap">
      <table className="table">
        <caption className="visually-hidden">{label}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {names && <th scope="col">Where</th>}
            <th scope="col">Speed</th>
            <th scope="col">Limit</th>
            <th scope="col">Photo</th>
          </tr>
        </thead>
        <tbody>
          {speeders.map((s) => (
            <tr key={`${s.deviceId}-${s.time}-${s.speed}`}>
              <td>{formatWhen(s.time)}</td>
              {names && <td><Link to={`/public/devices/${s.deviceId}`}>{names.get(s.deviceId) ?? 'Shared radar'}</Link></td>}
              <td>{formatSpeed(s.speed, units(s.deviceId))}</td>
              <td>{formatSpeed(s.speedLimit, units(s.deviceId))}</td>
              <td>{s.photoUrl ? <img className="public-photo" src={s.photoUrl} alt={`Vehicle at ${formatSpeed(s.speed, units(s.deviceId))}`} loading="lazy" /> : <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
