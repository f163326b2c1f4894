import { useLayoutEffect, useRef, useState, type CSSProperties, type RefObject } from 'react';

/**
 * Hand-drawn SVG charts for the statistics page: small, dependency-free, theme-aware (colours come from
 * CSS variables) and printable. Each chart is an image with a text alternative; the figures it shows
 * are also in the page's tables.
 */

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };
/** Room an x label needs: about 7 px a character at the charts' 11 px text, plus a gap. */
const labelRoom = (label: string) => label.length * 7 + 10;

/**
 * The chart's drawn width in CSS pixels: the SVG is drawn at the width it is shown, so its 11 px text stays
 * 11 px on a phone (a fixed 640-wide drawing scaled down to 330 px made it 6 px) and labels are thinned to fit.
 */
function useDrawnWidth(): [RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(WIDTH);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const measure = () => {
      const inner = element.clientWidth - 2 * parseFloat(getComputedStyle(element).paddingLeft || '0');
      if (inner > 0) setWidth(Math.round(Math.max(240, inner)));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** Every how many-th label fits in the plot without two overlapping. */
function labelStep(labels: string[], plotWidth: number): number {
  const room = Math.max(...labels.map(labelRoom), 1);
  return Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(plotWidth / room))));
}

export interface Bar {
  x: number;
  value: number;
  label: string;
}

interface Scale {
  x: (v: number) => number;
  y: (v: number) => number;
  band: number;
}

function scale(width: number, xMin: number, xMax: number, yMax: number): Scale {
  const plotWidth = width - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const span = Math.max(1, xMax - xMin);
  return {
    x: (v) => PAD.left + ((v - xMin) / span) * plotWidth,
    y: (v) => PAD.top + plotHeight - (yMax > 0 ? (v / yMax) * plotHeight : 0),
    band: plotWidth / span,
  };
}

/** About five round ticks from 0 to max. */
function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const step = 10 ** Math.floor(Math.log10(max / 4));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 5) ?? step * 10;
  return Array.from({ length: Math.floor(max / nice) + 1 }, (_, i) => i * nice);
}

function Axes({ s, width, yMax, xTicks, yFormat }: { s: Scale; width: number; yMax: number; xTicks: { at: number; label: string }[]; yFormat: (v: number) => string }) {
  return (
    <g className="chart-axes">
      {ticks(yMax).map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={width - PAD.right} y1={s.y(t)} y2={s.y(t)} className="chart-grid" />
          <text x={PAD.left - 6} y={s.y(t) + 4} textAnchor="end">{yFormat(t)}</text>
        </g>
      ))}
      {xTicks.map((t) => (
        <text key={t.at} x={s.x(t.at)} y={HEIGHT - 8} textAnchor="middle">{t.label}</text>
      ))}
    </g>
  );
}

export interface Marker {
  at: number;
  label: string;
}

/**
 * Bars over a numeric axis (bar i covers [x, x + 1)), with an optional shaded span (the pace), vertical
 * markers (the 85th percentile, the limit) and a line over the bars (a moving average).
 */
export function BarChart({ title, description, bars, span, markers = [], line, xLabel, yFormat = String }: {
  title: string;
  description: string;
  bars: Bar[];
  span?: { from: number; to: number; label: string };
  markers?: Marker[];
  line?: { x: number; value: number | null }[];
  xLabel: (x: number) => string;
  yFormat?: (v: number) => string;
}) {
  const [ref, width] = useDrawnWidth();
  if (bars.length === 0) return null;
  const xMin = bars[0]!.x;
  const xMax = bars[bars.length - 1]!.x + 1;
  const yMax = Math.max(...bars.map((b) => b.value), ...(line ?? []).map((p) => p.value ?? 0)) * 1.08;
  const s = scale(width, xMin, xMax, yMax);
  const every = labelStep(bars.map((b) => xLabel(b.x)), width - PAD.left - PAD.right);
  const xTicks = bars.filter((_, i) => i % every === 0).map((b) => ({ at: b.x + 0.5, label: xLabel(b.x) }));
  const path = (line ?? [])
    .filter((p) => p.value !== null)
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${s.x(p.x + 0.5).toFixed(1)},${s.y(p.value!).toFixed(1)}`)
    .join(' ');
  return (
    <figure className="chart" ref={ref}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={`${title}. ${description}`}>
        {span && <rect x={s.x(span.from)} y={PAD.top} width={s.x(span.to) - s.x(span.from)} height={HEIGHT - PAD.top - PAD.bottom} className="chart-span" />}
        <Axes s={s} width={width} yMax={yMax} xTicks={xTicks} yFormat={yFormat} />
        {bars.map((b) => (
          <rect key={b.x} x={s.x(b.x) + s.band * 0.08} width={Math.max(0.5, s.band * 0.84)} y={s.y(b.value)} height={s.y(0) - s.y(b.value)} className="chart-bar">
            <title>{b.label}</title>
          </rect>
        ))}
        {path && <path d={path} className="chart-line" />}
        {markers.map((m) => (
          <g key={m.label} className="chart-marker">
            <line x1={s.x(m.at)} x2={s.x(m.at)} y1={PAD.top} y2={HEIGHT - PAD.bottom} />
            <text x={s.x(m.at) + 4} y={PAD.top + 12}>{m.label}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** The cumulative distribution: share of vehicles at or below each speed, with markers. */
export function CumulativeChart({ title, points, markers, unitLabel }: {
  title: string;
  points: { speed: number; share: number }[];
  markers: Marker[];
  unitLabel: string;
}) {
  const [ref, width] = useDrawnWidth();
  if (points.length === 0) return null;
  const xMin = points[0]!.speed - 1;
  const xMax = points[points.length - 1]!.speed;
  const s = scale(width, xMin, xMax, 1);
  const path = [`M${s.x(xMin)},${s.y(0)}`, ...points.map((p) => `L${s.x(p.speed).toFixed(1)},${s.y(p.share).toFixed(1)}`)].join(' ');
  const fitting = Math.max(2, Math.floor((width - PAD.left - PAD.right) / labelRoom(String(xMax))));
  const step = Math.max(1, Math.ceil((xMax - xMin) / Math.min(10, fitting)));
  const xTicks = Array.from({ length: Math.floor((xMax - xMin) / step) + 1 }, (_, i) => xMin + i * step).map((at) => ({ at, label: String(at) }));
  return (
    <figure className="chart" ref={ref}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={`${title}: the share of vehicles at or below each speed (${unitLabel}). ${markers.map((m) => m.label).join(', ')}.`}>
        <Axes s={s} width={width} yMax={1} xTicks={xTicks} yFormat={(v) => `${Math.round(v * 100)}%`} />
        <path d={path} className="chart-line" />
        {markers.map((m) => (
          <g key={m.label} className="chart-marker">
            <line x1={s.x(m.at)} x2={s.x(m.at)} y1={PAD.top} y2={HEIGHT - PAD.bottom} />
            <text x={s.x(m.at) + 4} y={PAD.top + 12}>{m.label}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Hour of day × weekday as a table whose cells are shaded by value (0 to the largest). */
export function Heatmap({ title, values, format }: { title: string; values: (number | null)[][]; format: (v: number) => string }) {
  const max = Math.max(0, ...values.flat().map((v) => v ?? 0));
  return (
    // Focusable, so keyboard users can scroll it on a narrow screen.
    <div className="heatmap-wrap" tabIndex={0} role="region" aria-label={title}>
      <table className="heatmap">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col"><span className="visually-hidden">Day</span></th>
            {/* On a phone every third hour is labelled, so the 24 columns fit the screen. */}
            {Array.from({ length: 24 }, (_, h) => <th key={h} scope="col" className={h % 3 === 0 ? undefined : 'heatmap-minor'}>{h}</th>)}
          </tr>
        </thead>
        <tbody>
          {values.map((row, d) => (
            <tr key={DAYS[d]}>
              <th scope="row">{DAYS[d]}</th>
              {row.map((v, h) => (
                <td key={h} style={{ '--level': v === null || max === 0 ? 0 : v / max } as CSSProperties} title={`${DAYS[d]} ${h}:00 — ${v === null ? 'no traffic' : format(v)}`}>
                  <span className="visually-hidden">{v === null ? 'no traffic' : format(v)}</span>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <HeatmapLegend max={max} format={format} />
    </div>
  );
}

/** What the shades mean: from none to the largest value, with both ends written out. */
function HeatmapLegend({ max, format }: { max: number; format: (v: number) => string }) {
  const steps = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div className="heatmap-legend" aria-label={`Shade scale: lightest no traffic, darkest ${format(max)}`} role="img">
      <span>{format(0)}</span>
      {steps.map((level) => <span key={level} className="heatmap-swatch" style={{ '--level': level } as CSSProperties} />)}
      <span>{format(max)}</span>
    </div>
  );
}
