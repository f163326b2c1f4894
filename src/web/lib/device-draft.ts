import type { DeviceInput } from '../api/fleet';
import type { Device, DeviceKind } from '../api/types';

/** A device form as typed (text fields stay text until checked). */
export interface DeviceDraft {
  name: string;
  serial: string;
  siteId: string;
  lat: string;
  lon: string;
  speedLimit: string;
  speedUnits: 'mph' | 'kmh';
}

export type DraftErrors = Partial<Record<keyof DeviceDraft, string>>;

export function emptyDraft(units: 'mph' | 'kmh'): DeviceDraft {
  return { name: '', serial: '', siteId: '', lat: '', lon: '', speedLimit: '', speedUnits: units };
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
  };
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
  for (const { field, message } of details) {
    if (fields.has(field)) errors[field as keyof DeviceDraft] = `${message[0]?.toUpperCase() ?? ''}${message.slice(1)}`;
  }
  return errors;
}
