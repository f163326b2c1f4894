import { DateTime } from 'luxon';
import type { QuietHours } from '../core/db/schema.js';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function quietHoursProblem(hours: QuietHours): string | null {
  if (!HHMM.test(hours.from) || !HHMM.test(hours.to)) return 'from and to are HH:MM (00:00–23:59)';
  if (hours.from === hours.to) return 'from and to must differ';
  return null;
}

/**
 * When a channel's quiet hours end, if `at` falls inside them (in `zone`), else null. A window such as
 * 22:00–07:00 crosses midnight.
 */
export function quietUntil(hours: QuietHours | null, at: Date, zone: string): Date | null {
  if (!hours) return null;
  const local = DateTime.fromJSDate(at, { zone });
  const [fromH, fromM] = hours.from.split(':').map(Number) as [number, number];
  const [toH, toM] = hours.to.split(':').map(Number) as [number, number];
  const minutes = local.hour * 60 + local.minute;
  const from = fromH * 60 + fromM;
  const to = toH * 60 + toM;
  const inside = from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
  if (!inside) return null;
  let end = local.set({ hour: toH, minute: toM, second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 });
  return end.toJSDate();
}
