import { lazy, Suspense, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { useDetectionStatistics, useViolationHours, type DetectionCounts } from '../../api/violations';
import { ErrorState, LoadingState } from '../../components/states';
import { useDisplayContext } from '../../lib/display';
import { formatNumber, formatPercent } from '../../lib/format';
import { useUpdateSearchParams } from '../../lib/params';
import { useTitle } from '../../lib/title';
import { SafetyTabs } from './ViolationsPage';
import './violations.css';

const ViolationsChart = lazy(() => import('./ViolationsChart'));
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const RULES = [
  { key: 'no_hardhat', label: 'No hard hat', colour: '#dc2626' },
  { key: 'no_vest', label: 'No safety vest', colour: '#d97706' },
  { key: 'zone_breach', label: 'Zone breach', colour: '#7c3aed' },
] as const;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const isoDay = (date: Date) => date.toISOString().slice(0, 10);
const violationsOf = (c: DetectionCounts) => c.violations.no_hardhat + c.violations.no_vest + c.violations.zone_breach;

/** Every day from `from` to `to` inclusive (days with no rollup row count zero). */
function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`) && days.length < 367; t += 86_400_000) days.push(isoDay(new Date(t)));
  return days;
}

/**
 * `/violations/statistics`: violations per day by rule, per camera, by hour of the week, and how many of the
 * analysed frames led to one. Printable: the filters and tabs are left off paper.
 */
export function ViolationStatisticsPage() {
  useTitle('Violation statistics');
  const [params] = useSearchParams();
  const update = useUpdateSearchParams();
  const to = DAY.test(params.get('to') ?? '') ? params.get('to')! : isoDay(new Date());
  const from = DAY.test(params.get('from') ?? '') ? params.get('from')! : isoDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000));
  const range = useMemo(() => ({ from, to }), [from, to]);
  const statistics = useDetectionStatistics(range);
  const hours = useViolationHours(range);
  const display = useDisplayContext();

  const days = useMemo(() => daysBetween(from, to), [from, to]);
  const series = useMemo(() => {
    const byDay = new Map((statistics.data?.days ?? []).map((d) => [d.day, d]));
    return RULES.map((rule) => ({ label: rule.label, colour: rule.colour, values: days.map((day) => byDay.get(day)?.violations[rule.key] ?? 0) }));
  }, [statistics.data, days]);

  return (
    <div className="page page-violation-stats">
      <header className="page-header">
        <h1>Violation statistics</h1>
        <button type="button" className="button print-hide" onClick={() => window.print()}>Print</button>
      </header>
      <SafetyTabs />
      <form className="filters" aria-label="Period" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="stats-from">From</label>
          <input id="stats-from" type="date" value={from} max={to} onChange={(e) => update({ from: e.target.value || null })} />
        </div>
        <div className="field">
          <label htmlFor="stats-to">To</label>
          <input id="stats-to" type="date" value={to} min={from} onChange={(e) => update({ to: e.target.value || null })} />
        </div>
      </form>
      <p className="small muted">From {from} to {to}, each camera&apos;s local days.</p>
      {statistics.isPending ? <LoadingState label="Loading statistics…" />
        : statistics.isError ? <ErrorState title="Statistics could not be loaded" error={statistics.error} onRetry={() => void statistics.refetch()} />
          : (() => {
            const totals = statistics.data.totals;
            const total = violationsOf(totals);
            const cameras = [...statistics.data.cameras].sort((a, b) => violationsOf(b) - violationsOf(a));
            const rate = totals.framesInferred > 0 ? 1 - total / totals.framesInferred : null;
            return (
              <>
                <dl className="stats-figures" aria-label="Totals">
                  <div><dt>Violations</dt><dd>{formatNumber(total)}</dd></div>
                  {RULES.map((rule) => <div key={rule.key}><dt>{rule.label}</dt><dd>{formatNumber(totals.violations[rule.key])}</dd></div>)}
                  <div><dt>Frames analysed</dt><dd>{formatNumber(totals.framesInferred)}</dd></div>
                  <div>
                    <dt>Frames analysed without a new violation</dt>
                    <dd data-testid="compliance-rate">{rate === null ? '–' : formatPercent(rate, 2)}</dd>
                  </div>
                </dl>
                <p className="small muted">
                  The rate compares violations opened with frames the model ran on; the statistics do not count frames with people in them,
                  so it is not a share of people seen complying.
                </p>
                <div className="stats-grid">
                  <section className="panel" aria-labelledby="stats-days-heading">
                    <h2 id="stats-days-heading">Violations per day by type</h2>
                    <Suspense fallback={<LoadingState label="Loading the chart…" />}>
                      <ViolationsChart days={days} series={series} label={`Violations per day from ${from} to ${to}: ${RULES.map((r) => `${r.label} ${totals.violations[r.key]}`).join(', ')}`} />
                    </Suspense>
                  </section>
                  <section className="panel" aria-labelledby="stats-cameras-heading">
                    <h2 id="stats-cameras-heading">Top cameras</h2>
                    {cameras.length === 0 ? <p className="muted">No camera counted frames in this period.</p> : (
                      <div className="table-wrap">
                        <table className="table" data-testid="top-cameras">
                          <thead><tr><th scope="col">Camera</th>{RULES.map((r) => <th key={r.key} scope="col" className="numeric">{r.label}</th>)}<th scope="col" className="numeric">Total</th></tr></thead>
                          <tbody>
                            {cameras.slice(0, 10).map((c) => (
                              <tr key={c.cameraId}>
                                <th scope="row">{display.devices.find((d) => d.id === c.cameraId)?.name ?? 'Camera'}</th>
                                {RULES.map((r) => <td key={r.key} className="numeric">{formatNumber(c.violations[r.key])}</td>)}
                                <td className="numeric"><strong>{formatNumber(violationsOf(c))}</strong></td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </div>
                    )}
                  </section>
                </div>
              </>
            );
          })()}
      <section className="panel" aria-labelledby="stats-hours-heading">
        <h2 id="stats-hours-heading">Hours of the week</h2>
        {hours.isPending ? <LoadingState label="Loading…" />
          : hours.isError ? <ErrorState title="The hours could not be loaded" error={hours.error} onRetry={() => void hours.refetch()} />
            : <Heatmap cells={hours.data.cells} />}
        <p className="small muted">Violations by weekday and hour in the organization&apos;s time zone; darker is more.</p>
      </section>
    </div>
  );
}

function Heatmap({ cells }: { cells: { weekday: number; hour: number; violations: number }[] }) {
  const counts = new Map(cells.map((c) => [`${c.weekday}:${c.hour}`, c.violations]));
  const max = Math.max(1, ...cells.map((c) => c.violations));
  return (
    <div className="heatmap-scroll">
      <table className="heatmap" data-testid="heatmap">
        <caption className="visually-hidden">Violations by weekday (rows) and hour of the day (columns)</caption>
        <thead><tr><td />{Array.from({ length: 24 }, (_, h) => <th key={h} scope="col">{h % 3 === 0 ? h : <span className="visually-hidden">{h}</span>}</th>)}</tr></thead>
        <tbody>
          {WEEKDAYS.map((day, index) => (
            <tr key={day}>
              <th scope="row">{day}</th>
              {Array.from({ length: 24 }, (_, hour) => {
                const n = counts.get(`${index + 1}:${hour}`) ?? 0;
                return (
                  <td key={hour} title={`${day} ${hour}:00 – ${n}`} style={{ background: n === 0 ? 'var(--surface-2)' : `rgb(220 38 38 / ${Math.round(15 + (85 * n) / max)}%)` }}>
                    {n}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
