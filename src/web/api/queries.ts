import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken, type QueryValue } from './client';
import type { Device, DeviceKind, DeviceStatus, Me, Organization, Page, Site, VigilEvent } from './types';

/**
 * Query keys. Everything about devices starts with 'devices' and everything about events with 'events',
 * so one invalidation from the live stream refreshes every view of them.
 */
export const keys = {
  me: ['me'] as const,
  organization: ['organization'] as const,
  sites: ['sites'] as const,
  devices: ['devices'] as const,
  deviceList: (filter: DeviceFilter, cursor: string | null) => ['devices', 'list', filter, cursor] as const,
  deviceIndex: ['devices', 'index'] as const,
  device: (id: string) => ['devices', 'detail', id] as const,
  events: ['events'] as const,
  eventList: (filter: EventFilter, cursor: string | null, limit: number) => ['events', 'list', filter, cursor, limit] as const,
};

export async function fetchMe(): Promise<Me> {
  // The probe answers 200 with null when signed out, so a clean sign-in page logs no failed request.
  const { me } = await api<{ me: Me | null }>('/auth/session', { redirectOn401: false });
  if (!me) throw new ApiError(401, 'unauthorized', 'not signed in');
  setCsrfToken(me.csrfToken);
  return me;
}

/** The signed-in user; a 401 is an answer here ("signed out"), not a reason to retry. */
export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: fetchMe, retry: false, staleTime: 5 * 60_000 });
}

export function useOrganization() {
  return useQuery({ queryKey: keys.organization, queryFn: () => api<Organization>('/organization'), staleTime: 5 * 60_000 });
}

/**
 * Every item of a paged list, up to `maxPages` pages of `pageSize` (the list's largest page); `complete`
 * is false when there was more. For lookups (site zones, device names and units) and the map.
 */
async function collect<T>(path: string, query: Record<string, QueryValue>, maxPages: number, signal?: AbortSignal, pageSize = 200) {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page += 1) {
    const result: Page<T> = await api<Page<T>>(path, { query: { ...query, limit: pageSize, cursor }, signal });
    items.push(...result.items);
    cursor = result.nextCursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

/** The sites the user may see, by id: names and time zones for the tables. */
export function useSites() {
  return useQuery({
    queryKey: keys.sites,
    queryFn: async ({ signal }) => new Map((await collect<Site>('/sites', {}, 10, signal)).items.map((s) => [s.id, s])),
    staleTime: 5 * 60_000,
  });
}

/** Every device the user may see, up to 5,000 (the event filter's choices, each device's speed units, the map). */
export function useDeviceIndex() {
  return useQuery({
    queryKey: keys.deviceIndex,
    queryFn: async ({ signal }) => (await collect<Device>('/devices', {}, 5, signal, 1000)).items,
    staleTime: 60_000,
  });
}

export interface DeviceFilter {
  search?: string;
  kind?: DeviceKind;
  status?: DeviceStatus;
}

export function useDevices(filter: DeviceFilter, cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...keys.deviceList(filter, cursor), limit],
    queryFn: ({ signal }) => api<Page<Device>>('/devices', { query: { ...filter, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useDevice(id: string) {
  return useQuery({ queryKey: keys.device(id), queryFn: ({ signal }) => api<Device>(`/devices/${encodeURIComponent(id)}`, { signal }) });
}

export interface EventFilter {
  deviceId?: string;
  siteId?: string;
  kind?: string;
  /** ISO timestamps. */
  from?: string;
  to?: string;
  speedingOnly?: boolean;
  hasPhoto?: boolean;
}

export function useEvents(filter: EventFilter, cursor: string | null, limit = 50) {
  return useQuery({
    queryKey: keys.eventList(filter, cursor, limit),
    queryFn: ({ signal }) => api<Page<VigilEvent>>('/events', { query: { ...filter, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}
