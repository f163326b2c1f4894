import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { DeviceKind, Page } from './types';

/**
 * The alerting API's shapes and queries: alerts, rules (with the preview) and notification channels.
 * Alert keys start with 'alerts' so the live stream's alert messages refresh every view.
 */

export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export type Condition = 'metric' | 'event' | 'offline' | 'no_data' | 'door_open';
/** Numbers: gt … outside; on/off values (stored 1/0): is_true, is_false; text: equals, not_equals, changes. */
export type Operator = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne' | 'outside' | 'is_true' | 'is_false' | 'equals' | 'not_equals' | 'changes';
export type RuleScope = 'global' | 'organization' | 'site' | 'device';

export const SEVERITIES: Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

export interface Alert {
  id: string;
  deviceId: string;
  siteId: string | null;
  ruleId: string | null;
  ruleName: string;
  condition: Condition;
  metric: string | null;
  severity: Severity;
  status: AlertStatus;
  message: string;
  threshold: number | null;
  firstValue: number | null;
  latestValue: number | null;
  peakValue: number | null;
  /** Text rules: the value when it opened (the new value, for "changes"), the latest, and the value before a change. */
  firstText: string | null;
  latestText: string | null;
  previousText: string | null;
  breachCount: number;
  startedAt: string;
  openedAt: string;
  lastBreachAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgeComment: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  /** The corrective action given when resolving by hand. */
  resolveComment: string | null;
  resolution: 'auto' | 'manual' | 'rule_changed' | null;
}

export interface AlertFilter {
  status?: AlertStatus | 'active';
  severity?: Severity;
  deviceId?: string;
  siteId?: string;
  search?: string;
}

export interface AlertCounts {
  totalActive: number;
  bySeverity: Partial<Record<Severity, number>>;
  byStatus: { open: number; acknowledged: number };
}

export interface ActiveHours {
  days: number[];
  from: string;
  to: string;
}

export interface RuleInput {
  name: string;
  description?: string | null;
  scope: RuleScope;
  siteId?: string | null;
  deviceId?: string | null;
  deviceKind?: DeviceKind | null;
  condition: Condition;
  metric?: string | null;
  eventKind?: string | null;
  operator?: Operator | null;
  threshold?: number | null;
  thresholdHigh?: number | null;
  clearThreshold?: number | null;
  clearThresholdHigh?: number | null;
  textValue?: string | null;
  durationSeconds: number;
  severity: Severity;
  messageTemplate?: string | null;
  activeHours?: ActiveHours | null;
  enabled?: boolean;
  autoResolve?: boolean;
  channelIds?: string[];
  escalateAfterMinutes?: number | null;
}

export interface Rule extends Required<Omit<RuleInput, 'messageTemplate'>> {
  id: string;
  messageTemplate: string;
  createdAt: string;
  updatedAt: string;
}

export interface RulePreview {
  from: string;
  to: string;
  evaluated: boolean;
  devicesTruncated: boolean;
  readingsTruncated: boolean;
  devices: {
    deviceId: string;
    name: string;
    kind: DeviceKind;
    siteId: string | null;
    readings: number;
    alerts: { startedAt: string; openedAt: string; resolvedAt: string | null; peakValue: number | null; textValue: string | null; previousText: string | null }[];
  }[];
}

export type ChannelKind = 'email' | 'webhook' | 'in_app';

/** Collect notifications and send one digest per window: every N minutes (from local midnight), or daily at HH:MM. */
export type DigestSchedule = { every: 'minutes'; minutes: number } | { every: 'day'; at: string };

export interface Channel {
  id: string;
  name: string;
  kind: ChannelKind;
  recipients: string[];
  url: string | null;
  quietHours: { from: string; to: string } | null;
  digest: DigestSchedule | null;
  nextDigestAt: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelInput {
  name?: string;
  kind?: ChannelKind;
  recipients?: string[];
  url?: string | null;
  quietHours?: { from: string; to: string } | null;
  digest?: DigestSchedule | null;
  enabled?: boolean;
}

export interface Delivery {
  id: string;
  alertId: string | null;
  event: string;
  status: 'pending' | 'delivered' | 'failed' | 'held' | 'digested';
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  responseStatus: number | null;
  deliveredAt: string | null;
  digestId: string | null;
  createdAt: string;
}

export const alertKeys = {
  alerts: ['alerts'] as const,
  list: (filter: AlertFilter, cursor: string | null) => ['alerts', 'list', filter, cursor] as const,
  counts: ['alerts', 'counts'] as const,
  detail: (id: string) => ['alerts', 'detail', id] as const,
  people: (id: string) => ['alerts', 'people', id] as const,
  rules: ['alert-rules'] as const,
  ruleList: (cursor: string | null) => ['alert-rules', 'list', cursor] as const,
  channels: ['notification-channels'] as const,
  deliveries: (id: string, cursor: string | null) => ['notification-channels', 'deliveries', id, cursor] as const,
};

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

export function useAlert(id: string) {
  return useQuery({ queryKey: alertKeys.detail(id), queryFn: ({ signal }) => api<Alert>(`/alerts/${encodeURIComponent(id)}`, { signal }) });
}

export interface Person {
  id: string;
  name: string;
}

export function useAlertPeople(id: string, enabled: boolean) {
  return useQuery({
    queryKey: alertKeys.people(id),
    queryFn: ({ signal }) => api<{ acknowledgedBy: Person | null; resolvedBy: Person | null }>(`/alerts/${encodeURIComponent(id)}/people`, { signal }),
    enabled,
  });
}

/** Acknowledge (one or several, with a comment) or resolve; every alert view refreshes after. */
export function useAlertAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (action: { type: 'acknowledge'; ids: string[]; comment: string } | { type: 'resolve'; id: string; comment?: string }) => {
      if (action.type === 'resolve') {
        await api<Alert>(`/alerts/${encodeURIComponent(action.id)}/resolve`, { method: 'POST', body: { comment: action.comment?.trim() || null } });
        return { acknowledged: 0, skipped: 0 };
      }
      const result = await api<{ acknowledged: Alert[]; skipped: string[] }>('/alerts/acknowledge', {
        method: 'POST', body: { ids: action.ids, comment: action.comment.trim() || null },
      });
      return { acknowledged: result.acknowledged.length, skipped: result.skipped.length };
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: alertKeys.alerts }),
  });
}

export function useRules(cursor: string | null) {
  return useQuery({
    queryKey: alertKeys.ruleList(cursor),
    queryFn: ({ signal }) => api<Page<Rule>>('/alert-rules', { query: { cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  });
}

/** Every channel of the organization (a handful), for the rule editor and the admin page. */
export function useChannels(enabled = true) {
  return useQuery({
    queryKey: alertKeys.channels,
    queryFn: ({ signal }) => api<Page<Channel>>('/notification-channels', { query: { limit: 200 }, signal }),
    enabled,
  });
}

export function useDeliveries(channelId: string, cursor: string | null) {
  return useQuery({
    queryKey: alertKeys.deliveries(channelId, cursor),
    queryFn: ({ signal }) => api<Page<Delivery>>(`/notification-channels/${encodeURIComponent(channelId)}/deliveries`, { query: { cursor, limit: 25 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export const SEVERITY_LABELS: Record<Severity, string> = { critical: 'Critical', major: 'Major', minor: 'Minor', warning: 'Warning', info: 'Info' };
/** A glyph per severity so that it never rests on colour alone. */
export const SEVERITY_ICONS: Record<Severity, string> = { critical: '‼', major: '!', minor: '▲', warning: '△', info: 'i' };
export const STATUS_LABELS: Record<AlertStatus, string> = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };
export const OPERATOR_LABELS: Record<Operator, string> = {
  gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', ne: '≠', outside: 'outside', is_true: 'is true', is_false: 'is false', equals: '=', not_equals: '≠', changes: 'changes',
};
