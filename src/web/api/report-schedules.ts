import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { ReportKind } from './reports';
import type { Page } from './types';

/** Report schedules (GET/POST /report-schedules): weekly or monthly reports sent by email and/or webhook. */
export type Cadence = 'weekly' | 'monthly';

export interface ReportSchedule {
  id: string;
  name: string;
  kind: ReportKind;
  deviceId: string | null;
  siteId: string | null;
  cadence: Cadence;
  dayOfWeek: number | null;
  dayOfMonth: number | null;
  timeOfDay: string;
  timezone: string;
  units: 'mph' | 'kmh' | null;
  notes: string | null;
  emailRecipients: string[];
  webhookUrl: string | null;
  enabled: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastStatus: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ScheduleInput {
  name: string;
  kind: ReportKind;
  deviceId: string | null;
  siteId: string | null;
  cadence: Cadence;
  dayOfWeek: number | null;
  dayOfMonth: number | null;
  timeOfDay: string;
  timezone: string | null;
  notes: string | null;
  emailRecipients: string[];
  webhookUrl: string | null;
  enabled: boolean;
}

export type DeliveryTarget = 'none' | 'pending' | 'sent' | 'failed';

/** One run of a schedule (GET /report-schedules/{id}/runs; POST …/send answers with the run it started). */
export interface ScheduleRun {
  id: string;
  periodFrom: string;
  periodTo: string;
  reportId: string | null;
  status: 'generating' | 'delivering' | 'delivered' | 'failed';
  email: DeliveryTarget;
  webhook: DeliveryTarget;
  webhookResponseStatus: number | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** Sent now by a member, beside the period's scheduled run. */
  manual: boolean;
}

export interface ScheduleSaved {
  schedule: ReportSchedule;
  /** A new webhook's signing secret: shown once. */
  webhookSecret: string | null;
}

export const scheduleKeys = {
  all: ['report-schedules'] as const,
  list: (cursor: string | null) => ['report-schedules', 'list', cursor] as const,
  runs: (id: string) => ['report-schedules', 'runs', id] as const,
};

const RECENT_RUNS = 5;

/** A schedule's latest runs, asked again every few seconds while one is being made or delivered. */
export function useScheduleRuns(id: string) {
  return useQuery({
    queryKey: scheduleKeys.runs(id),
    queryFn: ({ signal }) => api<Page<ScheduleRun>>(`/report-schedules/${id}/runs`, { query: { limit: RECENT_RUNS }, signal }),
    refetchInterval: (query) => (query.state.data?.items.some((r) => r.status === 'generating' || r.status === 'delivering') ? 3_000 : false),
  });
}

export function useReportSchedules(cursor: string | null) {
  return useQuery({
    queryKey: scheduleKeys.list(cursor),
    queryFn: ({ signal }) => api<Page<ReportSchedule>>('/report-schedules', { query: { cursor, limit: 25 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function createSchedule(input: ScheduleInput) {
  return api<ScheduleSaved>('/report-schedules', { method: 'POST', body: input });
}

export function updateSchedule(id: string, patch: Partial<ScheduleInput>) {
  return api<ScheduleSaved>(`/report-schedules/${id}`, { method: 'PATCH', body: patch });
}

/** Sends the report of the last full period now (the schedule's next run is unchanged). */
export function sendScheduleNow(id: string) {
  return api<ScheduleRun>(`/report-schedules/${id}/send`, { method: 'POST' });
}

export function deleteSchedule(id: string) {
  return api<void>(`/report-schedules/${id}`, { method: 'DELETE' });
}
