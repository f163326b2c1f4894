-- Telemetry batches wait for the hourly rollups as per-(device, metric, hour) aggregates rather than as
-- arrays of every reading: a batch writes (and WAL-logs) a few rows instead of a copy of its readings,
-- and the fold sums them instead of expanding the arrays again.
CREATE TABLE telemetry_rollup_pending_hourly (
  id bigserial PRIMARY KEY,
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  metric text NOT NULL,
  hour timestamptz NOT NULL,
  count integer NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL
);

-- Batches committed before the upgrade and not folded yet.
INSERT INTO telemetry_rollup_pending_hourly (org_id, device_id, metric, hour, count, sum, min, max)
SELECT p.org_id, p.device_id, u.metric, date_trunc('hour', u.ts), count(*), sum(u.value), min(u.value), max(u.value)
FROM telemetry_rollup_pending p, unnest(p.ts, p.metric, p.value) AS u(ts, metric, value)
GROUP BY 1, 2, 3, 4;

DROP TABLE telemetry_rollup_pending;
ALTER TABLE telemetry_rollup_pending_hourly RENAME TO telemetry_rollup_pending;
