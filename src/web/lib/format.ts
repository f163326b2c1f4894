import type { DeviceKind, DeviceStatus } from '../api/types';
import * as shared from '../../shared/format';

/** The browser's own time zone: what a datetime-local input means (the filters' From and To). */
export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * The organization the console shows: its locale for every date and number, its zone for things that belong to
 * no site. Held here rather than passed to each of the many call sites; the signed-in layout sets it before
 * drawing a page (and draws the page afresh when it changes), public pages set it from what they show.
 */
const display = { locale: shared.DEFAULT_LOCALE, zone: browserZone };

export function setDisplayContext(context: { locale?: string | null; timezone?: string | null }): void {
  display.locale = context.locale || shared.DEFAULT_LOCALE;
  display.zone = context.timezone || browserZone;
}

export const displayLocale = () => display.locale;
/** The zone of things without a site (members, tokens, the audit log, unplaced devices): the organization's. */
export const organizationZone = () => display.zone;

/** "Nov 23, 2026, 9:05:12 AM MST": a moment in the given IANA zone, the zone named. */
export function formatTime(iso: string, zone: string): string {
  return shared.formatTime(iso, zone, display.locale, { seconds: true });
}

/** "Nov 23, 2026": the date of a moment in the given zone. */
export function formatDate(iso: string, zone: string): string {
  return shared.formatDate(iso, zone, display.locale);
}

/** "Nov 23, 2026": a calendar day that is already local ("2026-11-23", a daily figure). */
export function formatDay(date: string): string {
  return shared.formatDay(date, display.locale);
}

/** "3 minutes ago", "yesterday". */
export function formatRelative(iso: string, now = Date.now()): string {
  const relative = new Intl.RelativeTimeFormat(display.locale, { numeric: 'auto' });
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12]];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return relative.format(unit === 'second' && Math.abs(value) < 10 ? 0 : value, unit);
    value = Math.round(value / size);
  }
  return relative.format(value, 'year');
}

/** "1,234" (en-US), "1.234" (de-DE); `digits` decimals at most. */
export function formatNumber(value: number | null | undefined, digits = 0): string {
  return shared.formatNumber(value, display.locale, digits);
}

export function formatSpeed(value: number | null | undefined, units: 'mph' | 'kmh', digits = 1): string {
  return shared.formatSpeed(value, units, display.locale, digits);
}

/** A share 0..1: "12.3%" (en-US), "12,3 %" (de-DE). */
export function formatPercent(share: number | null | undefined, digits = 1): string {
  return shared.formatPercent(share, display.locale, digits);
}

export function formatDuration(seconds: number | null | undefined): string {
  return shared.formatDuration(seconds, display.locale);
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
