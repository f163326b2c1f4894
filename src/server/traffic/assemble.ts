import type { Units } from '../../shared/traffic.js';
import { localDates, startOfLocalDay, type Range } from './range.js';
import {
  addTo, type Bins, convertBins, convertExcess, convertMoments, EMPTY_MOMENTS, mergeMoments, type Moments, movingAverage, percentile,
  unitFactor,
} from './statistics.js';
import type { ExcessRow, Volume } from './store.js';

/**
 * Turns the rows of the rollup queries (store.speedVolume, speedBins, speedExcess, hourOfDayBins) into figures in
 * the display units: pure functions, so the service only fetches and presents.
 */
type Tagged<R> = R & { units: Units };

export interface Rollups {
  /** One per unit system and time zone among the devices (almost always one). */
  volume: Tagged<Volume>[];
  bins: { units: Units; bin: number; count: number }[];
  excess: Tagged<ExcessRow>[];
  /** Only when hourly percentiles were asked for. */
  hourBins?: { units: Units; hour: number; bin: number; count: number }[];
}

/** Groups rows by their unit system, converts each group to the display units and merges them. */
function mergeConverted<R extends { units: Units }>(rows: R[], units: Units, key: (r: R) => number, count: (r: R) => number, convert: typeof convertBins): Bins {
  const byUnits = new Map<Units, Bins>();
  for (const row of rows) {
    if (!byUnits.has(row.units)) byUnits.set(row.units, new Map());
    addTo(byUnits.get(row.units)!, key(row), count(row));
  }
  const merged: Bins = new Map();
  for (const [from, bins] of byUnits) for (const [k, c] of convert(bins, unitFactor(from, units))) addTo(merged, k, c);
  return merged;
}

export function speedBinsOf(rows: Rollups['bins'], units: Units): Bins {
  return mergeConverted(rows, units, (r) => r.bin, (r) => r.count, convertBins);
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** What both statistics and comparison need: exact sums, the merged histogram, the excess over the limit in force. */
export function coreOf(rollups: Rollups, units: Units) {
  const moments = rollups.volume.reduce<Moments>((all, { total, units: from }) => mergeMoments(all, convertMoments(
    { count: total.count, sum: total.sum, sumSquares: total.sum_squares, min: total.min, max: total.max }, unitFactor(from, units),
  )), EMPTY_MOMENTS);
  const limits = new Map<number, number>();
  for (const row of rollups.excess) {
    const limit = Math.round(row.speed_limit * unitFactor(row.units, units) * 10) / 10;
    limits.set(limit, (limits.get(limit) ?? 0) + row.count);
  }
  return {
    moments,
    bins: speedBinsOf(rollups.bins, units),
    excess: mergeConverted(rollups.excess, units, (r) => r.excess, (r) => r.count, convertExcess),
    limits: [...limits].sort((a, b) => a[0] - b[0]).map(([limit, count]) => ({ limit, count })),
    converted: rollups.volume.some((v) => v.units !== units && v.total.count > 0),
  };
}

/** Hour-of-day × weekday heatmaps, the hourly profile and its morning and afternoon peaks. */
export function patternsOf(rollups: Rollups, units: Units) {
  const grid = () => Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const volume = grid();
  const speeding = grid();
  const hours = Array.from({ length: 24 }, () => ({ count: 0, sum: 0, speeding: 0 }));
  for (const group of rollups.volume) {
    for (const row of group.byHourOfWeek) {
      volume[row.dow - 1]![row.hour]! += row.count;
      speeding[row.dow - 1]![row.hour]! += row.speeding;
      hours[row.hour]!.count += row.count;
      hours[row.hour]!.sum += row.sum * unitFactor(group.units, units);
      hours[row.hour]!.speeding += row.speeding;
    }
  }
  const hourly = hours.map((h, hour) => ({
    hour,
    count: h.count,
    mean: h.count ? h.sum / h.count : null,
    p85: rollups.hourBins ? percentile(speedBinsOf(rollups.hourBins.filter((r) => r.hour === hour), units), 0.85) : null,
    speedingShare: share(h.speeding, h.count),
  }));
  const peak = (from: number, to: number) => {
    const best = hourly.slice(from, to).reduce((a, b) => (b.count > a.count ? b : a));
    return best.count > 0 ? { hour: best.hour, count: best.count } : null;
  };
  return {
    heatmap: { volume, speedingShare: volume.map((row, d) => row.map((n, h) => share(speeding[d]![h]!, n))) },
    hourly,
    peaks: { am: peak(0, 12), pm: peak(12, 24) },
  };
}

/** Hours in a local calendar day (23 or 25 on a daylight-saving change). */
function hoursInLocalDay(date: string, zone: string): number {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return Math.round((startOfLocalDay(next, zone).getTime() - startOfLocalDay(date, zone).getTime()) / 3_600_000);
}

/**
 * The daily series over every local date of the range (days without traffic count zero), 7-day
 * trailing averages, and whether the study holds a complete 24-hour weekday (FHWA's basis for the 85th percentile).
 */
export function trendOf(rollups: Rollups, units: Units, range: Range, zone: string, weekdaysOnly: boolean) {
  const days = new Map<string, { count: number; sum: number; hours: number; speeding: number }>();
  for (const group of rollups.volume) {
    for (const row of group.byDate) {
      if (!days.has(row.date)) days.set(row.date, { count: 0, sum: 0, hours: 0, speeding: 0 });
      const d = days.get(row.date)!;
      d.count += row.count;
      d.sum += row.sum * unitFactor(group.units, units);
      // Hours with traffic: in the best-covered zone when devices are in several (rare).
      d.hours = Math.max(d.hours, row.hours);
      d.speeding += row.speeding;
    }
  }
  const series = localDates(range, zone).map((date) => {
    const d = days.get(date);
    return {
      date,
      weekday: new Date(`${date}T00:00:00Z`).getUTCDay() % 6 !== 0,
      count: d?.count ?? 0,
      mean: d && d.count ? d.sum / d.count : null,
      speedingShare: d ? share(d.speeding, d.count) : null,
      fullDay: !!d && d.hours >= hoursInLocalDay(date, zone),
    };
  });
  const countAverage = movingAverage(series.map((d) => (weekdaysOnly && !d.weekday ? null : d.count)), 7);
  const meanAverage = movingAverage(series.map((d) => d.mean), 7);
  const daily = series
    .map((d, i) => ({ ...d, countAverage7: countAverage[i]!, meanAverage7: meanAverage[i]! }))
    .filter((d) => !weekdaysOnly || d.weekday);
  const fullWeekdays = daily.filter((d) => d.weekday && d.fullDay).length;
  return { daily, fullWeekdays };
}
