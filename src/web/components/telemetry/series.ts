/** Telemetry buckets of one metric as parallel arrays, and what the charts work out from them. */
export interface MetricSeries {
  /** Bucket starts, seconds since the epoch, ascending. */
  ts: number[];
  min: number[];
  avg: number[];
  max: number[];
}

export interface SafeRange {
  min: number;
  max: number;
}

export function safeRangeOf(settings: Record<string, unknown> | undefined): SafeRange | null {
  const range = settings?.safeRange as { min?: unknown; max?: unknown } | undefined;
  return typeof range?.min === 'number' && typeof range.max === 'number' ? { min: range.min, max: range.max } : null;
}

/** Whether any reading of bucket `i` lay outside the range. */
export function outsideRange(series: MetricSeries, i: number, range: SafeRange): boolean {
  return series.max[i]! > range.max || series.min[i]! < range.min;
}

/** Spells of consecutive buckets outside the range: how many excursions a chart shows. */
export function excursionCount(series: MetricSeries, range: SafeRange, bucketSeconds: number): number {
  let count = 0;
  series.ts.forEach((ts, i) => {
    const previousAdjacent = i > 0 && ts - series.ts[i - 1]! <= bucketSeconds && outsideRange(series, i - 1, range);
    if (outsideRange(series, i, range) && !previousAdjacent) count += 1;
  });
  return count;
}

export interface Spell {
  /** Seconds since the epoch. */
  start: number;
  end: number;
  /** Time on within the spell: each bucket's share of on readings times its length. */
  onSeconds: number;
}

/**
 * Spells of an on/off signal from its buckets: consecutive buckets with any reading on form one spell.
 * A bucket's average is the share of its readings that were on, so its on time is that share of its length.
 */
export function spellsOf(series: MetricSeries, bucketSeconds: number): Spell[] {
  const spells: Spell[] = [];
  let open: Spell | null = null;
  series.ts.forEach((ts, i) => {
    const on = series.max[i]! >= 0.5;
    if (open && (!on || ts > open.end)) {
      spells.push(open);
      open = null;
    }
    if (!on) return;
    open ??= { start: ts, end: ts, onSeconds: 0 };
    open.end = ts + bucketSeconds;
    open.onSeconds += Math.max(0, Math.min(1, series.avg[i]!)) * bucketSeconds;
  });
  if (open) spells.push(open);
  return spells;
}
