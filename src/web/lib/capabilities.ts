import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { fleetKeys, type DeviceSummary } from '../api/fleet';
import type { DeviceKind, Me } from '../api/types';
import { may } from './access';

/**
 * Which kinds of device the member can see (from the server's device summary, so a viewer restricted to
 * one refrigeration site has fridges only). Pages and cards about a kind — speed statistics, cameras,
 * the speeding figure — are offered only where there is such a device to use them with.
 */
export interface Capabilities {
  /** false while the summary is loading: kind-bound entries stay hidden until it is known. */
  known: boolean;
  has: (kind: DeviceKind) => boolean;
}

export function useCapabilities(me: Me): Capabilities {
  const readsDevices = me.organization !== null && may(me, 'device.read');
  const summary = useQuery({
    queryKey: fleetKeys.deviceSummary,
    queryFn: ({ signal }) => api<DeviceSummary>('/devices/summary', { signal }),
    enabled: readsDevices,
  });
  const byKind = summary.data?.byKind ?? {};
  return { known: !readsDevices || summary.isSuccess, has: (kind) => (byKind[kind] ?? 0) > 0 };
}
