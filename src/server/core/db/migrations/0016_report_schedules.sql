-- Scheduled reports: a schedule makes one report per period (the previous full week or month) and delivers
-- it by email and/or a signed webhook. Each period's run is a row unique on (schedule, period): two
-- processes finding the same schedule due create one run, so a period is never generated or sent twice.
CREATE TABLE report_schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('speed_study', 'compliance')),
  -- The subject: one device or one site. Deleting it deletes the schedule.
  device_id uuid REFERENCES devices (id) ON DELETE CASCADE,
  subject_site_id uuid REFERENCES sites (id) ON DELETE CASCADE,
  -- The site the subject belongs to: site-restricted members see only schedules about their sites.
  site_id uuid,
  cadence text NOT NULL CHECK (cadence IN ('weekly', 'monthly')),
  -- ISO weekday, 1 = Monday (weekly); day of the month, 29–31 meaning the last day of shorter months (monthly).
  day_of_week smallint CHECK (day_of_week BETWEEN 1 AND 7),
  day_of_month smallint CHECK (day_of_month BETWEEN 1 AND 31),
  time_of_day text NOT NULL CHECK (time_of_day ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  timezone text NOT NULL,
  units text CHECK (units IN ('mph', 'kmh')),
  notes text,
  email_recipients text[] NOT NULL DEFAULT '{}',
  webhook_url text,
  webhook_secret_sealed text,
  enabled boolean NOT NULL DEFAULT true,
  -- The creator's view (role's sites) at creation: the schedule's reports show what they could see.
  creator_site_ids uuid[],
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_status text,
  last_error text,
  CHECK ((device_id IS NULL) <> (subject_site_id IS NULL)),
  CHECK ((cadence = 'weekly') = (day_of_week IS NOT NULL) AND (cadence = 'monthly') = (day_of_month IS NOT NULL))
);
CREATE INDEX report_schedules_org ON report_schedules (org_id, name, id);
CREATE INDEX report_schedules_due ON report_schedules (next_run_at) WHERE enabled;

CREATE TABLE report_schedule_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  schedule_id uuid NOT NULL REFERENCES report_schedules (id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  report_id uuid REFERENCES reports (id) ON DELETE SET NULL,
  -- generating: the report is queued or running; delivering: sending (or retrying); then delivered or failed.
  status text NOT NULL DEFAULT 'generating' CHECK (status IN ('generating', 'delivering', 'delivered', 'failed')),
  -- Per target: none (not configured), pending, sent or failed. A target once sent is never sent again.
  email_status text NOT NULL CHECK (email_status IN ('none', 'pending', 'sent', 'failed')),
  webhook_status text NOT NULL CHECK (webhook_status IN ('none', 'pending', 'sent', 'failed')),
  webhook_response_status smallint,
  attempts smallint NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_error text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (schedule_id, period_start)
);
CREATE INDEX report_schedule_runs_schedule ON report_schedule_runs (schedule_id, created_at DESC, id DESC);
CREATE INDEX report_schedule_runs_open ON report_schedule_runs (next_attempt_at) WHERE status IN ('generating', 'delivering');

-- A scheduled report is listed among the others, requested by its schedule instead of a member.
ALTER TABLE reports ADD COLUMN schedule_id uuid REFERENCES report_schedules (id) ON DELETE SET NULL;
