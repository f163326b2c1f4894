import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, UpdatedAt } from './schema-columns.js';

/** Reports (migrations 0015, 0016, 0039) and maintenance records (migration 0008). */
export type ReportKind = 'speed_study' | 'compliance' | 'site_safety';
export type ReportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ReportsTable {
  id: Generated<string>;
  org_id: string;
  site_id: string | null;
  kind: ReportKind;
  /** For people, dates in the organization's locale; the files are named by `file_stem` (ISO dates, no spaces). */
  title: string;
  file_stem: string;
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
  /** The schedule that made this report; null when a member asked for it. */
  schedule_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export type ScheduleCadence = 'weekly' | 'monthly';
export type DeliveryTargetStatus = 'none' | 'pending' | 'sent' | 'failed';
export type ScheduleRunStatus = 'generating' | 'delivering' | 'delivered' | 'failed';

export interface ReportSchedulesTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  kind: ReportKind;
  device_id: string | null;
  subject_site_id: string | null;
  site_id: string | null;
  cadence: ScheduleCadence;
  day_of_week: number | null;
  day_of_month: number | null;
  /** 'HH:MM', local to `timezone`. */
  time_of_day: string;
  timezone: string;
  units: 'mph' | 'kmh' | null;
  notes: string | null;
  email_recipients: ColumnType<string[], string[] | undefined, string[]>;
  webhook_url: string | null;
  webhook_secret_sealed: string | null;
  enabled: Generated<boolean>;
  creator_site_ids: string[] | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_status: string | null;
  last_error: string | null;
}

export interface ReportScheduleRunsTable {
  id: Generated<string>;
  schedule_id: string;
  org_id: string;
  period_start: Date;
  period_end: Date;
  report_id: string | null;
  status: Generated<ScheduleRunStatus>;
  email_status: DeliveryTargetStatus;
  webhook_status: DeliveryTargetStatus;
  webhook_response_status: number | null;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  locked_until: Date | null;
  last_error: string | null;
  created_at: CreatedAt;
  delivered_at: Date | null;
  /** Sent now by a member rather than by the schedule (migration 0023). */
  manual: Generated<boolean>;
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
  overdue_noticed_for: string | null;
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

/** A photo a device uploaded for an event (migration 0026): one row per upload URL, kept as a version. */
export interface EventPhotoUploadsTable {
  storage_key: string;
  device_id: string;
  event_id: number;
  original_sha256: string;
  original_bytes: number;
  uploaded_at: CreatedAt;
  confirmed_at: Date | null;
}

export interface MaintenanceSettingsTable {
  org_id: string;
  reminder_days: number;
  /** NULL: every enabled notification channel of the organization. */
  channel_ids: string[] | null;
  updated_at: UpdatedAt;
}
