-- Events and telemetry: time-partitioned by month (partitions are created ahead and on demand by
-- the ingest store), with hourly rollups maintained in the same transaction as each batch.

CREATE SEQUENCE events_id_seq AS bigint;

CREATE TABLE events (
  -- Identity columns on partitioned tables need PostgreSQL 17; a sequence works on 15.
  id bigint NOT NULL DEFAULT nextval('events_id_seq'),
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  site_id uuid,
  ts timestamptz NOT NULL,
  -- The timestamp exactly as the device wrote it (RushRoster devices match photos by this string).
  device_ts text,
  -- The idempotency key within (device, ts): given by the device, or derived from the item's content.
  client_ref text NOT NULL,
  kind text NOT NULL,
  speed real,
  speed_limit real,
  severity text,
  attributes jsonb NOT NULL DEFAULT '{}',
  photo_key text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, ts),
  UNIQUE (device_id, ts, client_ref)
) PARTITION BY RANGE (ts);
CREATE INDEX events_ts_brin ON events USING brin (ts);
CREATE INDEX events_org_ts ON events (org_id, ts DESC);

CREATE TABLE telemetry (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  ts timestamptz NOT NULL,
  metric text NOT NULL,
  value double precision NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  -- One value per device, metric and instant: a resent reading is a duplicate.
  PRIMARY KEY (device_id, metric, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX telemetry_ts_brin ON telemetry USING brin (ts);

-- Per device, hour and kind: counts and speed aggregates of the events.
CREATE TABLE event_rollups_hourly (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  kind text NOT NULL,
  events integer NOT NULL,
  speed_count integer NOT NULL,
  speed_sum double precision NOT NULL,
  speed_sum_squares double precision NOT NULL,
  speed_min real,
  speed_max real,
  speeding integer NOT NULL,
  PRIMARY KEY (device_id, hour, kind)
);
CREATE INDEX event_rollups_org_hour ON event_rollups_hourly (org_id, hour);

-- Per device and hour: how many speeds fell in each 1-unit bin (bin = floor(speed)). Percentiles over
-- any range are merged from these, exact to the bin.
CREATE TABLE speed_histogram_hourly (
  device_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  bin smallint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (device_id, hour, bin)
);

-- Per device, metric and hour: count, sum, min and max of the telemetry values.
CREATE TABLE telemetry_rollups_hourly (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  metric text NOT NULL,
  hour timestamptz NOT NULL,
  count integer NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  PRIMARY KEY (device_id, metric, hour)
);
