import type { ColumnType, Generated } from 'kysely';
import type { DeviceKind } from '../../../shared/devices.js';
import type { MemberRole, Role } from '../../../shared/roles.js';
import type { CreatedAt, UpdatedAt } from './schema-columns.js';
import type { AlertRulesTable, AlertRuleStatesTable, AlertRuleVersionsTable, AlertsTable, NotificationChannelsTable, NotificationOutboxTable } from './schema-alerts.js';
import type {
  CamerasTable, CameraDetectionDailyTable, CameraLeasesTable, CameraStatusHistoryTable, CameraWorkersTable, EventAcknowledgementsTable, OrganizationDetectionModelsTable, ViolationsTable,
} from './schema-cameras.js';
import type {
  ChallanCustomersTable, ChallanDigestWeeksTable, ChallanFileDeletionsTable, ChallanNumberCountersTable, ChallanPodFilesTable, DeliveryChallansTable,
} from './schema-challans.js';
import type { TelemetryValuesTable } from './schema-telemetry.js';
import type { DeviceCommandsTable } from './schema-commands.js';
import type { DeviceAttributesTable } from './schema-attributes.js';
import type { ReportsTable, ReportSettingsTable, ReportSchedulesTable, ReportScheduleRunsTable, MaintenanceRecordsTable, MaintenanceAttachmentsTable, MaintenanceFileDeletionsTable, MaintenanceSettingsTable, EventPhotoUploadsTable } from './schema-records.js';

/** Every table Vigil's stores touch, as the migrations in `./migrations` create them. */

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  slug: string;
  max_users: number | null;
  max_devices: number | null;
  max_cameras: number | null;
  allowed_email_domains: ColumnType<string[], string[] | undefined, string[]>;
  units: Generated<'mph' | 'kmh'>;
  timezone: Generated<string>;
  locale: Generated<string>;
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
  role: MemberRole;
  site_ids: string[] | null;
  /** A client member's customer (role 'client'); null for staff. */
  customer_id: ColumnType<string | null, string | null | undefined, string | null>;
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
  role: MemberRole;
  site_ids: string[] | null;
  customer_id: ColumnType<string | null, string | null | undefined, string | null>;
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

// Tables of larger domains live in their own files; importers keep one entry point.
export * from './schema-alerts.js';
export * from './schema-records.js';
export * from './schema-cameras.js';
export * from './schema-challans.js';
export * from './schema-telemetry.js';
export * from './schema-commands.js';
export * from './schema-attributes.js';
export type { DeviceKind };

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
  alert_rule_versions: AlertRuleVersionsTable;
  alerts: AlertsTable;
  notification_channels: NotificationChannelsTable;
  notification_outbox: NotificationOutboxTable;
  reports: ReportsTable;
  report_settings: ReportSettingsTable;
  report_schedules: ReportSchedulesTable;
  report_schedule_runs: ReportScheduleRunsTable;
  maintenance_records: MaintenanceRecordsTable;
  maintenance_attachments: MaintenanceAttachmentsTable;
  maintenance_settings: MaintenanceSettingsTable;
  maintenance_file_deletions: MaintenanceFileDeletionsTable;
  event_photo_uploads: EventPhotoUploadsTable;
  cameras: CamerasTable;
  camera_leases: CameraLeasesTable;
  camera_status_history: CameraStatusHistoryTable;
  camera_workers: CameraWorkersTable;
  violations: ViolationsTable;
  event_acknowledgements: EventAcknowledgementsTable;
  camera_detection_daily: CameraDetectionDailyTable;
  organization_detection_models: OrganizationDetectionModelsTable;
  delivery_challans: DeliveryChallansTable;
  challan_customers: ChallanCustomersTable;
  challan_number_counters: ChallanNumberCountersTable;
  challan_pod_files: ChallanPodFilesTable;
  challan_file_deletions: ChallanFileDeletionsTable;
  challan_digest_weeks: ChallanDigestWeeksTable;
  telemetry_values: TelemetryValuesTable;
  device_commands: DeviceCommandsTable;
  device_attributes: DeviceAttributesTable;
}
