import type { DeviceInput } from '../api/fleet';
import type { Device, DeviceKind } from '../api/types';
import { metricOverridesOf } from '../../shared/metrics';

/** A device form as typed (text fields stay text until checked). */
export interface DeviceDraft {
  name: string;
  serial: string;
  siteId: string;
  lat: string;
  lon: string;
  speedLimit: string;
  speedUnits: 'mph' | 'kmh';
  /** Refrigeration: the safe temperature range (°C) and the unit pressure is reported in. */
  safeMin: string;
  safeMax: string;
  pressureUnit: string;
}

export type DraftErrors = Partial<Record<keyof DeviceDraft, string>>;

export function emptyDraft(units: 'mph' | 'kmh'): DeviceDraft {
  return { name: '', serial: '', siteId: '', lat: '', lon: '', speedLimit: '', speedUnits: units, safeMin: '', safeMax: '', pressureUnit: '' };
}

export function draftOf(device: Device, orgUnits: 'mph' | 'kmh'): DeviceDraft {
  return {
    name: device.name,
    serial: device.serial,
    siteId: device.siteId ?? '',
    lat: device.lat === null ? '' : String(device.lat),
    lon: device.lon === null ? '' : String(device.lon),
    speedLimit: device.speedLimit === null ? '' : String(device.speedLimit),
    speedUnits: device.speedUnits ?? orgUnits,
    ...refrigerationDraft(device.settings),
  };
}

function refrigerationDraft(settings: Record<string, unknown> | undefined) {
  const range = settings?.safeRange as { min?: unknown; max?: unknown } | undefined;
  const pressure = metricOverridesOf(settings).pressure?.unit;
  return {
    safeMin: typeof range?.min === 'number' ? String(range.min) : '',
    safeMax: typeof range?.max === 'number' ? String(range.max) : '',
    pressureUnit: typeof pressure === 'string' ? pressure : '',
  };
}

/**
 * A refrigeration unit's settings with the form's safe range and pressure unit, keeping what the form does
 * not show (the API replaces settings whole); or the fields to correct first.
 */
export function refrigerationSettings(draft: DeviceDraft, current: Record<string, unknown>): { settings: Record<string, unknown>; errors: DraftErrors } {
  const errors: DraftErrors = {};
  const min = number(draft.safeMin);
  const max = number(draft.safeMax);
  const settings: Record<string, unknown> = { ...current };
  if (min === null && max === null) delete settings.safeRange;
  else if (min === null || max === null) errors[min === null ? 'safeMin' : 'safeMax'] = 'Enter both ends of the range, or neither.';
  else if (Number.isNaN(min)) errors.safeMin = 'Enter a temperature in °C, like 0 or -18.';
  else if (Number.isNaN(max)) errors.safeMax = 'Enter a temperature in °C, like 5 or -15.';
  else if (min >= max) errors.safeMax = 'The highest safe temperature must be above the lowest.';
  else if (min < -60 || max > 60) errors[min < -60 ? 'safeMin' : 'safeMax'] = 'Enter a temperature between -60 and 60 °C.';
  else settings.safeRange = { min, max };
  const metrics = { ...metricOverridesOf(current) };
  const { unit: _unit, ...pressure } = metrics.pressure ?? {};
  if (draft.pressureUnit) metrics.pressure = { ...pressure, unit: draft.pressureUnit };
  else if (Object.keys(pressure).length > 0) metrics.pressure = pressure;
  else delete metrics.pressure;
  if (Object.keys(metrics).length > 0) settings.metrics = metrics;
  else delete settings.metrics;
  return { settings, errors };
}

function number(text: string): number | null {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** The location's problems: both or neither coordinate, each in range. */
export function locationErrors(draft: Pick<DeviceDraft, 'lat' | 'lon'>): DraftErrors {
  const errors: DraftErrors = {};
  const lat = number(draft.lat);
  const lon = number(draft.lon);
  if (lat !== null && !(lat >= -90 && lat <= 90)) errors.lat = 'Enter a latitude between -90 and 90.';
  if (lon !== null && !(lon >= -180 && lon <= 180)) errors.lon = 'Enter a longitude between -180 and 180.';
  if ((lat === null) !== (lon === null)) errors[lat === null ? 'lat' : 'lon'] = 'Enter both coordinates, or neither.';
  return errors;
}

/** What the form would send, or the fields to correct first (the server checks again). */
export function checkDraft(draft: DeviceDraft, kind: DeviceKind): { input: DeviceInput; errors: DraftErrors } {
  const errors: DraftErrors = { ...locationErrors(draft) };
  if (!draft.name.trim()) errors.name = 'Give the device a name.';
  if (!draft.serial.trim()) errors.serial = 'Enter the serial number (or any identifier unique in your organization).';
  const limit = kind === 'speed_radar' ? number(draft.speedLimit) : null;
  if (limit !== null && !(limit > 0 && limit < 300)) errors.speedLimit = 'Enter a limit above 0 and below 300.';
  const radar = kind === 'speed_radar';
  return {
    errors,
    input: {
      name: draft.name.trim(),
      serial: draft.serial.trim(),
      siteId: draft.siteId || null,
      lat: number(draft.lat),
      lon: number(draft.lon),
      speedLimit: radar ? limit : null,
      speedUnits: radar ? draft.speedUnits : null,
    },
  };
}

/** Maps the server's field names onto the form's. */
export function serverErrors(details: { field: string; message: string }[]): DraftErrors {
  const errors: DraftErrors = {};
  const fields = new Set<string>(['name', 'serial', 'siteId', 'lat', 'lon', 'speedLimit', 'speedUnits']);
  const settingsFields: Record<string, keyof DeviceDraft> = { 'settings.safeRange': 'safeMax', 'settings.metrics.pressure.unit': 'pressureUnit' };
  for (const { field, message } of details) {
    const name = fields.has(field) ? (field as keyof DeviceDraft) : settingsFields[field];
    if (name) errors[name] = `${message[0]?.toUpperCase() ?? ''}${message.slice(1)}`;
  }
  return errors;
}
