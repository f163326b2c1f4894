import type { DevicePrincipal } from '../core/access.js';
import type { Db } from '../core/db/database.js';
import type { IngestObserver, StoredEvents, StoredTelemetry } from '../ingest/service.js';
import type { EventItem } from '../ingest/items.js';
import * as store from './evaluation-store.js';
import type { AlertRow, StateRow } from './evaluation-store.js';
import { breaches, clears, inActiveHours, telemetryMetric, type RuleRow } from './rule-model.js';
import type { RuleBook } from './rule-book.js';
import type { AlertDevice, AlertTransitions, Changes } from './transitions.js';

interface Sample {
  ts: Date;
  value: number;
}

/** The worse of two values for a rule: the peak of an alert. */
function worse(rule: RuleRow, a: number | null, b: number): number {
  if (a === null) return b;
  switch (rule.operator) {
    case 'gt': case 'gte': return Math.max(a, b);
    case 'lt': case 'lte': return Math.min(a, b);
    case 'outside': {
      const low = rule.threshold ?? 0;
      const high = rule.threshold_high ?? low;
      const distance = (v: number) => (v < low ? low - v : v - high);
      return distance(b) > distance(a) ? b : a;
    }
    default: return b;
  }
}

function eventValue(field: string, event: EventItem): number | null {
  if (field === 'speed') return event.speed;
  if (field === 'speedLimit') return event.speedLimit;
  if (field === 'speedOverLimit') return event.speed !== null && event.speedLimit !== null ? event.speed - event.speedLimit : null;
  const value = event.attributes[field.slice('attributes.'.length)];
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function emptyState(rule: RuleRow, device: AlertDevice): Omit<StateRow, 'updated_at'> {
  return { rule_id: rule.id, device_id: device.id, org_id: device.orgId, breach_since: null, breach_value: null, breach_peak: null, clear_since: null, last_ts: null, last_value: null };
}

export function alertDevice(device: DevicePrincipal): AlertDevice {
  return { id: device.deviceId, orgId: device.orgId, siteId: device.siteId, kind: device.kind, name: device.name, serial: device.serial, timezone: device.timezone };
}

const isSilenceRule = (rule: RuleRow) => rule.condition === 'offline' || rule.condition === 'no_data';

/**
 * Evaluates alert rules as data is committed (an ingest observer): only the rules in force for the
 * batch's device and metrics, read from the in-memory rule book; a batch no rule watches costs no
 * query. Per (rule, device) the state (since when the condition holds or clears) is kept in the
 * database, so durations survive restarts and span batches and processes.
 */
export class AlertEvaluator implements IngestObserver {
  constructor(private readonly db: Db, private readonly book: RuleBook, private readonly transitions: AlertTransitions) {}

  async telemetryStored(batch: StoredTelemetry): Promise<void> {
    const device = alertDevice(batch.device);
    const rules = await this.book.effective(device);
    if (rules.length === 0) return;
    const byMetric = new Map<string, Sample[]>();
    for (const reading of batch.readings) {
      let list = byMetric.get(reading.metric);
      if (!list) byMetric.set(reading.metric, (list = []));
      list.push({ ts: reading.ts, value: reading.value });
    }
    const numeric = rules.filter((rule) => byMetric.has(telemetryMetric(rule) ?? ''));
    const silence = rules.filter((rule) => isSilenceRule(rule) && (rule.metric === null || byMetric.has(rule.metric)));
    if (numeric.length === 0 && silence.length === 0) return;
    for (const list of byMetric.values()) list.sort((a, b) => a.ts.getTime() - b.ts.getTime());
    // The common case, a device within its limits: with no breach in the batch and nothing pending or
    // open for these rules, there is nothing to change, and one indexed read says so.
    const quiet = silence.length === 0 && !numeric.some((rule) => byMetric.get(telemetryMetric(rule)!)!.some((s) => breaches(rule, s.value)));
    if (quiet && !(await store.anyStateOrOpenAlert(this.db, device.id, numeric.map((r) => r.id)))) return;

    await this.transitions.inDevice(device.id, async (changes) => {
      if (silence.length > 0) await this.endSilence(changes, device.id, silence);
      if (numeric.length > 0) await this.runSeries(changes, device, numeric, (rule) => byMetric.get(telemetryMetric(rule)!) ?? []);
    });
  }

  async eventsStored(batch: StoredEvents): Promise<void> {
    const device = alertDevice(batch.device);
    const rules = await this.book.effective(device);
    if (rules.length === 0) return;
    const silence = rules.filter((rule) => isSilenceRule(rule) && rule.metric === null);
    const matches = new Map<RuleRow, Sample[]>();
    for (const rule of rules) {
      if (rule.condition !== 'event' || !rule.metric) continue;
      const samples: Sample[] = [];
      for (const { item } of batch.events) {
        if (rule.event_kind !== null && item.kind !== rule.event_kind) continue;
        const value = eventValue(rule.metric, item);
        if (value !== null && breaches(rule, value) && inActiveHours(rule.active_hours, item.ts, device.timezone)) samples.push({ ts: item.ts, value });
      }
      if (samples.length > 0) matches.set(rule, samples.sort((a, b) => a.ts.getTime() - b.ts.getTime()));
    }
    if (matches.size === 0 && silence.length === 0) return;

    await this.transitions.inDevice(device.id, async (changes) => {
      if (silence.length > 0) await this.endSilence(changes, device.id, silence);
      if (matches.size === 0) return;
      const open = new Map((await store.openAlertsFor(changes.tx, device.id, [...matches.keys()].map((r) => r.id))).map((a) => [a.rule_id, a]));
      const progress: store.AlertProgress[] = [];
      for (const [rule, samples] of matches) {
        let alert = open.get(rule.id);
        let rest = samples;
        if (!alert) {
          const first = samples[0]!;
          alert = await this.transitions.open(changes, device, rule, { startedAt: first.ts, at: first.ts, firstValue: first.value, latestValue: first.value, peakValue: first.value });
          rest = samples.slice(1);
        }
        if (rest.length === 0) continue;
        const peak = rest.reduce((p, s) => worse(rule, p, s.value), alert.peak_value);
        progress.push({ id: alert.id, latestValue: rest[rest.length - 1]!.value, peakValue: peak, breaches: rest.length, lastBreachAt: rest[rest.length - 1]!.ts });
      }
      await this.transitions.recordBreaches(changes, progress);
    });
  }

  /** New data from a device ends its silence alerts (offline; no data, of any metric or of the metric received). */
  private async endSilence(changes: Changes, deviceId: string, rules: RuleRow[]): Promise<void> {
    const open = await store.openSilenceAlerts(changes.tx, deviceId, rules.map((r) => r.id));
    if (open.length > 0) await this.transitions.resolve(changes, open as AlertRow[], 'auto');
  }

  /**
   * Runs each rule's samples through its state: a breach must hold for the rule's duration before an
   * alert opens; an open alert counts further breaches and resolves once the value has passed the
   * clear threshold for the duration. Samples older than the last one evaluated are ignored.
   */
  private async runSeries(changes: Changes, device: AlertDevice, rules: RuleRow[], samplesOf: (rule: RuleRow) => Sample[]): Promise<void> {
    const ids = rules.map((r) => r.id);
    const states = new Map((await store.statesFor(changes.tx, device.id, ids)).map((s) => [s.rule_id, s]));
    const open = new Map((await store.openAlertsFor(changes.tx, device.id, ids)).map((a) => [a.rule_id, a]));
    const save: Omit<StateRow, 'updated_at'>[] = [];
    const drop: string[] = [];
    const progress: store.AlertProgress[] = [];

    for (const rule of rules) {
      const existed = states.has(rule.id);
      const state = { ...(states.get(rule.id) ?? emptyState(rule, device)) };
      let alert = open.get(rule.id);
      let update: store.AlertProgress | null = null;
      const duration = rule.duration_seconds * 1000;

      for (const { ts, value } of samplesOf(rule)) {
        if (state.last_ts && ts < state.last_ts) continue;
        state.last_ts = ts;
        state.last_value = value;
        if (!inActiveHours(rule.active_hours, ts, device.timezone)) {
          state.breach_since = null;
          state.clear_since = null;
          continue;
        }
        if (alert) {
          update ??= { id: alert.id, latestValue: value, peakValue: alert.peak_value, breaches: 0, lastBreachAt: alert.last_breach_at };
          update.latestValue = value;
          if (breaches(rule, value)) {
            update.breaches += 1;
            update.peakValue = worse(rule, update.peakValue, value);
            update.lastBreachAt = ts;
            state.clear_since = null;
          } else if (clears(rule, value)) {
            state.clear_since ??= ts;
            if (rule.auto_resolve && ts.getTime() - state.clear_since.getTime() >= duration) {
              await this.transitions.recordBreaches(changes, [update]);
              await this.transitions.resolve(changes, [alert], 'auto');
              alert = undefined;
              update = null;
              Object.assign(state, { breach_since: null, breach_value: null, breach_peak: null, clear_since: null });
            }
          } else {
            state.clear_since = null;
          }
        } else if (breaches(rule, value)) {
          state.breach_since ??= ts;
          state.breach_value ??= value;
          state.breach_peak = worse(rule, state.breach_peak, value);
          if (ts.getTime() - state.breach_since.getTime() >= duration) {
            alert = await this.transitions.open(changes, device, rule, {
              startedAt: state.breach_since, at: ts, firstValue: state.breach_value, latestValue: value, peakValue: state.breach_peak,
            });
            Object.assign(state, { breach_since: null, breach_value: null, breach_peak: null, clear_since: null });
          }
        } else {
          Object.assign(state, { breach_since: null, breach_value: null, breach_peak: null });
        }
      }
      if (update) progress.push(update);
      if (state.breach_since || state.clear_since || alert) save.push(state);
      else if (existed) drop.push(rule.id);
    }
    await this.transitions.recordBreaches(changes, progress);
    await store.saveStates(changes.tx, save);
    await store.deleteStates(changes.tx, device.id, drop);
  }
}
