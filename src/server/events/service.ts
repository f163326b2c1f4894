import type { Readable } from 'node:stream';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { csvStream } from '../core/csv.js';
import { badRequest, conflict, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { RollupsService } from '../rollups/service.js';
import { thumbnailKey } from './photos.js';
import * as store from './store.js';

export interface EventQuery extends PageQuery {
  deviceId?: string;
  siteId?: string;
  kind?: string;
  severity?: string;
  from?: string;
  to?: string;
  speedingOnly?: boolean;
  hasPhoto?: boolean;
  acknowledged?: boolean;
}

/** Most events one bulk acknowledgement takes (a page of the violation feed, several times over). */
export const ACK_MAX_IDS = 500;

const EXPORT_PAGE = 5_000;

export function presentEvent(row: store.EventListRow, publicUrl: string) {
  return {
    id: String(row.id),
    deviceId: row.device_id,
    deviceName: row.device_name,
    siteId: row.site_id,
    ts: row.ts.toISOString(),
    deviceTs: row.device_ts,
    kind: row.kind,
    speed: row.speed,
    speedLimit: row.speed_limit,
    speeding: row.speed !== null && row.speed_limit !== null && row.speed > row.speed_limit,
    severity: row.severity,
    attributes: row.attributes,
    photoUrl: row.photo_key ? `${publicUrl}/api/v1/events/${row.id}/photo` : null,
    receivedAt: row.received_at.toISOString(),
    acknowledgement: row.acknowledged_at && {
      at: row.acknowledged_at.toISOString(), userId: row.acknowledged_by, by: row.acknowledged_by_label ?? '', comment: row.acknowledgement_comment,
    },
    ...(row.violation_started_at && {
      violation: {
        startedAt: row.violation_started_at.toISOString(),
        lastSeenAt: row.violation_last_seen_at!.toISOString(),
        endedAt: row.violation_ended_at?.toISOString() ?? null,
      },
    }),
  };
}

function filterOf(query: EventQuery): store.EventFilter {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from >= to) throw badRequest('"from" must be before "to"', [{ field: 'from', message: 'must be before "to"' }]);
  // "ppe_violation,zone_breach": the safety feed lists both kinds of violation in one keyset order.
  const kinds = query.kind?.split(',').map((kind) => kind.trim()).filter(Boolean);
  return {
    deviceId: query.deviceId, siteId: query.siteId, kinds: kinds?.length ? kinds : undefined, severity: query.severity, from, to,
    speedingOnly: query.speedingOnly, hasPhoto: query.hasPhoto, acknowledged: query.acknowledged,
  };
}

export class EventsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly rollups: RollupsService,
  ) {}

  async list(scope: Scope, query: EventQuery) {
    const page = pageRequest(query);
    const after = page.after ? ([String(page.after[0]), Number(page.after[1])] as [string, number]) : null;
    // Lists, counts and exports read the replica; one event (the page after acknowledging it) the primary.
    const rows = await store.listEvents(this.ctx.replica.db, scope, filterOf(query), page.limit, after);
    const result = toPage(rows, page.limit, (r) => [r.ts.toISOString(), r.id]);
    return { items: result.items.map((r) => presentEvent(r, this.ctx.config.publicUrl)), nextCursor: result.nextCursor };
  }

  /** Counts over a range (default: the last 24 hours), read from the hourly rollups; hours are whole. */
  async summary(scope: Scope, query: { from?: string; to?: string; deviceId?: string; siteId?: string }) {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 24 * 3_600_000);
    if (from >= to) throw badRequest('"from" must be before "to"', [{ field: 'from', message: 'must be before "to"' }]);
    await this.rollups.settle('events');
    const totals = await store.eventTotals(this.ctx.replica.db, scope, { from, to, deviceId: query.deviceId, siteId: query.siteId });
    return { from: from.toISOString(), to: to.toISOString(), ...totals };
  }

  async get(scope: Scope, id: number) {
    const [row] = await store.listEvents(this.ctx.db, scope, { id }, 1, null);
    if (!row) throw notFound('event');
    return presentEvent(row, this.ctx.config.publicUrl);
  }

  /** CSV of every event matching the filter, streamed page by page (keyset), never held in memory whole. */
  exportCsv(scope: Scope, query: EventQuery): Readable {
    const filter = filterOf(query);
    const csv = csvStream(['id', 'timestamp', 'device', 'device_id', 'site_id', 'kind', 'speed', 'speed_limit', 'speeding', 'severity', 'photo_url']);
    const db = this.ctx.replica.db;
    const publicUrl = this.ctx.config.publicUrl;
    void (async () => {
      let after: [string, number] | null = null;
      try {
        for (;;) {
          const rows = await store.listEvents(db, scope, filter, EXPORT_PAGE, after);
          const page = rows.slice(0, EXPORT_PAGE);
          for (const row of page) {
            const e = presentEvent(row, publicUrl);
            const writable = csv.write([e.id, e.ts, e.deviceName, e.deviceId, e.siteId, e.kind, e.speed, e.speedLimit, e.speeding, e.severity, e.photoUrl]);
            if (!writable) await new Promise((resolve) => csv.once('drain', resolve));
          }
          if (rows.length <= EXPORT_PAGE) break;
          const last = page[page.length - 1]!;
          after = [last.ts.toISOString(), last.id];
        }
        csv.end();
      } catch (error) {
        csv.destroy(error as Error);
      }
    })();
    return csv;
  }

  /**
   * Acknowledges events (a violation seen to, with what was done): one id answers 409 when it was
   * acknowledged before and 404 when the caller cannot see it; several ids skip those and say how many.
   * The first acknowledgement stands; each one is audited and announced.
   */
  async acknowledge(scope: Scope, ids: number[], comment: string | null, actor: Actor, single = false) {
    const unique = [...new Set(ids)];
    if (unique.length > ACK_MAX_IDS) throw badRequest(`at most ${ACK_MAX_IDS} events at once`, [{ field: 'ids', message: `has more than ${ACK_MAX_IDS} ids` }]);
    const text = comment?.trim() || null;
    const result = await this.ctx.db.transaction().execute(async (tx) => {
      const outcome = await store.acknowledgeEvents(tx, scope, unique, { userId: actor.userId, label: actor.label ?? 'unknown' }, text);
      if (outcome.acknowledged.length > 0) {
        await this.audit.record(actor, {
          orgId: scope.orgId, action: 'event.acknowledged', resourceType: 'event', resourceId: outcome.acknowledged.length === 1 ? String(outcome.acknowledged[0]!.id) : null,
          details: { eventIds: outcome.acknowledged.map((e) => String(e.id)), comment: text },
        }, tx);
      }
      return outcome;
    });
    if (single && result.inScope.length === 0) throw notFound('event');
    if (single && result.acknowledged.length === 0) throw conflict('this event was acknowledged before; the first acknowledgement stands');
    // One message per site, so a member restricted to other sites hears nothing of these events.
    const bySite = new Map<string | null, string[]>();
    for (const { id, siteId } of result.acknowledged) bySite.set(siteId, [...(bySite.get(siteId) ?? []), String(id)]);
    const at = new Date().toISOString();
    for (const [siteId, eventIds] of bySite) {
      await this.ctx.bus.publish({ type: 'events.acknowledged', orgId: scope.orgId, siteId, requires: 'event.read', data: { eventIds, by: actor.label, comment: text, at } });
    }
    return {
      acknowledged: result.acknowledged.map((e) => String(e.id)),
      alreadyAcknowledged: result.inScope.length - result.acknowledged.length,
      notFound: unique.length - result.inScope.length,
    };
  }

  async remove(scope: Scope, id: number, actor: Actor): Promise<void> {
    // The event's own batch must be in the rollups before its delete is subtracted from them.
    await this.rollups.settle('events');
    const deleted = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await store.deleteEvent(tx, scope, id);
      if (!row) throw notFound('event');
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'event.deleted', resourceType: 'event', resourceId: String(id),
        details: { deviceId: row.device_id, ts: row.ts.toISOString(), kind: row.kind, speed: row.speed },
      }, tx);
      return { row, photoKeys: await store.deletePhotoUploads(tx, row.device_id, id) };
    });
    // Every version of the event's photo, and the photo itself (stored before versions were recorded).
    const photoKeys = new Set([...deleted.photoKeys, ...(deleted.row.photo_key ? [deleted.row.photo_key] : [])]);
    for (const key of photoKeys) {
      await this.ctx.media.delete(key);
      await this.ctx.media.delete(thumbnailKey(key));
    }
  }
}
