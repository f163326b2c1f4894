-- Telemetry values that are not numbers: strings, JSON objects and arrays, and booleans (which are also
-- kept as 0/1 in `telemetry` for charts, rollups and alert rules). One value per device, key and instant,
-- as in `telemetry`: a resent reading is a duplicate. Values are at most 8 KB (checked at ingest).
CREATE TABLE telemetry_values (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  key text NOT NULL,
  ts timestamptz NOT NULL,
  value jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, key, ts)
);
-- Retention deletes by age.
CREATE INDEX telemetry_values_ts ON telemetry_values USING brin (ts);
