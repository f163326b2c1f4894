import type { DevicePrincipal } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { FieldError } from '../core/http/errors.js';
import type { CommunityService } from '../community/service.js';
import type { DevicesService } from '../devices/service.js';
import * as events from '../events/store.js';
import { MAX_SPEED, parseTimestamp, type EventItem, type Rejection } from '../ingest/items.js';
import type { IngestService } from '../ingest/service.js';

/**
 * RushRoster field devices, unchanged: their upload maps onto Vigil's ingest (see docs/device-protocols.md).
 * The duplicate key is device + the exact timestamp string + speed: a resend of the same reading, never
 * two cars that happen to pass at the same speed within seconds.
 */
export interface RushRosterUpload {
  status: 'success';
  processed: number;
  duplicates_skipped: number;
  created_events: { event_id: string; timestamp: string; speed: number; has_photo: boolean }[];
  /** Vigil's addition: the events that were not stored, by index, and why (the device ignores it). */
  rejected: Rejection[];
}

const SPEEDING_VALUES = new Set<unknown>([true, false, 1, 0, 'true', 'false']);

function parseItem(raw: unknown, index: number, zone: string, now: number): { item: EventItem; hasPhoto: boolean } | Rejection {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { index, errors: [{ field: '', message: 'must be an object' }] };
  const event = raw as Record<string, unknown>;
  const errors: FieldError[] = [];
  const time = parseTimestamp(event.timestamp, zone, now);
  if (typeof time === 'string') errors.push({ field: 'timestamp', message: time });
  const { speed, speed_limit: speedLimit } = event;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0 || speed > MAX_SPEED) errors.push({ field: 'speed', message: `must be a number above 0 and at most ${MAX_SPEED}` });
  if (typeof speedLimit !== 'number' || !Number.isFinite(speedLimit) || speedLimit <= 0 || speedLimit >= MAX_SPEED) {
    errors.push({ field: 'speed_limit', message: `must be a number above 0 and below ${MAX_SPEED}` });
  }
  if (event.is_speeding !== undefined && !SPEEDING_VALUES.has(event.is_speeding)) errors.push({ field: 'is_speeding', message: 'must be true, false, 1 or 0' });
  if (event.has_photo !== undefined && typeof event.has_photo !== 'boolean') errors.push({ field: 'has_photo', message: 'must be true or false' });
  if (errors.length > 0 || typeof time === 'string') return { index, errors };
  const hasPhoto = event.has_photo === true;
  return {
    hasPhoto,
    item: {
      index,
      ts: time.ts,
      deviceTs: time.raw,
      clientRef: `rr:${time.raw}|${speed}`,
      kind: 'speed',
      speed: speed as number,
      speedLimit: speedLimit as number,
      severity: null,
      attributes: { has_photo: hasPhoto },
    },
  };
}

export class RushRosterService {
  constructor(
    private readonly ctx: AppContext,
    private readonly ingest: IngestService,
    private readonly devices: DevicesService,
    private readonly community: CommunityService,
  ) {}

  async upload(device: DevicePrincipal, rawEvents: unknown[]): Promise<RushRosterUpload> {
    const now = Date.now();
    const parsed = rawEvents.map((raw, index) => parseItem(raw, index, device.timezone, now));
    const rejected = parsed.filter((p): p is Rejection => 'errors' in p);
    const valid = parsed.filter((p): p is { item: EventItem; hasPhoto: boolean } => !('errors' in p));
    const hasPhoto = new Map(valid.map((v) => [v.item.index, v.hasPhoto]));
    const stored = await this.ingest.storeEvents(device, valid.map((v) => v.item));
    // A resent event whose photo never arrived is echoed with its stored id, so the device sends the photo again.
    const created = stored.events.filter((e) => !e.duplicate || (hasPhoto.get(e.index) && e.photoKey === null));
    return {
      status: 'success',
      processed: stored.accepted,
      duplicates_skipped: stored.events.length - stored.accepted,
      created_events: created.map((e) => ({
        event_id: e.id,
        timestamp: e.item.deviceTs,
        speed: e.item.speed ?? 0,
        has_photo: hasPhoto.get(e.index) ?? false,
      })),
      rejected: [...rejected, ...stored.rejected].sort((a, b) => a.index - b.index),
    };
  }

  async restore(device: DevicePrincipal, query: { limit?: number; offset?: number; speeding_only?: boolean }) {
    // The original clamped rather than rejected; its own tests restore 500 events with limit=1000.
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const offset = Math.max(query.offset ?? 0, 0);
    const speedingOnly = query.speeding_only ?? false;
    const rows = await events.listDeviceEvents(this.ctx.db, device.deviceId, { limit, offset, speedingOnly });
    return {
      device_id: device.serial,
      count: rows.length,
      limit,
      offset,
      speeding_only: speedingOnly,
      events: rows.map((row) => ({
        id: String(row.id),
        timestamp: row.ts.toISOString(),
        speed: row.speed,
        speed_limit: row.speed_limit,
        is_speeding: row.speed !== null && row.speed_limit !== null && row.speed > row.speed_limit,
        photo_url: row.photo_key ? `${this.ctx.config.publicUrl}/api/v1/events/${row.id}/photo` : null,
        created_at: row.received_at.toISOString(),
      })),
    };
  }

  async info(device: DevicePrincipal) {
    const row = await this.devices.own(device);
    const shareCommunity = await this.community.sharedPublicly(row.org_id, row.id);
    return {
      id: row.id,
      device_id: row.serial,
      owner_id: row.org_id,
      location: { latitude: row.lat, longitude: row.lon, street_name: row.name },
      speed_limit: row.speed_limit,
      is_active: true,
      share_community: shareCommunity,
      registered_at: row.created_at.toISOString(),
      last_sync: row.last_seen_at?.toISOString() ?? null,
    };
  }

  async stats(device: DevicePrincipal, hours: number) {
    const summary = await events.deviceSpeedSummary(this.ctx.db, device.deviceId, new Date(Date.now() - hours * 3_600_000));
    return {
      total_events: summary.total,
      speeding_events: summary.speeding,
      avg_speed: summary.avg === null ? null : Math.round(summary.avg * 100) / 100,
      max_speed: summary.max,
      min_speed: summary.min,
      period_hours: hours,
      device_id: device.serial,
    };
  }
}
