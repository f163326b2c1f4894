import type { ColumnType, Generated } from 'kysely';
import type { DeviceKind } from '../../../shared/devices.js';
import type { CreatedAt, UpdatedAt } from './schema-columns.js';

/** The alerts tables (migrations 0007, 0017 and 0047): rules, per-(rule, device) state, alerts, channels, the notification outbox. */
export type AlertSeverity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export type AlertCondition = 'metric' | 'event' | 'offline' | 'no_data' | 'door_open';
export type NumericOperator = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne' | 'outside';
/** On/off values (stored 0/1): `is_true` holds at 1, `is_false` at 0. */
export type FlagOperator = 'is_true' | 'is_false';
/** Text values: compared with the rule's `text_value` (case-sensitive), or any change from the previous value. */
export type TextOperator = 'equals' | 'not_equals' | 'changes';
export type AlertOperator = NumericOperator | FlagOperator | TextOperator;
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface AlertRulesTable {
  id: Generated<string>;
  org_id: string | null;
  scope: 'global' | 'organization' | 'site' | 'device';
  site_id: string | null;
  device_id: string | null;
  device_kind: DeviceKind | null;
  name: string;
  description: string | null;
  condition: AlertCondition;
  metric: string | null;
  event_kind: string | null;
  operator: AlertOperator | null;
  threshold: number | null;
  threshold_high: number | null;
  clear_threshold: number | null;
  clear_threshold_high: number | null;
  text_value: string | null;
  duration_seconds: number;
  severity: AlertSeverity;
  message_template: string;
  active_hours: ColumnType<ActiveHours | null, string | null, string | null>;
  enabled: Generated<boolean>;
  auto_resolve: Generated<boolean>;
  channel_ids: ColumnType<string[], string[] | undefined, string[]>;
  escalate_after_minutes: number | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** When a rule is in force, in the device's local time: ISO weekdays (1 = Monday) and an HH:MM window. */
export interface ActiveHours {
  days: number[];
  from: string;
  to: string;
}

/** A daily window (HH:MM, organization time zone; may cross midnight) when a channel holds non-critical notifications. */
export interface QuietHours {
  from: string;
  to: string;
}

/** How often a digest channel sends what it collected: every N minutes, or once a day at HH:MM (organization time zone). */
export type DigestSchedule = { every: 'minutes'; minutes: number } | { every: 'day'; at: string };

export interface AlertRuleStatesTable {
  rule_id: string;
  device_id: string;
  org_id: string;
  breach_since: Date | null;
  breach_value: number | null;
  breach_peak: number | null;
  clear_since: Date | null;
  last_ts: Date | null;
  last_value: number | null;
  breach_text: string | null;
  last_text: string | null;
  updated_at: UpdatedAt;
}

export interface AlertsTable {
  id: Generated<string>;
  org_id: string;
  site_id: string | null;
  device_id: string;
  rule_id: string | null;
  rule_name: string;
  condition: AlertCondition;
  metric: string | null;
  severity: AlertSeverity;
  status: Generated<AlertStatus>;
  message: string;
  threshold: number | null;
  first_value: number | null;
  latest_value: number | null;
  peak_value: number | null;
  first_text: string | null;
  latest_text: string | null;
  previous_text: string | null;
  breach_count: Generated<number>;
  started_at: Date;
  opened_at: CreatedAt;
  last_breach_at: UpdatedAt;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledge_comment: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution: 'auto' | 'manual' | 'rule_changed' | null;
  resolve_comment: Generated<string | null>;
  escalation_level: Generated<number>;
  next_escalation_at: Date | null;
  updated_at: UpdatedAt;
}

export interface NotificationChannelsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  kind: 'email' | 'webhook' | 'in_app';
  recipients: ColumnType<string[], string[] | undefined, string[]>;
  url: string | null;
  secret_sealed: string | null;
  quiet_hours: ColumnType<QuietHours | null, string | null, string | null>;
  digest: ColumnType<DigestSchedule | null, string | null, string | null>;
  next_digest_at: Date | null;
  enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface NotificationOutboxTable {
  id: Generated<number>;
  org_id: string;
  channel_id: string;
  alert_id: string | null;
  event: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  status: Generated<OutboxStatus>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_until: Date | null;
  last_error: string | null;
  response_status: number | null;
  delivered_at: Date | null;
  digest_id: number | null;
  created_at: CreatedAt;
}

/** `held`: waiting for its channel's digest; `digested`: sent inside the digest row `digest_id`. */
export type OutboxStatus = 'pending' | 'delivered' | 'failed' | 'held' | 'digested';

/** Per organization ('global', and '*' for the latest overall) the version of the last rule change (migration 0017). */
export interface AlertRuleVersionsTable {
  scope_key: string;
  version: number;
}
