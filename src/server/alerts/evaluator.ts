import type { DevicePrincipal } from '../core/access.js';
import type { Db } from '../core/db/database.js';
import type { IngestObserver, StoredEvents, StoredTelemetry, StoredValues } from '../ingest/observers.js';
import type { EventItem } from '../ingest/items.js';
import * as store from './evaluation-store.js';
import type { AlertRow, StateRow } from './evaluation-store.js';
import { breaches, clears, inActiveHours, isTextRule, telemetryMetric, type RuleRow, type RuleValue } from './rule-model.js';
import type { RuleBook } from './rule-book.js';
import type { AlertDevice, AlertTransitions, Changes } from './transitions.js';

interface Sample<V extends RuleValue = RuleValue> {
  ts: Date;
  value: V;
}

/** The worse of two values for a rule: the peak of an alert (text has none). */
function worse(rule: RuleRow, a: number | null, b: RuleValue): number | null {
  if (typeof b === 'string') return null;
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
  return {
    rule_id: rule.id, device_id: device.id, org_id: device.orgId, breach_since: null, breach_value: null, breach_peak: null, breach_text: null,
    clear_since: null, last_ts: null, last_value: null, last_text: null,
  };
}

/** A value into the number and text columns that keep it (one of them null). */
const asNumber = (value: RuleValue) => (typeof value === 'number' ? value : null);
const asText = (value: RuleValue) => (typeof value === 'string' ? value : null);
const NO_BREACH = { breach_since: null, breach_value: null, breach_peak: null, breach_text: null };

export function alertDevice(device: DevicePrincipal): AlertDevice {
  return { id: device.deviceId, orgId: device.orgId, siteId: device.siteId, kind: device.kind, name: device.name, serial: device.serial, timezone: device.timezone };
}

/** Values a "changes" rule compares in one evaluation at most (a batch is compared whole up to this). */
const MAX_CATCH_UP = 1000;

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
    const newest = new Map<string, number>();
    for (const reading of batch.readings) {
      let list = byMetric.get(reading.metric);
      if (!list) byMetric.set(reading.metric, (list = []));
      list.push({ ts: reading.ts, value: reading.value });
      newest.set(reading.metric, Math.max(newest.get(reading.metric) ?? -Infinity, reading.ts.getTime()));
    }
    // Text rules read telemetry_values (valuesStored); telemetryMetric is null for them.
    const numeric = rules.filter((rule) => byMetric.has(telemetryMetric(rule) ?? ''));
    const silenced = await this.openSilence(device.id, rules, newest);
    if (numeric.length === 0 && silenced.length === 0) return;
    for (const list of byMetric.values()) list.sort((a, b) => a.ts.getTime() - b.ts.getTime());
    // The common case, a device within its limits: with no breach in the batch and nothing pending or
    // open for these rules, there is nothing to change, and one indexed read says so.
    const quiet = silenced.length === 0 && !numeric.some((rule) => byMetric.get(telemetryMetric(rule)!)!.some((s) => breaches(rule, s.value)));
    if (quiet && !(await store.anyStateOrOpenAlert(this.db, device.id, numeric.map((r) => r.id)))) return;

    await this.transitions.inDevice(device.id, async (changes) => {
      if (silenced.length > 0) await this.transitions.resolve(changes, silenced, 'auto');
      if (numeric.length > 0) await this.runSeries(changes, device, numeric, (rule) => byMetric.get(telemetryMetric(rule)!) ?? []);
    });
  }

  /**
   * The open silence alerts that new data ends: offline and no data of any metric (any data: the device
   * is in contact), no data of one metric (a reading of it within the rule's duration; older readings, a
   * queue flushed late, leave it silent as the timers see it). `newest` holds the batch's latest time per
   * key; `anyData` is false when another observer call of the same batch has already ended the alerts of
   * any data. Read before taking the device's lock, as there are usually none (no transaction then); a
   * device no silence rule covers costs no query. An alert the timer opens in between is resolved by its
   * next run (heardAgain).
   */
  private async openSilence(deviceId: string, rules: RuleRow[], newest: ReadonlyMap<string, number>, anyData = true): Promise<AlertRow[]> {
    const heard = (rule: RuleRow) => (newest.get(rule.metric!) ?? -Infinity) >= Date.now() - rule.duration_seconds * 1000;
    const ended = rules.filter((rule) => isSilenceRule(rule) && (rule.metric === null ? anyData : heard(rule)));
    if (ended.length === 0) return [];
    return store.openSilenceAlerts(this.db, deviceId, ended.map((r) => r.id));
  }

  /**
   * Text values (telemetry_values) for text rules: `equals` / `not_equals` run like numeric rules (duration,
   * auto-resolve, active hours); `changes` compares each value with the one before it. With no text rule
   * in force for the device, this costs no query. JSON objects and arrays are not text: text rules skip them.
   */
  async valuesStored(batch: StoredValues): Promise<void> {
    const device = alertDevice(batch.device);
    const rules = await this.book.effective(device);
    if (rules.length === 0) return;
    const textRules = rules.filter(isTextRule);
    const byKey = new Map<string, Sample[]>();
    const newest = new Map<string, number>();
    for (const { key, ts, value } of batch.values) {
      newest.set(key, Math.max(newest.get(key) ?? -Infinity, ts.getTime()));
      if (typeof value !== 'string') continue;
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push({ ts, value });
    }
    // Text and JSON values are data like numbers: they end the device's silence alerts too.
    const silenced = await this.openSilence(device.id, rules, newest, !batch.readingsStored);
    const watched = textRules.filter((rule) => byKey.has(rule.metric!));
    if (watched.length === 0 && silenced.length === 0) return;
    for (const list of byKey.values()) list.sort((a, b) => a.ts.getTime() - b.ts.getTime());
    const samplesOf = (rule: RuleRow) => byKey.get(rule.metric!) ?? [];
    const changesRules = watched.filter((rule) => rule.operator === 'changes');
    const compared = watched.filter((rule) => rule.operator !== 'changes');
    // As for numbers: no breach, nothing pending or open, no change to look for: one indexed read says there is nothing to do.
    const quiet = silenced.length === 0 && changesRules.length === 0 && !compared.some((rule) => samplesOf(rule).some((s) => breaches(rule, s.value)));
    if (quiet && !(await store.anyStateOrOpenAlert(this.db, device.id, compared.map((r) => r.id)))) return;
    await this.transitions.inDevice(device.id, async (changes) => {
      if (silenced.length > 0) await this.transitions.resolve(changes, silenced, 'auto');
      if (compared.length > 0) await this.runSeries(changes, device, compared, samplesOf);
      for (const rule of changesRules) await this.runChanges(changes, device, rule, samplesOf(rule));
    });
  }

  async eventsStored(batch: StoredEvents): Promise<void> {
    const device = alertDevice(batch.device);
    const rules = await this.book.effective(device);
    if (rules.length === 0) return;
    const matches = new Map<RuleRow, Sample<number>[]>();
    for (const rule of rules) {
      if (rule.condition !== 'event' || !rule.metric) continue;
      const samples: Sample<number>[] = [];
      for (const { item } of batch.events) {
        if (rule.event_kind !== null && item.kind !== rule.event_kind) continue;
        const value = eventValue(rule.metric, item);
        if (value !== null && breaches(rule, value) && inActiveHours(rule.active_hours, item.ts, device.timezone)) samples.push({ ts: item.ts, value });
      }
      if (samples.length > 0) matches.set(rule, samples.sort((a, b) => a.ts.getTime() - b.ts.getTime()));
    }
    // An event is data of no metric: it ends offline and no-data-of-any-metric alerts.
    const silenced = await this.openSilence(device.id, rules, new Map());
    if (matches.size === 0 && silenced.length === 0) return;

    await this.transitions.inDevice(device.id, async (changes) => {
      if (silenced.length > 0) await this.transitions.resolve(changes, silenced, 'auto');
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

  /**
   * A "changes" rule: each value that differs from the one before it is a change. The rule's state per
   * device keeps the last value evaluated, read and written under the device's lock; each evaluation takes
   * the values stored after it up to the batch's newest, whichever batch, process or order stored them, so
   * each value is compared once and with the value stored before it. A batch whose values all lie before
   * the last one evaluated (a device's queue flushed after newer data, over another connection) changes
   * nothing: the change already notified spans it. The first evaluation compares with the value stored
   * before the batch. With auto-resolve, each change is a one-off notice: an alert that opens and resolves
   * at once, notified once. Without, the first change opens an alert that stays open until someone
   * resolves it, and later changes count on it. Changes outside active hours are not alerted.
   */
  private async runChanges(changes: Changes, device: AlertDevice, rule: RuleRow, samples: Sample[]): Promise<void> {
    if (samples.length === 0) return;
    const key = rule.metric!;
    const first = samples[0]!.ts;
    const newest = samples[samples.length - 1]!.ts;
    const [stored] = await store.statesFor(changes.tx, device.id, [rule.id]);
    // A state from before the device last changed (it may have left the rule's site and come back) is void:
    // the values stored meanwhile were not the rule's to compare, so it starts afresh as on a first evaluation.
    const state = stored && !stored.stale ? stored : undefined;
    const since = state?.last_ts ?? null;
    if (since && newest <= since) return;
    const series = await store.textsSince(changes.tx, device.id, key, since ?? first, since === null, newest, MAX_CATCH_UP + 1);
    let previous = since ? state!.last_text : await store.previousText(changes.tx, device.id, key, first);
    // A long gap (values stored while the rule was out of force for the device) is summed up from its latest values on.
    if (series.length > MAX_CATCH_UP) previous = series.shift()!.value;
    if (series.length === 0) return;
    // A one-off notice never stays open (an alert left open from before auto-resolve was set is resolved by the next notice).
    let [alert] = rule.auto_resolve ? [] : await store.openAlertsFor(changes.tx, device.id, [rule.id]);
    let update: store.AlertProgress | null = null;
    for (const { ts, value } of series) {
      const before = previous;
      previous = value;
      if (before === null || before === value || !inActiveHours(rule.active_hours, ts, device.timezone)) continue;
      if (alert) {
        update ??= { id: alert.id, latestValue: null, peakValue: null, breaches: 0, lastBreachAt: alert.last_breach_at };
        Object.assign(update, { latestText: value, breaches: update.breaches + 1, lastBreachAt: ts });
        continue;
      }
      const opened = await this.transitions.open(changes, device, rule, { startedAt: ts, at: ts, firstValue: value, latestValue: value, peakValue: null, previousText: before });
      if (rule.auto_resolve) await this.transitions.resolve(changes, [opened], 'auto', undefined, false);
      else alert = opened;
    }
    const last = series[series.length - 1]!;
    await store.saveStates(changes.tx, [{ ...(state ?? emptyState(rule, device)), last_ts: last.ts, last_text: last.value }]);
    if (update) await this.transitions.recordBreaches(changes, [update]);
  }

  /**
   * Runs each rule's samples through its state: a breach must hold for the rule's duration before an
   * alert opens; an open alert counts further breaches and resolves once the value has passed the
   * clear threshold for the duration. Samples older than the last one evaluated are ignored. A state left
   * from before the rule went out of force for the device is forgotten (rule changes in rules-service, a
   * device's change here: see statesFor).
   */
  private async runSeries(changes: Changes, device: AlertDevice, rules: RuleRow[], samplesOf: (rule: RuleRow) => Sample[]): Promise<void> {
    const ids = rules.map((r) => r.id);
    const states = new Map((await store.statesFor(changes.tx, device.id, ids)).map((s) => [s.rule_id, s]));
    const open = new Map((await store.openAlertsFor(changes.tx, device.id, ids)).map((a) => [a.rule_id, a]));
    const save: Omit<StateRow, 'updated_at'>[] = [];
    const drop: string[] = [];
    const progress: store.AlertProgress[] = [];

    for (const rule of rules) {
      const existed = states.get(rule.id);
      // As for "changes" rules, a state from before the device last changed is void: a breach counts from now on.
      const state = { ...(existed && !existed.stale ? existed : emptyState(rule, device)) };
      let alert = open.get(rule.id);
      let update: store.AlertProgress | null = null;
      const duration = rule.duration_seconds * 1000;

      for (const { ts, value } of samplesOf(rule)) {
        if (state.last_ts && ts < state.last_ts) continue;
        state.last_ts = ts;
        state.last_value = asNumber(value);
        state.last_text = asText(value);
        if (!inActiveHours(rule.active_hours, ts, device.timezone)) {
          state.breach_since = null;
          state.clear_since = null;
          continue;
        }
        if (alert) {
          update ??= { id: alert.id, latestValue: null, peakValue: alert.peak_value, breaches: 0, lastBreachAt: alert.last_breach_at };
          update.latestValue = asNumber(value);
          update.latestText = asText(value);
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
              Object.assign(state, NO_BREACH, { clear_since: null });
            }
          } else {
            state.clear_since = null;
          }
        } else if (breaches(rule, value)) {
          if (!state.breach_since) Object.assign(state, { breach_since: ts, breach_value: asNumber(value), breach_text: asText(value) });
          state.breach_peak = worse(rule, state.breach_peak, value);
          if (ts.getTime() - state.breach_since!.getTime() >= duration) {
            alert = await this.transitions.open(changes, device, rule, {
              startedAt: state.breach_since!, at: ts, firstValue: state.breach_value ?? state.breach_text, latestValue: value, peakValue: state.breach_peak,
            });
            Object.assign(state, NO_BREACH, { clear_since: null });
          }
        } else {
          Object.assign(state, NO_BREACH);
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
