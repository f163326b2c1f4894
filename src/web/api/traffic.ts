import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { TrafficComparison, TrafficStatistics } from '../../shared/traffic';
import { api } from './client';

/** Speed-study statistics (GET /traffic/statistics) and before/after comparisons (GET /traffic/comparison): shapes in src/shared/traffic.ts. */
export type { TrafficComparison, TrafficStatistics, Units } from '../../shared/traffic';

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
