import { useMemo } from 'react';
import { useDeviceIndex, useOrganization, useSites } from '../api/queries';
import { organizationZone } from './format';

/**
 * How to show a device's data: times in its site's zone (else the organization's), speeds in its own units
 * (else the organization's). Without the lists (an error), the organization's zone and units.
 */
export function useDisplayContext() {
  const sites = useSites();
  const organization = useOrganization();
  const devices = useDeviceIndex();
  const devicesById = useMemo(() => new Map((devices.data ?? []).map((d) => [d.id, d])), [devices.data]);
  const orgUnits = organization.data?.units ?? 'mph';
  return {
    /** False until sites, organization and devices are known (or failed): times and units are not shown before. */
    ready: !sites.isPending && !organization.isPending && !devices.isPending,
    zoneFor: (siteId: string | null) => (siteId ? sites.data?.get(siteId)?.timezone : undefined) ?? organizationZone(),
    siteName: (siteId: string | null) => (siteId ? sites.data?.get(siteId)?.name : undefined) ?? null,
    unitsFor: (deviceId: string) => devicesById.get(deviceId)?.speedUnits ?? orgUnits,
    devices: devices.data ?? [],
  };
}
