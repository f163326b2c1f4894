import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useSites } from '../api/queries';
import { useTrafficStatistics, type StatisticsRequest, type Subject } from '../api/traffic';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { ComparisonPanel } from '../components/traffic/ComparisonPanel';
import { PRESETS, presetRange, type Preset } from '../components/traffic/format';
import { StatisticsView } from '../components/traffic/StatisticsView';
import { useDisplayContext } from '../lib/display';
import { useUpdateSearchParams } from '../lib/params';
import { useTitle } from '../lib/title';
import './StatsPage.css';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The selection in the address: `subject=device:<id>|site:<id>`, `period`, custom `from`/`to`, `weekdays`. */
function useSelection() {
  const [params] = useSearchParams();
  const [kind, id] = (params.get('subject') ?? '').split(':');
  const subject: Subject = id && UUID.test(id) ? (kind === 'site' ? { siteId: id } : kind === 'device' ? { deviceId: id } : {}) : {};
  const periodParam = params.get('period') as Preset | null;
  const period: Preset = periodParam && periodParam in PRESETS ? periodParam : '30d';
  const fallback = presetRange('30d');
  const custom = {
    from: DATE.test(params.get('from') ?? '') ? params.get('from')! : fallback.from,
    to: DATE.test(params.get('to') ?? '') ? params.get('to')! : fallback.to,
  };
  const range = period === 'custom' ? custom : presetRange(period);
  return { subjectValue: params.get('subject') ?? '', subject, period, explicit: periodParam !== null, range, weekdaysOnly: params.get('weekdays') === 'true' };
}

/**
 * `/stats`: speed-study statistics of a device, a site or all visible devices over a period: the
 * figures a traffic department asks for (85th percentile, pace, share over the limit), the distribution,
 * patterns by hour and weekday, the daily trend, and a before/after comparison. Printable.
 */
export function StatsPage() {
  useTitle('Speed statistics');
  const selection = useSelection();
  const update = useUpdateSearchParams();
  const display = useDisplayContext();
  const sites = useSites();
  const radars = display.devices.filter((d) => d.kind === 'speed_radar').sort((a, b) => a.name.localeCompare(b.name));
  const siteList = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  // Left to its default, the period starts with the first day that has data: 7 days of speeds read as
  // 7 days, not as 30 days of which 23 are empty. Any period chosen by hand is kept as chosen.
  const [firstDay, setFirstDay] = useState<{ subject: string; date: string } | null>(null);
  const dataFrom = !selection.explicit && firstDay?.subject === selection.subjectValue && firstDay.date > selection.range.from ? firstDay.date : null;
  const range = dataFrom ? { ...selection.range, from: dataFrom } : selection.range;
  const request: StatisticsRequest = { ...selection.subject, ...range, weekdaysOnly: selection.weekdaysOnly };
  const onFirstDay = (date: string | null) => {
    if (!selection.explicit && date && date !== firstDay?.date) setFirstDay({ subject: selection.subjectValue, date });
  };

  return (
    <div className="page stats-page">
      <header className="page-header">
        <div>
          <h1>Speed statistics</h1>
          <p className="muted">
            {range.from} to {range.to}{selection.weekdaysOnly ? ', weekdays only' : ''}
            {dataFrom && <> (the first speeds in the last 30 days were measured on {dataFrom})</>}
          </p>
        </div>
        <button type="button" className="button no-print" onClick={() => window.print()}>Print</button>
      </header>
      <form className="filters no-print" aria-label="Choose what to study" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="stats-subject">Devices</label>
          <select id="stats-subject" value={selection.subjectValue} onChange={(e) => update({ subject: e.target.value || null })}>
            <option value="">All speed radars</option>
            {siteList.length > 0 && (
              <optgroup label="Sites">
                {siteList.map((s) => <option key={s.id} value={`site:${s.id}`}>{s.name}</option>)}
              </optgroup>
            )}
            {radars.length > 0 && (
              <optgroup label="Devices">
                {radars.map((d) => <option key={d.id} value={`device:${d.id}`}>{d.name}</option>)}
              </optgroup>
            )}
          </select>
        </div>
        <div className="field">
          <label htmlFor="stats-period">Period</label>
          <select
            id="stats-period"
            value={selection.period}
            onChange={(e) => {
              const period = e.target.value as Preset;
              // A custom range starts from the period shown, so switching does not jump elsewhere.
              update(period === 'custom' ? { period, ...range } : { period, from: null, to: null });
            }}
          >
            {Object.entries(PRESETS).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </div>
        {selection.period === 'custom' && (
          <>
            <div className="field">
              <label htmlFor="stats-from">From</label>
              <input id="stats-from" type="date" value={selection.range.from} max={selection.range.to} onChange={(e) => update({ from: e.target.value || null })} />
            </div>
            <div className="field">
              <label htmlFor="stats-to">To (inclusive)</label>
              <input id="stats-to" type="date" value={selection.range.to} min={selection.range.from} onChange={(e) => update({ to: e.target.value || null })} />
            </div>
          </>
        )}
        <div className="field field-checkbox">
          <input id="stats-weekdays" type="checkbox" checked={selection.weekdaysOnly} onChange={(e) => update({ weekdays: e.target.checked ? 'true' : null })} />
          <label htmlFor="stats-weekdays">Weekdays only</label>
        </div>
      </form>
      <Statistics request={request} onFirstDay={selection.explicit ? undefined : onFirstDay} />
      <ComparisonPanel key={selection.subjectValue} subject={selection.subject} weekdaysOnly={selection.weekdaysOnly} />
    </div>
  );
}

function Statistics({ request, onFirstDay }: { request: StatisticsRequest; onFirstDay?: (date: string | null) => void }) {
  const stats = useTrafficStatistics(request);
  const first = stats.data && !stats.isPlaceholderData ? stats.data.daily.find((d) => d.count > 0)?.date ?? null : undefined;
  useEffect(() => {
    if (first !== undefined) onFirstDay?.(first);
  }, [first, onFirstDay]);
  if (stats.isPending) return <LoadingState label="Computing statistics…" />;
  if (stats.isError) return <ErrorState title="Statistics could not be computed" error={stats.error} onRetry={() => void stats.refetch()} />;
  const data = stats.data;
  return (
    <div aria-busy={stats.isPlaceholderData || undefined} className={stats.isPlaceholderData ? 'stale' : undefined}>
      <p className="print-only">
        {data.subject.name} ({data.subject.kind === 'organization' ? `${data.subject.devices} devices` : data.subject.kind}), {request.from} to {request.to}, times in {data.subject.timezone}.
      </p>
      {data.empty ? (
        <EmptyState title="No speeds in this period">
          <p>{data.message}</p>
          <p className="muted small">Choose a longer period or other devices.</p>
        </EmptyState>
      ) : (
        <StatisticsView stats={data} />
      )}
    </div>
  );
}
