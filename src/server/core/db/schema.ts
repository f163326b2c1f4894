import type { ColumnType, Generated } from 'kysely';
import type { Role } from '../../../shared/roles.js';

/** Every table Vigil's stores touch, as the migrations in `./migrations` create them. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  slug: string;
  max_users: number | null;
  max_devices: number | null;
  allowed_email_domains: ColumnType<string[], string[] | undefined, string[]>;
  units: Generated<'mph' | 'kmh'>;
  timezone: Generated<string>;
  public_sharing: Generated<boolean>;
  public_photos: Generated<boolean>;
  retention_days: number | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SitesTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  timezone: Generated<string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  password_hash: string;
  is_active: Generated<boolean>;
  is_superadmin: Generated<boolean>;
  password_changed_at: UpdatedAt;
  last_login_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: Role;
  site_ids: string[] | null;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionsTable {
  id: Generated<string>;
  token_hash: string;
  user_id: string;
  active_org_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: CreatedAt;
  last_seen_at: UpdatedAt;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: CreatedAt;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export interface InvitationsTable {
  id: Generated<string>;
  org_id: string;
  email: string;
  role: Role;
  site_ids: string[] | null;
  token_hash: string;
  invited_by: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
}

export interface RegistrationCodesTable {
  id: Generated<string>;
  org_id: string;
  code_hash: string;
  code_prefix: string;
  label: string | null;
  role: Role;
  site_ids: string[] | null;
  max_uses: number;
  uses: Generated<number>;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface PasswordResetsTable {
  id: Generated<string>;
  user_id: string;
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

export interface SetupTokensTable {
  id: Generated<boolean>;
  token_hash: string;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<number>;
  org_id: string | null;
  actor_user_id: string | null;
  actor_label: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
}

export type DeviceKind = 'speed_radar' | 'camera' | 'refrigeration' | 'sensor';

export interface DevicesTable {
  id: Generated<string>;
  org_id: string;
  site_id: string | null;
  kind: DeviceKind;
  name: string;
  serial: string;
  lat: number | null;
  lon: number | null;
  speed_limit: number | null;
  speed_units: 'mph' | 'kmh' | null;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  reported_error: string | null;
  last_seen_at: Date | null;
  offline_announced_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DeviceKeysTable {
  id: Generated<string>;
  org_id: string;
  device_id: string;
  key_hash: string;
  key_prefix: string;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface CommunityDevicesTable {
  device_id: string;
  org_id: string;
  shared_at: CreatedAt;
}

export type AlertSeverity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export type AlertCondition = 'metric' | 'event' | 'offline' | 'no_data' | 'door_open';
export type AlertOperator = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne' | 'outside';
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
  enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AlertSettingsTable {
  org_id: string;
  allow_private_webhooks: boolean;
  updated_at: UpdatedAt;
}

export interface NotificationOutboxTable {
  id: Generated<number>;
  org_id: string;
  channel_id: string;
  alert_id: string | null;
  event: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_until: Date | null;
  last_error: string | null;
  response_status: number | null;
  delivered_at: Date | null;
  created_at: CreatedAt;
}

export type ReportKind = 'speed_study' | 'compliance';
export type ReportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ReportsTable {
  id: Generated<string>;
  org_id: string;
  site_id: string | null;
  kind: ReportKind;
  title: string;
  parameters: ColumnType<Record<string, unknown>, string, string>;
  requested_by: string | null;
  requested_by_label: string | null;
  requester_site_ids: string[] | null;
  requested_at: CreatedAt;
  status: Generated<ReportStatus>;
  progress: Generated<number>;
  error: string | null;
  attempts: Generated<number>;
  locked_until: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  pdf_key: string | null;
  csv_key: string | null;
  events_csv_key: string | null;
  size_bytes: number | null;
}

export interface ReportSettingsTable {
  org_id: string;
  include_photos: boolean;
  updated_at: UpdatedAt;
}

export type MaintenanceType = 'preventive' | 'corrective' | 'inspection';

export interface MaintenanceRecordsTable {
  id: Generated<string>;
  org_id: string;
  device_id: string;
  type: MaintenanceType;
  performed_at: Date;
  performed_by: string;
  description: string;
  cost: number | null;
  currency: string | null;
  parts: ColumnType<string[], string[] | undefined, string[]>;
  notes: string | null;
  /** A calendar day, 'YYYY-MM-DD'. */
  next_due_on: string | null;
  reminded_for: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MaintenanceAttachmentsTable {
  id: Generated<string>;
  org_id: string;
  record_id: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  storage_key: string;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface MaintenanceFileDeletionsTable {
  storage_key: string;
  queued_at: CreatedAt;
}

export interface MaintenanceSettingsTable {
  org_id: string;
  reminder_days: number;
  updated_at: UpdatedAt;
}

export interface Database {
  community_devices: CommunityDevicesTable;
  devices: DevicesTable;
  device_keys: DeviceKeysTable;
  organizations: OrganizationsTable;
  sites: SitesTable;
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  invitations: InvitationsTable;
  registration_codes: RegistrationCodesTable;
  password_resets: PasswordResetsTable;
  setup_tokens: SetupTokensTable;
  audit_log: AuditLogTable;
  alert_rules: AlertRulesTable;
  alert_rule_states: AlertRuleStatesTable;
  alerts: AlertsTable;
  notification_channels: NotificationChannelsTable;
  alert_settings: AlertSettingsTable;
  notification_outbox: NotificationOutboxTable;
  reports: ReportsTable;
  report_settings: ReportSettingsTable;
  maintenance_records: MaintenanceRecordsTable;
  maintenance_attachments: MaintenanceAttachmentsTable;
  maintenance_settings: MaintenanceSettingsTable;
  maintenance_file_deletions: MaintenanceFileDeletionsTable;
}
