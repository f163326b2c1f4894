-- Notification digests, maintenance reminders through the notification channels, and a rule-book
-- version that every process checks (at most once a second) to see rule changes without Redis.

-- {every: 'minutes', minutes} or {every: 'day', at: 'HH:MM'} (organization time zone); NULL = immediately.
ALTER TABLE notification_channels ADD COLUMN digest jsonb;
-- When the channel's next digest is due; claimed (moved to the following window) by the process that sends it.
ALTER TABLE notification_channels ADD COLUMN next_digest_at timestamptz;
CREATE INDEX notification_channels_digest_due ON notification_channels (next_digest_at) WHERE next_digest_at IS NOT NULL;

-- 'held': waiting for the channel's next digest; 'digested': sent inside the digest row `digest_id`.
ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_status_check
  CHECK (status IN ('pending', 'delivered', 'failed', 'held', 'digested'));
ALTER TABLE notification_outbox ADD COLUMN digest_id bigint REFERENCES notification_outbox (id) ON DELETE SET NULL;
CREATE INDEX notification_outbox_held ON notification_outbox (channel_id, id) WHERE status = 'held';
-- The channels that were told of an alert are told of its resolution.
CREATE INDEX notification_outbox_alert ON notification_outbox (alert_id) WHERE alert_id IS NOT NULL;

-- The due date an overdue notice was sent for: besides the reminder N days ahead (reminded_for), one
-- notice once the date has passed, each at most once per record and due date.
ALTER TABLE maintenance_records ADD COLUMN overdue_noticed_for date;
-- Dates already past when this runs are not announced all at once on upgrade.
UPDATE maintenance_records SET overdue_noticed_for = next_due_on WHERE next_due_on < current_date;

-- The channels maintenance reminders go to; NULL (never chosen) = every enabled channel of the organization.
ALTER TABLE maintenance_settings ADD COLUMN channel_ids uuid[];

-- One row per organization ('global' for the global rules) with the version of its last rule change, and
-- the row '*' holding the latest version overall. A trigger bumps them in the transaction of every rule
-- change; locking the '*' row serializes those transactions, so versions commit in increasing order and a
-- process that has seen version N only needs the rows above N.
CREATE TABLE alert_rule_versions (
  scope_key text PRIMARY KEY,
  version bigint NOT NULL
);
CREATE INDEX alert_rule_versions_version ON alert_rule_versions (version);
INSERT INTO alert_rule_versions (scope_key, version) VALUES ('*', 0);

CREATE FUNCTION alert_rule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_version bigint;
  changed_org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
BEGIN
  UPDATE alert_rule_versions SET version = version + 1 WHERE scope_key = '*' RETURNING version INTO next_version;
  INSERT INTO alert_rule_versions (scope_key, version) VALUES (COALESCE(changed_org::text, 'global'), next_version)
    ON CONFLICT (scope_key) DO UPDATE SET version = EXCLUDED.version;
  RETURN NULL;
END
$$;

CREATE TRIGGER alert_rule_changed AFTER INSERT OR UPDATE OR DELETE ON alert_rules
  FOR EACH ROW EXECUTE FUNCTION alert_rule_changed();
