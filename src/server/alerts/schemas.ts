import { Type } from 'typebox';
import { Nullable, NullableTimestamp, Timestamp, Uuid } from '../core/http/schemas.js';
import { MAX_DURATION_SECONDS, MAX_TEXT_VALUE_LENGTH } from './rule-model.js';

/** TypeBox schemas of the alerting API (validation, types and the OpenAPI document). */
export const SeverityName = Type.Union([Type.Literal('critical'), Type.Literal('major'), Type.Literal('minor'), Type.Literal('warning'), Type.Literal('info')]);
export const RuleScope = Type.Union([Type.Literal('global'), Type.Literal('organization'), Type.Literal('site'), Type.Literal('device')]);
export const Condition = Type.Union([Type.Literal('metric'), Type.Literal('event'), Type.Literal('offline'), Type.Literal('no_data'), Type.Literal('door_open')], {
  description: 'metric: a telemetry metric; event: a numeric event field; offline: no contact for the duration; no_data: no reading (of `metric`, or any) for the duration; door_open: door = 1 for the duration',
});
export const Operator = Type.Union(
  [Type.Literal('gt'), Type.Literal('gte'), Type.Literal('lt'), Type.Literal('lte'), Type.Literal('eq'), Type.Literal('ne'), Type.Literal('outside'),
    Type.Literal('is_true'), Type.Literal('is_false'), Type.Literal('equals'), Type.Literal('not_equals'), Type.Literal('changes')],
  {
    description: 'Numbers: >, ≥, <, ≤, =, ≠, or outside the range threshold … thresholdHigh. On/off values (sent as booleans, stored 1/0): '
      + 'is_true, is_false. Text values: equals / not_equals `textValue` (case-sensitive), changes (differs from the value before it)',
  },
);
export const DeviceKind = Type.Union([Type.Literal('speed_radar'), Type.Literal('camera'), Type.Literal('refrigeration'), Type.Literal('sensor')]);
export const AlertStatus = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]);

const ActiveHours = Type.Object({
  days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: 'ISO weekdays, 1 = Monday' }),
  from: Type.String({ description: 'HH:MM, in the device\'s time zone (its site\'s, else the organization\'s)' }),
  to: Type.String({ description: 'HH:MM; before "from" means the window crosses midnight' }),
});

const Limit = Type.Number({ minimum: -1e9, maximum: 1e9 });

export const RuleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  scope: RuleScope,
  siteId: Type.Optional(Nullable(Uuid)),
  deviceId: Type.Optional(Nullable(Uuid)),
  deviceKind: Type.Optional(Nullable(DeviceKind)),
  condition: Condition,
  metric: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'The telemetry metric, or for event rules the event field (speed, speedOverLimit, attributes.<name>)' }))),
  eventKind: Type.Optional(Nullable(Type.String({ maxLength: 50, description: 'Event rules: only events of this kind' }))),
  operator: Type.Optional(Nullable(Operator)),
  threshold: Type.Optional(Nullable(Limit)),
  thresholdHigh: Type.Optional(Nullable(Limit)),
  clearThreshold: Type.Optional(Nullable({ ...Limit, description: 'Hysteresis: an open alert clears only past this value (default: the threshold)' })),
  clearThresholdHigh: Type.Optional(Nullable(Limit)),
  textValue: Type.Optional(Nullable(Type.String({ maxLength: MAX_TEXT_VALUE_LENGTH, description: 'equals / not_equals: the text to compare with, case-sensitive' }))),
  durationSeconds: Type.Integer({ description: `How long the condition must hold (and the clear condition, to resolve); 1 … ${MAX_DURATION_SECONDS}. Not used by "changes"` }),
  severity: SeverityName,
  messageTemplate: Type.Optional(Nullable(Type.String({
    minLength: 1, maxLength: 500,
    description: 'Placeholders: {{value}} {{threshold}} {{clearThreshold}} {{peak}} {{previous}} {{metric}} {{device}} {{serial}} {{rule}} {{severity}} {{duration}}',
  }))),
  activeHours: Type.Optional(Nullable(ActiveHours)),
  enabled: Type.Optional(Type.Boolean()),
  autoResolve: Type.Optional(Type.Boolean()),
  channelIds: Type.Optional(Type.Array(Uuid, { maxItems: 10, uniqueItems: true, description: 'Notification channels, in escalation order' })),
  escalateAfterMinutes: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 10080 }))),
};

export const Rule = Type.Object({
  id: Uuid,
  scope: RuleScope,
  siteId: Nullable(Uuid),
  deviceId: Nullable(Uuid),
  deviceKind: Nullable(DeviceKind),
  name: Type.String(),
  description: Nullable(Type.String()),
  condition: Condition,
  metric: Nullable(Type.String()),
  eventKind: Nullable(Type.String()),
  operator: Nullable(Operator),
  threshold: Nullable(Type.Number()),
  thresholdHigh: Nullable(Type.Number()),
  clearThreshold: Nullable(Type.Number()),
  clearThresholdHigh: Nullable(Type.Number()),
  textValue: Nullable(Type.String()),
  durationSeconds: Type.Integer(),
  severity: SeverityName,
  messageTemplate: Type.String(),
  activeHours: Nullable(ActiveHours),
  enabled: Type.Boolean(),
  autoResolve: Type.Boolean(),
  channelIds: Type.Array(Uuid),
  escalateAfterMinutes: Nullable(Type.Integer()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const Alert = Type.Object({
  id: Uuid,
  deviceId: Uuid,
  siteId: Nullable(Uuid),
  ruleId: Nullable(Uuid),
  ruleName: Type.String(),
  condition: Condition,
  metric: Nullable(Type.String()),
  severity: SeverityName,
  status: AlertStatus,
  message: Type.String(),
  threshold: Nullable(Type.Number()),
  firstValue: Nullable(Type.Number()),
  latestValue: Nullable(Type.Number()),
  peakValue: Nullable(Type.Number()),
  firstText: Nullable(Type.String({ description: 'Text rules: the value when the alert opened (the new value, for "changes")' })),
  latestText: Nullable(Type.String({ description: 'Text rules: the latest value' })),
  previousText: Nullable(Type.String({ description: '"changes" rules: the value before the change' })),
  breachCount: Type.Integer(),
  startedAt: Timestamp,
  openedAt: Timestamp,
  lastBreachAt: Timestamp,
  acknowledgedAt: NullableTimestamp,
  acknowledgedBy: Nullable(Uuid),
  acknowledgeComment: Nullable(Type.String()),
  resolvedAt: NullableTimestamp,
  resolvedBy: Nullable(Uuid),
  resolveComment: Nullable(Type.String({ description: 'What was done about it (the corrective action), given when resolving by hand' })),
  resolution: Nullable(Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Literal('rule_changed')])),
});
