import { Link, useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { usePublicDevice, usePublicSpeeders, type PublicDeviceDetail } from '../../api/community';
import { BarChart } from '../../components/traffic/Charts';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { p85Caveat } from '../../../shared/traffic';
import { formatDay, formatNumber, formatPercent, formatSpeed, setDisplayContext } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { PublicLayout } from './PublicLayout';
import { SpeedersTable } from './SpeedersTable';
import '../StatsPage.css';

function Figures({ device }: { device: PublicDeviceDetail }) {
  const s = device.statistics;
  const speed = (v: number | null) => formatSpeed(v, device.units);
  return (
    <ul className="stats">
      <li className="stat"><span className="stat-value">{formatNumber(s.count)}</span><span className="stat-label">vehicles</span></li>
      <li className="stat">
        <span className="stat-value">{speed(s.p85)}</span><span className="stat-label">85th percentile</span>
        <span className="stat-note">{p85Caveat(s.count) ?? `from ${formatNumber(s.count)} vehicles`}</span>
      </li>
      <li className="stat"><span className="stat-value">{speed(s.mean)}</span><span className="stat-label">mean speed</span></li>
      <li className="stat"><span className="stat-value">{formatPercent(s.speedingShare)}</span><span className="stat-label">over the {speed(device.speedLimit)} limit</span></li>
    </ul>
  );
}

function Charts({ device }: { device: PublicDeviceDetail }) {
  const s = device.statistics;
  const hourly = s.hourly.map((h) => ({ x: h.hour, value: h.count, label: `${h.hour}:00 — ${formatNumber(h.count)} vehicles` }));
  const daily = s.daily.map((d, i) => ({ x: i, value: d.count, label: `${formatDay(d.date)} — ${formatNumber(d.count)} vehicles` }));
  return (
    <div className="charts">
      <BarChart title="Vehicles by hour of day" description="Vehicles measured in each local hour of the day over the last 30 days." bars={hourly} xLabel={(x) => `${x}h`} />
      <BarChart
        title="Vehicles per day" description="Vehicles measured each day, with the 7-day average as a line."
        bars={daily} line={s.daily.map((d, i) => ({ x: i, value: d.countAverage7 }))} xLabel={(x) => s.daily[x]?.date.slice(5) ?? ''}
      />
    </div>
  );
}

/** /public/devices/:id: one shared radar's figures and charts of the last 30 days and its recent speeders. */
export function PublicDevicePage() {
  const { id = '' } = useParams();
  const device = usePublicDevice(id);
  const speeders = usePublicSpeeders(id, device.isSuccess);
  useTitle(device.data?.name ?? 'Shared radar');

  let body;
  if (device.isPending) body = <LoadingState label="Loading the radar…" />;
  else if (device.isError) {
    body = device.error instanceof ApiError && device.error.status === 404
      ? <EmptyState title="This radar is not shared"><p>It does not exist or its owner does not share it. <Link to="/public">See the shared radars</Link>.</p></EmptyState>
      : <ErrorState title="The radar could not be loaded" error={device.error} onRetry={() => void device.refetch()} />;
  } else {
    const d = device.data;
    // This radar's figures as its owner writes them.
    setDisplayContext({ locale: d.locale, timezone: d.timezone });
    body = (
      <>
        <h1>{d.name}</h1>
        <p className="muted">Speed limit {formatSpeed(d.speedLimit, d.units)}. Last 30 days.</p>
        <section aria-labelledby="figures-heading" className="stats-section">
          <h2 id="figures-heading">Figures</h2>
          {d.statistics.empty ? <EmptyState title="No vehicles were measured in the last 30 days" /> : <><Figures device={d} /><Charts device={d} /></>}
        </section>
        <section aria-labelledby="speeders-heading" className="stats-section">
          <h2 id="speeders-heading">Recent speeders</h2>
          {speeders.isPending ? (
            <LoadingState label="Loading recent speeders…" />
          ) : speeders.isError ? (
            <ErrorState title="Recent speeders could not be loaded" error={speeders.error} onRetry={() => void speeders.refetch()} />
          ) : speeders.data.items.length === 0 ? (
            <EmptyState title="No speeders in the last 30 days" />
          ) : (
            <SpeedersTable speeders={speeders.data.items} deviceOf={() => d} label={`Recent speeders at ${d.name}`} />
          )}
        </section>
      </>
    );
  }
  return (
    <PublicLayout>
      <p><Link to="/public">← All shared radars</Link></p>
      {body}
    </PublicLayout>
  );
}
