import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import * as store from './evaluation-store.js';
import type { AlertRow } from './evaluation-store.js';
import { DEVICE_KINDS, type DeviceKind } from '../../shared/devices.js';
import { formatMetricValue, metricInfo } from '../../shared/metrics.js';
import { formatDuration, operatorFamily, renderMessage, type RuleRow, type RuleValue } from './rule-model.js';
import type { Notifier } from './notifier.js';
import { presentAlert } from './present.js';
import type { RuleTarget } from './rule-book.js';

/** A device as alerts describe it. */
export interface AlertDevice extends RuleTarget {
  name: string;
  serial: string;
  timezone: string;
}

export interface Breach {
  startedAt: Date;
  at: Date;
  firstValue: RuleValue | null;
  latestValue: RuleValue | null;
  peakValue: number | null;
  /** "changes" rules: the value before the change. */
  previousText?: string | null;
}

const numberOf = (value: RuleValue | null) => (typeof value === 'number' ? value : null);
const textOf = (value: RuleValue | null) => (typeof value === 'string' ? value : null);

/** What one evaluation changed; published on the bus once its transaction has committed. */
export class Changes {
  readonly opened: AlertRow[] = [];
  readonly updated: AlertRow[] = [];
  readonly resolved: AlertRow[] = [];
  constructor(readonly tx: Tx) {}
}

/**
 * Opening, updating and resolving alerts for one device at a time: each evaluation runs in a
 * transaction holding the device's advisory lock; notifications are queued in that same transaction
 * (so none is lost or sent for a rolled-back alert), and bus messages go out after the commit.
 */
export class AlertTransitions {
  constructor(private readonly ctx: AppContext, private readonly notifier: Notifier) {}

  async inDevice(deviceId: string, work: (changes: Changes) => Promise<void>): Promise<void> {
    const changes = await this.ctx.db.transaction().execute(async (tx) => {
      await store.lockDevice(tx, deviceId);
      const collected = new Changes(tx);
      await work(collected);
      return collected;
    });
    await this.publish(changes);
  }

  async open(changes: Changes, device: AlertDevice, rule: RuleRow, breach: Breach): Promise<AlertRow> {
    const metric = rule.metric ?? (rule.condition === 'door_open' ? 'door' : null);
    // Values read with the metric's unit ("11.6 °C"), the metric by its display name; event fields stay bare
    // numbers, and so do values in a template that writes the unit itself ("{{value}}°C").
    const info = metric && rule.condition !== 'event' && (DEVICE_KINDS as readonly string[]).includes(device.kind)
      ? { ...metricInfo(device.kind as DeviceKind, metric), kind: 'measure' as const } : null;
    const withUnit = info?.unit ? !rule.message_template.includes(info.unit) : Boolean(info);
    const shown = (value: number | null) => (info && withUnit && value !== null ? formatMetricValue(value, info) : value);
    // An on/off rule reads "true"/"false"; a text rule its text, and the text it compares with as {{threshold}}.
    const flag = rule.operator !== null && operatorFamily(rule.operator) === 'flag';
    const latest = breach.latestValue;
    const value = typeof latest === 'string' ? latest : flag && latest !== null ? String(latest >= 0.5) : shown(latest);
    const message = renderMessage(rule.message_template, {
      value, threshold: rule.text_value ?? shown(rule.threshold), clearThreshold: shown(rule.clear_threshold ?? rule.threshold), peak: shown(breach.peakValue),
      previous: breach.previousText ?? null,
      metric: info ? sentenceCase(info.name) : metric, device: device.name, serial: device.serial,
      rule: rule.name, severity: rule.severity, duration: formatDuration(rule.duration_seconds),
    });
    const { row, opened } = await store.openAlert(changes.tx, {
      orgId: device.orgId, siteId: device.siteId, deviceId: device.id, ruleId: rule.id, ruleName: rule.name, condition: rule.condition,
      metric: rule.metric ?? (rule.condition === 'door_open' ? 'door' : null), severity: rule.severity, message, threshold: rule.threshold,
      firstValue: numberOf(breach.firstValue), latestValue: numberOf(breach.latestValue), peakValue: breach.peakValue,
      firstText: textOf(breach.firstValue), latestText: textOf(breach.latestValue), previousText: breach.previousText ?? null, startedAt: breach.startedAt, lastBreachAt: breach.at,
      nextEscalationAt: rule.escalate_after_minutes ? new Date(Date.now() + rule.escalate_after_minutes * 60_000) : null,
    });
    if (opened) {
      changes.opened.push(row);
      await this.notifier.queueOpened(changes.tx, row, rule);
    } else {
      changes.updated.push(row);
    }
    return row;
  }

  async recordBreaches(changes: Changes, updates: store.AlertProgress[]): Promise<void> {
    changes.updated.push(...(await store.recordBreaches(changes.tx, updates)));
  }

  /** `notify: false` for a one-off notice (a "changes" alert that resolves as it opens): its opening said all there is. */
  async resolve(changes: Changes, alerts: AlertRow[], resolution: 'auto' | 'rule_changed', latest?: Map<string, number>, notify = true): Promise<void> {
    const resolved = await store.resolveAlerts(changes.tx, alerts.map((a) => a.id), resolution, latest);
    if (notify) for (const alert of resolved) await this.notifier.queueResolved(changes.tx, alert);
    changes.resolved.push(...resolved);
  }

  private async publish(changes: Changes): Promise<void> {
    const resolvedIds = new Set(changes.resolved.map((a) => a.id));
    const openedIds = new Set(changes.opened.map((a) => a.id));
    const updated = new Map(changes.updated.filter((a) => !resolvedIds.has(a.id) && !openedIds.has(a.id)).map((a) => [a.id, a]));
    const messages = [
      ...changes.opened.map((a) => ['alert.opened', a] as const),
      ...[...updated.values()].map((a) => ['alert.updated', a] as const),
      ...changes.resolved.map((a) => ['alert.resolved', a] as const),
    ];
    for (const [type, alert] of messages) {
      await this.ctx.bus.publish({ type, orgId: alert.org_id, siteId: alert.site_id, requires: 'alert.read', data: { alert: presentAlert(alert) } });
    }
    await this.notifier.tellAcknowledgers(changes.resolved);
    if (changes.opened.length > 0 || changes.resolved.length > 0) this.notifier.kick();
  }
}

/** "Temperature" reads "temperature" mid-sentence; a name in capitals ("CO2") stays as it is. */
function sentenceCase(name: string): string {
  return /^[A-Z][a-z]/.test(name) ? `${name[0]!.toLowerCase()}${name.slice(1)}` : name;
}
