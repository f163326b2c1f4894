import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { invalidFields } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import type { DevicesService } from '../devices/service.js';
import type { RollupsService } from '../rollups/service.js';
import * as store from './store.js';

export const BUCKETS = { raw: 0, '1m': 60, '5m': 300, '1h': 3600, '1d': 86_400 } as const;
export type BucketName = keyof typeof BUCKETS;
const MAX_RAW_VALUES = 10_000;
const MAX_BUCKETS = 5_000;

export class TelemetryService {
  constructor(
    private readonly ctx: AppContext,
    private readonly devices: DevicesService,
    private readonly rollups: RollupsService,
  ) {}

  /**
   * A device's telemetry over a range: raw values, or min/avg/max per bucket per metric. Buckets of an
   * hour or more are read from the hourly rollups; buckets are aligned to UTC.
   */
  async query(scope: Scope, deviceId: string, input: { from?: string; to?: string; bucket?: BucketName; metrics?: string }) {
    await this.devices.get(scope, deviceId);
    const to = input.to ? new Date(input.to) : new Date();
    const from = input.from ? new Date(input.from) : new Date(to.getTime() - 24 * 3_600_000);
    if (from >= to) throw invalidFields([{ field: 'from', message: 'must be before "to"' }]);
    const bucket = input.bucket ?? 'raw';
    const metrics = input.metrics ? input.metrics.split(',').map((m) => m.trim()).filter(Boolean) : undefined;
    const query = { deviceId, from, to, metrics };
    if (bucket === 'raw') {
      const values = await store.rawTelemetry(this.ctx.db, query, MAX_RAW_VALUES + 1);
      return {
        bucket,
        from: from.toISOString(),
        to: to.toISOString(),
        truncated: values.length > MAX_RAW_VALUES,
        values: values.slice(0, MAX_RAW_VALUES).map((v) => ({ ts: v.ts.toISOString(), metric: v.metric, value: v.value })),
      };
    }
    const seconds = BUCKETS[bucket];
    if ((to.getTime() - from.getTime()) / 1000 / seconds > MAX_BUCKETS) {
      throw invalidFields([{ field: 'bucket', message: `this range has more than ${MAX_BUCKETS} ${bucket} buckets: use a larger bucket` }]);
    }
    if (seconds >= 3600) await this.rollups.settle('telemetry');
    const rows = seconds >= 3600 ? await store.bucketsFromRollups(this.ctx.db, query, seconds) : await store.bucketsFromRaw(this.ctx.db, query, seconds);
    return {
      bucket,
      from: from.toISOString(),
      to: to.toISOString(),
      buckets: rows.map((r) => ({ ts: r.bucket.toISOString(), metric: r.metric, count: r.count, min: r.min, max: r.max, avg: r.avg })),
    };
  }

  /**
   * Every key of a device with its newest value, type and time, by key name (a page at a time). A key
   * sent both ways at one instant (a boolean: as sent and as 0/1) shows the value as sent.
   */
  async latest(scope: Scope, deviceId: string, query: PageQuery) {
    await this.devices.get(scope, deviceId);
    const { limit, after } = pageRequest(query);
    const rows = await store.latestValues(this.ctx.db, scope, deviceId, after ? String(after[0]) : null, limit);
    const newest = new Map<string, store.LatestValue>();
    for (const row of rows) {
      const known = newest.get(row.key);
      if (!known || row.ts > known.ts || (row.ts.getTime() === known.ts.getTime() && row.typed !== null)) newest.set(row.key, row);
    }
    const sorted = [...newest.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((row) => ({
      key: row.key,
      type: row.typed === null ? 'number' as const : typeOf(row.typed),
      value: row.typed === null ? row.number : row.typed,
      ts: row.ts.toISOString(),
    }));
    return toPage(sorted, limit, (row) => [row.key]);
  }

  /**
   * A refrigeration unit's derived figures per hour or per day of the site's zone: seconds with the door open, compressor duty
   * cycle, seconds outside the unit's safe range (`settings.safeRange`), temperature min/max.
   */
  async equipment(scope: Scope, deviceId: string, input: { from?: string; to?: string; bucket?: '1h' | '1d' }) {
    const device = await this.devices.get(scope, deviceId);
    if (device.kind !== 'refrigeration') throw invalidFields([{ field: 'id', message: 'equipment figures exist for refrigeration units only' }]);
    const to = input.to ? new Date(input.to) : new Date();
    const from = input.from ? new Date(input.from) : new Date(to.getTime() - 24 * 3_600_000);
    if (from >= to) throw invalidFields([{ field: 'from', message: 'must be before "to"' }]);
    const bucket = input.bucket ?? '1h';
    const seconds = BUCKETS[bucket];
    if ((to.getTime() - from.getTime()) / 1000 / seconds > MAX_BUCKETS) {
      throw invalidFields([{ field: 'bucket', message: `this range has more than ${MAX_BUCKETS} ${bucket} buckets: use a larger bucket` }]);
    }
    await this.rollups.settle('equipment');
    const timezone = await this.devices.timezoneOf(device);
    const rows = await store.equipmentBuckets(this.ctx.db, { deviceId, from, to }, seconds, timezone);
    return {
      bucket,
      from: from.toISOString(),
      to: to.toISOString(),
      timezone,
      safeRange: safeRangeOf(device.settings),
      buckets: rows.map((r) => ({
        ts: r.bucket.toISOString(),
        date: r.date,
        coveredSeconds: r.covered_seconds,
        doorOpenSeconds: r.door_open_seconds,
        compressorDutyCycle: r.compressor_observed_seconds > 0 ? r.compressor_on_seconds / r.compressor_observed_seconds : null,
        outsideRangeSeconds: r.outside_range_seconds,
        temperatureMin: r.temperature_min,
        temperatureMax: r.temperature_max,
      })),
    };
  }
}

function typeOf(value: unknown): 'string' | 'json' {
  return typeof value === 'string' ? 'string' : 'json';
}

function safeRangeOf(settings: Record<string, unknown>): { min: number; max: number } | null {
  const range = settings.safeRange as { min?: unknown; max?: unknown } | undefined;
  return typeof range?.min === 'number' && typeof range.max === 'number' ? { min: range.min, max: range.max } : null;
}
