import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { randomInt } from 'node:crypto';
import { deriveSeed } from './random.js';
import {
  FRIDGE_PROFILES, RadarTraffic, RefrigerationUnit, rushRosterBody, rushRosterEvent, WallClock,
  type Car, type FridgeProfile, type Reading,
} from './models.js';

/**
 * Drives simulated field devices against a running Vigil through the real device HTTP APIs, exactly
 * as the devices speak them: RushRoster radars upload batches to `POST /api/ingest/v1/events`, Polo
 * Sanca units post one reading per request to `POST /v1/equipments/telemetry`, or either uses the native
 * batch API (`/api/v1/ingest/events`, `/api/v1/ingest/telemetry`). Requests go through `fetch` (undici,
 * connections kept alive); every queue, wait and concurrency is bounded.
 */

export type SimulatedKind = 'speed_radar' | 'refrigeration';
export type SimulatedProtocol = 'rushroster' | 'polosanca' | 'native';

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
  /** Radars default to `rushroster`, refrigeration to `polosanca`; `native` uses Vigil's batch API. */
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

interface Outcome {
  accepted: number;
  duplicates: number;
  rejected: number;
  rejection?: string;
}

type Item = Car | Reading;

interface Source {
  takeUntil(endMs: number, max?: number): Item[];
}

interface Lane {
  index: number;
  device: SimulatedDevice;
  source: Source;
  queue: Item[];
  busy: Promise<void> | null;
  nextUploadMs: number;
}

class SimulatorError extends Error {}

const defaultZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function protocolOf(options: Pick<SimulatorOptions, 'kind' | 'protocol'>): SimulatedProtocol {
  const protocol = options.protocol ?? (options.kind === 'speed_radar' ? 'rushroster' : 'polosanca');
  const allowed: SimulatedProtocol[] = options.kind === 'speed_radar' ? ['rushroster', 'native'] : ['polosanca', 'native'];
  if (!allowed.includes(protocol)) throw new SimulatorError(`${options.kind} devices speak ${allowed.join(' or ')}, not ${protocol}`);
  return protocol;
}

function checkNumber(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) throw new SimulatorError(`${name} must be between ${min} and ${max} (got ${value})`);
}

export interface GeneratorOptions {
  kind: SimulatedKind;
  devices: SimulatedDevice[];
  rate: number;
  seed: number;
  startMs: number;
  flat?: boolean;
  timezone?: string;
}

/**
 * One deterministic item stream per device: the same seed, start, devices and rate give the same items
 * (each device draws from its own seed, so adding a device does not change the others).
 */
export function createSources(options: GeneratorOptions): Source[] {
  const n = options.devices.length;
  if (n === 0) throw new SimulatorError('no devices to simulate');
  if (!(options.rate > 0)) throw new SimulatorError('rate must be above 0');
  return options.devices.map((device, index) => {
    const timezone = device.timezone ?? options.timezone ?? defaultZone();
    const seed = deriveSeed(options.seed, options.kind, index);
    if (options.kind === 'speed_radar') {
      return new RadarTraffic({ seed, speedLimit: device.speedLimit ?? 30, timezone, startMs: options.startMs, meanPerSecond: options.rate / n, flat: options.flat });
    }
    return new RefrigerationUnit({
      seed,
      profile: device.profile ?? FRIDGE_PROFILES[index % FRIDGE_PROFILES.length]!,
      timezone,
      startMs: options.startMs,
      intervalMs: Math.max(10, Math.round((1000 * n) / options.rate)),
    });
  });
}

/** The items the simulator would generate for each device over `seconds` from `startMs` (at most `max` per device). */
export function generateItems(options: GeneratorOptions, seconds: number, max = 100_000): Item[][] {
  return createSources(options).map((source) => source.takeUntil(options.startMs + seconds * 1000, max));
}

function retryAfterMs(header: string | null, attempt: number): number {
  const cap = SIMULATOR_LIMITS.retryAfterCapSeconds * 1000;
  if (header !== null) {
    const trimmed = header.trim();
    if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, cap);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.min(Math.max(date - Date.now(), 0), cap);
  }
  return Math.min(1000 * 2 ** attempt, cap);
}

/** Runs `work` with a signal that aborts after `timeoutMs` or with `parent`; the listener on `parent` is removed afterwards. */
async function withDeadline<T>(parent: AbortSignal, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => controller.abort(new Error('stopped'));
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
  }
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The response body as text, or '' when it exceeds 4 MiB (no Vigil answer is that large; the rest is discarded). */
async function readBounded(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      return '';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** A counting semaphore; its waiters are bounded by the number of devices (one request per device at a time). */
class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free += 1;
  }
}

/**
 * Runs the simulation until `durationSeconds` pass or `signal` aborts; resolves with the final stats
 * (also passed to `onProgress` with `done: true`). Throws only for invalid options or a refused key at start.
 */
export async function runSimulator(options: SimulatorOptions): Promise<SimulatorStats> {
  const protocol = protocolOf(options);
  // Copies: speed limits learnt from the server are filled in here, not in the caller's objects.
  const devices = options.devices.map((device) => ({ ...device }));
  if (devices.length === 0) throw new SimulatorError('no devices to simulate');
  checkNumber('devices', devices.length, 1, SIMULATOR_LIMITS.devices);
  checkNumber('rate', options.rate, Number.MIN_VALUE, SIMULATOR_LIMITS.rate);
  checkNumber('durationSeconds', options.durationSeconds, 0, SIMULATOR_LIMITS.durationSeconds);
  checkNumber('uploadIntervalSeconds', options.uploadIntervalSeconds, 0.05, 3600);
  checkNumber('maxInFlight', options.maxInFlight, 1, SIMULATOR_LIMITS.maxInFlight);
  checkNumber('maxQueuePerDevice', options.maxQueuePerDevice, 1, SIMULATOR_LIMITS.maxQueuePerDevice);
  checkNumber('retries', options.retries, 0, SIMULATOR_LIMITS.retries);
  checkNumber('requestTimeoutMs', options.requestTimeoutMs, 100, 600_000);
  checkNumber('progressIntervalMs', options.progressIntervalMs, 10, 3_600_000);
  const maxBatch = protocol === 'rushroster' ? SIMULATOR_LIMITS.rushRosterBatch : SIMULATOR_LIMITS.nativeBatch;
  checkNumber('batchSize', options.batchSize, 1, maxBatch);
  if (options.timezone) new WallClock(options.timezone);
  for (const device of devices) {
    if (typeof device.key !== 'string' || device.key.length === 0 || device.key.length > 200) throw new SimulatorError('every device needs its key');
    if (device.timezone) new WallClock(device.timezone);
    if (protocol === 'polosanca' && !device.serial) {
      throw new SimulatorError(`device ${device.name ?? device.key.slice(0, 12)} has no serial, which the Polo Sanca API needs (or use the native protocol)`);
    }
  }
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new SimulatorError(`not a URL: ${options.baseUrl}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new SimulatorError(`the URL must be http or https: ${options.baseUrl}`);
  const baseUrl = base.toString().replace(/\/+$/, '');

  const doFetch = options.fetch ?? globalThis.fetch;
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const batchSize = protocol === 'polosanca' ? 1 : options.batchSize ?? (protocol === 'rushroster' ? 100 : 500);
  const uploadIntervalMs = (options.uploadIntervalSeconds ?? 5) * 1000;
  const maxInFlight = options.maxInFlight ?? 16;
  const maxQueue = options.maxQueuePerDevice ?? 10_000;
  const retries = options.retries ?? 5;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const progressMs = options.progressIntervalMs ?? 5_000;
  const stopGraceMs = options.stopGraceMs ?? 5_000;
  const userAgent = protocol === 'rushroster' ? 'python-requests/2.31.0' : 'vigil-simulator/1';

  // Stopping: `stop` ends generation and retry waits; `hard` cancels requests still in flight after the grace period.
  const stop = new AbortController();
  const hard = new AbortController();
  // Each device's retry wait listens to `stop`, each request in flight to `hard`.
  setMaxListeners(devices.length + maxInFlight + 10, stop.signal, hard.signal);
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const semaphore = new Semaphore(maxInFlight);
  const stats: SimulatorStats = {
    seed, elapsedSeconds: 0, generated: 0, sent: 0, accepted: 0, duplicates: 0, rejected: 0, errors: 0, failedItems: 0,
    retries: 0, dropped: 0, requests: 0, inFlight: 0, queued: 0, rate: 0, averageRate: 0, lastError: null, lastRejection: null, done: false,
  };

  const post = (key: string, path: string, body: string) =>
    withDeadline(hard.signal, timeoutMs, async (signal) => {
      const response = await doFetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent, 'x-api-key': key },
        body,
        signal,
      });
      // Reading the body to its end lets the connection go back to the keep-alive pool.
      const text = await readBounded(response);
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: response.status, json, retryAfter: response.headers.get('retry-after') };
    });

  // Radars that do not know their limit ask the server, as the device's own configuration would tell it.
  if (options.kind === 'speed_radar') {
    const unknown = devices.filter((d) => d.speedLimit == null);
    for (let i = 0; i < unknown.length && !stop.signal.aborted; i += maxInFlight) {
      await Promise.all(unknown.slice(i, i + maxInFlight).map(async (device) => {
        device.speedLimit = await discoverSpeedLimit(doFetch, baseUrl, device, timeoutMs, hard.signal);
      }));
    }
  }

  const startMs = Date.now();
  const sources = createSources({ kind: options.kind, devices, rate: options.rate, seed, startMs, flat: options.flat, timezone: options.timezone });
  const lanes: Lane[] = devices.map((device, index) => ({
    index,
    device,
    source: sources[index]!,
    queue: [],
    busy: null,
    // Devices do not upload in lock-step.
    nextUploadMs: startMs + ((deriveSeed(seed, 'phase', index) % 1000) / 1000) * uploadIntervalMs,
  }));

  const outcomeOf = (status: number, json: unknown, items: number): Outcome | null => {
    const body = (json ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    if (protocol === 'polosanca') {
      if (status >= 200 && status < 300) return { accepted: items, duplicates: 0, rejected: 0 };
      if (status === 400) return { accepted: 0, duplicates: 0, rejected: items, rejection: `HTTP 400${describe(json)}` };
      return null;
    }
    if (status < 200 || status >= 300) return null;
    const list = Array.isArray(body.rejected) ? (body.rejected as unknown[]) : [];
    const rejection = list.length > 0 ? JSON.stringify(list[0]).slice(0, 300) : undefined;
    if (protocol === 'rushroster') return { accepted: num(body.processed), duplicates: num(body.duplicates_skipped), rejected: list.length, rejection };
    return { accepted: num(body.accepted), duplicates: num(body.duplicates), rejected: list.length, rejection };
  };

  const request = (items: Item[], device: SimulatedDevice): { path: string; body: string } => {
    if (protocol === 'rushroster') return { path: '/api/ingest/v1/events', body: rushRosterBody((items as Car[]).map((car) => rushRosterEvent(car))) };
    if (protocol === 'polosanca') {
      const { values } = items[0] as Reading;
      return { path: '/v1/equipments/telemetry', body: JSON.stringify({ serial: device.serial, ...values }) };
    }
    if (options.kind === 'speed_radar') {
      const events = (items as Car[]).map((car) => ({
        ts: car.timestamp, kind: 'speed', speed: car.speed, speed_limit: car.speedLimit, client_ref: `rr:${car.timestamp}|${car.speed}`, attributes: { has_photo: false },
      }));
      return { path: '/api/v1/ingest/events', body: JSON.stringify({ events }) };
    }
    const readings = (items as Reading[]).map((r) => ({ ts: new Date(r.ms).toISOString(), values: r.values }));
    return { path: '/api/v1/ingest/telemetry', body: JSON.stringify({ items: readings }) };
  };

  /** Sends one batch, retrying 429 (after Retry-After), 5xx and network failures; other answers are final. */
  const send = async (lane: Lane, items: Item[]): Promise<void> => {
    const { path, body } = request(items, lane.device);
    stats.sent += items.length;
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let json: unknown = null;
      let retryAfter: string | null = null;
      let failure: string | null = null;
      await semaphore.acquire();
      stats.inFlight += 1;
      stats.requests += 1;
      try {
        ({ status, json, retryAfter } = await post(lane.device.key, path, body));
      } catch (error) {
        failure = hard.signal.aborted ? 'stopped' : failureReason(error);
      } finally {
        stats.inFlight -= 1;
        semaphore.release();
      }
      const outcome = failure === null ? outcomeOf(status, json, items.length) : null;
      if (outcome) {
        stats.accepted += outcome.accepted;
        stats.duplicates += outcome.duplicates;
        stats.rejected += outcome.rejected;
        if (outcome.rejection) stats.lastRejection = `${lane.device.name ?? `device ${lane.index + 1}`}: ${outcome.rejection}`;
        return;
      }
      // Polo Sanca's 409 means two readings got the same server time stamp: Vigil asks to send it again.
      const retryable = failure !== null || status === 429 || status >= 500 || (protocol === 'polosanca' && status === 409);
      const reason = failure ?? `HTTP ${status}${describe(json)}`;
      if (!retryable || attempt >= retries || stop.signal.aborted) {
        stats.errors += 1;
        stats.failedItems += items.length;
        stats.lastError = `${lane.device.name ?? `device ${lane.index + 1}`}: ${reason}`;
        return;
      }
      stats.retries += 1;
      // At least what the server asked for, plus jitter so that shed devices do not all return at the same instant.
      const base = status === 429 || status === 503 ? retryAfterMs(retryAfter, attempt) : Math.min(1000 * 2 ** attempt, 30_000);
      const wait = base + Math.random() * Math.min(1000, 250 + base / 2);
      if (!(await sleep(wait, stop.signal))) {
        stats.errors += 1;
        stats.failedItems += items.length;
        stats.lastError = `${lane.device.name ?? `device ${lane.index + 1}`}: ${reason} (stopped while waiting to retry)`;
        return;
      }
    }
  };

  const drain = (lane: Lane): void => {
    if (lane.busy || lane.queue.length === 0) return;
    lane.busy = (async () => {
      while (lane.queue.length > 0 && !stop.signal.aborted) {
        const items = lane.queue.splice(0, batchSize);
        await send(lane, items);
      }
    })().finally(() => {
      lane.busy = null;
    });
  };

  const collect = (lane: Lane, until: number): void => {
    const items = lane.source.takeUntil(until, maxQueue);
    stats.generated += items.length;
    for (const item of items) lane.queue.push(item);
    if (lane.queue.length > maxQueue) {
      const excess = lane.queue.length - maxQueue;
      lane.queue.splice(0, excess);
      stats.dropped += excess;
    }
  };

  let lastReportAt = startMs;
  let acceptedAtLastReport = 0;
  const report = (done: boolean): SimulatorStats => {
    const now = Date.now();
    stats.elapsedSeconds = (now - startMs) / 1000;
    stats.queued = lanes.reduce((n, lane) => n + lane.queue.length, 0);
    stats.rate = now > lastReportAt ? ((stats.accepted - acceptedAtLastReport) * 1000) / (now - lastReportAt) : 0;
    stats.averageRate = stats.elapsedSeconds > 0 ? stats.accepted / stats.elapsedSeconds : 0;
    stats.done = done;
    lastReportAt = now;
    acceptedAtLastReport = stats.accepted;
    const snapshot = { ...stats };
    try {
      options.onProgress?.(snapshot);
    } catch {
      // a broken progress callback must not stop the devices
    }
    return snapshot;
  };

  const endMs = options.durationSeconds === undefined ? Number.POSITIVE_INFINITY : startMs + options.durationSeconds * 1000;
  const tickMs = Math.max(20, Math.min(100, uploadIntervalMs / 4));
  let nextReportAt = startMs + progressMs;
  // After an abort, requests in flight get a grace period to finish; then they are cancelled.
  let grace: NodeJS.Timeout | undefined;
  const startGrace = () => {
    grace = setTimeout(() => hard.abort(), stopGraceMs);
  };
  if (stop.signal.aborted) startGrace();
  else stop.signal.addEventListener('abort', startGrace, { once: true });
  const settled = () => Promise.all(lanes.map((lane) => lane.busy));
  try {
    while (!stop.signal.aborted) {
      const now = Date.now();
      if (now >= endMs) break;
      for (const lane of lanes) {
        // Polo Sanca units post each reading when it is taken; batching devices upload at their interval.
        if (protocol !== 'polosanca') {
          if (now < lane.nextUploadMs) continue;
          lane.nextUploadMs += uploadIntervalMs;
          if (lane.nextUploadMs <= now) lane.nextUploadMs = now + uploadIntervalMs;
        }
        collect(lane, now);
        drain(lane);
      }
      if (now >= nextReportAt) {
        report(false);
        nextReportAt = now + progressMs;
      }
      await sleep(Math.min(tickMs, Math.max(1, endMs - Date.now())), stop.signal);
    }
    if (!stop.signal.aborted) {
      // The run's time is up: like a device's last upload, send what was measured until the end.
      await settled();
      for (const lane of lanes) {
        collect(lane, endMs);
        drain(lane);
      }
    }
    await settled();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.signal.removeEventListener('abort', startGrace);
    clearTimeout(grace);
    hard.abort();
  }
  return report(true);
}

function failureReason(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause ? ` (${err.cause.code ?? err.cause.message})` : '';
  return `${err.message ?? String(error)}${cause}`;
}

function describe(json: unknown): string {
  if (!json || typeof json !== 'object') return '';
  const body = json as { detail?: unknown; error?: { message?: unknown } };
  const message = body.error?.message ?? body.detail;
  if (message === undefined) return '';
  return `: ${typeof message === 'string' ? message : JSON.stringify(message)}`.slice(0, 300);
}

async function discoverSpeedLimit(doFetch: typeof fetch, baseUrl: string, device: SimulatedDevice, timeoutMs: number, parent: AbortSignal): Promise<number> {
  let answer: { status: number; text: string };
  try {
    answer = await withDeadline(parent, timeoutMs, async (signal) => {
      const response = await doFetch(`${baseUrl}/api/ingest/v1/device/info`, {
        headers: { 'x-api-key': device.key, 'user-agent': 'python-requests/2.31.0' },
        signal,
      });
      return { status: response.status, text: await readBounded(response) };
    });
  } catch (error) {
    throw new SimulatorError(`cannot reach ${baseUrl}: ${(error as Error).message}`);
  }
  if (answer.status === 401 || answer.status === 422) {
    throw new SimulatorError(`the server refused the key of ${device.name ?? `${device.key.slice(0, 16)}…`} (HTTP ${answer.status})`);
  }
  try {
    const limit = (JSON.parse(answer.text) as { speed_limit?: unknown }).speed_limit;
    if (typeof limit === 'number' && limit > 0 && limit < 300) return limit;
  } catch {
    // fall through to the default
  }
  return 30;
}

export { SimulatorError };
