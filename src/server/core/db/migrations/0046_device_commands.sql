-- Commands (RPC) sent to devices, ThingsBoard-style: a method and JSON params, one-way or two-way, and for a
-- two-way command the device's answer. `request_id` is the integer the device sees in
-- v1/devices/me/rpc/request/{id} (and in the HTTP long poll); a device answers with it, and an answer counts
-- only for a command of that same device. The record is the source of truth across server processes: a
-- command is claimed for delivery by moving it out of `queued`, so each is written to the device once.
CREATE TABLE device_commands (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  method text NOT NULL CHECK (length(method) BETWEEN 1 AND 128),
  params jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (pg_column_size(params) <= 65536),
  two_way boolean NOT NULL,
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'sent', 'delivered', 'succeeded', 'failed', 'timed_out', 'expired')),
  response jsonb CHECK (pg_column_size(response) <= 65536),
  error text,
  timeout_seconds integer NOT NULL CHECK (timeout_seconds BETWEEN 1 AND 604800),
  -- Past this instant a command still queued expires and a two-way command still waiting times out.
  deadline timestamptz NOT NULL,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_by_label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  answered_at timestamptz
);
-- A device's history, newest first (the list pages walk it).
CREATE INDEX device_commands_device ON device_commands (device_id, created_at DESC, id DESC);
-- What waits for a device (claimed on connect, subscribe or poll) and what the expiry job closes.
CREATE INDEX device_commands_open ON device_commands (deadline) WHERE status IN ('queued', 'sent');
