import { Link } from 'react-router';
import type { PublicDevice, Speeder } from '../../api/community';
import { EventTime } from '../../components/EventTime';
import { DEFAULT_LOCALE, formatSpeed } from '../../../shared/format';

type Where = Pick<PublicDevice, 'units' | 'timezone' | 'locale'>;
/** Before the device list arrives: the time in UTC, still named. */
const UNKNOWN: Where = { units: 'mph', timezone: 'UTC', locale: DEFAULT_LOCALE };

/** Recent speeders: every text is rendered by React, so nothing a device owner typed can run as markup. */
/** Each time in its radar's zone and each figure in its owner's locale: radars of several organizations share the table. */
export function SpeedersTable({ speeders, deviceOf, names, label }: {
  speeders: Speeder[];
  deviceOf: (deviceId: string) => Where | undefined;
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
          {speeders.map((s) => {
            const where = deviceOf(s.deviceId) ?? UNKNOWN;
            const speed = (value: number) => formatSpeed(value, where.units, where.locale);
            return (
              <tr key={`${s.deviceId}-${s.time}-${s.speed}`}>
                <td><EventTime iso={s.time} zone={where.timezone} locale={where.locale} stacked /></td>
                {names && <td><Link to={`/public/devices/${s.deviceId}`}>{names.get(s.deviceId) ?? 'Shared radar'}</Link></td>}
                <td>{speed(s.speed)}</td>
                <td>{speed(s.speedLimit)}</td>
                <td>{s.photoUrl ? <img className="public-photo" src={s.photoUrl} alt={`Vehicle at ${speed(s.speed)}`} loading="lazy" /> : <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
