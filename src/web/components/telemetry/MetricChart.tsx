import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface MetricSeries {
  /** Seconds since the epoch, ascending. */
  ts: number[];
  min: number[];
  avg: number[];
  max: number[];
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * One metric over time: the average as a line inside a band from the minimum to the maximum of each
 * bucket, with times shown in `zone`. The canvas follows its container's width.
 */
export default function MetricChart({ series, zone, label }: { series: MetricSeries; zone: string; label: string }) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const axis = { stroke: cssVar('--muted', '#4b5563'), grid: { stroke: cssVar('--border', '#d4d9e1'), width: 1 }, ticks: { stroke: cssVar('--border', '#d4d9e1') } };
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        {},
        { label: 'min', stroke: 'rgb(37 99 235 / 45%)', width: 1 },
        { label: 'avg', stroke: '#2563eb', width: 2 },
        { label: 'max', stroke: 'rgb(37 99 235 / 45%)', width: 1 },
      ],
      bands: [{ series: [3, 1], fill: 'rgb(37 99 235 / 14%)' }],
      axes: [axis, { ...axis, size: 56 }],
    };
    const chart = new uPlot(options, [series.ts, series.min, series.avg, series.max], element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [series, zone]);

  return <div ref={container} className="chart-canvas" role="img" aria-label={label} />;
}
