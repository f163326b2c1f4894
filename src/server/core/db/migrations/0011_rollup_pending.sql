-- Batches committed but not yet folded into the hourly rollups. Each ingest statement adds one row
-- holding the newly stored items of its batch (duplicates excluded), in the same transaction as the
-- items; a background fold (and every rollup read, first) merges them set-wise into the rollups and
-- deletes them. Per-event rollup upserts in the ingest statement cost half the ingest rate.
CREATE TABLE event_rollup_pending (
  id bigserial PRIMARY KEY,
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  ts timestamptz[] NOT NULL,
  kind text[] NOT NULL,
  speed real[] NOT NULL,
  speed_limit real[] NOT NULL
);

CREATE TABLE telemetry_rollup_pending (
  id bigserial PRIMARY KEY,
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  ts timestamptz[] NOT NULL,
  metric text[] NOT NULL,
  value double precision[] NOT NULL
);
