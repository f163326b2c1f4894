import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';

/** Speed-study statistics (GET /traffic/statistics) and before/after comparisons (GET /traffic/comparison). */
export type Units = 'mph' | 'kmh';

export interface Pace {
  from: number;
  to: number;
  count: number;
  share: number;
}

export interface TrafficStatistics {
  subject: { kind: 'device' | 'site' | 'organization'; id: string; name: string; devices: number; timezone: string };
  from: string;
  to: string;
  weekdaysOnly: boolean;
  units: Units;
  converted: boolean;
  empty: boolean;
  message: string | null;
  summary: {
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
  };
  speeding: {
    measuredWithLimit: number;
    withoutLimit: number;
    speeding: number;
    speedingShare: number | null;
    bands: { band: string; count: number; share: number }[];
    limits: { limit: number; count: number }[];
  };
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

export interface Interval {
  change: number;
  low: number;
  high: number;
  meaningful: boolean;
}

export interface TrafficComparison {
  units: Units;
  before: { from: string; to: string; count: number };
  after: { from: string; to: string; count: number };
  figures: { figure: string; before: number | null; after: number | null; change: number | null }[];
  tests: {
    mean: Interval | null;
    p85: Interval | null;
    distribution: { probabilityFaster: number; z: number; pValue: number; meaningful: boolean } | null;
  };
  conclusions: string[];
}

/** What the statistics are about: a device, a site, or everything the user may see. */
export interface Subject {
  deviceId?: string;
  siteId?: string;
}

export interface StatisticsRequest extends Subject {
  from: string;
  to: string;
  weekdaysOnly: boolean;
}

export function useTrafficStatistics(request: StatisticsRequest) {
  return useQuery({
    queryKey: ['traffic', 'statistics', request],
    // Hourly percentiles read every hourly row: asked for one device, where that stays cheap.
    queryFn: ({ signal }) => api<TrafficStatistics>('/traffic/statistics', { query: { ...request, hourlyPercentiles: Boolean(request.deviceId) }, signal }),
    placeholderData: keepPreviousData,
  });
}

export interface ComparisonRequest extends Subject {
  beforeFrom: string;
  beforeTo: string;
  afterFrom: string;
  afterTo: string;
  weekdaysOnly: boolean;
}

export function useTrafficComparison(request: ComparisonRequest | null) {
  return useQuery({
    queryKey: ['traffic', 'comparison', request],
    queryFn: ({ signal }) => api<TrafficComparison>('/traffic/comparison', { query: { ...request! }, signal }),
    enabled: request !== null,
  });
}
