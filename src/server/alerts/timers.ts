import type { Db } from '../core/db/database.js';
import * as store from './evaluation-store.js';
import * as escalations from './escalation-store.js';
import { breaches, clears, type RuleRow } from './rule-model.js';
import type { RuleBook } from './rule-book.js';
import type { Notifier } from './notifier.js';
import type { AlertDevice, AlertTransitions } from './transitions.js';

const DUE_BATCH = 500;

/**
 * What happens with the passing of time rather than with data, run as one leased background job:
 * a breach (or a clear) whose duration ran out before the next reading, devices gone silent
 * (offline, no data) or heard from again, event alerts that went quiet, and escalation of alerts nobody acknowledged.
 */
export class AlertTimers {
  constructor(
    private readonly db: Db,
    private readonly book: RuleBook,
    private readonly transitions: AlertTransitions,
    private readonly notifier: Notifier,
  ) {}

  async run(): Promise<void> {
    await this.dueStates();
    await this.silence();
    await this.heardAgain();
    await this.quietEvents();
    await this.overridden();
    await this.escalate();
  }

  private async devices(ids: string[]): Promise<Map<string, AlertDevice>> {
    const rows = await store.deviceInfo(this.db, [...new Set(ids)]);
    return new Map(rows.map((d) => [d.id, { id: d.id, orgId: d.org_id, siteId: d.site_id, kind: d.kind, name: d.name, serial: d.serial, timezone: d.timezone }]));
  }

  /** Whether the rule is still in force for the device (enabled, not shadowed by a more specific one). */
  private async inForce(device: AlertDevice, ruleId: string): Promise<RuleRow | undefined> {
    return (await this.book.effective(device)).find((r) => r.id === ruleId);
  }

  /** The last value is held: a breach with no reading since for the whole duration opens the alert, a clear resolves it. */
  private async dueStates(): Promise<void> {
    const due = await store.dueStates(this.db, DUE_BATCH);
    const devices = await this.devices(due.map((s) => s.device_id));
    for (const candidate of due) {
      const device = devices.get(candidate.device_id);
      if (!device) continue;
      const rule = await this.inForce(device, candidate.rule_id);
      if (!rule) {
        // Disabled, or overridden by a more specific rule since: its half-run duration means nothing now.
        await store.deleteStates(this.db, device.id, [candidate.rule_id]);
        continue;
      }
      await this.transitions.inDevice(device.id, async (changes) => {
        const [state] = await store.statesFor(changes.tx, device.id, [rule.id]);
        const [open] = await store.openAlertsFor(changes.tx, device.id, [rule.id]);
        const expired = (since: Date | null) => since !== null && Date.now() - since.getTime() >= rule.duration_seconds * 1000;
        if (!state) return;
        if (state.stale) {
          // Written before the device last changed (it may have been out of the rule's reach meanwhile): void.
          await store.deleteStates(changes.tx, device.id, [rule.id]);
          return;
        }
        // A text rule's state keeps its values as text, a numeric rule's as numbers.
        const last = state.last_text ?? state.last_value;
        if (!open && expired(state.breach_since) && last !== null && breaches(rule, last)) {
          await this.transitions.open(changes, device, rule, {
            startedAt: state.breach_since!, at: new Date(), firstValue: state.breach_text ?? state.breach_value, latestValue: last, peakValue: state.breach_peak,
          });
          await store.saveStates(changes.tx, [{ ...state, breach_since: null, breach_value: null, breach_peak: null, breach_text: null }]);
        } else if (open && rule.auto_resolve && expired(state.clear_since) && last !== null && clears(rule, last)) {
          await this.transitions.resolve(changes, [open], 'auto');
          await store.deleteStates(changes.tx, device.id, [rule.id]);
        } else if (!open && state.breach_since && (last === null || !breaches(rule, last))) {
          await store.deleteStates(changes.tx, device.id, [rule.id]);
        }
      });
    }
  }

  /** Offline and no-data rules: devices heard from before, but not within the rule's duration. */
  private async silence(): Promise<void> {
    for (const rule of await escalations.enabledSilenceRules(this.db)) {
      const silent = await store.silentDevices(this.db, rule);
      const devices = await this.devices(silent.map((d) => d.id));
      for (const { id, last_heard: lastHeard } of silent) {
        const device = devices.get(id);
        if (!device || !(await this.inForce(device, rule.id))) continue;
        await this.transitions.inDevice(id, async (changes) => {
          await this.transitions.open(changes, device, rule, { startedAt: lastHeard, at: new Date(), firstValue: null, latestValue: null, peakValue: null });
        });
      }
    }
  }

  /**
   * Silence alerts of devices heard from since: data ends them as it is stored (the evaluator), this ends
   * them after contact that is no data, or data that was evaluated just before the alert opened.
   */
  private async heardAgain(): Promise<void> {
    for (const alert of await store.heardAgain(this.db)) {
      await this.transitions.inDevice(alert.device_id, (changes) => this.transitions.resolve(changes, [alert], 'auto'));
    }
  }

  /** An event alert resolves itself once no matching event has come for the rule's duration. */
  private async quietEvents(): Promise<void> {
    for (const alert of await store.quietEventAlerts(this.db)) {
      await this.transitions.inDevice(alert.device_id, (changes) => this.transitions.resolve(changes, [alert], 'auto'));
    }
  }

  /**
   * Open alerts of rules no longer in force for their device (disabled elsewhere, moved to another
   * device or site, or overridden by a newer, more specific rule) would never see a clear: resolve them.
   */
  private async overridden(): Promise<void> {
    const open = await store.openRuleAlerts(this.db);
    const devices = await this.devices(open.map((a) => a.device_id));
    for (const alert of open) {
      const device = devices.get(alert.device_id);
      if (!device || (await this.inForce(device, alert.rule_id!))) continue;
      await this.transitions.inDevice(device.id, (changes) => this.transitions.resolve(changes, [alert], 'rule_changed'));
    }
  }

  /** Alerts still unacknowledged when their wait ran out: notify the rule's next channel. */
  private async escalate(): Promise<void> {
    for (const due of await escalations.dueEscalations(this.db)) {
      await this.transitions.inDevice(due.device_id, async (changes) => {
        const next = due.channel_ids[due.escalation_level + 1];
        const escalated = await escalations.advance(changes.tx, due.id, due.channel_ids.length > due.escalation_level + 2 ? due.escalate_after_minutes : null);
        if (!escalated || !next) return;
        await this.notifier.queueEscalation(changes.tx, escalated, next);
        changes.updated.push(escalated);
      });
    }
    this.notifier.kick();
  }
}
