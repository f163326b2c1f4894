import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { FieldError } from '../core/http/errors.js';
import { jsonProblem, textProblem } from '../core/text.js';

/**
 * Validation of the items of an ingest batch. Each item is checked on its own so that a batch is
 * accepted partially: the valid items are stored, the others come back by index with reasons.
 */
export const EARLIEST_TIMESTAMP = Date.UTC(2000, 0, 1);
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
export const MAX_SPEED = 300;
const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
const KIND = /^[a-z][a-z0-9_.-]{0,49}$/;
const METRIC = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_ATTRIBUTES_BYTES = 8 * 1024;

// Full date, time and an offset, in the shape Date.parse reads exactly (ECMAScript date-time string format).
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export interface ParsedTime {
  ts: Date;
  /** The timestamp as the device wrote it. */
  raw: string;
}

/**
 * ISO 8601 with an offset is taken as written; without an offset it is read in `zone` (the device's
 * site, else its organization): field devices usually keep local wall-clock time.
 */
export function parseTimestamp(value: unknown, zone: string, now = Date.now()): ParsedTime | string {
  if (value instanceof Date) return instantProblem(value, now) ?? { ts: value, raw: value.toISOString() };
  if (typeof value !== 'string' || value.length === 0 || value.length > 40) return 'must be an ISO 8601 timestamp string';
  const text = value.trim().replace(' ', 'T');
  let ms: number;
  if (WITH_OFFSET.test(text)) {
    // The common case, and a fast one: the instant is fully stated.
    ms = Date.parse(text);
    if (Number.isNaN(ms)) return 'is not an ISO 8601 timestamp';
  } else {
    const parsed = DateTime.fromISO(text, { zone, setZone: true });
    if (!parsed.isValid) return `is not an ISO 8601 timestamp (${parsed.invalidExplanation ?? parsed.invalidReason})`;
    ms = parsed.toMillis();
  }
  const ts = new Date(ms);
  return instantProblem(ts, now) ?? { ts, raw: value };
}

/**
 * What is wrong with an instant, if anything. Instants reach validation as Dates when the device gave
 * epoch milliseconds (ThingsBoard's payloads) or none (a receive time): nothing to parse then.
 */
function instantProblem(ts: Date, now: number): string | null {
  const ms = ts.getTime();
  if (Number.isNaN(ms)) return 'is not a valid time';
  if (ms < EARLIEST_TIMESTAMP) return 'is before 2000-01-01';
  if (ms > now + MAX_FUTURE_MS) return 'is more than a day in the future';
  return null;
}

/** A reading's time: as parseTimestamp, without keeping the text the device wrote (readings store only the instant). */
function readingTime(value: unknown, zone: string, now: number): Date | string {
  if (value instanceof Date) return instantProblem(value, now) ?? value;
  const time = parseTimestamp(value, zone, now);
  return typeof time === 'string' ? time : time.ts;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A stable key for an item without a client_ref: resending the same item yields the same key. */
function contentRef(parts: unknown[]): string {
  return `h:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22)}`;
}

export interface EventItem {
  index: number;
  ts: Date;
  deviceTs: string;
  clientRef: string;
  kind: string;
  speed: number | null;
  speedLimit: number | null;
  severity: string | null;
  attributes: Record<string, unknown>;
}

export interface Rejection {
  index: number;
  errors: FieldError[];
}

export interface EventDefaults {
  zone: string;
  speedLimit: number | null;
}

export function parseEventItem(item: unknown, index: number, defaults: EventDefaults, now = Date.now()): EventItem | Rejection {
  if (!isObject(item)) return { index, errors: [{ field: '', message: 'must be an object' }] };
  const errors: FieldError[] = [];
  const time = parseTimestamp(item.ts, defaults.zone, now);
  if (typeof time === 'string') errors.push({ field: 'ts', message: time });
  const kind = item.kind ?? 'event';
  if (typeof kind !== 'string' || !KIND.test(kind)) errors.push({ field: 'kind', message: 'must be a lowercase name such as "speed" (letters, digits, _ . -)' });
  const speed = item.speed ?? null;
  if (speed !== null && (!finiteNumber(speed) || speed < 0 || speed > MAX_SPEED)) errors.push({ field: 'speed', message: `must be a number from 0 to ${MAX_SPEED}` });
  const speedLimit = item.speed_limit ?? defaults.speedLimit;
  if (speedLimit !== null && (!finiteNumber(speedLimit) || speedLimit <= 0 || speedLimit >= MAX_SPEED)) {
    errors.push({ field: 'speed_limit', message: `must be a number above 0 and below ${MAX_SPEED}` });
  }
  const severity = item.severity ?? null;
  if (severity !== null && !(SEVERITIES as readonly unknown[]).includes(severity)) errors.push({ field: 'severity', message: `must be one of ${SEVERITIES.join(', ')}` });
  const attributes = item.attributes ?? {};
  // Checked for what PostgreSQL cannot store (and for depth) before anything serializes it.
  const unstorable = isObject(attributes) ? jsonProblem(attributes, 'attributes') : null;
  if (!isObject(attributes)) errors.push({ field: 'attributes', message: 'must be an object' });
  else if (unstorable) errors.push(unstorable);
  else if (JSON.stringify(attributes).length > MAX_ATTRIBUTES_BYTES) errors.push({ field: 'attributes', message: `must be under ${MAX_ATTRIBUTES_BYTES} bytes as JSON` });
  const clientRef = item.client_ref;
  if (clientRef !== undefined && (typeof clientRef !== 'string' || clientRef.length < 1 || clientRef.length > 200)) {
    errors.push({ field: 'client_ref', message: 'must be a string of 1 to 200 characters' });
  } else if (typeof clientRef === 'string' && textProblem(clientRef) !== null) {
    errors.push({ field: 'client_ref', message: textProblem(clientRef)! });
  }
  if (errors.length > 0 || typeof time === 'string') return { index, errors };
  return {
    index,
    ts: time.ts,
    deviceTs: time.raw,
    clientRef: (clientRef as string | undefined) ?? contentRef([time.ts.toISOString(), kind, speed, speedLimit, severity, attributes]),
    kind: kind as string,
    speed: speed as number | null,
    speedLimit: speedLimit as number | null,
    severity: severity as string | null,
    attributes: attributes as Record<string, unknown>,
  };
}

/** A value kept as the device sent it (telemetry_values): strings, JSON objects and arrays. */
export type TypedValue = string | Record<string, unknown> | unknown[];

export interface TelemetryItem {
  index: number;
  ts: Date;
  /** Numbers, and booleans as 0/1: the numeric series (charts, rollups, alert rules). */
  values: [metric: string, value: number][];
  /** Values that are neither numbers nor booleans, as sent. */
  typed: [key: string, value: TypedValue][];
  /** Keys refused one by one (the item's other keys are stored). */
  refused: KeyRefusal[];
}

/** A key refused on its own: field `values.<key>`, the message for the device, and a reason for /metrics. */
export interface KeyRefusal extends FieldError {
  reason: 'invalid_key' | 'null_value' | 'unsupported_type' | 'unstorable_text' | 'too_large';
}

/** Largest string or JSON value (as JSON text, UTF-8) stored under one key. */
export const MAX_VALUE_BYTES = 8 * 1024;

/** One key's value sorted into the numeric and typed series, or why it is refused. */
function telemetryValue(value: unknown): { number?: number; typed?: TypedValue } | Omit<KeyRefusal, 'field'> {
  if (finiteNumber(value)) return { number: value };
  // A flag (door, compressor) is a 0/1 series for charts, rollups and alert rules. Stored once, there: a second,
  // typed copy would cost every message a second statement (measured: MQTT ingest 6× slower).
  if (typeof value === 'boolean') return { number: value ? 1 : 0 };
  if (value === null || value === undefined) return { reason: 'null_value', message: 'must be a number, a boolean, a string or a JSON object or array, not null' };
  if (typeof value !== 'string' && typeof value !== 'object') return { reason: 'unsupported_type', message: 'must be a number, a boolean, a string or a JSON object or array' };
  const problem = typeof value === 'string' ? textProblem(value) : jsonProblem(value, '')?.message;
  if (problem) return { reason: 'unstorable_text', message: problem };
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_VALUE_BYTES) return { reason: 'too_large', message: `is ${bytes} bytes as JSON; a value holds at most ${MAX_VALUE_BYTES}` };
  return { typed: value as TypedValue };
}

/**
 * A reading: its time and its values, each key checked on its own so that one bad key does not cost the
 * others; the item is refused whole only when its time is wrong or no key is left.
 */
export function parseTelemetryItem(item: unknown, index: number, zone: string, now = Date.now()): TelemetryItem | Rejection {
  if (!isObject(item)) return { index, errors: [{ field: '', message: 'must be an object' }] };
  const ts = readingTime(item.ts, zone, now);
  if (typeof ts === 'string') return { index, errors: [{ field: 'ts', message: ts }] };
  if (!isObject(item.values) || Object.keys(item.values).length === 0) {
    return { index, errors: [{ field: 'values', message: 'must be an object of keys to values, with at least one key' }] };
  }
  const values: [string, number][] = [];
  const typed: [string, TypedValue][] = [];
  const refused: KeyRefusal[] = [];
  for (const [key, raw] of Object.entries(item.values)) {
    const sorted = METRIC.test(key) ? telemetryValue(raw) : { reason: 'invalid_key' as const, message: 'is not a valid key name (letters, digits, _ . -; up to 64)' };
    if ('reason' in sorted) {
      refused.push({ field: `values.${key}`, ...sorted });
      continue;
    }
    if (sorted.number !== undefined) values.push([key, sorted.number]);
    if (sorted.typed !== undefined) typed.push([key, sorted.typed]);
  }
  if (values.length === 0 && typed.length === 0) return { index, errors: refused };
  return { index, ts, values, typed, refused };
}

export function isRejection(value: object): value is Rejection {
  return 'errors' in value;
}
