import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';

/** The public community pages (no sign-in) and a device's sharing setting. */

export interface PublicLocation {
  lat: number;
  lon: number;
}

export interface PublicDevice {
  id: string;
  name: string;
  kind: string;
  location: PublicLocation | null;
  speedLimit: number | null;
  units: 'mph' | 'kmh';
  /** The zone the device's times are shown in (its site's, else its organization's). */
  timezone: string;
  /** Its organization's locale for dates and numbers. */
  locale: string;
  lastActiveAt: string | null;
  last30Days: { vehicles: number; speeding: number };
}

export interface PublicDeviceDetail extends PublicDevice {
  statistics: {
    from: string;
    to: string;
    empty: boolean;
    count: number;
    mean: number | null;
    median: number | null;
    p85: number | null;
    speedingShare: number | null;
    hourly: { hour: number; count: number }[];
    daily: { date: string; count: number; mean: number | null; countAverage7: number | null }[];
  };
}

export interface Overview {
  devices: number;
  organizations: number;
  last30Days: { vehicles: number; speeding: number; speedingShare: number | null };
  mapTiles: { url: string; attribution: string };
}

export interface Speeder {
  deviceId: string;
  time: string;
  speed: number;
  speedLimit: number;
  photoUrl: string | null;
}

export interface Sharing {
  deviceId: string;
  shared: boolean;
  organizationShares: boolean;
  photos: boolean;
  publicPath: string | null;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The map shows every shared device: pages of 200, at most 2,000. */
async function allPublicDevices(): Promise<PublicDevice[]> {
  const devices: PublicDevice[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<PublicDevice> = await api<Page<PublicDevice>>('/public/devices', { query: { limit: 200, cursor } });
    devices.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && devices.length < 2000);
  return devices;
}

export const usePublicOverview = () => useQuery({ queryKey: ['public', 'overview'], queryFn: () => api<Overview>('/public/overview') });
export const usePublicDevices = () => useQuery({ queryKey: ['public', 'devices'], queryFn: allPublicDevices });
export const usePublicDevice = (id: string) => useQuery({ queryKey: ['public', 'device', id], queryFn: () => api<PublicDeviceDetail>(`/public/devices/${id}`) });
/** Recent speeders of every shared device, or of one (asked once the device is known to be public). */
export const usePublicSpeeders = (deviceId?: string, enabled = true) =>
  useQuery({ queryKey: ['public', 'speeders', deviceId ?? null], queryFn: () => api<Page<Speeder>>('/public/speeders', { query: { deviceId, limit: 20 } }), enabled });

const sharingKey = (id: string) => ['device', id, 'sharing'] as const;

export const useDeviceSharing = (id: string) => useQuery({ queryKey: sharingKey(id), queryFn: () => api<Sharing>(`/devices/${id}/sharing`) });

export function useSetDeviceSharing(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (shared: boolean) => api<Sharing>(`/devices/${id}/sharing`, { method: 'PUT', body: { shared } }),
    onSuccess: (sharing) => queryClient.setQueryData(sharingKey(id), sharing),
  });
}
