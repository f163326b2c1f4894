export const DEVICE_KINDS = ['speed_radar', 'camera', 'refrigeration', 'sensor'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type DeviceStatus = 'online' | 'offline' | 'error';

/**
 * A device is online while it has been heard from within its kind's threshold. Radars sync in
 * batches after being offline for a while; cameras stream continuously; fridges report every minute.
 */
export const OFFLINE_AFTER_SECONDS: Record<DeviceKind, number> = {
  speed_radar: 30 * 60,
  camera: 2 * 60,
  refrigeration: 15 * 60,
  sensor: 30 * 60,
};

export function deviceStatus(kind: DeviceKind, lastSeenAt: Date | null, reportedError: string | null, now = Date.now()): DeviceStatus {
  if (!lastSeenAt || now - lastSeenAt.getTime() > OFFLINE_AFTER_SECONDS[kind] * 1000) return 'offline';
  return reportedError ? 'error' : 'online';
}
