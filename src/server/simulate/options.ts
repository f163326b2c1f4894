import { SimulatorError } from './sources.js';
import type { FridgeProfile } from './fridge-model.js';

/** What the simulator is asked to do, what it reports, and the bounds on both. */

export type SimulatedKind = 'speed_radar' | 'refrigeration';
export type SimulatedProtocol = 'rushroster' | 'polosanca' | 'native' | 'mqtt';

export interface SimulatedDevice {
  /** The device key (`X-API-Key`). */
  key: string;
  /** Required by the Polo Sanca API (`serial` in the body). */
  serial?: string | null;
  name?: string | null;
  /** Radars: the limit the device is configured with; asked from `GET /api/ingest/v1/device/info` when missing. */
  speedLimit?: number | null;
  /** IANA zone of the device's local clock (radars send naive local time); defaults to `options.timezone`. */
  timezone?: string | null;
  profile?: FridgeProfile | null;
}

export interface SimulatorOptions {
  /** Vigil's base URL, e.g. http://localhost:3000 (its PUBLIC_URL). */
  baseUrl: string;
  kind: SimulatedKind;
  devices: SimulatedDevice[];
  /** Events (radars) or readings (refrigeration) per second over all devices; radars: the daily average unless `flat`. */
  rate: number;
  /** Stop after this many seconds (the cars already passed are still uploaded); without it, run until aborted. */
  durationSeconds?: number;
  /** Makes the generated traffic reproducible; random (and reported in the stats) when omitted. */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (stats: SimulatorStats) => void;
  progressIntervalMs?: number;
  /** Radars default to `rushroster`, refrigeration to `polosanca`; `native` uses Vigil's batch API, `mqtt` its broker. */
  protocol?: SimulatedProtocol;
  /** Batching protocols: each device uploads what it collected every so many seconds (default 5; real radars: 15 minutes). */
  uploadIntervalSeconds?: number;
  /** Most items per request (RushRoster default 100, at most 1000; native default 500). */
  batchSize?: number;
  /** Radars: constant volume instead of the hour-of-day curve (so `rate` is what is sent right now). */
  flat?: boolean;
  /** Zone of devices without their own (default: this machine's). */
  timezone?: string;
  /** Requests in flight at once over all devices (default 16). */
  maxInFlight?: number;
  /** Items a device keeps while the server is slow; beyond it the oldest are dropped (default 10,000). */
  maxQueuePerDevice?: number;
  /** Attempts after the first for 429, 5xx and network failures (default 5). */
  retries?: number;
  requestTimeoutMs?: number;
  /** After an abort, how long requests in flight may still finish (default 5 s). */
  stopGraceMs?: number;
  fetch?: typeof fetch;
  /** The broker for the `mqtt` protocol, e.g. mqtt://localhost:1883 (Vigil's MQTT_PORT). */
  mqttUrl?: string;
}

export interface SimulatorStats {
  seed: number;
  elapsedSeconds: number;
  /** Items produced by the device models. */
  generated: number;
  /** Items sent to the server (each counted once, however often retried). */
  sent: number;
  /** Items the server stored. */
  accepted: number;
  duplicates: number;
  /** Items the server answered as invalid. */
  rejected: number;
  /** Requests that failed for good (after retries) and the items they carried. */
  errors: number;
  failedItems: number;
  retries: number;
  /** Items dropped because a device's queue was full. */
  dropped: number;
  requests: number;
  inFlight: number;
  queued: number;
  /** Items accepted per second since the previous report, and over the whole run. */
  rate: number;
  averageRate: number;
  lastError: string | null;
  /** Why the server refused the latest invalid item. */
  lastRejection: string | null;
  /** RushRoster radars: photos of speeding vehicles uploaded and confirmed, and photo steps that failed (not retried, as on a device). */
  photos: number;
  photoFailures: number;
  done: boolean;
}

export const SIMULATOR_LIMITS = {
  devices: 10_000,
  rate: 100_000,
  durationSeconds: 30 * 86_400,
  maxInFlight: 256,
  maxQueuePerDevice: 100_000,
  retries: 10,
  retryAfterCapSeconds: 60,
  rushRosterBatch: 1000,
  nativeBatch: 5000,
} as const;

export function protocolOf(options: Pick<SimulatorOptions, 'kind' | 'protocol'>): SimulatedProtocol {
  const protocol = options.protocol ?? (options.kind === 'speed_radar' ? 'rushroster' : 'polosanca');
  const allowed: SimulatedProtocol[] = options.kind === 'speed_radar' ? ['rushroster', 'native', 'mqtt'] : ['polosanca', 'native', 'mqtt'];
  if (!allowed.includes(protocol)) throw new SimulatorError(`${options.kind} devices speak ${allowed.join(' or ')}, not ${protocol}`);
  return protocol;
}

export function checkNumber(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) throw new SimulatorError(`${name} must be between ${min} and ${max} (got ${value})`);
}
