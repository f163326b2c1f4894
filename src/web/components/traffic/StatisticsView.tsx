import type { TrafficStatistics } from '../../api/traffic';
import { p85Caveat } from '../../../shared/traffic';
import { formatDay } from '../../lib/format';
import { BarChart, CumulativeChart, Heatmap } from './Charts';
import { count, hourLabel, percent, speed, unitLabel, vehicles } from './format';

const BAND_LABELS: Record<string, string> = {
  '1-5': '1–5 over',
  '6-10': '6–10 over',
  '11-15': '11–15 over',
  'over 15': 'More than 15 over',
};

function Figure({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <li className="stat">
      <span className="stat-value">{value}</span>
      <span className="stat-label">{label}</span>
      {note && <span className="stat-note">{note}</span>}
    </li>
  );
}

/** Every figure and chart of one statistics answer (not empty). */
export function StatisticsView({ stats }: { stats: TrafficStatistics }) {
  const { summary, speeding, units } = stats;
  const u = unitLabel(units);
  const pace = summary.pace;
  const limits = speeding.limits;
  const markers = [
    ...(summary.p85 !== null ? [{ at: summary.p85, label: `85th ${speed(summary.p85, units)}` }] : []),
    ...limits.filter((l) => l.count >= speeding.measuredWithLimit * 0.05).map((l) => ({ at: l.limit, label: `limit ${l.limit}` })),
  ];
  const days = stats.daily;
  return (
    <>
      <section aria-labelledby="summary-heading" className="stats-section">
        <h2 id="summary-heading">Summary</h2>
        <ul className="stats">
          <Figure label="Vehicles measured" value={count(summary.count)} />
          <Figure label="85th percentile" value={speed(summary.p85, units)} note={p85Caveat(summary.count) ?? undefined} />
          <Figure label="Median (50th)" value={speed(summary.median, units)} />
          <Figure label="Mean" value={speed(summary.mean, units)} />
          <Figure label={`${pace ? pace.to - pace.from : ''} ${u} pace`} value={pace ? `${pace.from}–${pace.to} ${u}` : '—'} note={pace ? `${percent(pace.share)} of vehicles` : undefined} />
          <Figure label="Over the limit" value={percent(speeding.speedingShare)} note={vehicles(speeding.speeding)} />
        </ul>
        <div className="stats-tables">
          <table className="table figures-table">
            <caption>All figures</caption>
            <tbody>
              <tr><th scope="row">Vehicles</th><td>{count(summary.count)}</td></tr>
              <tr><th scope="row">Mean</th><td>{speed(summary.mean, units)}</td></tr>
              <tr><th scope="row">Standard deviation</th><td>{speed(summary.stddev, units)}</td></tr>
              <tr><th scope="row">Minimum</th><td>{speed(summary.min, units)}</td></tr>
              <tr><th scope="row">15th percentile</th><td>{speed(summary.p15, units)}</td></tr>
              <tr><th scope="row">Median</th><td>{speed(summary.median, units)}</td></tr>
              <tr><th scope="row">85th percentile</th><td>{speed(summary.p85, units)}</td></tr>
              <tr><th scope="row">95th percentile</th><td>{speed(summary.p95, units)}</td></tr>
              <tr><th scope="row">Maximum</th><td>{speed(summary.max, units)}</td></tr>
              <tr><th scope="row">Pace</th><td>{pace ? `${pace.from}–${pace.to} ${u}, ${percent(pace.share)}` : '—'}</td></tr>
            </tbody>
          </table>
          <table className="table figures-table">
            <caption>Speeding (above the limit in force)</caption>
            <thead><tr><th scope="col">Above the limit</th><th scope="col">Vehicles</th><th scope="col">Share</th></tr></thead>
            <tbody>
              {speeding.bands.map((b) => (
                <tr key={b.band}><th scope="row">{BAND_LABELS[b.band] ?? b.band} {u}</th><td>{count(b.count)}</td><td>{percent(b.share)}</td></tr>
              ))}
              <tr><th scope="row">All over the limit</th><td>{count(speeding.speeding)}</td><td>{percent(speeding.speedingShare)}</td></tr>
            </tbody>
          </table>
        </div>
        <p className="muted small">
          {limits.length > 0 ? `Limits in force: ${limits.map((l) => `${l.limit} ${u} (${vehicles(l.count)})`).join(', ')}.` : 'No limit was set for these measurements.'}
          {speeding.withoutLimit > 0 && ` ${count(speeding.withoutLimit)} vehicles were measured without a limit and cannot be over it.`}
        </p>
      </section>

      <section aria-labelledby="distribution-heading" className="stats-section">
        <h2 id="distribution-heading">Speed distribution</h2>
        <div className="charts">
          <BarChart
            title={`Vehicles per 1 ${u} bin`}
            description={`Most vehicles between ${pace?.from ?? '—'} and ${pace?.to ?? '—'} ${u} (the shaded pace); 85th percentile ${speed(summary.p85, units)}.`}
            bars={stats.histogram.map((b) => ({ x: b.from, value: b.count, label: `${b.from}–${b.from + 1} ${u}: ${count(b.count)}` }))}
            span={pace ? { from: pace.from, to: pace.to, label: 'pace' } : undefined}
            markers={markers}
            xLabel={(x) => String(x)}
          />
          <CumulativeChart
            title="Cumulative distribution"
            points={stats.cumulative}
            unitLabel={u}
            markers={[
              ...(summary.median !== null ? [{ at: summary.median, label: '50th' }] : []),
              ...(summary.p85 !== null ? [{ at: summary.p85, label: '85th' }] : []),
            ]}
          />
        </div>
      </section>

      <section aria-labelledby="time-heading" className="stats-section">
        <h2 id="time-heading">By time of day and week</h2>
        <p className="muted small">
          Local time at the site ({stats.subject.timezone}).
          {stats.peaks.am && ` Morning peak ${hourLabel(stats.peaks.am.hour)} (${vehicles(stats.peaks.am.count)}).`}
          {stats.peaks.pm && ` Afternoon peak ${hourLabel(stats.peaks.pm.hour)} (${vehicles(stats.peaks.pm.count)}).`}
        </p>
        <div className="charts">
          <BarChart
            title="Vehicles by hour of day"
            description={`Volume in each local hour${stats.hourly.some((h) => h.p85 !== null) ? '; the line is the hour\'s 85th percentile in ' + u : ''}.`}
            bars={stats.hourly.map((h) => ({ x: h.hour, value: h.count, label: `${hourLabel(h.hour)}: ${vehicles(h.count)}, mean ${speed(h.mean, units)}, 85th ${speed(h.p85, units)}, ${percent(h.speedingShare)} over` }))}
            xLabel={(x) => String(x)}
          />
          <BarChart
            title="Vehicles per day"
            description="Daily volume; the line is the 7-day moving average."
            bars={days.map((d, i) => ({ x: i, value: d.count, label: `${formatDay(d.date)}: ${vehicles(d.count)}, mean ${speed(d.mean, units)}, ${percent(d.speedingShare)} over` }))}
            line={days.map((d, i) => ({ x: i, value: d.countAverage7 }))}
            xLabel={(x) => days[x]?.date.slice(5) ?? ''}
          />
        </div>
        <Heatmap title="Vehicles by weekday and hour" values={stats.heatmap.volume} format={vehicles} />
        <Heatmap title="Share over the limit by weekday and hour" values={stats.heatmap.speedingShare} format={(v) => `${percent(v)} over`} />
      </section>

      <section aria-labelledby="study-heading" className="stats-section">
        <h2 id="study-heading">About these figures</h2>
        <ul className="small study-notes">
          <li>Sample: {count(stats.study.sampleSize)} vehicles{stats.weekdaysOnly ? ', weekdays only' : ''}.</li>
          <li>
            {stats.study.covers24HourWeekday
              ? `Includes ${stats.study.fullWeekdays} complete 24-hour weekday${stats.study.fullWeekdays === 1 ? '' : 's'}, the period FHWA recommends for the 85th percentile.`
              : 'Does not include a complete 24-hour weekday, the period FHWA recommends for the 85th percentile.'}
          </li>
          <li>Percentiles and the pace are exact to the 1 {u} bin; mean, deviation, minimum and maximum are exact.</li>
          <li>Speeding is strictly above the limit in force when each vehicle was measured.</li>
          {stats.converted && <li>Some devices record in the other unit; their speeds were converted.</li>}
        </ul>
      </section>
    </>
  );
}
