import type { DevicePrincipal } from '../core/access.js';
import type { Config } from '../core/config.js';
import type { AppContext } from '../core/context.js';
import { isUniqueViolation } from '../core/db/database.js';
import { isDataException, isRowError, isTransientConflict } from '../core/db/errors.js';
import { AppError, tooManyRequests } from '../core/http/errors.js';
import { isRejection, parseEventItem, parseTelemetryItem, type EventItem, type Rejection, type TelemetryItem } from './items.js';
import { receiveClock, stampMissingTimes } from './receive-clock.js';
import { WriteCoalescer } from './coalescer.js';
import { TelemetryRefusals, withoutReasons } from './refusals.js';
import type { IngestObserver, StoredTelemetry } from './observers.js';
import * as store from './store.js';

export interface EventsResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
  /** One entry per stored or already-stored item, in request order. */
  events: { index: number; id: string; duplicate: boolean }[];
}

export interface TelemetryResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
  values: number;
}

/** The largest ingest body, over HTTP or MQTT: a full batch is larger than ordinary API bodies. */
export function ingestBodyLimitBytes(config: Config): number {
  return Math.max(config.bodyLimitBytes, config.ingestMaxBatch * 2048);
}

// Telemetry rows written by one statement at most, and statements running at once: while they run,
// newly arriving batches queue and are written together when one finishes.
const TELEMETRY_ROWS_PER_STATEMENT = 10_000;
const TELEMETRY_STATEMENTS_AT_ONCE = 4;

// The same for events (4 measured best against 2 and 8 with 8 HTTP clients).
const EVENT_ROWS_PER_STATEMENT = 5_000;
const EVENT_STATEMENTS_AT_ONCE = 4;

// Items of one batch published in full on the live stream; beyond that only the count goes out.
const LIVE_ITEMS = 100;

// Months before the current one that get a partition of their own on demand: half a year, so that a
// device back from a season offline fills months that retention drops whole. Older rows (restores,
// back-fills) go to the DEFAULT partition, so old timestamps cannot add tables (docs/retention.md).
const RECENT_MONTHS = 6;

/**
 * The write path for device data: validate each item, write the valid ones in one statement per
 * batch (rollups included), answer only after commit, then publish what was stored.
 */
export class IngestService {
  private readonly partitions = new Set<string>();
  /** Per table, the month (ms) before which rows go to the DEFAULT partition and no month is created. */
  private readonly defaultBounds = new Map<store.PartitionedTable, number>();
  private pendingItems = 0;
  /** Telemetry of concurrent batches (HTTP requests, MQTT messages, any device) written in shared statements. */
  private readonly telemetryWriter = new WriteCoalescer<store.DeviceReading, DevicePrincipal>(
    (rows) => this.intoPartitions('telemetry', rows.map((r) => r.ts), (resent) => store.insertTelemetry(this.ctx.db, rows, resent)),
    (row) => `${row.deviceId}|${row.metric}|${row.ts.getTime()}`,
    TELEMETRY_ROWS_PER_STATEMENT,
    TELEMETRY_STATEMENTS_AT_ONCE,
    (parts) => this.telemetryCommitted(parts),
    isRowError,
  );
  /** Events of concurrent batches (HTTP requests, MQTT messages, any device) written in shared statements. */
  private readonly eventWriter = new WriteCoalescer<store.DeviceEvent, undefined>(
    (rows) => this.intoPartitions('events', rows.map((r) => r.item.ts), (resent) => store.insertEvents(this.ctx.db, rows, resent)),
    (row) => store.eventKey(row.device.deviceId, row.item.ts, row.item.clientRef),
    EVENT_ROWS_PER_STATEMENT,
    EVENT_STATEMENTS_AT_ONCE,
    undefined,
    isRowError,
  );
  private readonly observers: IngestObserver[] = [];
  private readonly refusals: TelemetryRefusals;

  constructor(private readonly ctx: AppContext) {
    this.refusals = new TelemetryRefusals(ctx.metrics.registry);
  }

  /** Registers a reaction to committed data; observers run in registration order after each commit (telemetry: once per statement and device). */
  observe(observer: IngestObserver): void {
    this.observers.push(observer);
  }

  private async notify(call: (observer: IngestObserver) => Promise<void> | undefined): Promise<void> {
    for (const observer of this.observers) {
      try {
        await call(observer);
      } catch (error) {
        this.ctx.logger.error({ err: error }, 'ingest observer failed');
      }
    }
  }

  /**
   * A shared statement's readings are announced on the live stream and shown to observers once per
   * device (an MQTT device with twenty messages in flight is evaluated once, not twenty times);
   * devices are handled side by side.
   */
  private async telemetryCommitted(parts: { context: DevicePrincipal; stored: store.DeviceReading[] }[]): Promise<void> {
    const byDevice = new Map<string, StoredTelemetry>();
    for (const { context: device, stored } of parts) {
      if (stored.length === 0) continue;
      const batch = byDevice.get(device.deviceId);
      if (batch) batch.readings.push(...stored);
      else byDevice.set(device.deviceId, { device, readings: [...stored] });
    }
    await Promise.all([...byDevice.values()].map(async (batch) => {
      await this.publishTelemetry(batch);
      await this.notify((o) => o.telemetryStored?.(batch));
    }));
  }

  /** One live message per device and statement: how many readings and times were stored, and the latest values. */
  private async publishTelemetry({ device, readings }: StoredTelemetry): Promise<void> {
    let latest = -Infinity;
    const times = new Set<number>();
    for (const reading of readings) {
      const at = reading.ts.getTime();
      times.add(at);
      if (at > latest) latest = at;
    }
    await this.ctx.bus.publish({
      type: 'telemetry.ingested',
      orgId: device.orgId,
      siteId: device.siteId,
      data: {
        deviceId: device.deviceId,
        items: times.size,
        values: readings.length,
        latest: { ts: new Date(latest).toISOString(), values: Object.fromEntries(readings.filter((r) => r.ts.getTime() === latest).map((r) => [r.metric, r.value])) },
      },
    });
  }

  /**
   * Moves the DEFAULT partition's bound on to the oldest recent month, then creates this month's and
   * the next two months' partitions (and learns which exist).
   */
  async preparePartitions(now = new Date()): Promise<void> {
    for (const table of ['events', 'telemetry'] as const) {
      const oldestRecent = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - RECENT_MONTHS, 1));
      this.defaultBounds.set(table, (await store.raiseDefaultPartitionBound(this.ctx.db, table, oldestRecent)).getTime());
      for (const name of await store.existingPartitions(this.ctx.db, table)) this.partitions.add(name);
      for (let ahead = 0; ahead < 3; ahead++) {
        await this.ensurePartition(table, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1)));
      }
    }
  }

  private async ensurePartition(table: store.PartitionedTable, date: Date): Promise<void> {
    const name = store.partitionName(table, date);
    if (this.partitions.has(name)) return;
    // Refused when the DEFAULT partition holds rows of the month already: its rows keep going there.
    await store.createPartition(this.ctx.db, table, date);
    this.partitions.add(name);
  }

  /** The partitions of the dates' months, for months from the DEFAULT partition's bound on; older rows go to the DEFAULT partition. */
  private async ensurePartitionsFor(table: store.PartitionedTable, dates: Date[]): Promise<void> {
    const bound = this.defaultBounds.get(table) ?? -Infinity;
    const months = new Map<string, Date>();
    // A batch's dates are nearly all of one month: a date within the month last seen is not looked at again.
    let monthStart = Infinity;
    let monthEnd = -Infinity;
    for (const date of dates) {
      const ms = date.getTime();
      if ((ms >= monthStart && ms < monthEnd) || ms < bound) continue;
      monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
      monthEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
      months.set(store.partitionName(table, date), date);
    }
    for (const date of months.values()) await this.ensurePartition(table, date);
  }

  /**
   * Writes after making sure the months' partitions exist. A batch is first written as all new (a
   * plain insert); if some of it was stored before (a unique violation), it is written again skipping
   * what exists. Another process may have dropped a partition this one remembers (retention), or moved
   * the DEFAULT partition's bound on: the row then fits no partition (the DEFAULT one refuses it), the
   * names and the bound are re-read and the write retried once. Deadlocks are retried.
   */
  private async intoPartitions<T>(table: store.PartitionedTable, dates: Date[], write: (resent: boolean) => Promise<T>): Promise<T> {
    await this.ensurePartitionsFor(table, dates);
    let resent = false;
    let partitionsReread = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write(resent);
      } catch (error) {
        if (isUniqueViolation(error) && !resent) {
          resent = true;
        } else if (isMissingPartition(error) && !partitionsReread) {
          partitionsReread = true;
          this.partitions.clear();
          for (const name of await store.existingPartitions(this.ctx.db, table)) this.partitions.add(name);
          this.defaultBounds.set(table, (await store.defaultPartitionBound(this.ctx.db, table)).getTime());
          await this.ensurePartitionsFor(table, dates);
        } else if (!(isTransientConflict(error) && attempt < 5)) {
          throw error;
        }
      }
    }
  }

  /**
   * Items older than INGEST_MAX_AGE_DAYS are refused, and so are items older than the platform's
   * retention, which would be dropped within the hour: each with the bound that refused it.
   */
  private retainable<T extends { index: number; ts: Date }>(items: T[], rejected: Rejection[], now: number): T[] {
    const { retentionDays, ingestMaxAgeDays } = this.ctx.config;
    const byRetention = retentionDays !== undefined && retentionDays < ingestMaxAgeDays;
    const days = byRetention ? retentionDays : ingestMaxAgeDays;
    const message = byRetention ? `is older than this server keeps data (${days} days)` : `is more than ${days} days old`;
    const cutoff = now - days * 86_400_000;
    return items.filter((item) => {
      if (item.ts.getTime() >= cutoff) return true;
      rejected.push({ index: item.index, errors: [{ field: 'ts', message }] });
      return false;
    });
  }

  /**
   * Sheds load instead of queueing without bound: a device retries after Retry-After. One batch is
   * always admitted when nothing is pending, however large, so that no batch is refused forever.
   */
  private async guarded<T>(items: number, work: () => Promise<T>): Promise<T> {
    if (this.pendingItems > 0 && this.pendingItems + items > this.ctx.config.ingestMaxPendingItems) throw tooManyRequests(1, 2);
    this.pendingItems += items;
    try {
      return await work();
    } finally {
      this.pendingItems -= items;
    }
  }

  checkBatchSize(count: number): void {
    if (count === 0) throw new AppError(400, 'empty_batch', 'the batch has no items');
    const max = this.ctx.config.ingestMaxBatch;
    if (count > max) throw new AppError(413, 'batch_too_large', `a batch holds at most ${max} items; this one has ${count}: split it`);
  }

  async ingestEvents(device: DevicePrincipal, rawItems: unknown[]): Promise<EventsResult> {
    this.checkBatchSize(rawItems.length);
    const now = Date.now();
    const parsed = rawItems.map((raw, index) => parseEventItem(raw, index, { zone: device.timezone, speedLimit: device.speedLimit }, now));
    const valid = parsed.filter((p): p is EventItem => !isRejection(p));
    const rejected = parsed.filter(isRejection);
    const stored = await this.storeEvents(device, valid);
    return {
      accepted: stored.accepted,
      duplicates: stored.events.length - stored.accepted,
      rejected: [...rejected, ...stored.rejected].sort((a, b) => a.index - b.index),
      events: stored.events.map(({ index, id, duplicate }) => ({ index, id, duplicate })),
    };
  }

  /**
   * Writes validated events (any API's): one statement for the batch and its rollups, then the ids
   * of items already stored before. A key repeated inside the batch is rejected after its first use.
   */
  async storeEvents(device: DevicePrincipal, items: EventItem[]) {
    // Each item's identity, computed once: the batch's hot path would otherwise format every timestamp several times.
    const rejected: Rejection[] = [];
    const byKey = new Map<string, EventItem>();
    for (const item of this.retainable(items, rejected, Date.now())) {
      const key = store.eventKey(device.deviceId, item.ts, item.clientRef);
      const first = byKey.get(key);
      if (first) rejected.push({ index: item.index, errors: [{ field: 'client_ref', message: `repeats item ${first.index} of this batch` }] });
      else byKey.set(key, item);
    }
    if (byKey.size === 0) return { accepted: 0, rejected, events: [] };

    return this.guarded(byKey.size, async () => {
      const ref = { orgId: device.orgId, deviceId: device.deviceId, siteId: device.siteId };
      const rows: store.DeviceEvent[] = [...byKey.values()].map((item) => ({ device: ref, item }));
      const stored = new Set(await this.eventWriter.submit(rows, undefined).catch(refusedData));
      const ids = new Map<string, { id: string; duplicate: boolean; photoKey: string | null }>();
      const missing: EventItem[] = [];
      for (const row of rows) {
        if (stored.has(row)) ids.set(store.eventKey(device.deviceId, row.item.ts, row.item.clientRef), { id: String(row.id), duplicate: false, photoKey: null });
        else missing.push(row.item);
      }
      if (missing.length > 0) {
        for (const row of await store.findEventIds(this.ctx.db, device.deviceId, missing)) {
          ids.set(store.eventKey(device.deviceId, row.ts, row.client_ref), { id: String(row.id), duplicate: true, photoKey: row.photo_key });
        }
      }
      const events = [...byKey].map(([key, item]) => ({ index: item.index, item, ...ids.get(key)! }));
      const fresh = events.filter((e) => !e.duplicate);
      if (fresh.length > 0) {
        await this.publishEvents(device, fresh);
        await this.notify((o) => o.eventsStored?.({ device, events: fresh }));
      }
      return { accepted: fresh.length, rejected, events };
    });
  }

  /**
   * Telemetry items: numbers (and booleans as 0/1) go to the numeric series, strings, JSON and booleans
   * as sent to telemetry_values. A key refused on its own is reported under its item's index while the
   * item's other keys are stored. Items without `ts` get this device's next receive times.
   */
  async ingestTelemetry(device: DevicePrincipal, rawItems: unknown[]): Promise<TelemetryResult> {
    this.checkBatchSize(rawItems.length);
    const now = Date.now();
    const valid: TelemetryItem[] = [];
    const rejected: Rejection[] = [];
    stampMissingTimes(rawItems, (count) => receiveClock.reserve(device.deviceId, count, now)).forEach((raw, index) => {
      const parsed = parseTelemetryItem(raw, index, device.timezone, now);
      if (isRejection(parsed)) rejected.push(parsed);
      else valid.push(parsed);
      this.refusals.count(parsed);
    });
    const retained = this.retainable(valid, rejected, now);
    this.refusals.tooOld(valid.length - retained.length);
    for (const item of retained) if (item.refused.length > 0) rejected.push(withoutReasons({ index: item.index, errors: item.refused }));
    rejected.sort((a, b) => a.index - b.index);
    if (retained.length === 0) return { accepted: 0, duplicates: 0, rejected: rejected.map(withoutReasons), values: 0 };

    const { orgId, deviceId } = device;
    const readings: store.DeviceReading[] = [];
    const typed: store.DeviceTypedValue[] = [];
    for (const { ts, values, typed: typedValues } of retained) {
      for (const [metric, value] of values) readings.push({ orgId, deviceId, ts, metric, value });
      for (const [key, value] of typedValues) typed.push({ orgId, deviceId, ts, key, value });
    }
    return this.guarded(readings.length + typed.length, () => this.storeTelemetry(device, retained, readings, typed, rejected.map(withoutReasons)));
  }

  private async storeTelemetry(
    device: DevicePrincipal, retained: TelemetryItem[], readings: store.DeviceReading[], typed: store.DeviceTypedValue[], rejected: Rejection[],
  ): Promise<TelemetryResult> {
    let stored: store.DeviceReading[] = [];
    let storedTyped = new Set<string>();
    try {
      if (readings.length > 0) stored = await this.telemetryWriter.submit(readings, device);
      if (typed.length > 0) storedTyped = await store.insertTelemetryValues(this.ctx.db, typed);
    } catch (error) {
      refusedData(error);
    }
    if (storedTyped.size > 0) {
      const values = storedTyped.size === typed.length ? typed : typed.filter((v) => storedTyped.has(`${v.key}|${v.ts.getTime()}`));
      await this.notify((o) => o.valuesStored?.({ device, values, readingsStored: stored.length > 0 }));
    }
    // The common case, everything new, without a key per value (the hot path of MQTT ingest).
    if (stored.length === readings.length && storedTyped.size === typed.length) {
      return { rejected, accepted: retained.length, duplicates: 0, values: readings.length + typed.length };
    }
    const storedKeys = new Set([...stored.map((r) => `${r.metric}|${r.ts.getTime()}`), ...storedTyped]);
    const fresh = retained.filter((item) => [...item.values, ...item.typed].some(([key]) => storedKeys.has(`${key}|${item.ts.getTime()}`)));
    return { rejected, accepted: fresh.length, duplicates: retained.length - fresh.length, values: storedKeys.size };
  }

  private async publishEvents(device: DevicePrincipal, fresh: { id: string; item: EventItem }[]): Promise<void> {
    await this.ctx.bus.publish({
      type: 'events.ingested',
      orgId: device.orgId,
      siteId: device.siteId,
      data: {
        deviceId: device.deviceId,
        count: fresh.length,
        events: fresh.slice(-LIVE_ITEMS).map(({ id, item }) => ({
          id,
          ts: item.ts.toISOString(),
          kind: item.kind,
          speed: item.speed,
          speedLimit: item.speedLimit,
          severity: item.severity,
        })),
      },
    });
  }
}

/**
 * The database refused a value of this caller's batch (the coalescer has already kept it from failing
 * anyone else's): the device is told so, 422, instead of an internal error, and would not help itself
 * by resending the same batch.
 */
function refusedData(error: unknown): never {
  if (!isDataException(error)) throw error;
  throw new AppError(422, 'unstorable_value', `the database refused a value of this batch (${(error as Error).message}); nothing of it was stored`);
}

/**
 * PostgreSQL's answer to a row whose partition does not exist (23514): "no partition of relation … found
 * for row", or the DEFAULT partition's bound refusing a row of a month that should have its own.
 */
function isMissingPartition(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23514' && /no partition|_default_before_/.test(e.message ?? '');
}
