import { lazy, Suspense, useMemo, useState } from 'react';
import { useTelemetry, type TelemetryBucket, type TelemetryBuckets, type TelemetryRange } from '../../api/fleet';
import type { DeviceKind } from '../../api/types';
import { formatNumber } from '../../lib/format';
import { compareMetrics, formatMetricValue, metricInfo, type MetricInfo } from '../../../shared/metrics';
import { EmptyState, ErrorState, LoadingState, Spinner } from '../states';
import { excursionCount, safeRangeOf, type MetricSeries, type SafeRange } from './series';
import { StateTimeline } from './StateTimeline';

/** uPlot is loaded only with a device that has telemetry. */
const MetricChart = lazy(() => import('./MetricChart'));

const HOUR = 3_600_000;
const PRESETS = [
  { id: '1h', label: '1 h', spanMs: HOUR, bucket: '1m' },
  { id: '24h', label: '24 h', spanMs: 24 * HOUR, bucket: '5m' },
  { id: '7d', label: '7 d', spanMs: 7 * 24 * HOUR, bucket: '1h' },
  { id: '30d', label: '30 d', spanMs: 30 * 24 * HOUR, bucket: '1h' },
] as const satisfies readonly { id: string; label: string; spanMs: number; bucket: TelemetryBucket }[];

const BUCKET_SECONDS: [TelemetryBucket, number][] = [['1m', 60], ['5m', 300], ['1h', 3600], ['1d', 86_400]];

/** The finest bucket that keeps a custom range under about 1,500 points. */
function bucketFor(spanMs: number): TelemetryBucket {
  return BUCKET_SECONDS.find(([, seconds]) => spanMs / 1000 / seconds <= 1500)?.[0] ?? '1d';
}

/** `YYYY-MM-DDTHH:mm` in the browser's zone, what a datetime-local field holds. */
function localInput(date: Date): string {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

function byMetric(data: TelemetryBuckets | undefined, kind: DeviceKind): [string, MetricSeries][] {
  const metrics = new Map<string, MetricSeries>();
  for (const b of data?.buckets ?? []) {
    let s = metrics.get(b.metric);
    if (!s) metrics.set(b.metric, (s = { ts: [], min: [], avg: [], max: [] }));
    s.ts.push(Date.parse(b.ts) / 1000);
    s.min.push(b.min);
    s.avg.push(b.avg);
    s.max.push(b.max);
  }
  return [...metrics.entries()].sort(([a], [b]) => compareMetrics(kind, a, b));
}

/**
 * Telemetry charts of one device: a preset or custom range; per metric (in the catalogue's order, named and
 * with units from it and the device's overrides) a min/avg/max chart of a measure, or a timeline of a state.
 */
export function TelemetryPanel({ deviceId, zone, kind, settings }: { deviceId: string; zone: string; kind: DeviceKind; settings: Record<string, unknown> }) {
  const [preset, setPreset] = useState<string>('24h');
  const [custom, setCustom] = useState(() => ({ from: localInput(new Date(Date.now() - 2 * 24 * HOUR)), to: localInput(new Date()) }));
  const customFrom = Date.parse(custom.from);
  const customTo = Date.parse(custom.to);
  const customValid = Number.isFinite(customFrom) && Number.isFinite(customTo) && customFrom < customTo;
  const range: TelemetryRange = useMemo(() => {
    const chosen = PRESETS.find((p) => p.id === preset);
    if (chosen || !customValid) return { spanMs: (chosen ?? PRESETS[1]).spanMs, bucket: (chosen ?? PRESETS[1]).bucket };
    return { from: new Date(customFrom).toISOString(), to: new Date(customTo).toISOString(), bucket: bucketFor(customTo - customFrom) };
  }, [preset, customValid, customFrom, customTo]);
  const telemetry = useTelemetry(deviceId, range);
  const metrics = useMemo(() => byMetric(telemetry.data, kind), [telemetry.data, kind]);
  const span = useMemo((): [number, number] => telemetry.data
    ? [Date.parse(telemetry.data.from) / 1000, Date.parse(telemetry.data.to) / 1000] : [0, 1], [telemetry.data]);
  const safeRange = useMemo(() => (kind === 'refrigeration' ? safeRangeOf(settings) : null), [kind, settings]);
  const bucketSeconds = BUCKET_SECONDS.find(([name]) => name === telemetry.data?.bucket)?.[1] ?? 60;

  return (
    <section className="panel" aria-labelledby="telemetry-heading">
      <div className="panel-header">
        <h2 id="telemetry-heading">Telemetry</h2>
        <span className="muted small">Times in {zone}{telemetry.data ? ` · ${telemetry.data.bucket} buckets` : ''}</span>
      </div>
      <div className="range-presets" role="group" aria-label="Time range">
        {PRESETS.map((p) => (
          <button key={p.id} type="button" className="button button-small" aria-pressed={preset === p.id} onClick={() => setPreset(p.id)}>{p.label}</button>
        ))}
        <button type="button" className="button button-small" aria-pressed={preset === 'custom'} onClick={() => setPreset('custom')}>Custom</button>
      </div>
      {preset === 'custom' && (
        <div className="filters">
          <div className="field">
            <label htmlFor="telemetry-from">From</label>
            <input id="telemetry-from" type="datetime-local" value={custom.from} onChange={(e) => setCustom({ ...custom, from: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="telemetry-to">To</label>
            <input id="telemetry-to" type="datetime-local" value={custom.to} aria-invalid={customValid ? undefined : true} aria-describedby={customValid ? undefined : 'telemetry-range-error'}
              onChange={(e) => setCustom({ ...custom, to: e.target.value })} />
          </div>
          {!customValid && <p className="field-error" id="telemetry-range-error" role="alert">The start must be before the end.</p>}
        </div>
      )}
      {telemetry.isPending ? (
        <LoadingState label="Loading telemetry…" />
      ) : telemetry.isError ? (
        <ErrorState title="Telemetry could not be loaded" error={telemetry.error} onRetry={() => void telemetry.refetch()} />
      ) : metrics.length === 0 ? (
        <EmptyState title="No readings in this range"><p>Readings appear here as the device sends them.</p></EmptyState>
      ) : (
        <div className="charts" aria-busy={telemetry.isPlaceholderData || undefined}>
          {metrics.map(([metric, series]) => {
            const info = metricInfo(kind, metric, settings);
            const range = metric === 'temperature' ? safeRange : null;
            return (
              <figure key={metric} className="chart" style={{ margin: 0 }} data-metric={metric} data-kind={info.kind}>
                <h3>{info.name}{info.unit ? ` (${info.unit})` : ''}</h3>
                {info.kind === 'state' ? (
                  <StateTimeline series={series} info={info} bucketSeconds={bucketSeconds} span={span} zone={zone} />
                ) : (
                  <>
                    <Suspense fallback={<div className="chart-canvas"><Spinner label="Loading the chart…" /></div>}>
                      <MetricChart series={series} zone={zone} unit={info.unit} span={span} safeRange={range}
                        label={`${info.name}: minimum, average and maximum over time${range ? ', with the safe range' : ''}`} />
                    </Suspense>
                    <figcaption className="chart-figures">{summary(series, info, range, bucketSeconds)}</figcaption>
                  </>
                )}
              </figure>
            );
          })}
        </div>
      )}
    </section>
  );
}

/** The range in words: lowest, mean of the averages, highest, latest; and the excursions from the safe range. */
function summary(series: MetricSeries, info: MetricInfo, range: SafeRange | null, bucketSeconds: number): string {
  const low = Math.min(...series.min);
  const high = Math.max(...series.max);
  const mean = series.avg.reduce((sum, v) => sum + v, 0) / series.avg.length;
  const latest = series.avg[series.avg.length - 1]!;
  const f = (v: number) => formatMetricValue(v, { ...info, kind: 'measure' }).replace(/^-?[\d.]+/, (n) => formatNumber(Number(n), 2));
  const text = `Lowest ${f(low)}, average ${f(mean)}, highest ${f(high)}; latest ${f(latest)}.`;
  if (!range) return text;
  const excursions = excursionCount(series, range, bucketSeconds);
  const within = `safe range ${f(range.min)} to ${f(range.max)}`;
  return `${text} ${excursions === 0 ? `Inside the ${within} throughout.` : `${excursions} excursion${excursions === 1 ? '' : 's'} outside the ${within} (shaded red).`}`;
}
