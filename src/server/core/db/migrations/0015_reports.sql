-- Generated reports (speed studies, compliance reports): each row is one request and its background run.
-- A worker claims a queued row with FOR UPDATE SKIP LOCKED and holds it by a lease (locked_until), so two
-- processes never run the same report and a report whose process died is picked up again after the lease.
CREATE TABLE reports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- The site the report's subject belongs to (a device's site, or the site itself): site-restricted
  -- members see only reports about their sites. Null for a device without a site.
  site_id uuid,
  kind text NOT NULL CHECK (kind IN ('speed_study', 'compliance')),
  title text NOT NULL,
  parameters jsonb NOT NULL,
  requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
  requested_by_label text,
  -- The requester's view at request time (role, sites): the report shows what they could see.
  requester_site_ids uuid[],
  -- Milliseconds: lists page by (requested_at, id) with a JavaScript Date in the cursor.
  requested_at timestamptz(3) NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  error text,
  attempts smallint NOT NULL DEFAULT 0,
  locked_until timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  pdf_key text,
  csv_key text,
  events_csv_key text,
  size_bytes bigint
);
CREATE INDEX reports_org_requested ON reports (org_id, requested_at DESC, id DESC);
CREATE INDEX reports_waiting ON reports (requested_at) WHERE status IN ('queued', 'running');

-- Per organization: whether speed-study reports may show the top speeders' photos.
CREATE TABLE report_settings (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  include_photos boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
