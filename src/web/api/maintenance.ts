import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Page } from './types';

export type MaintenanceType = 'preventive' | 'corrective' | 'inspection';
export type DueStatus = 'overdue' | 'due_soon';

export const MAINTENANCE_TYPE_LABELS: Record<MaintenanceType, string> = {
  preventive: 'Preventive',
  corrective: 'Corrective',
  inspection: 'Inspection',
};

export interface MaintenanceAttachment {
  id: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  createdAt: string;
  url: string;
}

export interface MaintenanceInput {
  type: MaintenanceType;
  performedAt: string;
  performedBy: string;
  description: string;
  cost: number | null;
  currency: string | null;
  parts: string[];
  notes: string | null;
  nextDueOn: string | null;
}

export interface MaintenanceRecord extends MaintenanceInput {
  id: string;
  deviceId: string;
  deviceName: string;
  siteId: string | null;
  createdAt: string;
  updatedAt: string;
  attachments: MaintenanceAttachment[];
}

export interface DueEntry {
  recordId: string;
  deviceId: string;
  deviceName: string;
  serial: string;
  siteId: string | null;
  siteName: string | null;
  status: DueStatus;
  nextDueOn: string;
  daysUntilDue: number;
  lastType: MaintenanceType;
  lastPerformedAt: string;
  lastPerformedBy: string;
}

/** Everything about maintenance starts with 'maintenance': one invalidation refreshes every view. */
export const maintenanceKeys = {
  all: ['maintenance'] as const,
  history: (deviceId: string, cursor: string | null) => ['maintenance', 'history', deviceId, cursor] as const,
  due: (status: DueStatus | '', withinDays: number | null, cursor: string | null) => ['maintenance', 'due', status, withinDays, cursor] as const,
};

export function useMaintenanceHistory(deviceId: string, cursor: string | null) {
  return useQuery({
    queryKey: maintenanceKeys.history(deviceId, cursor),
    queryFn: ({ signal }) => api<Page<MaintenanceRecord>>(`/devices/${encodeURIComponent(deviceId)}/maintenance`, { query: { cursor, limit: 10 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useMaintenanceDue(status: DueStatus | '', withinDays: number | null, cursor: string | null) {
  return useQuery({
    queryKey: maintenanceKeys.due(status, withinDays, cursor),
    queryFn: ({ signal }) => api<Page<DueEntry> & { withinDays: number }>('/maintenance/due', { query: { status, withinDays, cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function saveMaintenance(deviceId: string, record: MaintenanceRecord | null, input: MaintenanceInput) {
  return record
    ? api<MaintenanceRecord>(`/maintenance/records/${record.id}`, { method: 'PATCH', body: input })
    : api<MaintenanceRecord>(`/devices/${encodeURIComponent(deviceId)}/maintenance`, { method: 'POST', body: input });
}

export function uploadAttachment(recordId: string, file: File) {
  const form = new FormData();
  form.append('file', file, file.name);
  return api<MaintenanceAttachment>(`/maintenance/records/${recordId}/attachments`, { method: 'POST', body: form });
}

/** When reminders go out (days before the due date) and to which notification channels (null: every enabled one). */
export interface MaintenanceSettings {
  reminderDays: number;
  channelIds: string[] | null;
}

export const maintenanceSettingsKey = ['maintenance', 'settings'] as const;

export function useMaintenanceSettings() {
  return useQuery({ queryKey: maintenanceSettingsKey, queryFn: ({ signal }) => api<MaintenanceSettings>('/maintenance/settings', { signal }) });
}
