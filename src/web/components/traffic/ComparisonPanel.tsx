import { useState, type FormEvent } from 'react';
import { useTrafficComparison, type ComparisonRequest, type Subject, type TrafficComparison } from '../../api/traffic';
import { ErrorState, LoadingState } from '../states';
import { count, percent, speed } from './format';
import { formatNumber, formatPercent } from '../../lib/format';

const FIGURES: Record<string, string> = {
  count: 'Vehicles',
  mean: 'Mean',
  median: 'Median',
  p15: '15th percentile',
  p85: '85th percentile',
  p95: '95th percentile',
  stddev: 'Standard deviation',
  min: 'Minimum',
  max: 'Maximum',
  paceShare: 'Share in the pace',
  speedingShare: 'Share over the limit',
};

function formatFigure(figure: string, value: number | null, units: TrafficComparison['units'], signed = false): string {
  if (value === null) return '—';
  const sign = signed && value > 0 ? '+' : '';
  if (figure === 'count') return `${sign}${count(value)}`;
  if (figure.endsWith('Share')) return signed ? `${sign}${formatNumber(value * 100, 1)} pts` : percent(value);
  return `${sign}${speed(value, units)}`;
}

/** Before/after: two date ranges of the same subject, each figure's change and whether it is more than chance. */
export function ComparisonPanel({ subject, weekdaysOnly }: { subject: Subject; weekdaysOnly: boolean }) {
  const [request, setRequest] = useState<ComparisonRequest | null>(null);
  const comparison = useTrafficComparison(request);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => String(form.get(name) ?? '');
    setRequest({ ...subject, weekdaysOnly, beforeFrom: value('beforeFrom'), beforeTo: value('beforeTo'), afterFrom: value('afterFrom'), afterTo: value('afterTo') });
  }

  return (
    <section aria-labelledby="compare-heading" className="stats-section compare">
      <h2 id="compare-heading">Before and after</h2>
      <p className="muted small">Compare two periods of the same selection, for example before and after traffic calming. Dates are inclusive, in the site's time zone.</p>
      <form className="filters compare-form" onSubmit={submit} aria-label="Periods to compare">
        <fieldset>
          <legend>Before</legend>
          <div className="field"><label htmlFor="before-from">From</label><input id="before-from" name="beforeFrom" type="date" required /></div>
          <div className="field"><label htmlFor="before-to">To</label><input id="before-to" name="beforeTo" type="date" required /></div>
        </fieldset>
        <fieldset>
          <legend>After</legend>
          <div className="field"><label htmlFor="after-from">From</label><input id="after-from" name="afterFrom" type="date" required /></div>
          <div className="field"><label htmlFor="after-to">To</label><input id="after-to" name="afterTo" type="date" required /></div>
        </fieldset>
        <button type="submit" className="button button-primary">Compare</button>
      </form>
      {request && comparison.isPending && <LoadingState label="Comparing…" />}
      {comparison.isError && <ErrorState title="The periods could not be compared" error={comparison.error} />}
      {comparison.data && <ComparisonResult result={comparison.data} />}
    </section>
  );
}

function ComparisonResult({ result }: { result: TrafficComparison }) {
  const tests: Record<string, { meaningful: boolean } | null> = { mean: result.tests.mean, p85: result.tests.p85 };
  return (
    <div aria-live="polite">
      <ul className="conclusions">
        {result.conclusions.map((c) => <li key={c}>{c}</li>)}
        {result.tests.distribution && (
          <li>
            {result.tests.distribution.meaningful
              ? `Speeds overall changed (Mann–Whitney p = ${result.tests.distribution.pValue.toPrecision(2)}): a vehicle after is ${formatPercent(result.tests.distribution.probabilityFaster, 0)} likely to be faster than one before.`
              : `Speeds overall did not change meaningfully (Mann–Whitney p = ${result.tests.distribution.pValue.toPrecision(2)}).`}
          </li>
        )}
      </ul>
      <div className="table-wrap">
        <table className="table">
          <caption>Each figure before and after</caption>
          <thead><tr><th scope="col">Figure</th><th scope="col">Before</th><th scope="col">After</th><th scope="col">Change</th></tr></thead>
          <tbody>
            {result.figures.map((f) => (
              <tr key={f.figure}>
                <th scope="row">{FIGURES[f.figure] ?? f.figure}</th>
                <td>{formatFigure(f.figure, f.before, result.units)}</td>
                <td>{formatFigure(f.figure, f.after, result.units)}</td>
                <td>
                  {formatFigure(f.figure, f.change, result.units, true)}
                  {tests[f.figure] && <span className="muted small"> {tests[f.figure]!.meaningful ? '(meaningful)' : '(within chance)'}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
