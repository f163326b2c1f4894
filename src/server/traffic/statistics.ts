import type { SpeedFigures, SpeedingFigures, Units } from '../../shared/traffic.js';
/**
 * Speed-study figures computed from merged histograms: pure functions, no I/O. Speeds are counted in
 * 1-unit bins keyed by the bin's lower bound (bin k holds k ≤ speed < k + 1), so percentiles and the
 * pace are exact to the bin; mean, standard deviation, minimum and maximum come from exact sums.
 */

export const KMH_PER_MPH = 1.609344;

/** Counts per 1-unit bin, keyed by the bin's lower bound. Counts are fractional only after a unit conversion. */
export type Bins = Map<number, number>;

/** Exact running sums of the speeds (in one unit). */
export interface Moments {
  count: number;
  sum: number;
  sumSquares: number;
  min: number | null;
  max: number | null;
}

export const EMPTY_MOMENTS: Moments = { count: 0, sum: 0, sumSquares: 0, min: null, max: null };

/** The width of the pace: 10 mph, or 16 km/h (the same distance) when metric. */
export function paceWidth(units: Units): number {
  return units === 'mph' ? 10 : 16;
}

export function unitFactor(from: Units, to: Units): number {
  if (from === to) return 1;
  return to === 'kmh' ? KMH_PER_MPH : 1 / KMH_PER_MPH;
}

export function addTo(bins: Bins, bin: number, count: number): void {
  bins.set(bin, (bins.get(bin) ?? 0) + count);
}

/**
 * Re-expresses 1-unit bins in another unit (factor = new units per old unit): each old bin covers an
 * interval of the new axis, and its count is shared among the new bins it overlaps in proportion to
 * the overlap (speeds are taken as spread evenly inside a bin). Totals are kept exactly.
 */
export function convertBins(bins: Bins, factor: number): Bins {
  if (factor === 1) return new Map(bins);
  const converted: Bins = new Map();
  for (const [bin, count] of bins) {
    const from = bin * factor;
    const to = (bin + 1) * factor;
    for (let target = Math.floor(from); target < to; target++) {
      const overlap = Math.min(to, target + 1) - Math.max(from, target);
      if (overlap > 0) addTo(converted, target, (count * overlap) / (to - from));
    }
  }
  return converted;
}

/**
 * Excess bins are keyed by their upper bound (excess k ≥ 1 holds k − 1 < speed − limit ≤ k; 0 holds every
 * speed not above the limit), so the band "1–5 above" is keys 1..5. They convert like speed bins shifted
 * by one: bin 0 lands on keys ≤ 0, still not above the limit.
 */
export function convertExcess(excess: Bins, factor: number): Bins {
  if (factor === 1) return new Map(excess);
  const shifted = convertBins(new Map([...excess].map(([k, c]) => [k - 1, c])), factor);
  return new Map([...shifted].map(([k, c]) => [k + 1, c]));
}

export function convertMoments(m: Moments, factor: number): Moments {
  return {
    count: m.count,
    sum: m.sum * factor,
    sumSquares: m.sumSquares * factor * factor,
    min: m.min === null ? null : m.min * factor,
    max: m.max === null ? null : m.max * factor,
  };
}

export function mergeMoments(a: Moments, b: Moments): Moments {
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    sumSquares: a.sumSquares + b.sumSquares,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
  };
}

function sortedBins(bins: Bins): [number, number][] {
  return [...bins].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
}

function binTotal(bins: Bins): number {
  let total = 0;
  for (const count of bins.values()) total += count;
  return total;
}

/**
 * The p-quantile (0–1) of a histogram: the bin where the cumulative count reaches p × total, and the
 * point inside it found by linear interpolation (grouped-data method, as in traffic counter reports).
 * The result always lies in the bin that holds the raw value of rank ⌈p × total⌉.
 */
export function percentile(bins: Bins, p: number): number | null {
  const sorted = sortedBins(bins);
  const total = sorted.reduce((sum, [, c]) => sum + c, 0);
  if (total === 0) return null;
  const rank = p * total;
  let below = 0;
  for (const [bin, count] of sorted) {
    if (below + count >= rank) return bin + Math.max(0, rank - below) / count;
    below += count;
  }
  return sorted[sorted.length - 1]![0] + 1;
}

/** The `width`-unit window [from, from + width) on bin boundaries holding the most speeds (the lowest such window on a tie). */
export function pace(bins: Bins, width: number): { from: number; to: number; count: number; share: number } | null {
  const sorted = sortedBins(bins);
  const total = sorted.reduce((sum, [, c]) => sum + c, 0);
  if (total === 0) return null;
  const first = sorted[0]![0];
  const last = sorted[sorted.length - 1]![0];
  let best = { from: first, count: -1 };
  let inside = 0;
  // Window [start, start + width): slide one bin at a time, adding the bin that enters and removing the one that leaves.
  for (let start = first - width + 1; start <= last; start++) {
    inside += (bins.get(start + width - 1) ?? 0) - (bins.get(start - 1) ?? 0);
    if (inside > best.count + 1e-9) best = { from: start, count: inside };
  }
  return { from: best.from, to: best.from + width, count: best.count, share: best.count / total };
}


export function mean(m: Moments): number | null {
  return m.count === 0 ? null : m.sum / m.count;
}

/** Sample standard deviation (n − 1), from exact sums. */
export function stddev(m: Moments): number | null {
  if (m.count < 2) return null;
  const variance = (m.sumSquares - (m.sum * m.sum) / m.count) / (m.count - 1);
  return Math.sqrt(Math.max(0, variance));
}

export function speedFigures(bins: Bins, moments: Moments, units: Units): SpeedFigures {
  return {
    count: moments.count,
    mean: mean(moments),
    stddev: stddev(moments),
    min: moments.min,
    max: moments.max,
    p15: percentile(bins, 0.15),
    median: percentile(bins, 0.5),
    p85: percentile(bins, 0.85),
    p95: percentile(bins, 0.95),
    pace: pace(bins, paceWidth(units)),
  };
}

/** Bins in order with their count and the share of speeds at or below the bin's upper bound. */
export function distribution(bins: Bins): { histogram: { from: number; count: number }[]; cumulative: { speed: number; share: number }[] } {
  const sorted = sortedBins(bins);
  const total = binTotal(bins);
  if (total === 0) return { histogram: [], cumulative: [] };
  const histogram: { from: number; count: number }[] = [];
  const cumulative: { speed: number; share: number }[] = [];
  let below = 0;
  // Dense from the lowest to the highest bin, so an empty bin inside the range shows as zero.
  for (let bin = sorted[0]![0]; bin <= sorted[sorted.length - 1]![0]; bin++) {
    const count = bins.get(bin) ?? 0;
    below += count;
    histogram.push({ from: bin, count });
    cumulative.push({ speed: bin + 1, share: below / total });
  }
  return { histogram, cumulative };
}

export const BANDS = [
  { name: '1-5', from: 1, to: 5 },
  { name: '6-10', from: 6, to: 10 },
  { name: '11-15', from: 11, to: 15 },
  { name: 'over 15', from: 16, to: Infinity },
] as const;

/**
 * Speeding against the limit in force at each event, from excess bins. Shares are of every measured
 * vehicle; one measured while the device had no limit cannot be over it (counted in `withoutLimit`).
 */
export function speedingFigures(excess: Bins, speedCount: number): SpeedingFigures {
  const judged = binTotal(excess);
  let speeding = 0;
  const bands = BANDS.map((band) => ({ band: band.name, count: 0, share: 0 }));
  for (const [k, count] of excess) {
    if (k < 1) continue;
    speeding += count;
    const index = BANDS.findIndex((band) => k >= band.from && k <= band.to);
    bands[index]!.count += count;
  }
  for (const band of bands) band.share = speedCount ? band.count / speedCount : 0;
  return {
    measuredWithLimit: judged,
    withoutLimit: Math.max(0, speedCount - Math.round(judged)),
    speeding,
    speedingShare: speedCount ? speeding / speedCount : null,
    bands,
  };
}

/** Trailing average over the last `days` entries (fewer at the start of the series), skipping nulls. */
export function movingAverage(values: (number | null)[], days: number): (number | null)[] {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - days + 1), i + 1).filter((v): v is number => v !== null);
    return window.length ? window.reduce((a, b) => a + b, 0) / window.length : null;
  });
}
