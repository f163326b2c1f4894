import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { usePublicDevices, usePublicOverview, usePublicSpeeders, type PublicDevice } from '../../api/community';
import { LazyDeviceMap } from '../../components/map';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatNumber, formatPercent, formatSpeed, setDisplayContext } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { PublicLayout } from './PublicLayout';
import { SpeedersTable } from './SpeedersTable';
import '../StatsPage.css';

const DAY_MS = 86_400_000;

/** Devices as the map draws them: at their approximate location, "online" when heard from in the last day. */
function mapDevices(devices: PublicDevice[]) {
  return devices.map((d) => ({
    id: d.id,
    name: d.name,
    lat: d.location?.lat ?? null,
    lon: d.location?.lon ?? null,
    status: d.lastActiveAt && Date.now() - new Date(d.lastActiveAt).getTime() < 2 * DAY_MS ? ('online' as const) : ('offline' as const),
  }));
}

/** /public: the shared radars of every organization that takes part, on a map, with community figures and recent speeders. */
export function PublicPage() {
  useTitle('Community traffic');
  // Figures of every sharing organization together: the platform's default locale; each speeder in its own.
  setDisplayContext({});
  const overview = usePublicOverview();
  const devices = usePublicDevices();
  const speeders = usePublicSpeeders();
  const navigate = useNavigate();
  const [selected, setSelected] = useState<string | null>(null);
  const byId = useMemo(() => new Map((devices.data ?? []).map((d) => [d.id, d])), [devices.data]);
  const names = useMemo(() => new Map([...byId].map(([id, d]) => [id, d.name])), [byId]);
  const chosen = selected ? byId.get(selected) : undefined;

  return (
    <PublicLayout>
      <h1>Community traffic</h1>
      <p className="muted">Speed radars shared by their owners: how fast traffic goes, and how often it goes over the limit.</p>

      <section aria-labelledby="figures-heading" className="stats-section">
        <h2 id="figures-heading">Last 30 days</h2>
        {overview.isPending ? (
          <LoadingState label="Loading the community figures…" />
        ) : overview.isError ? (
          <ErrorState title="The figures could not be loaded" error={overview.error} onRetry={() => void overview.refetch()} />
        ) : (
          <ul className="stats">
            <li className="stat"><span className="stat-value">{formatNumber(overview.data.devices)}</span><span className="stat-label">shared radars</span></li>
            <li className="stat"><span className="stat-value">{formatNumber(overview.data.organizations)}</span><span className="stat-label">organizations</span></li>
            <li className="stat"><span className="stat-value">{formatNumber(overview.data.last30Days.vehicles)}</span><span className="stat-label">vehicles measured</span></li>
            <li className="stat"><span className="stat-value">{formatPercent(overview.data.last30Days.speedingShare)}</span><span className="stat-label">over the limit</span></li>
          </ul>
        )}
      </section>

      <section aria-labelledby="map-heading" className="stats-section">
        <h2 id="map-heading">Map</h2>
        {devices.isPending ? (
          <LoadingState label="Loading the shared radars…" />
        ) : devices.isError ? (
          <ErrorState title="The shared radars could not be loaded" error={devices.error} onRetry={() => void devices.refetch()} />
        ) : devices.data.length === 0 ? (
          <EmptyState title="No radar is shared yet"><p>Organizations choose which of their radars appear here.</p></EmptyState>
        ) : (
          <>
            <LazyDeviceMap devices={mapDevices(devices.data)} tiles={overview.data?.mapTiles} selectedId={selected} onSelect={setSelected} />
            {chosen && (
              <div className="panel public-selected" aria-live="polite">
                <h3>{chosen.name}</h3>
                <p>
                  Limit {formatSpeed(chosen.speedLimit, chosen.units)} · {formatNumber(chosen.last30Days.vehicles)} vehicles, {formatNumber(chosen.last30Days.speeding)} over the limit in 30 days
                </p>
                <button type="button" className="button button-small" onClick={() => void navigate(`/public/devices/${chosen.id}`)}>Figures and charts</button>
              </div>
            )}
            <h3>Shared radars</h3>
            <ul>
              {devices.data.map((d) => (
                <li key={d.id}>
                  <Link to={`/public/devices/${d.id}`}>{d.name}</Link>{' '}
                  <span className="muted">— {formatNumber(d.last30Days.vehicles)} vehicles, {formatNumber(d.last30Days.speeding)} over the limit</span>
                </li>
              ))}
            </ul>
          </>
        )}
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
          <SpeedersTable speeders={speeders.data.items} names={names} deviceOf={(id) => byId.get(id)} label="Recent speeders of all shared radars" />
        )}
      </section>
    </PublicLayout>
  );
}
