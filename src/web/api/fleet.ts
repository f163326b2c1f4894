import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { keys } from './queries';
import type { Device, DeviceKind, Page } from './types';

/**
 * The operator's API beyond lists: dashboard summaries, device registration and changes, device keys, telemetry, and the server settings the console needs.
 * Keys start with 'devices' or 'events' so the live stream refreshes them (lib/live.ts).
 */
export const fleetKeys = {
  consoleConfig: ['console-config'] as const,
  deviceSummary: ['devices', 'summary'] as const,
  eventSummary: (hours: number) => ['events', 'summary', hours] as const,
  alertCounts: ['alerts', 'counts'] as const,
  deviceKeys: (id: string) => ['devices', 'keys', id] as const,
  telemetryOf: (id: string) => ['devices', 'telemetry', id] as const,
  telemetry: (id: string, range: TelemetryRange) => ['devices', 'telemetry', id, range] as const,
};

export interface ConsoleConfig {
  publicUrl: string;
  mapTiles: { url: string; attribution: string };
}

export function useConsoleConfig() {
  return useQuery({ queryKey: fleetKeys.consoleConfig, queryFn: () => api<ConsoleConfig>('/console/config'), staleTime: Infinity });
}

export interface DeviceSummary {
  total: number;
  online: number;
  offline: number;
  error: number;
  byKind: Record<string, number>;
}

export function useDeviceSummary() {
  return useQuery({ queryKey: fleetKeys.deviceSummary, queryFn: ({ signal }) => api<DeviceSummary>('/devices/summary', { signal }) });
}

export interface EventSummary {
  from: string;
  to: string;
  events: number;
  speeding: number;
  devices: number;
}

/** Events and speeding over the last `hours` hours, from the hourly rollups. */
export function useEventSummary(hours: number) {
  return useQuery({
    queryKey: fleetKeys.eventSummary(hours),
    queryFn: ({ signal }) => api<EventSummary>('/events/summary', { query: { from: new Date(Date.now() - hours * 3_600_000).toISOString() }, signal }),
  });
}

export interface AlertCounts {
  totalActive: number;
  bySeverity: Record<string, number>;
  byStatus: { open: number; acknowledged: number };
}

/** Alerts not yet resolved (open or acknowledged); refreshed by the stream's alert messages. */
export function useAlertCounts(enabled: boolean) {
  return useQuery({ queryKey: fleetKeys.alertCounts, queryFn: ({ signal }) => api<AlertCounts>('/alerts/counts', { signal }), enabled });
}

export interface DeviceInput {
  name: string;
  serial: string;
  siteId: string | null;
  lat: number | null;
  lon: number | null;
  speedLimit: number | null;
  speedUnits: 'mph' | 'kmh' | null;
  /** Replaces the device's settings whole: send the current ones with the changes. */
  settings?: Record<string, unknown>;
}

export interface DeviceKey {
  id: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface IssuedKey {
  key: DeviceKey;
  /** The secret, shown only in this answer. */
  apiKey: string;
}

export function useRegisterDevice() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: DeviceInput & { kind: DeviceKind }) => api<{ device: Device; key: DeviceKey; apiKey: string }>('/devices', { method: 'POST', body: input }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.devices }),
  });
}

export function useUpdateDevice(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: Partial<DeviceInput>) => api<Device>(`/devices/${encodeURIComponent(id)}`, { method: 'PATCH', body: patch }),
    onSuccess: (device) => {
      queryClient.setQueryData(keys.device(id), device);
      return queryClient.invalidateQueries({ queryKey: keys.devices });
    },
  });
}

/** A device's keys, newest first (up to 200: a device has a handful). */
export function useDeviceKeys(id: string, enabled: boolean) {
  return useQuery({
    queryKey: fleetKeys.deviceKeys(id),
    queryFn: ({ signal }) => api<Page<DeviceKey>>(`/devices/${encodeURIComponent(id)}/keys`, { query: { limit: 200 }, signal }),
    enabled,
  });
}

/** Create (no `keyId`), rotate (`keyId` and 'rotate') or revoke (`keyId` and 'revoke') a key. */
export function useKeyAction(deviceId: string) {
  const queryClient = useQueryClient();
  const base = `/devices/${encodeURIComponent(deviceId)}/keys`;
  return useMutation({
    mutationFn: async (action: { type: 'create' } | { type: 'rotate' | 'revoke'; keyId: string }): Promise<IssuedKey | null> => {
      if (action.type === 'create') return api<IssuedKey>(base, { method: 'POST' });
      if (action.type === 'rotate') return api<IssuedKey>(`${base}/${encodeURIComponent(action.keyId)}/rotate`, { method: 'POST' });
      await api<void>(`${base}/${encodeURIComponent(action.keyId)}`, { method: 'DELETE' });
      return null;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: fleetKeys.deviceKeys(deviceId) }),
  });
}

export type TelemetryBucket = 'raw' | '1m' | '5m' | '1h' | '1d';

export interface TelemetryBuckets {
  bucket: TelemetryBucket;
  from: string;
  to: string;
  buckets?: { ts: string; metric: string; count: number; min: number; max: number; avg: number }[];
}

/** The last `spanMs` until now (refetched as new readings arrive), or a fixed `from`–`to`. */
export type TelemetryRange = { bucket: TelemetryBucket } & ({ spanMs: number } | { from: string; to: string });

export function useTelemetry(deviceId: string, range: TelemetryRange) {
  return useQuery({
    queryKey: fleetKeys.telemetry(deviceId, range),
    queryFn: ({ signal }) => {
      const query = 'spanMs' in range
        ? { from: new Date(Date.now() - range.spanMs).toISOString(), bucket: range.bucket }
        : { from: range.from, to: range.to, bucket: range.bucket };
      return api<TelemetryBuckets>(`/devices/${encodeURIComponent(deviceId)}/telemetry`, { query, signal });
    },
    placeholderData: (previous) => previous,
  });
}

export interface EquipmentHour {
  ts: string;
  /** The local date of a day bucket, in the figures' `timezone`. */
  date: string;
  coveredSeconds: number;
  doorOpenSeconds: number;
  compressorDutyCycle: number | null;
  outsideRangeSeconds: number | null;
  temperatureMin: number | null;
  temperatureMax: number | null;
}

export interface EquipmentFigures {
  bucket: string;
  timezone: string;
  safeRange: { min: number; max: number } | null;
  buckets: EquipmentHour[];
}

/** A refrigeration unit's derived figures per day over the last `days` (refreshed with its telemetry). */
export function useEquipmentFigures(deviceId: string, days: number) {
  return useQuery({
    queryKey: [...fleetKeys.telemetryOf(deviceId), 'equipment', days],
    queryFn: ({ signal }) => api<EquipmentFigures>(`/devices/${encodeURIComponent(deviceId)}/equipment`, {
      query: { from: new Date(Date.now() - days * 86_400_000).toISOString(), bucket: '1d' },
      signal,
    }),
  });
}
