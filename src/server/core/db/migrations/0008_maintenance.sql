-- Maintenance records per device, their attachments, the organization's reminder setting.

CREATE TABLE maintenance_records (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN ('preventive', 'corrective', 'inspection')),
  -- Milliseconds: the history pages by (performed_at, id) with a JavaScript Date in the cursor.
  performed_at timestamptz(3) NOT NULL,
  performed_by text NOT NULL CHECK (length(performed_by) BETWEEN 1 AND 200),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
  cost numeric(12, 2) CHECK (cost >= 0),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  parts text[] NOT NULL DEFAULT '{}',
  notes text CHECK (length(notes) <= 10000),
  next_due_on date,
  -- The due date a reminder was sent for: one reminder per record and due date, across restarts.
  reminded_for date,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((cost IS NULL) = (currency IS NULL))
);
CREATE INDEX maintenance_records_history ON maintenance_records (device_id, performed_at DESC, id DESC);
CREATE INDEX maintenance_records_org ON maintenance_records (org_id, performed_at DESC, id DESC);
-- Each device's current due date: its latest performed record that sets one (one probe per device).
CREATE INDEX maintenance_records_due ON maintenance_records (device_id, performed_at DESC, id DESC) WHERE next_due_on IS NOT NULL;

CREATE TABLE maintenance_attachments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  record_id uuid NOT NULL REFERENCES maintenance_records(id) ON DELETE CASCADE,
  file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
  content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
  size_bytes integer NOT NULL CHECK (size_bytes > 0),
  storage_key text NOT NULL UNIQUE,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX maintenance_attachments_record ON maintenance_attachments (record_id, created_at);

-- Absent row: the defaults (reminders 7 days before the due date).
CREATE TABLE maintenance_settings (
  org_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  reminder_days integer NOT NULL CHECK (reminder_days BETWEEN 0 AND 365),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Files of deleted attachments, whatever deleted them (a record, its device or its organization going
-- cascades to the rows): a job removes them from the media storage.
CREATE TABLE maintenance_file_deletions (
  storage_key text PRIMARY KEY,
  queued_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION maintenance_attachment_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO maintenance_file_deletions (storage_key) VALUES (OLD.storage_key) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER maintenance_attachment_deleted AFTER DELETE ON maintenance_attachments
  FOR EACH ROW EXECUTE FUNCTION maintenance_attachment_deleted();
