import type { DeviceKind, DeviceStatus } from '../api/types';

/** The browser's own time zone: for devices that belong to no site. */
export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** "Nov 23, 2026, 9:05:12 AM MST": a moment in the given IANA zone, the zone named. */
export function formatTime(iso: string, zone: string): string {
  let format = timeFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit',
      timeZone: zone, timeZoneName: 'short',
    });
    timeFormats.set(zone, format);
  }
  return format.format(new Date(iso));
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago", "yesterday". */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12]];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return relative.format(unit === 'second' && Math.abs(value) < 10 ? 0 : value, unit);
    value = Math.round(value / size);
  }
  return relative.format(value, 'year');
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat().format(value);
}

export function formatSpeed(value: number | null, units: 'mph' | 'kmh'): string {
  if (value === null) return '—';
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(value)} ${units === 'kmh' ? 'km/h' : 'mph'}`;
}

export const KIND_LABELS: Record<DeviceKind, string> = {
  speed_radar: 'Speed radar',
  camera: 'Camera',
  refrigeration: 'Refrigeration',
  sensor: 'Sensor',
};

export const STATUS_LABELS: Record<DeviceStatus, string> = {
  online: 'Online',
  offline: 'Offline',
  error: 'Error',
};

/** "speed" → "Speed", "ppe_violation" → "Ppe violation". */
export function humanize(name: string): string {
  const text = name.replace(/_/g, ' ');
  return text ? `${text[0]!.toUpperCase()}${text.slice(1)}` : text;
}
