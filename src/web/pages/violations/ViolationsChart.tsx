import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface DailySeries {
  label: string;
  colour: string;
  values: number[];
}

/** Violations per day, one line per series; days as UTC midnights so the axis shows the calendar day itself. */
export default function ViolationsChart({ days, series, label }: { days: string[]; series: DailySeries[]; label: string }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const muted = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#4b5563';
    const border = getComputedStyle(document.documentElement).getPropertyValue('--border').trim() || '#d4d9e1';
    const axis = { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border } };
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'UTC'),
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, points: { show: true, size: 5, fill: s.colour } }))],
      axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')) }],
    };
    const xs = days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
    const chart = new uPlot(options, [xs, ...series.map((s) => s.values)], element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 240 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [days, series]);
  return <div ref={container} className="chart-canvas" role="img" aria-label={label} />;
}
