import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { AppError, badRequest, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import type { AlertRow } from './evaluation-store.js';
import type { Notifier } from './notifier.js';
import { presentAlert } from './present.js';
import { SEVERITIES } from './rule-model.js';
import * as store from './store.js';

const DAY_MS = 86_400_000;

/**
 * The alert lifecycle as people see it: open → acknowledged (who, when, comment) → resolved (by the
 * evaluator or by someone). Every change is published on the bus, for the live stream.
 */
export class AlertsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly devices: DevicesService,
    private readonly notifier: Notifier,
    private readonly audit: AuditService,
  ) {}

  async list(scope: Scope, query: PageQuery & store.AlertFilter) {
    if (query.from && query.to && query.from >= query.to) throw badRequest('"from" must be before "to"', [{ field: 'from', message: 'must be before "to"' }]);
    const page = pageRequest(query);
    const rows = await store.listAlerts(this.ctx.db, scope, query, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.opened_at.toISOString(), r.id]);
  }

  /** A device's alert history; 404 when the device is not one the caller may see. */
  async history(scope: Scope, deviceId: string, query: PageQuery & store.AlertFilter) {
    await this.devices.get(scope, deviceId);
    return this.list(scope, { ...query, deviceId });
  }

  async get(scope: Scope, id: string): Promise<AlertRow> {
    const alert = await store.findAlert(this.ctx.db, scope, id);
    if (!alert) throw notFound('alert');
    return alert;
  }

  /** Active (open or acknowledged) alerts by severity and status: the inbox badge. */
  async counts(scope: Scope) {
    const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<string, number>;
    const byStatus = { open: 0, acknowledged: 0 };
    for (const row of await store.counts(this.ctx.db, scope)) {
      bySeverity[row.severity] = (bySeverity[row.severity] ?? 0) + row.n;
      if (row.status !== 'resolved') byStatus[row.status] += row.n;
    }
    return { totalActive: byStatus.open + byStatus.acknowledged, bySeverity, byStatus };
  }

  /** Counts plus, over the range (default: the last 30 days), times to acknowledge and resolve and the noisiest devices and rules. */
  async statistics(scope: Scope, range: { from?: string; to?: string }) {
    const to = range.to ? new Date(range.to) : new Date();
    const from = range.from ? new Date(range.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from >= to) throw badRequest('"from" must be before "to"', [{ field: 'from', message: 'must be before "to"' }]);
    const [counts, types, timing, devices, rules] = await Promise.all([
      this.counts(scope),
      store.byType(this.ctx.db, scope),
      store.timings(this.ctx.db, scope, from, to),
      store.noisiestDevices(this.ctx.db, scope, from, to, 10),
      store.noisiestRules(this.ctx.db, scope, from, to, 10),
    ]);
    return {
      ...counts,
      byType: Object.fromEntries(types.map((t) => [t.type, t.n])),
      from: from.toISOString(),
      to: to.toISOString(),
      opened: timing.opened,
      timeToAcknowledge: { count: timing.ack_count, averageSeconds: timing.ack_avg, medianSeconds: timing.ack_p50, p90Seconds: timing.ack_p90 },
      timeToResolve: { count: timing.res_count, averageSeconds: timing.res_avg, medianSeconds: timing.res_p50, p90Seconds: timing.res_p90 },
      noisiestDevices: devices.map((d) => ({ deviceId: d.device_id, name: d.name, alerts: d.alerts })),
      noisiestRules: rules.map((r) => ({ ruleId: r.rule_id, name: r.name, alerts: r.alerts, devices: r.devices })),
    };
  }

  async acknowledge(scope: Scope, id: string, comment: string | null, actor: Actor): Promise<AlertRow> {
    const [acknowledged] = await this.acknowledgeAudited(scope, [id], comment, actor);
    if (!acknowledged) {
      const alert = await this.get(scope, id);
      throw new AppError(409, 'alert_not_open', alert.status === 'resolved'
        ? 'this alert is already resolved; a resolved alert cannot be acknowledged'
        : 'this alert is already acknowledged');
    }
    await this.publish('alert.acknowledged', [acknowledged]);
    return acknowledged;
  }

  /** Acknowledges the open alerts among `ids`; the others (unknown, not visible, not open) are listed as skipped. */
  async acknowledgeMany(scope: Scope, ids: string[], comment: string | null, actor: Actor) {
    const acknowledged = await this.acknowledgeAudited(scope, ids, comment, actor);
    await this.publish('alert.acknowledged', acknowledged);
    const done = new Set(acknowledged.map((a) => a.id));
    return { acknowledged, skipped: ids.filter((id) => !done.has(id)) };
  }

  /** Acknowledges the open alerts among `ids`, with an audit entry for each in the same transaction. */
  private acknowledgeAudited(scope: Scope, ids: string[], comment: string | null, actor: Actor): Promise<AlertRow[]> {
    return this.ctx.db.transaction().execute(async (tx) => {
      const acknowledged = await store.acknowledge(tx, scope, ids, scope.userId, comment);
      for (const row of acknowledged) {
        await this.audit.record(actor, {
          orgId: row.org_id, action: 'alert.acknowledged', resourceType: 'alert', resourceId: row.id, name: row.message, details: { comment },
        }, tx);
      }
      return acknowledged;
    });
  }

  /**
   * Resolves an alert by hand; the comment records what was done about it (the corrective action a
   * HACCP record asks for), kept on the alert and in the audit log.
   */
  async resolve(scope: Scope, id: string, comment: string | null, actor: Actor): Promise<AlertRow> {
    const text = comment?.trim() || null;
    const resolved = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await store.resolveByHand(tx, scope, id, scope.userId, text);
      if (row) {
        await this.notifier.queueResolved(tx, row);
        await this.audit.record(actor, {
          orgId: row.org_id, action: 'alert.resolved', resourceType: 'alert', resourceId: row.id,
          details: { message: row.message, comment: text },
        }, tx);
      }
      return row;
    });
    if (!resolved) {
      await this.get(scope, id);
      throw new AppError(409, 'alert_resolved', 'this alert is already resolved');
    }
    await this.publish('alert.resolved', [resolved]);
    await this.notifier.tellAcknowledgers([resolved]);
    this.notifier.kick();
    return resolved;
  }

  private async publish(type: string, alerts: AlertRow[]): Promise<void> {
    for (const alert of alerts) {
      await this.ctx.bus.publish({ type, orgId: alert.org_id, siteId: alert.site_id, requires: 'alert.read', data: { alert: presentAlert(alert) } });
    }
  }
}
