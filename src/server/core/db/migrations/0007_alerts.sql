-- Alerts: rules (scoped global / organization / site / device), the evaluator's per-(rule, device)
-- state, the alerts themselves (at most one open per rule and device, enforced by a partial unique
-- index), notification channels and a durable outbox of deliveries.

CREATE TABLE alert_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL for a global rule (every organization's devices; platform administrators only).
  org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  scope text NOT NULL CHECK (scope IN ('global', 'organization', 'site', 'device')),
  site_id uuid REFERENCES sites (id) ON DELETE CASCADE,
  device_id uuid REFERENCES devices (id) ON DELETE CASCADE,
  device_kind text CHECK (device_kind IN ('speed_radar', 'camera', 'refrigeration', 'sensor')),
  name text NOT NULL,
  description text,
  condition text NOT NULL CHECK (condition IN ('metric', 'event', 'offline', 'no_data', 'door_open')),
  metric text,
  event_kind text,
  operator text CHECK (operator IN ('gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'outside')),
  threshold double precision,
  threshold_high double precision,
  clear_threshold double precision,
  clear_threshold_high double precision,
  duration_seconds integer NOT NULL CHECK (duration_seconds BETWEEN 1 AND 604800),
  severity text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  message_template text NOT NULL,
  active_hours jsonb,
  enabled boolean NOT NULL DEFAULT true,
  auto_resolve boolean NOT NULL DEFAULT true,
  -- Ordered: without escalation every channel is notified at once; with it, the next one after each wait.
  channel_ids uuid[] NOT NULL DEFAULT '{}',
  escalate_after_minutes integer CHECK (escalate_after_minutes BETWEEN 1 AND 10080),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 'global') = (org_id IS NULL)),
  CHECK ((scope = 'site') = (site_id IS NOT NULL)),
  CHECK ((scope = 'device') = (device_id IS NOT NULL))
);
CREATE INDEX alert_rules_org ON alert_rules (org_id);

-- What the evaluator remembers between batches for one rule and device: since when the condition has
-- held (not yet long enough to open an alert) and since when the clear condition has held.
CREATE TABLE alert_rule_states (
  rule_id uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  breach_since timestamptz,
  breach_value double precision,
  breach_peak double precision,
  clear_since timestamptz,
  last_ts timestamptz,
  last_value double precision,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, device_id)
);
CREATE INDEX alert_rule_states_breach ON alert_rule_states (breach_since) WHERE breach_since IS NOT NULL;
CREATE INDEX alert_rule_states_clear ON alert_rule_states (clear_since) WHERE clear_since IS NOT NULL;

CREATE TABLE alerts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  site_id uuid,
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  -- History outlives its rule: deleting a rule resolves its open alerts and keeps them with no rule.
  rule_id uuid REFERENCES alert_rules (id) ON DELETE SET NULL,
  rule_name text NOT NULL,
  condition text NOT NULL,
  metric text,
  severity text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  message text NOT NULL,
  threshold double precision,
  first_value double precision,
  latest_value double precision,
  peak_value double precision,
  breach_count integer NOT NULL DEFAULT 1,
  started_at timestamptz NOT NULL,
  opened_at timestamptz NOT NULL DEFAULT now(),
  last_breach_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid REFERENCES users (id) ON DELETE SET NULL,
  acknowledge_comment text,
  resolved_at timestamptz,
  resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
  resolution text CHECK (resolution IN ('auto', 'manual', 'rule_changed')),
  escalation_level integer NOT NULL DEFAULT 0,
  next_escalation_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'acknowledged') <= (acknowledged_at IS NOT NULL)),
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- The guarantee: however many processes evaluate at once, one rule has at most one open alert per device.
CREATE UNIQUE INDEX alerts_one_open_per_rule_device ON alerts (rule_id, device_id) WHERE status <> 'resolved';
CREATE INDEX alerts_org_opened ON alerts (org_id, opened_at DESC, id DESC);
CREATE INDEX alerts_device_opened ON alerts (device_id, opened_at DESC);
CREATE INDEX alerts_escalation ON alerts (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

CREATE TABLE notification_channels (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('email', 'webhook', 'in_app')),
  recipients text[] NOT NULL DEFAULT '{}',
  url text,
  -- The webhook signing secret, encrypted with the deployment's encryption key (AES-256-GCM).
  secret_sealed text,
  -- {from, to} HH:MM in the organization's time zone: deliveries of non-critical alerts wait until it ends.
  quiet_hours jsonb,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name)
);

-- Per-organization switches of the alerting domain.
CREATE TABLE alert_settings (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  -- Webhooks to private, loopback or link-local addresses are refused unless the organization allows them.
  allow_private_webhooks boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every notification to send, written in the same transaction as the alert change that causes it;
-- delivered (and retried with backoff) by a leased job. The rows are the delivery log.
CREATE TABLE notification_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  alert_id uuid REFERENCES alerts (id) ON DELETE CASCADE,
  event text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_error text,
  response_status integer,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_outbox_channel ON notification_outbox (channel_id, id DESC);
