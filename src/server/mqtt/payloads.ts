import type { Rejection } from '../ingest/items.js';
import { stampMissingTimes } from '../ingest/receive-clock.js';

/**
 * MQTT payloads, ThingsBoard-style, turned into the raw items the ingest service validates. Nothing
 * here checks the items themselves: that stays in one place (ingest/items.ts) for MQTT and HTTP alike.
 */
export type IngestKind = 'telemetry' | 'events';

/** The topics a device uses on the embedded broker ("me" is the device its key authenticated). */
export const DEVICE_TOPICS = {
  telemetry: 'v1/devices/me/telemetry',
  events: 'v1/devices/me/events',
  errors: 'v1/devices/me/errors',
} as const;

/** Sent back to a device (and logged) when a message could not be stored in full. */
export interface MqttReport {
  /** The topic the message was published on. */
  topic: string;
  /** The MQTT packet identifier of the message (QoS 1 and 2). */
  messageId?: number;
  code: string;
  message: string;
  accepted?: number;
  duplicates?: number;
  rejected?: Rejection[];
}

export class PayloadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Beyond ±8.64e15 ms a Date is invalid; leave such a value as it is and let validation reject it.
const MAX_EPOCH_MS = 8.64e15;

/**
 * Reserves `count` distinct receive times (epoch ms) for the items of a message that have no time of
 * their own, and returns the first: readings flushed in one burst must not share a time (ingest/receive-clock.ts).
 */
export type ReceivedAt = (count: number) => number;

/**
 * A number is epoch milliseconds (ThingsBoard), handed on as a Date (the ingest validation takes the
 * instant as it is); anything else (normally an ISO 8601 string) is left to the validation.
 */
function timestamp(value: unknown): unknown {
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS) return new Date(value);
  return value;
}

export function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new PayloadError('invalid_json', `the payload is not JSON: ${(error as Error).message}`);
  }
}

/**
 * Telemetry: `{"ts": …, "values": {…}}`, an array of those, or a flat object of metric → value
 * (optionally with a `ts`) meaning "now". Arrays may mix both forms, as ThingsBoard allows.
 */
export function telemetryItems(body: unknown, receivedAt: ReceivedAt): unknown[] {
  const item = (value: unknown): unknown => {
    if (!isObject(value)) return value;
    if ('values' in value) return { ts: timestamp(value.ts), values: value.values };
    const { ts, ...values } = value;
    return { ts: timestamp(ts), values };
  };
  if (Array.isArray(body)) return stampMissingTimes(body.map(item), receivedAt);
  if (isObject(body)) return stampMissingTimes([item(body)], receivedAt);
  throw new PayloadError('invalid_payload', 'telemetry must be a JSON object or an array of objects');
}

/** Events: one event object or an array of them, with the fields of the HTTP API; `ts` defaults to now. */
export function eventItems(body: unknown, receivedAt: ReceivedAt): unknown[] {
  const item = (value: unknown): unknown => (isObject(value) ? { ...value, ts: timestamp(value.ts) } : value);
  if (Array.isArray(body)) return stampMissingTimes(body.map(item), receivedAt);
  if (isObject(body)) return stampMissingTimes([item(body)], receivedAt);
  throw new PayloadError('invalid_payload', 'events must be a JSON object or an array of objects');
}

export function itemsOf(kind: IngestKind, body: unknown, receivedAt: ReceivedAt): unknown[] {
  return kind === 'telemetry' ? telemetryItems(body, receivedAt) : eventItems(body, receivedAt);
}

/** The envelope on an external broker: the device key authenticates each message. */
export interface Envelope {
  key: string;
  data: unknown;
}

export function parseEnvelope(body: unknown): Envelope {
  if (!isObject(body) || typeof body.key !== 'string' || body.key.length === 0 || !('data' in body)) {
    throw new PayloadError('invalid_envelope', 'the payload must be {"key": "<device key>", "data": <telemetry or events>}');
  }
  return { key: body.key, data: body.data };
}

/** Enough of a key to find it in the console (its stored prefix), never the secret part. */
export function keyHint(key: string): string {
  return `${key.slice(0, Math.min(16, Math.floor(key.length / 4)))}…`;
}
