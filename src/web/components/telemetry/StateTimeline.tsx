import type { MetricInfo } from '../../../shared/metrics';
import { displayLocale } from '../../lib/format';
import { spellsOf, type MetricSeries } from './series';

const WIDTH = 1000;
const TICKS = 6;

function clock(seconds: number, zone: string, withDay: boolean): string {
  return new Intl.DateTimeFormat(displayLocale(), {
    timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(withDay && { day: 'numeric', month: 'short' }),
  }).format(new Date(seconds * 1000));
}

export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/**
 * An on/off signal (door, compressor, heater, fan) as a timeline: a band for each time it was on, drawn
 * darker the more of the bucket it was on, over the requested range; with the on spells counted and the
 * longest listed (door-open durations). Lines on a 0–100 axis turn a cycling compressor into a comb.
 */
export function StateTimeline({ series, info, bucketSeconds, span, zone }: {
  series: MetricSeries;
  info: MetricInfo;
  bucketSeconds: number;
  span: [number, number];
  zone: string;
}) {
  const [from, to] = span;
  const x = (ts: number) => ((Math.min(Math.max(ts, from), to) - from) / (to - from)) * WIDTH;
  const spells = spellsOf(series, bucketSeconds);
  const onSeconds = spells.reduce((sum, s) => sum + s.onSeconds, 0);
  const observed = series.ts.length * bucketSeconds;
  const on = info.onLabel ?? 'On';
  const off = info.offLabel ?? 'Off';
  const longest = [...spells].sort((a, b) => b.onSeconds - a.onSeconds).slice(0, 3);
  // A day's timeline reads in clock times; the 24-hour view runs a few seconds over a day.
  const multiDay = to - from > 1.5 * 86_400;
  const summary = spells.length === 0
    ? `${off} throughout.`
    : `${on} ${spells.length} time${spells.length === 1 ? '' : 's'}, ${duration(onSeconds)} in total (${Math.round((onSeconds / Math.max(observed, 1)) * 100)} % of the time reported).`;
  return (
    <div className="state-timeline">
      <svg viewBox={`0 0 ${WIDTH} 28`} preserveAspectRatio="none" width="100%" height="28" role="img"
        aria-label={`${info.name}: ${summary}`} data-state-spells={spells.length}>
        <rect x={0} y={2} width={WIDTH} height={24} fill="var(--border, #d4d9e1)" opacity={0.45} />
        {series.ts.map((ts, i) => (series.max[i]! >= 0.5 ? (
          <rect key={ts} x={x(ts)} y={2} width={Math.max(0.8, x(ts + bucketSeconds) - x(ts))} height={24}
            fill="#2563eb" fillOpacity={0.35 + 0.65 * Math.min(1, series.avg[i]!)}>
            <title>{`${clock(ts, zone, multiDay)}: ${on.toLowerCase()} ${Math.round(series.avg[i]! * 100)} % of ${duration(bucketSeconds)}`}</title>
          </rect>
        ) : null))}
      </svg>
      <div className="state-timeline-axis" aria-hidden="true">
        {Array.from({ length: TICKS }, (_, i) => from + ((to - from) * i) / (TICKS - 1)).map((ts, i) => (
          <span key={ts} style={{ left: `${(i / (TICKS - 1)) * 100}%` }}>{clock(ts, zone, multiDay)}</span>
        ))}
      </div>
      <p className="chart-figures">
        <span className="state-key state-key-on" aria-hidden="true" /> {on} <span className="state-key state-key-off" aria-hidden="true" /> {off} · {summary}
        {longest.length > 0 && ` Longest: ${longest.map((s) => `${clock(s.start, zone, multiDay)} for ${duration(s.onSeconds)}`).join(', ')}.`}
      </p>
    </div>
  );
}
