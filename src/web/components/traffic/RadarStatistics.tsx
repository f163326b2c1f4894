import { Link } from 'react-router';
import { useTrafficStatistics } from '../../api/traffic';
import { p85Caveat } from '../../../shared/traffic';
import { ErrorState, LoadingState } from '../states';
import { isoDay, percent, speed, count } from './format';

const DAY = 86_400_000;

/** A radar's own page: its speed figures of the last 30 days, and the way to the full statistics. */
export function RadarStatistics({ deviceId }: { deviceId: string }) {
  const today = new Date();
  const request = { deviceId, from: isoDay(new Date(today.getTime() - 29 * DAY)), to: isoDay(today), weekdaysOnly: false };
  const stats = useTrafficStatistics(request);
  const link = `/stats?subject=device:${deviceId}`;
  let body;
  if (stats.isPending) body = <LoadingState label="Computing statistics…" />;
  else if (stats.isError) body = <ErrorState title="Statistics could not be computed" error={stats.error} onRetry={() => void stats.refetch()} />;
  else if (stats.data.empty) body = <p className="muted">No speeds were measured in the last 30 days.</p>;
  else {
    const { summary, speeding, units } = stats.data;
    const caveat = p85Caveat(summary.count);
    body = (
      <>
        <dl className="details">
          <div><dt>Vehicles (last 30 days)</dt><dd>{count(summary.count)}</dd></div>
          <div><dt>85th percentile</dt><dd>{speed(summary.p85, units)}{caveat && <div className="small muted">{caveat}</div>}</dd></div>
          <div><dt>Mean</dt><dd>{speed(summary.mean, units)}</dd></div>
          <div><dt>Over the limit</dt><dd>{percent(speeding.speedingShare)}</dd></div>
        </dl>
      </>
    );
  }
  return (
    <section className="panel" aria-labelledby="radar-stats-heading">
      <div className="panel-header">
        <h2 id="radar-stats-heading">Speed statistics</h2>
        <Link to={link}>Full statistics of this radar</Link>
      </div>
      {body}
    </section>
  );
}
