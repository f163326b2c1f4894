import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { outsideRange, type MetricSeries, type SafeRange } from './series';

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const SAFE_FILL = 'rgb(22 163 74 / 12%)';
const SAFE_EDGE = 'rgb(22 163 74 / 55%)';
const EXCURSION_FILL = 'rgb(220 38 38 / 13%)';
const EXCURSION_LINE = '#dc2626';

/**
 * One measure over time: the average as a line inside a band from the minimum to the maximum of each
 * bucket, times shown in `zone`, values with their unit. The time axis spans the requested range (`span`,
 * seconds), so a few readings sit where they belong instead of stretching the axis over years. With a safe
 * range, the range is a green band and each bucket outside it is shaded red with its values drawn in red.
 */
export default function MetricChart({ series, zone, label, unit, span, safeRange }: {
  series: MetricSeries;
  zone: string;
  label: string;
  unit: string | null;
  span: [number, number];
  safeRange?: SafeRange | null;
}) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const withUnit = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v * 100) / 100}${unit ? ` ${unit}` : ''}`);
    const axis = { stroke: cssVar('--muted', '#4b5563'), grid: { stroke: cssVar('--border', '#d4d9e1'), width: 1 }, ticks: { stroke: cssVar('--border', '#d4d9e1') } };
    const outside = safeRange ? series.avg.map((v, i) => (outsideRange(series, i, safeRange) ? v : null)) : [];
    const shade = (u: uPlot) => {
      const { ctx, bbox } = u;
      ctx.save();
      if (safeRange) {
        const top = u.valToPos(safeRange.max, 'y', true);
        const bottom = u.valToPos(safeRange.min, 'y', true);
        ctx.fillStyle = SAFE_FILL;
        ctx.fillRect(bbox.left, top, bbox.width, bottom - top);
        ctx.strokeStyle = SAFE_EDGE;
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1;
        for (const y of [top, bottom]) {
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
        }
        ctx.fillStyle = EXCURSION_FILL;
        const step = series.ts.length > 1 ? series.ts[1]! - series.ts[0]! : 60;
        series.ts.forEach((ts, i) => {
          if (!outsideRange(series, i, safeRange)) return;
          const x0 = u.valToPos(ts, 'x', true);
          const x1 = u.valToPos(series.ts[i + 1] ?? ts + step, 'x', true);
          ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
        });
      }
      ctx.restore();
    };
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: true, range: (_u, min, max) => (min < span[0] || max > span[1] ? [Math.min(min, span[0]), Math.max(max, span[1])] : span) },
        y: {
          range: (_u, min, max) => {
            const low = Math.min(min, safeRange?.min ?? min);
            const high = Math.max(max, safeRange?.max ?? max);
            const pad = Math.max((high - low) * 0.1, 0.5);
            return [low - pad, high + pad];
          },
        },
      },
      series: [
        {},
        { label: 'min', stroke: 'rgb(37 99 235 / 45%)', width: 1, value: (_u, v) => withUnit(v) },
        { label: 'avg', stroke: '#2563eb', width: 2, value: (_u, v) => withUnit(v) },
        { label: 'max', stroke: 'rgb(37 99 235 / 45%)', width: 1, value: (_u, v) => withUnit(v) },
        // Without a safe range there is nothing outside it: no series, and no greyed-out legend entry.
        ...(safeRange ? [{ label: 'outside safe range', stroke: EXCURSION_LINE, width: 3, spanGaps: false, points: { show: true, size: 5, fill: EXCURSION_LINE }, value: (_u: uPlot, v: number | null) => withUnit(v) }] : []),
      ],
      bands: [{ series: [3, 1], fill: 'rgb(37 99 235 / 14%)' }],
      axes: [axis, { ...axis, size: 64, values: (_u, ticks) => ticks.map((v) => withUnit(v)) }],
      hooks: { drawAxes: [shade] },
    };
    const chart = new uPlot(options, safeRange ? [series.ts, series.min, series.avg, series.max, outside] : [series.ts, series.min, series.avg, series.max], element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [series, zone, unit, span, safeRange]);

  return <div ref={container} className="chart-canvas" role="img" aria-label={label} />;
}
