import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { invalidFields } from '../core/http/errors.js';
import type { AlertOperator } from '../core/db/schema.js';
import { breaches, clears, inActiveHours, isTextRule, validateRule, type RuleInput, type RuleRow, type RuleValue } from './rule-model.js';
import * as previewStore from './preview-store.js';
import * as rulesStore from './rules-store.js';

/** A preview looks at most this many devices and readings: enough to judge a rule, cheap to ask while typing. */
export const PREVIEW_MAX_DEVICES = 200;
export const PREVIEW_MAX_READINGS = 200_000;
export const PREVIEW_DAYS = 7;

export interface WouldBeAlert {
  /** When the condition began to hold. */
  startedAt: Date;
  /** When it had held for the duration: the alert would have opened. */
  openedAt: Date;
  /** When the clear condition had held for the duration; null if it would still be open. */
  resolvedAt: Date | null;
  /** The worst value while it held; null for text rules. */
  peakValue: number | null;
  /** Text rules: the value that opened it (the new value, for "changes"). */
  textValue: string | null;
  /** "changes" rules: the value before the change. */
  previousText: string | null;
}

interface Reading {
  ts: Date;
  value: RuleValue;
}

/** A breach not yet held for the duration: since when, its worst value, the value that began it. */
interface Pending {
  since: Date;
  peak: number | null;
  first: RuleValue;
}

export interface DevicePreview {
  device: previewStore.PreviewDevice;
  readings: number;
  alerts: WouldBeAlert[];
}

/** What a draft rule tests, in the shape the breach and clear tests read. */
type Test = Pick<RuleRow, 'condition' | 'operator' | 'threshold' | 'threshold_high' | 'clear_threshold' | 'clear_threshold_high' | 'text_value' | 'duration_seconds' | 'auto_resolve' | 'active_hours'>;

function testOf(input: RuleInput): Test {
  return {
    condition: input.condition, operator: input.operator ?? null, threshold: input.threshold ?? null, threshold_high: input.thresholdHigh ?? null,
    clear_threshold: input.clearThreshold ?? null, clear_threshold_high: input.clearThresholdHigh ?? null, text_value: input.textValue ?? null, duration_seconds: input.durationSeconds,
    auto_resolve: input.autoResolve ?? true, active_hours: input.activeHours ?? null,
  };
}

/** The worse of two values for this operator: the highest for ">", the lowest for "<", the farthest outside for a range; text has none. */
function worse(test: Test, a: number | null, b: RuleValue): number | null {
  if (typeof b === 'string' || a === null) return typeof b === 'string' ? null : b;
  const operator: AlertOperator | null = test.operator;
  if (operator === 'lt' || operator === 'lte') return Math.min(a, b);
  if (operator === 'outside' && test.threshold !== null) {
    const distance = (v: number) => Math.max(test.threshold! - v, v - (test.threshold_high ?? test.threshold!));
    return distance(b) > distance(a) ? b : a;
  }
  return Math.max(a, b);
}

/**
 * Replays one device's readings through the rule as the evaluator would have seen them: a breach opens
 * once it has held for the duration (also with no later reading, as the timer would), later breaches
 * raise the peak, and with auto-resolve it closes once the value has been back past the clear threshold
 * for the duration. Readings outside active hours neither open nor advance a breach.
 */
export function replay(rule: RuleInput, readings: Reading[], zone: string, now: Date): WouldBeAlert[] {
  const test = testOf(rule);
  const row = test as RuleRow; // breaches/clears read only the fields of Test
  const holdMs = test.duration_seconds * 1000;
  const alerts: WouldBeAlert[] = [];
  let pending: Pending | null = null;
  let open: WouldBeAlert | null = null;
  let clearSince: Date | null = null;

  const settle = (at: Date) => {
    if (pending && at.getTime() - pending.since.getTime() >= holdMs) {
      const textValue = typeof pending.first === 'string' ? pending.first : null;
      open = { startedAt: pending.since, openedAt: new Date(pending.since.getTime() + holdMs), resolvedAt: null, peakValue: pending.peak, textValue, previousText: null };
      alerts.push(open);
      pending = null;
    }
    if (open && clearSince && at.getTime() - clearSince.getTime() >= holdMs) {
      open.resolvedAt = new Date(clearSince.getTime() + holdMs);
      open = null;
      clearSince = null;
    }
  };

  for (const { ts, value } of readings) {
    settle(ts);
    if (open) {
      const current: WouldBeAlert = open;
      if (breaches(row, value)) {
        current.peakValue = worse(test, current.peakValue, value);
        clearSince = null;
      } else if (test.auto_resolve && clears(row, value)) {
        clearSince ??= ts;
      } else {
        clearSince = null;
      }
      settle(ts);
      continue;
    }
    if (!inActiveHours(test.active_hours, ts, zone)) continue;
    const held = pending as Pending | null; // assigned in settle(), which the compiler does not follow
    if (breaches(row, value)) pending = held ? { ...held, peak: worse(test, held.peak, value) } : { since: ts, peak: worse(test, null, value), first: value };
    else pending = null;
    settle(ts);
  }
  settle(now);
  return alerts;
}

/**
 * Replays a "changes" rule as the evaluator runs it: each value that differs from the one before (the
 * first reading may be the last one before the week, as a baseline) is a change; with auto-resolve each
 * change is a one-off notice, without, the first change opens an alert that stays open.
 */
export function replayChanges(rule: RuleInput, readings: Reading[], zone: string): WouldBeAlert[] {
  const alerts: WouldBeAlert[] = [];
  let previous: RuleValue | null = null;
  for (const { ts, value } of readings) {
    const before = previous;
    previous = value;
    if (before === null || before === value || typeof value !== 'string' || !inActiveHours(rule.activeHours ?? null, ts, zone)) continue;
    const autoResolve = rule.autoResolve ?? true;
    alerts.push({ startedAt: ts, openedAt: ts, resolvedAt: autoResolve ? ts : null, peakValue: null, textValue: value, previousText: String(before) });
    if (!autoResolve) break;
  }
  return alerts;
}

/**
 * Rule previews: which of the caller's devices a draft rule covers and what it would have opened over
 * the last week, from the raw readings (bounded by PREVIEW_MAX_DEVICES and PREVIEW_MAX_READINGS).
 */
export class AlertPreviewService {
  constructor(private readonly ctx: AppContext) {}

  async preview(scope: Scope, input: RuleInput, now = new Date()) {
    const metric = input.condition === 'door_open' ? 'door' : input.condition === 'metric' ? input.metric ?? null : null;
    const seen = metric && input.condition === 'metric' ? await rulesStore.metricSeen(this.ctx.db, scope.orgId, metric) : { number: true, text: false, value: false };
    const problems = validateRule({ ...input, scope: input.scope === 'global' ? 'organization' : input.scope }, () => seen);
    if (problems.length > 0) throw invalidFields(problems);

    const selection = { siteId: input.siteId ?? null, deviceId: input.deviceId ?? null, deviceKind: input.deviceKind ?? null };
    const found = await previewStore.devicesInScope(this.ctx.db, scope, selection, PREVIEW_MAX_DEVICES + 1);
    const devices = found.slice(0, PREVIEW_MAX_DEVICES);
    const from = new Date(now.getTime() - PREVIEW_DAYS * 86_400_000);
    const base = { from, to: now, devicesTruncated: found.length > PREVIEW_MAX_DEVICES, readingsTruncated: false };
    if (!metric) {
      // Silence and event rules depend on contact and event history the preview does not replay.
      return { ...base, evaluated: false, devices: devices.map((device) => ({ device, readings: 0, alerts: [] as WouldBeAlert[] })) };
    }

    const ids = devices.map((d) => d.id);
    const text = isTextRule({ condition: input.condition, operator: input.operator ?? null });
    const rows = text
      ? await previewStore.textReadings(this.ctx.db, scope.orgId, ids, metric, from, input.operator === 'changes', PREVIEW_MAX_READINGS + 1)
      : await previewStore.readings(this.ctx.db, scope.orgId, ids, metric, from, PREVIEW_MAX_READINGS + 1);
    const readingsTruncated = rows.length > PREVIEW_MAX_READINGS;
    const byDevice = new Map<string, Reading[]>();
    for (const row of rows.slice(0, PREVIEW_MAX_READINGS)) {
      const list = byDevice.get(row.device_id) ?? [];
      list.push({ ts: row.ts, value: row.value });
      byDevice.set(row.device_id, list);
    }
    const previews: DevicePreview[] = devices.map((device) => {
      const series = byDevice.get(device.id) ?? [];
      const alerts = input.operator === 'changes' ? replayChanges(input, series, device.timezone) : replay(input, series, device.timezone, now);
      return { device, readings: series.length, alerts };
    });
    return { ...base, readingsTruncated, evaluated: true, devices: previews };
  }
}
