import { DateTime } from 'luxon';
import type { ActiveHours, AlertCondition, AlertOperator, AlertRulesTable, AlertSeverity, FlagOperator, NumericOperator, TextOperator } from '../core/db/schema.js';
import type { DeviceKind } from '../../shared/devices.js';
import type { FieldError } from '../core/http/errors.js';
import type { Selectable } from 'kysely';

/**
 * What an alert rule is and means, without I/O: the fields, their validation, the breach and clear
 * tests (with hysteresis), active hours and message templates. See docs/alerts.md.
 */
export type RuleRow = Selectable<AlertRulesTable>;
export type RuleScope = RuleRow['scope'];

export const SEVERITIES: readonly AlertSeverity[] = ['critical', 'major', 'minor', 'warning', 'info'];
export const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 5, major: 4, minor: 3, warning: 2, info: 1 };

/** Metrics every device kind is known to send; a rule may also name any metric the organization's devices have sent. */
export const KNOWN_METRICS: Record<DeviceKind, readonly string[]> = {
  refrigeration: ['temperature', 'pressure', 'door', 'heater', 'compressor', 'fan', 'humidity'],
  speed_radar: ['battery', 'voltage', 'temperature'],
  camera: ['fps', 'temperature'],
  sensor: ['temperature', 'humidity', 'battery', 'voltage', 'pressure'],
};
const ALL_KNOWN_METRICS = new Set(Object.values(KNOWN_METRICS).flat());
/** Event fields a rule can test: the speed columns, or an attribute (`attributes.<name>`). */
const EVENT_FIELD = /^(speed|speedLimit|speedOverLimit|attributes\.[A-Za-z0-9_.-]{1,64})$/;

export const PLACEHOLDERS = ['value', 'threshold', 'clearThreshold', 'peak', 'previous', 'metric', 'device', 'serial', 'rule', 'severity', 'duration'] as const;
// `{{ name }}`, the name trimmed in code: spaces matched by the pattern around a lazy name made it
// backtrack cubically (a 500-character "{{   …" took over half a second). A name holds no brace, so
// the scan from one "{{" never runs past the next: linear in the template's length.
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

export const NUMERIC_OPERATORS: readonly NumericOperator[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'outside'];
export const FLAG_OPERATORS: readonly FlagOperator[] = ['is_true', 'is_false'];
export const TEXT_OPERATORS: readonly TextOperator[] = ['equals', 'not_equals', 'changes'];
/** The longest text an `equals` / `not_equals` rule compares with. */
export const MAX_TEXT_VALUE_LENGTH = 256;

/** What kind of value an operator tests: numbers, on/off values (the 0/1 series) or text. */
export function operatorFamily(operator: AlertOperator): 'number' | 'flag' | 'text' {
  if ((TEXT_OPERATORS as readonly string[]).includes(operator)) return 'text';
  if ((FLAG_OPERATORS as readonly string[]).includes(operator)) return 'flag';
  return 'number';
}

/** A rule that reads a text metric (telemetry_values) rather than the numeric series. */
export function isTextRule(rule: Pick<RuleRow, 'condition' | 'operator'>): boolean {
  return rule.condition === 'metric' && rule.operator !== null && operatorFamily(rule.operator) === 'text';
}

/** The longest a condition may be required to hold (a week); anything longer is a mistake. */
export const MAX_DURATION_SECONDS = 7 * 86_400;

export interface RuleInput {
  name: string;
  description?: string | null;
  scope: RuleScope;
  siteId?: string | null;
  deviceId?: string | null;
  deviceKind?: DeviceKind | null;
  condition: AlertCondition;
  metric?: string | null;
  eventKind?: string | null;
  operator?: AlertOperator | null;
  threshold?: number | null;
  thresholdHigh?: number | null;
  clearThreshold?: number | null;
  clearThresholdHigh?: number | null;
  textValue?: string | null;
  durationSeconds: number;
  severity: AlertSeverity;
  messageTemplate?: string | null;
  activeHours?: ActiveHours | null;
  enabled?: boolean;
  autoResolve?: boolean;
  channelIds?: string[];
  escalateAfterMinutes?: number | null;
}

export function defaultTemplate(condition: AlertCondition, operator?: AlertOperator | null): string {
  if (operator === 'changes') return '{{device}}: {{metric}} changed from {{previous}} to {{value}}';
  if (operator === 'not_equals') return '{{device}}: {{metric}} is {{value}}, not {{threshold}}';
  if (operator && operator !== 'eq' && operator !== 'ne' && operatorFamily(operator) !== 'number') return '{{device}}: {{metric}} is {{value}}';
  switch (condition) {
    case 'offline': return '{{device}} has not been heard from for {{duration}}';
    case 'no_data': return '{{device}} sent no {{metric}} for {{duration}}';
    case 'door_open': return '{{device}}: door open for more than {{duration}}';
    default: return '{{device}}: {{metric}} is {{value}} (limit {{threshold}})';
  }
}

/**
 * Whether the organization's devices (any organization's, for a global rule) have sent a metric as numbers,
 * as text, or as any stored value (text or JSON: what a no-data rule may watch).
 */
export interface MetricSeen {
  number: boolean;
  text: boolean;
  value: boolean;
}

/**
 * Checks a complete rule (a create, or a patch merged onto the stored rule) and returns the problems,
 * by field. `seen` says how the organization's devices have sent a metric (numbers, text, both or never).
 */
export function validateRule(rule: RuleInput, seen: (metric: string) => MetricSeen): FieldError[] {
  const problems: FieldError[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  if (rule.scope === 'global' && (rule.siteId || rule.deviceId)) problem('scope', 'a global rule names no site or device');
  if (rule.scope === 'organization' && (rule.siteId || rule.deviceId)) problem('scope', 'an organization rule names no site or device; use scope "site" or "device"');
  if (rule.scope === 'site' && !rule.siteId) problem('siteId', 'is required for a site rule');
  if (rule.scope === 'site' && rule.deviceId) problem('deviceId', 'a site rule names no device');
  if (rule.scope === 'device' && !rule.deviceId) problem('deviceId', 'is required for a device rule');
  if (rule.scope === 'device' && rule.siteId) problem('siteId', 'a device rule names no site');

  if (!Number.isInteger(rule.durationSeconds) || rule.durationSeconds < 1) problem('durationSeconds', 'must be at least 1 second');
  else if (rule.durationSeconds > MAX_DURATION_SECONDS) problem('durationSeconds', `must be at most ${MAX_DURATION_SECONDS} seconds (7 days)`);

  const numeric = rule.condition === 'metric' || rule.condition === 'event';
  if (rule.condition === 'metric') {
    if (!rule.metric) problem('metric', 'is required for a metric rule');
    else validateValueType(rule, rule.metric, seen(rule.metric), problem);
  }
  if (rule.condition === 'event') {
    if (!rule.metric) problem('metric', 'is required for an event rule: the event field to test (speed, speedOverLimit or attributes.<name>)');
    else if (!EVENT_FIELD.test(rule.metric)) problem('metric', 'an event field is speed, speedLimit, speedOverLimit or attributes.<name>');
  }
  if (rule.condition === 'event' && rule.operator && operatorFamily(rule.operator) === 'text') {
    problem('operator', `event rules test numbers and on/off values: use ${[...NUMERIC_OPERATORS, ...FLAG_OPERATORS].join(', ')}`);
  }
  if (rule.condition === 'no_data' && rule.metric && !ALL_KNOWN_METRICS.has(rule.metric) && !seen(rule.metric).number && !seen(rule.metric).value) {
    problem('metric', `"${rule.metric}" is not a metric any of your devices has sent`);
  }
  if (!numeric) {
    for (const field of ['operator', 'threshold', 'thresholdHigh', 'clearThreshold', 'clearThresholdHigh', 'textValue'] as const) {
      if (rule[field] != null) problem(field, `a ${rule.condition} rule has no ${field}`);
    }
  }
  if (rule.condition !== 'event' && rule.eventKind) problem('eventKind', 'only event rules name an event kind');
  if (numeric) validateOperands(rule, problem);

  if (rule.activeHours) validateActiveHours(rule.activeHours, problem);
  const template = rule.messageTemplate ?? defaultTemplate(rule.condition, rule.operator);
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0) problem('messageTemplate', `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((p) => `{{${p}}}`).join(', ')}; use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`);
  if (rule.escalateAfterMinutes != null && (rule.channelIds?.length ?? 0) < 2) problem('escalateAfterMinutes', 'escalation needs at least two channels (the first is notified at once, the next after each wait)');
  return problems;
}

/**
 * The operator must suit how the devices send the metric: numbers (and on/off values, sent as booleans
 * and stored 0/1) take the numeric and on/off operators, text takes equals / not_equals / changes.
 */
function validateValueType(rule: RuleInput, metric: string, seen: MetricSeen, problem: (field: string, message: string) => void): void {
  const asNumber = ALL_KNOWN_METRICS.has(metric) || seen.number;
  if (!asNumber && !seen.text) return problem('metric', `"${metric}" is not a metric any of your devices has sent`);
  if (!rule.operator) return;
  const family = operatorFamily(rule.operator);
  if (family === 'text' && !seen.text) {
    problem('operator', `"${rule.operator}" tests text, and your devices send "${metric}" as numbers: use ${[...NUMERIC_OPERATORS, ...FLAG_OPERATORS].join(', ')}`);
  } else if (family !== 'text' && !asNumber) {
    problem('operator', `"${rule.operator}" tests numbers, and your devices send "${metric}" as text: use ${TEXT_OPERATORS.join(', ')}`);
  }
}

/** What the operator compares with: thresholds for numbers, a text for equals / not_equals, nothing for on/off values and changes. */
function validateOperands(rule: RuleInput, problem: (field: string, message: string) => void): void {
  const { operator } = rule;
  if (!operator) return problem('operator', `is required: ${NUMERIC_OPERATORS.join(', ')}, ${FLAG_OPERATORS.join(', ')}; for text ${TEXT_OPERATORS.join(', ')}`);
  const family = operatorFamily(operator);
  if (family === 'number') {
    if (rule.textValue != null) problem('textValue', 'only equals and not_equals rules take a textValue');
    return validateThresholds(rule, operator as NumericOperator, problem);
  }
  for (const field of ['threshold', 'thresholdHigh', 'clearThreshold', 'clearThresholdHigh'] as const) {
    if (rule[field] != null) problem(field, `"${operator}" takes no ${field}: ${family === 'flag' ? 'it tests an on/off value (1 or 0)' : 'it tests text'}`);
  }
  if (operator === 'changes' && rule.textValue != null) problem('textValue', '"changes" compares each value with the one before: it takes no textValue');
  if ((operator === 'equals' || operator === 'not_equals') && rule.textValue == null) problem('textValue', `is required for "${operator}": the text to compare with (case-sensitive)`);
  if (family === 'flag' && rule.textValue != null) problem('textValue', 'only equals and not_equals rules take a textValue');
}

function validateThresholds(rule: RuleInput, operator: NumericOperator, problem: (field: string, message: string) => void): void {
  const { threshold, thresholdHigh, clearThreshold, clearThresholdHigh } = rule;
  if (threshold == null) return problem('threshold', 'is required');
  if (operator === 'outside') {
    if (thresholdHigh == null) return problem('thresholdHigh', 'is required for "outside": the range is threshold … thresholdHigh');
    if (thresholdHigh <= threshold) return problem('thresholdHigh', 'must be above threshold');
    if ((clearThreshold == null) !== (clearThresholdHigh == null)) return problem('clearThreshold', 'give both clearThreshold and clearThresholdHigh, or neither');
    if (clearThreshold != null && clearThresholdHigh != null && (clearThreshold < threshold || clearThresholdHigh > thresholdHigh || clearThreshold >= clearThresholdHigh)) {
      return problem('clearThreshold', 'the clear range must lie inside the alert range (threshold ≤ clearThreshold < clearThresholdHigh ≤ thresholdHigh)');
    }
    return;
  }
  if (thresholdHigh != null) problem('thresholdHigh', 'only "outside" takes a thresholdHigh');
  if (clearThresholdHigh != null) problem('clearThresholdHigh', 'only "outside" takes a clearThresholdHigh');
  if (clearThreshold == null) return;
  if ((operator === 'gt' || operator === 'gte') && clearThreshold > threshold) {
    problem('clearThreshold', `must be at or below the threshold (${threshold}) for "${operator}": the alert clears when the value falls back`);
  } else if ((operator === 'lt' || operator === 'lte') && clearThreshold < threshold) {
    problem('clearThreshold', `must be at or above the threshold (${threshold}) for "${operator}": the alert clears when the value rises back`);
  } else if (operator === 'eq' || operator === 'ne') {
    problem('clearThreshold', `"${operator}" has no clear threshold: it clears when the condition stops holding`);
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function validateActiveHours(hours: ActiveHours, problem: (field: string, message: string) => void): void {
  if (!HHMM.test(hours.from)) problem('activeHours.from', 'must be HH:MM (00:00–23:59)');
  if (!HHMM.test(hours.to)) problem('activeHours.to', 'must be HH:MM (00:00–23:59)');
  if (hours.days.length === 0 || hours.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) problem('activeHours.days', 'ISO weekdays 1 (Monday) to 7 (Sunday), at least one');
}

export function unknownPlaceholders(template: string): string[] {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => (m[1] ?? '').trim());
  return [...new Set(names.filter((n) => !(PLACEHOLDERS as readonly string[]).includes(n)))];
}

export function renderMessage(template: string, values: Partial<Record<(typeof PLACEHOLDERS)[number], string | number | null>>): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    const value = values[name.trim() as (typeof PLACEHOLDERS)[number]];
    if (value === null || value === undefined) return '–';
    return typeof value === 'number' ? String(Math.round(value * 100) / 100) : value;
  });
}

export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function compare(operator: NumericOperator, value: number, low: number, high: number | null): boolean {
  switch (operator) {
    case 'gt': return value > low;
    case 'gte': return value >= low;
    case 'lt': return value < low;
    case 'lte': return value <= low;
    case 'eq': return value === low;
    case 'ne': return value !== low;
    case 'outside': return value < low || value > (high ?? low);
  }
}

/** A reading as rules test it: a number (on/off values as 1/0) or a text. */
export type RuleValue = number | string;

/** Whether a value breaches the rule (built-in door rule: door = 1; on/off values: at least 0.5 is on). */
export function breaches(rule: RuleRow, value: RuleValue): boolean {
  if (rule.condition === 'door_open') return typeof value === 'number' && value >= 0.5;
  if (rule.operator === null) return false;
  if (typeof value === 'string') {
    if (rule.operator === 'equals') return value === rule.text_value;
    if (rule.operator === 'not_equals') return value !== rule.text_value;
    return false;
  }
  if (rule.operator === 'is_true') return value >= 0.5;
  if (rule.operator === 'is_false') return value < 0.5;
  if (operatorFamily(rule.operator) !== 'number' || rule.threshold === null) return false;
  return compare(rule.operator as NumericOperator, value, rule.threshold, rule.threshold_high);
}

/**
 * Whether a value has come back past the clear threshold. Between the threshold and the clear threshold
 * (the hysteresis band) an open alert neither clears nor counts as a new breach.
 */
export function clears(rule: RuleRow, value: RuleValue): boolean {
  if (rule.condition === 'door_open') return typeof value === 'number' && value < 0.5;
  // Text and on/off values have no hysteresis: the alert clears as soon as the condition stops holding.
  if (typeof value === 'string' || (rule.operator !== null && operatorFamily(rule.operator) !== 'number')) return !breaches(rule, value);
  if (rule.operator === null || rule.threshold === null) return true;
  if (rule.operator === 'outside') {
    const low = rule.clear_threshold ?? rule.threshold;
    const high = rule.clear_threshold_high ?? rule.threshold_high ?? low;
    return value >= low && value <= high;
  }
  return !compare(rule.operator as NumericOperator, value, rule.clear_threshold ?? rule.threshold, null);
}

/** Whether the rule is in force at `ts` in the device's time zone. */
export function inActiveHours(hours: ActiveHours | null, ts: Date, zone: string): boolean {
  if (!hours) return true;
  const local = DateTime.fromJSDate(ts, { zone });
  const minutes = local.hour * 60 + local.minute;
  const [fromH, fromM] = hours.from.split(':').map(Number) as [number, number];
  const [toH, toM] = hours.to.split(':').map(Number) as [number, number];
  const from = fromH * 60 + fromM;
  const to = toH * 60 + toM;
  // A window such as 22:00–06:00 crosses midnight: its early hours belong to the day it started.
  if (from <= to) return hours.days.includes(local.weekday) && minutes >= from && minutes < to;
  if (minutes >= from) return hours.days.includes(local.weekday);
  return minutes < to && hours.days.includes(local.minus({ days: 1 }).weekday);
}

/**
 * What "the same thing" is for priority: a more specific rule shadows the more general ones that
 * watch the same key (metric, event field, silence), as device > site > organization > global.
 */
export function priorityKey(rule: RuleRow): string {
  switch (rule.condition) {
    case 'metric': return `metric:${rule.metric}`;
    case 'door_open': return 'metric:door';
    case 'event': return `event:${rule.event_kind ?? '*'}:${rule.metric}`;
    case 'no_data': return `no_data:${rule.metric ?? '*'}`;
    case 'offline': return 'offline';
  }
}

export const SCOPE_PRIORITY: Record<RuleScope, number> = { device: 1, site: 2, organization: 3, global: 4 };

/** The metric a rule reads from the numeric series (door rules read `door`), or null when it reads none (text rules read telemetry_values). */
export function telemetryMetric(rule: RuleRow): string | null {
  if (rule.condition === 'metric') return isTextRule(rule) ? null : rule.metric;
  if (rule.condition === 'door_open') return 'door';
  return null;
}
