import { invalidFields } from '../core/http/errors.js';

/**
 * Time ranges of statistics requests. A bound is an ISO 8601 instant, or a calendar date
 * (`YYYY-MM-DD`) read in the subject's time zone: `from` at the start of that day, `to` at the end of
 * it (so `from=2026-10-01&to=2026-10-31` is the whole of October, local time). Figures come from
 * hourly rollups, so the range is widened to whole hours.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_DAYS = 3_700;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export interface Range {
  from: Date;
  to: Date;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds to add to a UTC instant to get the wall-clock time in `zone` at that instant. */
function zoneOffset(instant: number, zone: string): number {
  let format = formats.get(zone);
  if (!format) {
    // Building a formatter costs far more than using one; zones are few.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formats.set(zone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant a local calendar date starts in `zone` (00:00, or the first valid time on a DST day). */
export function startOfLocalDay(date: string, zone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  let instant = wall - zoneOffset(wall, zone);
  // The offset at the guess may differ from the offset at the answer when a change falls in between.
  instant = wall - zoneOffset(instant, zone);
  return new Date(instant);
}

/** The local calendar date of an instant in `zone`, as YYYY-MM-DD. */
export function localDate(instant: Date, zone: string): string {
  return new Date(instant.getTime() + zoneOffset(instant.getTime(), zone)).toISOString().slice(0, 10);
}

/** The calendar date after `date` (YYYY-MM-DD). */
export function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
}

/** The first day of the month holding `date` (YYYY-MM-DD). */
export function firstOfMonth(date: string): string {
  return `${date.slice(0, 8)}01`;
}

/** The first day of the month after the one holding `date` (YYYY-MM-DD). */
export function nextMonth(date: string): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
}

function parseBound(value: string, field: 'from' | 'to', zone: string): Date {
  if (DATE_ONLY.test(value)) {
    const start = startOfLocalDay(value, zone);
    if (Number.isNaN(start.getTime())) throw invalidFields([{ field, message: 'is not a valid date' }]);
    if (field === 'from') return start;
    return startOfLocalDay(nextDate(value), zone);
  }
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) throw invalidFields([{ field, message: 'must be an ISO 8601 date-time or a YYYY-MM-DD date' }]);
  return instant;
}

/** Parses and widens a requested range to whole hours; the default is the last 30 days up to the current hour. */
export function resolveRange(input: { from?: string; to?: string }, zone: string, now = new Date()): Range {
  const requestedTo = input.to ? parseBound(input.to, 'to', zone) : now;
  const requestedFrom = input.from ? parseBound(input.from, 'from', zone) : new Date(requestedTo.getTime() - 30 * DAY);
  if (requestedFrom >= requestedTo) throw invalidFields([{ field: 'from', message: 'must be before "to"' }]);
  const from = new Date(Math.floor(requestedFrom.getTime() / HOUR) * HOUR);
  const to = new Date(Math.ceil(requestedTo.getTime() / HOUR) * HOUR);
  if (to.getTime() - from.getTime() > MAX_DAYS * DAY) throw invalidFields([{ field: 'from', message: `a range may span at most ${MAX_DAYS} days` }]);
  return { from, to };
}

/** Every local date from the one holding `from` to the one holding the last hour before `to`. */
export function localDates(range: Range, zone: string): string[] {
  const first = localDate(range.from, zone);
  const last = localDate(new Date(range.to.getTime() - 1), zone);
  const dates: string[] = [];
  for (let day = Date.parse(`${first}T00:00:00Z`); day <= Date.parse(`${last}T00:00:00Z`); day += DAY) {
    dates.push(new Date(day).toISOString().slice(0, 10));
  }
  return dates;
}
