import { lazy, Suspense, useMemo, useState } from 'react';
import { useTelemetry, type TelemetryBucket, type TelemetryBuckets, type TelemetryRange } from '../../api/fleet';
import { formatNumber, humanize } from '../../lib/format';
import { EmptyState, ErrorState, LoadingState, Spinner } from '../states';
import type { MetricSeries } from './MetricChart';

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

function byMetric(data: TelemetryBuckets | undefined): [string, MetricSeries][] {
  const metrics = new Map<string, MetricSeries>();
  for (const b of data?.buckets ?? []) {
    let s = metrics.get(b.metric);
    if (!s) metrics.set(b.metric, (s = { ts: [], min: [], avg: [], max: [] }));
    s.ts.push(Date.parse(b.ts) / 1000);
    s.min.push(b.min);
    s.avg.push(b.avg);
    s.max.push(b.max);
  }
  return [...metrics.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Telemetry charts of one device: a preset or custom range, one chart per metric with min/avg/max. */
export function TelemetryPanel({ deviceId, zone }: { deviceId: string; zone: string }) {
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
  const metrics = useMemo(() => byMetric(telemetry.data), [telemetry.data]);

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
          {metrics.map(([metric, series]) => (
            <figure key={metric} className="chart" style={{ margin: 0 }}>
              <h3>{humanize(metric)}</h3>
              <Suspense fallback={<div className="chart-canvas"><Spinner label="Loading the chart…" /></div>}>
                <MetricChart series={series} zone={zone} label={`${humanize(metric)}: minimum, average and maximum over time`} />
              </Suspense>
              <figcaption className="chart-figures">{summary(series)}</figcaption>
            </figure>
          ))}
        </div>
      )}
    </section>
  );
}

/** The range in words: lowest, mean of the averages, highest, latest. */
function summary(series: MetricSeries): string {
  const low = Math.min(...series.min);
  const high = Math.max(...series.max);
  const mean = series.avg.reduce((sum, v) => sum + v, 0) / series.avg.length;
  const latest = series.avg[series.avg.length - 1]!;
  const f = (v: number) => formatNumber(Math.round(v * 100) / 100);
  return `Lowest ${f(low)}, average ${f(mean)}, highest ${f(high)}; latest ${f(latest)}.`;
}
