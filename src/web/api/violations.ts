import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiUrl } from './client';
import type { Page, VigilEvent } from './types';

/**
 * Safety violations (docs/detection.md): events of kind ppe_violation and zone_breach, read through the
 * events API. Keys start with 'events', so every `events.ingested` and `events.acknowledged` message from
 * the live stream refreshes the feed (lib/live.ts).
 */
export const VIOLATION_KINDS = ['ppe_violation', 'zone_breach'] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];
export const VIOLATION_KIND_LABELS: Record<ViolationKind, string> = { ppe_violation: 'PPE violation', zone_breach: 'Zone breach' };
export const VIOLATION_SEVERITIES = ['critical', 'major', 'minor'] as const;
export const RULE_LABELS: Record<string, string> = { no_hardhat: 'No hard hat', no_vest: 'No safety vest', zone_breach: 'In a restricted zone' };

export interface Violation extends VigilEvent {
  attributes: { rule?: string; zone?: string | null; confidence?: number; trackId?: number; box?: number[] } & Record<string, unknown>;
  acknowledgement: { at: string; userId: string | null; by: string; comment: string | null } | null;
  violation?: { startedAt: string; lastSeenAt: string; endedAt: string | null };
}

export interface ViolationFilter {
  kind?: ViolationKind;
  deviceId?: string;
  siteId?: string;
  severity?: string;
  from?: string;
  to?: string;
  acknowledged?: boolean;
}

/** The events API's filter for a violation filter: both kinds unless one is chosen; `acknowledged=false` spelled out (apiUrl drops false flags). */
export function eventQuery(filter: ViolationFilter) {
  return { ...filter, kind: filter.kind ?? VIOLATION_KINDS.join(','), acknowledged: filter.acknowledged === undefined ? undefined : String(filter.acknowledged) };
}

export const violationsCsvUrl = (filter: ViolationFilter) => apiUrl('/events.csv', eventQuery(filter));
export const violationPhotoUrl = (id: string, size: 'full' | 'thumb') => apiUrl(`/events/${id}/photo`, size === 'thumb' ? { size } : {});

export function useViolations(filter: ViolationFilter, cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: ['events', 'violations', filter, cursor, limit],
    queryFn: ({ signal }) => api<Page<Violation>>('/events', { query: { ...eventQuery(filter), cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export interface AckResult {
  acknowledged: string[];
  alreadyAcknowledged: number;
  notFound: number;
}

export function useAcknowledgeViolations() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ids, comment }: { ids: string[]; comment: string }) =>
      api<AckResult>('/events/ack', { method: 'POST', body: { ids: ids.map(Number), comment: comment.trim() || null } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['events'] }),
  });
}

type RuleCounts = { no_hardhat: number; no_vest: number; zone_breach: number };
export interface DetectionCounts {
  framesDecoded: number;
  framesInferred: number;
  framesSkipped: number;
  framesFailed: number;
  inferenceMsAverage: number | null;
  pipelineMsAverage: number | null;
  violations: RuleCounts;
}
export interface DetectionStatistics {
  from: string;
  to: string;
  cameras: (DetectionCounts & { cameraId: string })[];
  days: (DetectionCounts & { day: string })[];
  totals: DetectionCounts;
}
export interface ViolationHours {
  from: string;
  to: string;
  cells: { weekday: number; hour: number; violations: number }[];
}

export function useDetectionStatistics(range: { from: string; to: string }) {
  return useQuery({
    queryKey: ['cameras', 'statistics', range],
    queryFn: ({ signal }) => api<DetectionStatistics>('/cameras/statistics', { query: range, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useViolationHours(range: { from: string; to: string; siteId?: string }) {
  return useQuery({
    queryKey: ['events', 'violation-hours', range],
    queryFn: ({ signal }) => api<ViolationHours>('/cameras/violations/hours', { query: range, signal }),
    placeholderData: keepPreviousData,
  });
}
