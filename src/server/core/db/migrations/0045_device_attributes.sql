-- Device attributes, ThingsBoard-style: per device, `client` attributes the device reports about itself
-- (firmware version, IP…) and `shared` attributes members set for the device (a safe range, a speed limit),
-- pushed to it over MQTT. One row per key with its JSON value and when it last changed. Sizes are bounded
-- here as well as in the service (a key ≤ 256 characters, a value ≤ 8 KB of JSON); the number of keys per
-- device and scope is held by the service under a per-device lock.
CREATE TABLE device_attributes (
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  scope text NOT NULL CHECK (scope IN ('client', 'shared')),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 256),
  value jsonb NOT NULL CHECK (pg_column_size(value) <= 16384),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, scope, key)
);
