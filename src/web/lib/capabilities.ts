import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { challanKeys, type ChallanPage } from '../api/challans';
import { fleetKeys, type DeviceSummary } from '../api/fleet';
import type { DeviceKind, Me } from '../api/types';
import { CLIENT_ROLE } from '../../shared/roles';
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
  /**
   * The challan register is offered to those who keep it and to client companies' users, and to other
   * readers (a cold store's viewer) once it holds a challan they can see: an empty register they cannot
   * add to is nothing to use.
   */
  challans: boolean;
}

export function useCapabilities(me: Me): Capabilities {
  const readsDevices = me.organization !== null && may(me, 'device.read');
  const summary = useQuery({
    queryKey: fleetKeys.deviceSummary,
    queryFn: ({ signal }) => api<DeviceSummary>('/devices/summary', { signal }),
    enabled: readsDevices,
  });
  const byKind = summary.data?.byKind ?? {};
  const keepsChallans = may(me, 'challan.write') || me.organization?.role === CLIENT_ROLE;
  const readsChallans = me.organization !== null && may(me, 'challan.read');
  const anyChallan = useQuery({
    queryKey: [...challanKeys.all, 'any'],
    queryFn: ({ signal }) => api<ChallanPage>('/challans', { query: { limit: 1 }, signal }),
    enabled: readsChallans && !keepsChallans,
  });
  return {
    known: !readsDevices || summary.isSuccess,
    has: (kind) => (byKind[kind] ?? 0) > 0,
    challans: readsChallans && (keepsChallans || (anyChallan.data?.items.length ?? 0) > 0),
  };
}
