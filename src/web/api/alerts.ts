import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { Page } from './types';

/** Alerts as the API returns them (src/server/alerts/present.ts). Keys start with 'alerts': the live stream refreshes them. */
export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface Alert {
  id: string;
  deviceId: string;
  siteId: string | null;
  ruleId: string | null;
  ruleName: string;
  condition: string;
  metric: string | null;
  severity: Severity;
  status: AlertStatus;
  message: string;
  threshold: number | null;
  firstValue: number | null;
  latestValue: number | null;
  peakValue: number | null;
  breachCount: number;
  startedAt: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgeComment: string | null;
  resolvedAt: string | null;
  resolution: 'auto' | 'manual' | 'rule_changed' | null;
}

export interface AlertFilter {
  status?: AlertStatus | 'active';
  severity?: Severity;
  search?: string;
}

export interface AlertCounts {
  totalActive: number;
  bySeverity: Record<Severity, number>;
  byStatus: { open: number; acknowledged: number };
}

export const SEVERITIES: Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

export const alertKeys = {
  all: ['alerts'] as const,
  list: (filter: AlertFilter, cursor: string | null) => ['alerts', 'list', filter, cursor] as const,
  counts: ['alerts', 'counts'] as const,
  detail: (id: string) => ['alerts', 'detail', id] as const,
};

export function useAlert(id: string) {
  return useQuery({ queryKey: alertKeys.detail(id), queryFn: ({ signal }) => api<Alert>(`/alerts/${encodeURIComponent(id)}`, { signal }) });
}

/** Resolves an alert by hand. */
export function useResolve() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<Alert>(`/alerts/${encodeURIComponent(id)}/resolve`, { method: 'POST' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: alertKeys.all }),
  });
}

export function useAlerts(filter: AlertFilter, cursor: string | null) {
  return useQuery({
    queryKey: alertKeys.list(filter, cursor),
    queryFn: ({ signal }) => api<Page<Alert>>('/alerts', { query: { ...filter, cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useAlertCounts() {
  return useQuery({ queryKey: alertKeys.counts, queryFn: ({ signal }) => api<AlertCounts>('/alerts/counts', { signal }) });
}

/** Acknowledges one alert or several at once, with an optional comment. */
export function useAcknowledge() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ids, comment }: { ids: string[]; comment: string }) =>
      api<{ acknowledged: Alert[]; skipped: string[] }>('/alerts/acknowledge', { method: 'POST', body: { ids, comment: comment.trim() || null } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: alertKeys.all }),
  });
}
