/**
 * The traffic statistics API's answers (GET /api/v1/traffic/statistics and /comparison), as the server
 * builds them and the console reads them: one definition, so a change on either side fails to compile.
 */
export type Units = 'mph' | 'kmh';

/** The 10-unit window holding the most vehicles. */
export interface Pace {
  from: number;
  to: number;
  count: number;
  share: number;
}

export interface SpeedFigures {
  count: number;
  mean: number | null;
  stddev: number | null;
  min: number | null;
  max: number | null;
  p15: number | null;
  median: number | null;
  p85: number | null;
  p95: number | null;
  pace: Pace | null;
}

export interface SpeedingFigures {
  measuredWithLimit: number;
  withoutLimit: number;
  speeding: number;
  speedingShare: number | null;
  bands: { band: string; count: number; share: number }[];
}

export interface StatisticsSubject {
  kind: 'device' | 'site' | 'organization';
  id: string;
  name: string;
  devices: number;
  timezone: string;
}

export interface TrafficStatistics {
  subject: StatisticsSubject;
  from: string;
  to: string;
  weekdaysOnly: boolean;
  units: Units;
  converted: boolean;
  empty: boolean;
  message: string | null;
  summary: SpeedFigures;
  speeding: SpeedingFigures & { limits: { limit: number; count: number }[] };
  histogram: { from: number; count: number }[];
  cumulative: { speed: number; share: number }[];
  heatmap: { volume: number[][]; speedingShare: (number | null)[][] };
  hourly: { hour: number; count: number; mean: number | null; p85: number | null; speedingShare: number | null }[];
  peaks: { am: { hour: number; count: number } | null; pm: { hour: number; count: number } | null };
  daily: {
    date: string;
    weekday: boolean;
    count: number;
    mean: number | null;
    speedingShare: number | null;
    fullDay: boolean;
    countAverage7: number | null;
    meanAverage7: number | null;
  }[];
  study: { sampleSize: number; fullWeekdays: number; covers24HourWeekday: boolean };
}

/** A change with its 95% interval; meaningful when the interval excludes zero. */
export interface Interval {
  change: number;
  low: number;
  high: number;
  meaningful: boolean;
}

/** Mann–Whitney U: the probability that a vehicle of the after period is faster than one of the before period. */
export interface DistributionTest {
  probabilityFaster: number;
  z: number;
  pValue: number;
  meaningful: boolean;
}

export interface TrafficComparison {
  subject: StatisticsSubject;
  units: Units;
  weekdaysOnly: boolean;
  before: { from: string; to: string; count: number };
  after: { from: string; to: string; count: number };
  figures: { figure: string; before: number | null; after: number | null; change: number | null }[];
  tests: { mean: Interval | null; p85: Interval | null; distribution: DistributionTest | null };
  conclusions: string[];
}

/**
 * Below this many vehicles an 85th percentile moves by several units with a handful of cars: the figure is
 * still shown, with the sample size and a warning, on the console, the public pages and the speed study.
 */
export const MIN_VEHICLES_FOR_P85 = 100;

/** The caveat printed next to an 85th percentile from `count` vehicles; null when the sample is large enough. */
export function p85Caveat(count: number): string | null {
  if (count <= 0) return null;
  return count < MIN_VEHICLES_FOR_P85
    ? `from ${count} vehicle${count === 1 ? '' : 's'}: too few vehicles for a reliable 85th percentile (${MIN_VEHICLES_FOR_P85} or more)`
    : null;
}
