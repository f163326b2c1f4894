import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, apiUrl } from './client';
import type { Page } from './types';

/** Report runs (GET/POST /reports): speed studies, compliance records and site-safety reports generated in the background. */
export type ReportKind = 'speed_study' | 'compliance' | 'site_safety';
export type ReportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Report {
  id: string;
  kind: ReportKind;
  title: string;
  siteId: string | null;
  parameters: { deviceId?: string; siteId?: string; from?: string; to?: string; units?: string; notes?: string };
  requestedBy: { id: string; label: string | null } | null;
  /** The schedule that made the report (then requestedBy is null). */
  schedule: { id: string; name: string | null } | null;
  requestedAt: string;
  status: ReportStatus;
  progress: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  files: { pdf: boolean; csv: boolean; events: boolean };
  sizeBytes: number | null;
}

export interface ReportInput {
  kind: ReportKind;
  deviceId?: string;
  siteId?: string;
  from: string;
  to: string;
  notes?: string;
}

export const reportKeys = {
  all: ['reports'] as const,
  list: (cursor: string | null) => ['reports', 'list', cursor] as const,
};

export function useReports(cursor: string | null) {
  return useQuery({
    queryKey: reportKeys.list(cursor),
    queryFn: ({ signal }) => api<Page<Report>>('/reports', { query: { cursor, limit: 25 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function createReport(input: ReportInput) {
  return api<Report>('/reports', { method: 'POST', body: input });
}

export function deleteReport(id: string) {
  return api<void>(`/reports/${id}`, { method: 'DELETE' });
}

export function reportFileUrl(id: string, file: 'pdf' | 'csv' | 'events'): string {
  return apiUrl(`/reports/${id}/files/${file}`);
}
