import { setMaxListeners } from 'node:events';
import { randomInt } from 'node:crypto';
import { WallClock } from './clock.js';
import type { Reading } from './fridge-model.js';
import { MqttLinks, type Delivery } from './mqtt-client.js';
import { readBounded, retryAfterMs, Semaphore, sleep, withDeadline, describe, failureReason } from './http-client.js';
import { rushRosterBody, rushRosterEvent, type Car } from './radar-model.js';
import { takesPhoto, uploadRadarPhoto } from './radar-photos.js';
import { deriveSeed } from './random.js';
import { checkNumber, protocolOf, SIMULATOR_LIMITS, type SimulatedDevice, type SimulatorOptions, type SimulatorStats } from './options.js';
import { createSources, SimulatorError, type Item, type Source } from './sources.js';

/**
 * Drives simulated field devices against a running Vigil through the real device HTTP APIs, exactly
 * as the devices speak them: RushRoster radars upload batches to `POST /api/ingest/v1/events`, Polo
 * Sanca units post one reading per request to `POST /v1/equipments/telemetry`, or either uses the native
 * batch API (`/api/v1/ingest/events`, `/api/v1/ingest/telemetry`), or either publishes batches at QoS 1
 * to Vigil's MQTT broker (`v1/devices/me/events`, `v1/devices/me/telemetry`). Requests go through `fetch`
 * (undici, connections kept alive); every queue, wait and concurrency is bounded.
 */

interface Outcome {
  accepted: number;
  duplicates: number;
  rejected: number;
  rejection?: string;
}

interface Lane {
  index: number;
  device: SimulatedDevice;
  source: Source;
  queue: Item[];
  busy: Promise<void> | null;
  nextUploadMs: number;
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
  const mqttUrl = protocol === 'mqtt' ? mqttUrlOf(options) : undefined;

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
    retries: 0, dropped: 0, requests: 0, inFlight: 0, queued: 0, rate: 0, averageRate: 0, lastError: null, lastRejection: null, photos: 0, photoFailures: 0, done: false,
  };

  const mqttLinks = mqttUrl ? new MqttLinks(mqttUrl, timeoutMs) : undefined;
  const post = (key: string, path: string, body: string): Promise<Delivery> =>
    withDeadline(hard.signal, timeoutMs, async (signal) => {
      if (mqttLinks) return mqttLinks.publish(key, path, body, signal);
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
    // A PUBACK says the message was committed; what Vigil refused in it is reported on the errors topic.
    if (protocol === 'mqtt') return { accepted: items, duplicates: 0, rejected: 0 };
    return { accepted: num(body.accepted), duplicates: num(body.duplicates), rejected: list.length, rejection };
  };

  const request = (items: Item[], device: SimulatedDevice): { path: string; body: string } => {
    if (protocol === 'rushroster') return { path: '/api/ingest/v1/events', body: rushRosterBody((items as Car[]).map((car) => rushRosterEvent(car, takesPhoto(car)))) };
    if (protocol === 'polosanca') {
      const { values } = items[0] as Reading;
      return { path: '/v1/equipments/telemetry', body: JSON.stringify({ serial: device.serial, ...values }) };
    }
    if (options.kind === 'speed_radar') {
      const events = (items as Car[]).map((car) => ({
        ts: car.timestamp, kind: 'speed', speed: car.speed, speed_limit: car.speedLimit, client_ref: `rr:${car.timestamp}|${car.speed}`, attributes: { has_photo: false },
      }));
      return protocol === 'mqtt' ? { path: 'v1/devices/me/events', body: JSON.stringify(events) } : { path: '/api/v1/ingest/events', body: JSON.stringify({ events }) };
    }
    const readings = (items as Reading[]).map((r) => ({ ts: new Date(r.ms).toISOString(), values: r.values }));
    return protocol === 'mqtt' ? { path: 'v1/devices/me/telemetry', body: JSON.stringify(readings) } : { path: '/api/v1/ingest/telemetry', body: JSON.stringify({ items: readings }) };
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
        if (protocol === 'rushroster') await sendPhotos(lane, items as Car[], json);
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
      const base = status === 429 || status === 503 ? retryAfterMs(retryAfter, attempt, SIMULATOR_LIMITS.retryAfterCapSeconds * 1000) : Math.min(1000 * 2 ** attempt, 30_000);
      const wait = base + Math.random() * Math.min(1000, 250 + base / 2);
      if (!(await sleep(wait, stop.signal))) {
        stats.errors += 1;
        stats.failedItems += items.length;
        stats.lastError = `${lane.device.name ?? `device ${lane.index + 1}`}: ${reason} (stopped while waiting to retry)`;
        return;
      }
    }
  };

  /** The photo steps for the stored events the server lists with has_photo, one after another as a device does. */
  const sendPhotos = async (lane: Lane, cars: Car[], json: unknown): Promise<void> => {
    const created = ((json as { created_events?: { event_id: string; timestamp: string; speed: number; has_photo: boolean }[] } | null)?.created_events ?? [])
      .filter((e) => e.has_photo);
    const byIdentity = new Map(cars.map((car) => [`${car.timestamp}|${car.speed}`, car]));
    for (const event of created) {
      const car = byIdentity.get(`${event.timestamp}|${event.speed}`);
      if (!car || stop.signal.aborted) continue;
      const failure = await uploadRadarPhoto(doFetch, baseUrl, lane.device.key, event.event_id, car, hard.signal, timeoutMs, userAgent)
        .catch((error: unknown) => failureReason(error));
      if (failure === null) stats.photos += 1;
      else {
        stats.photoFailures += 1;
        stats.lastError = `${lane.device.name ?? `device ${lane.index + 1}`}: ${failure}`;
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
    await mqttLinks?.close();
  }
  return report(true);
}

function mqttUrlOf(options: SimulatorOptions): string {
  if (!options.mqttUrl) throw new SimulatorError('the mqtt protocol needs the broker URL (--mqtt-url, e.g. mqtt://localhost:1883)');
  let url: URL;
  try {
    url = new URL(options.mqttUrl);
  } catch {
    throw new SimulatorError(`not a URL: ${options.mqttUrl}`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(url.protocol)) throw new SimulatorError(`the broker URL must be mqtt, mqtts, ws or wss: ${options.mqttUrl}`);
  return options.mqttUrl;
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

export { generateItems, SimulatorError } from './sources.js';
export type { SimulatedDevice, SimulatorStats } from './options.js';
