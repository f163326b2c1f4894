import type { Condition, Operator, Rule, RuleInput, RuleScope, Severity } from '../../api/alerts';
import type { DeviceKind } from '../../api/types';

/**
 * What the form's "When" offers: the API's conditions, with metric rules split by the kind of value they
 * test (numbers, on/off values, text), so that each shows only the operators that suit it.
 */
export type FormCondition = Condition | 'flag' | 'text';

/** The rule editor's form state: text as typed, turned into the API's shape on submit or preview. */
export interface RuleDraft {
  name: string;
  scope: RuleScope;
  siteId: string;
  deviceId: string;
  deviceKind: DeviceKind | '';
  condition: FormCondition;
  metric: string;
  eventKind: string;
  operator: Operator;
  textValue: string;
  threshold: string;
  thresholdHigh: string;
  clearThreshold: string;
  clearThresholdHigh: string;
  duration: string;
  durationUnit: 'seconds' | 'minutes' | 'hours';
  severity: Severity;
  messageTemplate: string;
  activeHoursOn: boolean;
  days: number[];
  from: string;
  to: string;
  enabled: boolean;
  autoResolve: boolean;
  channelIds: string[];
}

const UNIT_SECONDS = { seconds: 1, minutes: 60, hours: 3600 } as const;

export const NUMERIC_CONDITIONS: FormCondition[] = ['metric', 'event'];
export const CONDITION_LABELS: Record<FormCondition, string> = {
  metric: 'A telemetry metric passes a threshold',
  flag: 'An on/off telemetry value is true or false',
  text: 'A telemetry text equals, differs from or changes',
  door_open: 'Door open too long',
  offline: 'Device offline (no contact)',
  no_data: 'No readings for a while',
  event: 'An event field passes a threshold',
};
const NUMBER_CHOICES: Partial<Record<Operator, string>> = {
  gt: 'above (>)', gte: 'at or above (≥)', lt: 'below (<)', lte: 'at or below (≤)', eq: 'equal to (=)', ne: 'not equal to (≠)', outside: 'outside the range',
};
const FLAG_CHOICES: Partial<Record<Operator, string>> = { is_true: 'true (on)', is_false: 'false (off)' };
const TEXT_CHOICES: Partial<Record<Operator, string>> = { equals: 'equal to', not_equals: 'not equal to', changes: 'changes (any new value)' };

/** The operators the form offers for a condition, with their labels, in order. */
export function operatorChoices(condition: FormCondition): [Operator, string][] {
  const choices = condition === 'flag' ? FLAG_CHOICES : condition === 'text' ? TEXT_CHOICES : NUMBER_CHOICES;
  return Object.entries(choices) as [Operator, string][];
}

/** The draft with another condition; an operator that does not suit it becomes the first one that does. */
export function withCondition(draft: RuleDraft, condition: FormCondition): RuleDraft {
  const choices = operatorChoices(condition).map(([operator]) => operator);
  return { ...draft, condition, operator: choices.includes(draft.operator) ? draft.operator : choices[0]! };
}

/** The form's condition for a stored rule: metric rules on on/off values and on text have their own. */
function formCondition(rule: Rule): FormCondition {
  if (rule.condition !== 'metric' || !rule.operator) return rule.condition;
  if (rule.operator === 'is_true' || rule.operator === 'is_false') return 'flag';
  if (rule.operator === 'equals' || rule.operator === 'not_equals' || rule.operator === 'changes') return 'text';
  return 'metric';
}
export const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function emptyDraft(): RuleDraft {
  return {
    name: '', scope: 'organization', siteId: '', deviceId: '', deviceKind: '', condition: 'metric', metric: 'temperature', eventKind: '',
    operator: 'gt', textValue: '', threshold: '', thresholdHigh: '', clearThreshold: '', clearThresholdHigh: '', duration: '5', durationUnit: 'minutes',
    severity: 'major', messageTemplate: '', activeHoursOn: false, days: [1, 2, 3, 4, 5, 6, 7], from: '08:00', to: '18:00',
    enabled: true, autoResolve: true, channelIds: [],
  };
}

const text = (n: number | null) => (n === null ? '' : String(n));

export function draftOf(rule: Rule): RuleDraft {
  const unit = rule.durationSeconds % 3600 === 0 ? 'hours' : rule.durationSeconds % 60 === 0 ? 'minutes' : 'seconds';
  return {
    name: rule.name, scope: rule.scope, siteId: rule.siteId ?? '', deviceId: rule.deviceId ?? '', deviceKind: rule.deviceKind ?? '',
    condition: formCondition(rule), metric: rule.metric ?? '', eventKind: rule.eventKind ?? '', operator: rule.operator ?? 'gt', textValue: rule.textValue ?? '',
    threshold: text(rule.threshold), thresholdHigh: text(rule.thresholdHigh), clearThreshold: text(rule.clearThreshold), clearThresholdHigh: text(rule.clearThresholdHigh),
    duration: String(rule.durationSeconds / UNIT_SECONDS[unit]), durationUnit: unit, severity: rule.severity, messageTemplate: rule.messageTemplate,
    activeHoursOn: rule.activeHours !== null, days: rule.activeHours?.days ?? [1, 2, 3, 4, 5, 6, 7], from: rule.activeHours?.from ?? '08:00', to: rule.activeHours?.to ?? '18:00',
    enabled: rule.enabled, autoResolve: rule.autoResolve, channelIds: rule.channelIds,
  };
}

/** A number typed by hand (a decimal comma accepted): null when empty, NaN when not a number. */
function number(value: string): number | null {
  const trimmed = value.trim().replace(',', '.');
  return trimmed ? Number(trimmed) : null;
}

/** Problems the form can see before asking the server, by the API's field names. */
export function localProblems(draft: RuleDraft): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!draft.name.trim()) problems.name = 'Enter a name.';
  for (const field of ['threshold', 'thresholdHigh', 'clearThreshold', 'clearThresholdHigh'] as const) {
    if (Number.isNaN(number(draft[field]))) problems[field] = 'Enter a number.';
  }
  const duration = Number(draft.duration.replace(',', '.'));
  if (!Number.isFinite(duration) || duration <= 0) problems.durationSeconds = 'Enter a duration above 0.';
  if (draft.condition === 'text' && draft.operator !== 'changes' && draft.textValue.length > 256) problems.textValue = 'Enter at most 256 characters.';
  if (draft.scope === 'site' && !draft.siteId) problems.siteId = 'Choose a site.';
  if (draft.scope === 'device' && !draft.deviceId) problems.deviceId = 'Choose a device.';
  if (draft.activeHoursOn && draft.days.length === 0) problems['activeHours.days'] = 'Choose at least one day.';
  return problems;
}

/** The API's rule from the form; fields that do not apply to the condition are sent as null. */
export function inputOf(draft: RuleDraft): RuleInput {
  const numeric = NUMERIC_CONDITIONS.includes(draft.condition);
  const range = numeric && draft.operator === 'outside';
  const condition: Condition = draft.condition === 'flag' || draft.condition === 'text' ? 'metric' : draft.condition;
  const takesMetric = condition === 'metric' || condition === 'event' || condition === 'no_data';
  const comparesText = draft.condition === 'text' && draft.operator !== 'changes';
  return {
    name: draft.name.trim(),
    scope: draft.scope,
    siteId: draft.scope === 'site' ? draft.siteId || null : null,
    deviceId: draft.scope === 'device' ? draft.deviceId || null : null,
    deviceKind: draft.deviceKind || null,
    condition,
    metric: takesMetric ? draft.metric.trim() || null : null,
    eventKind: draft.condition === 'event' ? draft.eventKind.trim() || null : null,
    operator: numeric || draft.condition === 'flag' || draft.condition === 'text' ? draft.operator : null,
    threshold: numeric ? number(draft.threshold) : null,
    thresholdHigh: range ? number(draft.thresholdHigh) : null,
    clearThreshold: numeric && draft.operator !== 'eq' && draft.operator !== 'ne' ? number(draft.clearThreshold) : null,
    clearThresholdHigh: range ? number(draft.clearThresholdHigh) : null,
    // Case-sensitive and compared as typed: spaces count.
    textValue: comparesText ? draft.textValue : null,
    durationSeconds: Math.round(Number(draft.duration.replace(',', '.')) * UNIT_SECONDS[draft.durationUnit]),
    severity: draft.severity,
    messageTemplate: draft.messageTemplate.trim() || null,
    activeHours: draft.activeHoursOn ? { days: [...draft.days].sort(), from: draft.from, to: draft.to } : null,
    enabled: draft.enabled,
    autoResolve: draft.autoResolve,
    channelIds: draft.channelIds,
  };
}

/** "temperature > 8 for 5 min" */
export function describeRule(rule: Rule): string {
  const duration = rule.durationSeconds % 3600 === 0 ? `${rule.durationSeconds / 3600} h` : rule.durationSeconds % 60 === 0 ? `${rule.durationSeconds / 60} min` : `${rule.durationSeconds} s`;
  const symbols: Partial<Record<Operator, string>> = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', ne: '≠', outside: 'outside' };
  switch (rule.operator) {
    case 'is_true': return `${rule.metric} is true for ${duration}`;
    case 'is_false': return `${rule.metric} is false for ${duration}`;
    case 'equals': return `${rule.metric} = “${rule.textValue}” for ${duration}`;
    case 'not_equals': return `${rule.metric} ≠ “${rule.textValue}” for ${duration}`;
    case 'changes': return `${rule.metric} changes`;
  }
  switch (rule.condition) {
    case 'offline': return `No contact for ${duration}`;
    case 'no_data': return `No ${rule.metric ?? 'readings'} for ${duration}`;
    case 'door_open': return `Door open for ${duration}`;
    default: {
      const limit = rule.operator === 'outside' ? `${rule.threshold} … ${rule.thresholdHigh}` : `${rule.threshold}`;
      return `${rule.metric} ${rule.operator ? symbols[rule.operator] : ''} ${limit} for ${duration}`;
    }
  }
}
