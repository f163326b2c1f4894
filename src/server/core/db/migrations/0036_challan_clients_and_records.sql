-- Client companies (a membership that reads one customer's challans), the purge of challans deleted more
-- than 30 days ago (their POD files leave the media storage through a queue), and the weekly digest of
-- challans whose POD or invoice is outstanding.

-- The email domains a customer's own people sign in from: a client invitation must go to one of them.
ALTER TABLE challan_customers ADD COLUMN email_domains text[] NOT NULL DEFAULT '{}';

-- `client`: not a rank among the staff roles but a membership scoped to one customer (customer_id), without
-- sites. A customer that client members read cannot be deleted (NO ACTION): remove the members first.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check
  CHECK (role IN ('owner', 'admin', 'manager', 'operator', 'viewer', 'client'));
ALTER TABLE memberships ADD COLUMN customer_id uuid REFERENCES challan_customers (id);
ALTER TABLE memberships ADD CONSTRAINT memberships_client_customer
  CHECK ((role = 'client') = (customer_id IS NOT NULL) AND (role <> 'client' OR site_ids IS NULL));
CREATE INDEX memberships_customer ON memberships (customer_id) WHERE customer_id IS NOT NULL;

ALTER TABLE invitations DROP CONSTRAINT invitations_role_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check
  CHECK (role IN ('owner', 'admin', 'manager', 'operator', 'viewer', 'client'));
ALTER TABLE invitations ADD COLUMN customer_id uuid REFERENCES challan_customers (id) ON DELETE CASCADE;
ALTER TABLE invitations ADD CONSTRAINT invitations_client_customer
  CHECK ((role = 'client') = (customer_id IS NOT NULL) AND (role <> 'client' OR site_ids IS NULL));

-- The client's list: its customer's live challans, newest first.
CREATE INDEX delivery_challans_by_customer_date ON delivery_challans (org_id, customer_id, challan_date DESC, number DESC)
  WHERE deleted_at IS NULL;

-- Files of POD versions whose rows are gone (a purged challan, a deleted organization): a job removes
-- them from the media storage, whatever deleted the rows.
CREATE TABLE challan_file_deletions (
  storage_key text PRIMARY KEY,
  queued_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION challan_pod_file_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO challan_file_deletions (storage_key) VALUES (OLD.storage_key) ON CONFLICT DO NOTHING;
  IF OLD.preview_key IS NOT NULL THEN
    INSERT INTO challan_file_deletions (storage_key) VALUES (OLD.preview_key) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER challan_pod_file_deleted AFTER DELETE ON challan_pod_files
  FOR EACH ROW EXECUTE FUNCTION challan_pod_file_deleted();

-- One row per organization and week (the Monday, in the organization's time zone) whose outstanding-POD
-- digest was queued: written in the transaction that queues it, so each week's digest goes out once
-- whichever process runs the job.
CREATE TABLE challan_digest_weeks (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  week_of date NOT NULL,
  challans integer NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, week_of)
);
