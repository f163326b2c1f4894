import type { DistributionTest, Interval } from '../../shared/traffic.js';
import { percentile, type Bins, type Moments, mean, stddev } from './statistics.js';

/**
 * Before/after tests computed from histograms and exact sums (pure functions):
 * - mean: Welch's two-sample interval, from the exact counts, sums and sums of squares;
 * - 85th percentile: a distribution-free interval per period from the binomial spread of the rank
 *   (n·p ± 1.96·√(n·p·(1−p)), read off the histogram), plus the bin's own resolution (width²/12),
 *   combined for the difference. A change smaller than about one bin is never called meaningful;
 * - whole distribution: the Mann–Whitney U test with the tie correction, exact from 1-unit bins
 *   (speeds in one bin are ties).
 * "Meaningful" means the 95% interval of the change excludes zero (p < 0.05 for Mann–Whitney).
 */
const Z95 = 1.959964;

function interval(change: number, se: number): Interval {
  const low = change - Z95 * se;
  const high = change + Z95 * se;
  return { change, low, high, meaningful: low > 0 || high < 0 };
}

export function meanChange(before: Moments, after: Moments): Interval | null {
  const sdBefore = stddev(before);
  const sdAfter = stddev(after);
  const meanBefore = mean(before);
  const meanAfter = mean(after);
  if (sdBefore === null || sdAfter === null || meanBefore === null || meanAfter === null) return null;
  return interval(meanAfter - meanBefore, Math.sqrt((sdBefore ** 2) / before.count + (sdAfter ** 2) / after.count));
}

function quantileStandardError(bins: Bins, p: number): number | null {
  let n = 0;
  for (const count of bins.values()) n += count;
  if (n < 2) return null;
  const spread = Z95 * Math.sqrt(n * p * (1 - p));
  const low = percentile(bins, Math.max(0, (n * p - spread) / n));
  const high = percentile(bins, Math.min(1, (n * p + spread) / n));
  if (low === null || high === null) return null;
  const sampling = (high - low) / (2 * Z95);
  return Math.sqrt(sampling ** 2 + 1 / 12);
}

export function percentileChange(before: Bins, after: Bins, p: number): Interval | null {
  const a = percentile(before, p);
  const b = percentile(after, p);
  const seA = quantileStandardError(before, p);
  const seB = quantileStandardError(after, p);
  if (a === null || b === null || seA === null || seB === null) return null;
  return interval(b - a, Math.sqrt(seA ** 2 + seB ** 2));
}

/** Standard normal cumulative distribution (Abramowitz–Stegun 7.1.26, error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Mann–Whitney U of "after" against "before". `probabilityFaster` is the chance that a vehicle of the
 * after period is faster than one of the before period (ties count half): 0.5 means no shift.
 */
export function mannWhitney(before: Bins, after: Bins): DistributionTest | null {
  const bins = [...new Set([...before.keys(), ...after.keys()])].sort((x, y) => x - y);
  let nBefore = 0;
  let nAfter = 0;
  for (const c of before.values()) nBefore += c;
  for (const c of after.values()) nAfter += c;
  if (nBefore === 0 || nAfter === 0) return null;
  let u = 0;
  let beforeBelow = 0;
  let tieTerm = 0;
  for (const bin of bins) {
    const cb = before.get(bin) ?? 0;
    const ca = after.get(bin) ?? 0;
    u += ca * (beforeBelow + cb / 2);
    beforeBelow += cb;
    const t = cb + ca;
    tieTerm += t ** 3 - t;
  }
  const n = nBefore + nAfter;
  const variance = ((nBefore * nAfter) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - (nBefore * nAfter) / 2) / Math.sqrt(variance) : 0;
  const pValue = 2 * (1 - normalCdf(Math.abs(z)));
  return { probabilityFaster: u / (nBefore * nAfter), z, pValue, meaningful: pValue < 0.05 };
}

function signed(value: number, units: string): string {
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value).toFixed(1)} ${units}`;
}

/** One sentence a reader without statistics can act on. */
export function describeChange(what: string, before: number | null, after: number | null, test: Interval | null, units: string): string {
  if (before === null || after === null) return `The ${what} cannot be compared: one of the periods has no speeds.`;
  if (!test) return `The ${what} went from ${before.toFixed(1)} to ${after.toFixed(1)} ${units}; too few vehicles to judge whether that is more than chance.`;
  const range = `95% interval ${signed(test.low, units)} to ${signed(test.high, units)}`;
  const direction = test.change < 0 ? 'fell' : 'rose';
  if (test.meaningful) {
    return `The ${what} ${direction} from ${before.toFixed(1)} to ${after.toFixed(1)} ${units} (${signed(test.change, units)}, ${range}): a real change, larger than chance would explain.`;
  }
  return `The ${what} went from ${before.toFixed(1)} to ${after.toFixed(1)} ${units} (${signed(test.change, units)}, ${range}): not a meaningful change; chance alone could explain it.`;
}
