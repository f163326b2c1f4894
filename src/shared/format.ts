/**
 * How Vigil writes times, dates and numbers for people, in the console, the public pages, PDF reports and the
 * human-facing columns of CSV files. One rule: a time is shown in its site's zone (the organization's zone for
 * things without a site) with the zone named; dates and numbers follow the organization's locale (a BCP 47 tag).
 * Machine-facing output (CSV timestamps, API fields) stays ISO 8601 and is not formatted here.
 */

/** The locale of an organization that has not chosen one. */
export const DEFAULT_LOCALE = 'en-US';

/** Shown for a missing value. */
export const NONE = '—';

export type Moment = Date | string | number;

/** The canonical form of a BCP 47 tag ("en-us" → "en-US"), or null when the tag is malformed or unsupported. */
export function canonicalLocale(tag: string): string | null {
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(tag)[0];
  } catch {
    return null;
  }
  if (!canonical) return null;
  // A well-formed tag the runtime has no data for ("xx-YY") would silently fall back to another locale.
  const supported = Intl.DateTimeFormat.supportedLocalesOf([canonical]).length > 0 && Intl.NumberFormat.supportedLocalesOf([canonical]).length > 0;
  return supported ? canonical : null;
}

/**
 * ICU writes no-break and narrow no-break spaces ("12,3\u00a0%", "9:05\u202fAM"), and which ones depends on its
 * version (Node and Chromium differ); the PDF fonts have no narrow one. Plain spaces read the same everywhere.
 */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

// Building an Intl formatter costs far more than using one: tables of thousands of rows reuse them.
const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) cache.set(key, (format = new Intl.DateTimeFormat(locale, options)));
  return format;
}
function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.NumberFormat | undefined;
  if (!format) cache.set(key, (format = new Intl.NumberFormat(locale, options)));
  return format;
}

export interface TimeOptions {
  /** 'medium': "Nov 23, 2026, 9:05 AM MST" (pages); 'numeric': "11/23/2026, 9:05 AM MST" (tables, PDFs). */
  style?: 'medium' | 'numeric';
  seconds?: boolean;
  /** False where the year is already said nearby (a report's period) and a table cell has no room for it. */
  year?: boolean;
}

function dateParts(style: 'medium' | 'numeric', year: boolean): Intl.DateTimeFormatOptions {
  return { ...(year && { year: 'numeric' }), month: style === 'medium' ? 'short' : '2-digit', day: style === 'medium' ? 'numeric' : '2-digit' };
}

function timeFormat(zone: string, locale: string, { style = 'medium', seconds = false, year = true }: TimeOptions): Intl.DateTimeFormat {
  return dateFormat(locale, { ...dateParts(style, year), hour: 'numeric', minute: '2-digit', ...(seconds && { second: '2-digit' }), timeZone: zone, timeZoneName: 'short' });
}

/** A moment in an IANA zone, in the locale's way, the zone named: "Nov 23, 2026, 9:05 AM MST". */
export function formatTime(at: Moment, zone: string, locale = DEFAULT_LOCALE, options: TimeOptions = {}): string {
  return plain(timeFormat(zone, locale, options).format(new Date(at)));
}

const DATE_FIELDS = new Set<Intl.DateTimeFormatPartTypes>(['era', 'year', 'month', 'day', 'weekday']);

/** `formatTime` in the runs a narrow cell may put on lines of their own; joined in this order they are `formatTime`. */
export interface TimeRuns {
  date: string;
  /** ", " in "Nov 23, 2026, 9:05 AM MST"; a mark of the locale's other than a comma stays with the date ("7日"). */
  separator: string;
  clock: string;
  /** " " before a zone named last ("MST"); both empty where the locale names it elsewhere (then it is in `clock`). */
  zoneSeparator: string;
  zone: string;
}

/**
 * `formatTime` cut where the date ends, the clock begins and the zone is named, so a phone's table cell can stack
 * them without breaking any; a locale that writes the clock first keeps it all in `clock`.
 */
export function formatTimeRuns(at: Moment, zone: string, locale = DEFAULT_LOCALE, options: TimeOptions = {}): TimeRuns {
  const parts = timeFormat(zone, locale, options).formatToParts(new Date(at)).map((p) => ({ type: p.type, value: plain(p.value) }));
  const text = (from: number, to?: number) => parts.slice(from, to).map((p) => p.value).join('');
  const lastDate = parts.map((p) => DATE_FIELDS.has(p.type)).lastIndexOf(true);
  const between = parts[lastDate + 1];
  if (lastDate < 0 || between?.type !== 'literal' || parts.slice(0, lastDate).some((p) => !DATE_FIELDS.has(p.type) && p.type !== 'literal')) {
    return { date: '', separator: '', clock: text(0), zoneSeparator: '', zone: '' };
  }
  const cut = /^[,،]/.test(between.value) ? 0 : between.value.trimEnd().length;
  const named = parts.length - 1;
  const zoneLast = parts[named]!.type === 'timeZoneName' && named > lastDate + 2 && /^\s+$/.test(parts[named - 1]!.value);
  return {
    date: text(0, lastDate + 1) + between.value.slice(0, cut),
    separator: between.value.slice(cut),
    clock: text(lastDate + 2, zoneLast ? named - 1 : undefined),
    zoneSeparator: zoneLast ? parts[named - 1]!.value : '',
    zone: zoneLast ? parts[named]!.value : '',
  };
}

/** The date of a moment in an IANA zone: "Nov 23, 2026" / "11/23/2026" (en-US), "23.11.2026" (de-DE, numeric). */
export function formatDate(at: Moment, zone: string, locale = DEFAULT_LOCALE, style: 'medium' | 'numeric' = 'medium'): string {
  return plain(dateFormat(locale, { ...dateParts(style, true), timeZone: zone }).format(new Date(at)));
}

/** A calendar date already local to somewhere ("2026-11-23", a daily bucket), in the locale's way. */
export function formatDay(date: string, locale = DEFAULT_LOCALE, style: 'medium' | 'numeric' = 'medium'): string {
  // Noon UTC read in UTC is that same calendar day whatever the reader's zone.
  return formatDate(`${date.slice(0, 10)}T12:00:00Z`, 'UTC', locale, style);
}

/**
 * A span of calendar days already local to somewhere (a report's period, both days included), as the locale
 * writes a range: "Nov 1 – 30, 2026", "Nov 1 – Dec 3, 2026" (en-US), "1 – 30 Nov 2026" (en-GB); one day alone
 * "Nov 1, 2026". The thin spaces ICU puts around the dash are plain ones (the PDF fonts have none).
 */
export function formatDayRange(first: string, last: string, locale = DEFAULT_LOCALE): string {
  const noon = (date: string) => new Date(`${date.slice(0, 10)}T12:00:00Z`);
  const format = dateFormat(locale, { ...dateParts('medium', true), timeZone: 'UTC' });
  return plain(format.formatRange(noon(first), noon(last))).replace(/\u2009/g, ' ');
}

/** The zone's short name at that moment, as the locale writes it: "MST" or "MDT" (en-US), "MEZ" (de-DE). */
export function zoneLabel(at: Moment, zone: string, locale = DEFAULT_LOCALE): string {
  return plain(dateFormat(locale, { timeZone: zone, timeZoneName: 'short' }).formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value ?? zone);
}

/** The value rounded as shown, with a negative zero made positive (`-0 || 0` is 0). */
const unsignedZero = (value: number, digits: number) => Number(value.toFixed(digits)) || 0;

/**
 * A number with the locale's grouping and decimal mark, at most `digits` decimals (exactly that many with
 * `fixed`). A value that rounds to zero never shows a minus ("-0.0" read as a measurement below zero).
 */
export function formatNumber(value: number | null | undefined, locale = DEFAULT_LOCALE, digits = 0, fixed = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return plain(numberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: fixed ? digits : 0 }).format(unsignedZero(value, digits)));
}

export type SpeedUnits = 'mph' | 'kmh';
export const speedUnitLabel = (units: SpeedUnits) => (units === 'kmh' ? 'km/h' : 'mph');

/** "42.5 mph", "42,5 km/h"; one decimal unless told. */
export function formatSpeed(value: number | null | undefined, units: SpeedUnits, locale = DEFAULT_LOCALE, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return `${formatNumber(value, locale, digits)} ${speedUnitLabel(units)}`;
}

/** A share (0..1) as a percentage in the locale's way: "12.3%" (en-US), "12,3 %" (de-DE). */
export function formatPercent(share: number | null | undefined, locale = DEFAULT_LOCALE, digits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return NONE;
  return plain(numberFormat(locale, { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: digits }).format(unsignedZero(share, digits + 2)));
}

/** "45 s", "12 min", "2 h 5 min", "1,204 h 0 min": the length of an excursion or an incident. */
export function formatDuration(seconds: number | null | undefined, locale = DEFAULT_LOCALE): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  let hours = Math.floor(seconds / 3600);
  let minutes = Math.round((seconds - hours * 3600) / 60);
  if (minutes === 60) [hours, minutes] = [hours + 1, 0];
  return `${formatNumber(hours, locale)} h ${minutes} min`;
}
