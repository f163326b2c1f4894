import type { Condition, Operator, Rule, RuleInput, RuleScope, Severity } from '../../api/alerts';
import type { DeviceKind } from '../../api/types';

/** The rule editor's form state: text as typed, turned into the API's shape on submit or preview. */
export interface RuleDraft {
  name: string;
  scope: RuleScope;
  siteId: string;
  deviceId: string;
  deviceKind: DeviceKind | '';
  condition: Condition;
  metric: string;
  eventKind: string;
  operator: Operator;
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

export const NUMERIC_CONDITIONS: Condition[] = ['metric', 'event'];
export const CONDITION_LABELS: Record<Condition, string> = {
  metric: 'A telemetry metric passes a threshold',
  door_open: 'Door open too long',
  offline: 'Device offline (no contact)',
  no_data: 'No readings for a while',
  event: 'An event field passes a threshold',
};
export const OPERATOR_CHOICES: Record<Operator, string> = {
  gt: 'above (>)', gte: 'at or above (≥)', lt: 'below (<)', lte: 'at or below (≤)', eq: 'equal to (=)', ne: 'not equal to (≠)', outside: 'outside the range',
};
export const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function emptyDraft(): RuleDraft {
  return {
    name: '', scope: 'organization', siteId: '', deviceId: '', deviceKind: '', condition: 'metric', metric: 'temperature', eventKind: '',
    operator: 'gt', threshold: '', thresholdHigh: '', clearThreshold: '', clearThresholdHigh: '', duration: '5', durationUnit: 'minutes',
    severity: 'major', messageTemplate: '', activeHoursOn: false, days: [1, 2, 3, 4, 5, 6, 7], from: '08:00', to: '18:00',
    enabled: true, autoResolve: true, channelIds: [],
  };
}

const text = (n: number | null) => (n === null ? '' : String(n));

export function draftOf(rule: Rule): RuleDraft {
  const unit = rule.durationSeconds % 3600 === 0 ? 'hours' : rule.durationSeconds % 60 === 0 ? 'minutes' : 'seconds';
  return {
    name: rule.name, scope: rule.scope, siteId: rule.siteId ?? '', deviceId: rule.deviceId ?? '', deviceKind: rule.deviceKind ?? '',
    condition: rule.condition, metric: rule.metric ?? '', eventKind: rule.eventKind ?? '', operator: rule.operator ?? 'gt',
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
  if (draft.scope === 'site' && !draft.siteId) problems.siteId = 'Choose a site.';
  if (draft.scope === 'device' && !draft.deviceId) problems.deviceId = 'Choose a device.';
  if (draft.activeHoursOn && draft.days.length === 0) problems['activeHours.days'] = 'Choose at least one day.';
  return problems;
}

/** The API's rule from the form; fields that do not apply to the condition are sent as null. */
export function inputOf(draft: RuleDraft): RuleInput {
  const numeric = NUMERIC_CONDITIONS.includes(draft.condition);
  const range = numeric && draft.operator === 'outside';
  const takesMetric = draft.condition === 'metric' || draft.condition === 'event' || draft.condition === 'no_data';
  return {
    name: draft.name.trim(),
    scope: draft.scope,
    siteId: draft.scope === 'site' ? draft.siteId || null : null,
    deviceId: draft.scope === 'device' ? draft.deviceId || null : null,
    deviceKind: draft.deviceKind || null,
    condition: draft.condition,
    metric: takesMetric ? draft.metric.trim() || null : null,
    eventKind: draft.condition === 'event' ? draft.eventKind.trim() || null : null,
    operator: numeric ? draft.operator : null,
    threshold: numeric ? number(draft.threshold) : null,
    thresholdHigh: range ? number(draft.thresholdHigh) : null,
    clearThreshold: numeric && draft.operator !== 'eq' && draft.operator !== 'ne' ? number(draft.clearThreshold) : null,
    clearThresholdHigh: range ? number(draft.clearThresholdHigh) : null,
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
  const symbols: Record<Operator, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', ne: '≠', outside: 'outside' };
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
