-- Traffic statistics: what the hourly rollups of 0003 cannot answer fast or at all.
--
-- 1. The limit in force at each event. The speed histogram does not know it (a device's limit may change
--    in the middle of a range), so speeds are also counted by how far they were above the limit in force:
--    excess = ceil(speed − limit). Speeding (strictly above the limit) is excess ≥ 1, and the bands
--    "1–5, 6–10, 11–15, over 15 above the limit" are excess 1–5, 6–10, 11–15 and ≥ 16, exactly.
--    Only events that carry both a speed and a limit are counted. Speeds and limits are in the device's units.
-- 2. Long ranges. A month of 100 busy radars is ~3 million hourly histogram rows; the same counts per
--    UTC day are 24 times fewer. Statistics read whole UTC days from the daily tables and the hours at
--    the edges of a range (and ranges filtered by local weekday) from the hourly ones.
CREATE TABLE speed_excess_hourly (
  device_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  speed_limit real NOT NULL,
  excess smallint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (device_id, hour, speed_limit, excess)
);

-- day = (ts AT TIME ZONE 'UTC')::date
CREATE TABLE speed_histogram_daily (
  device_id uuid NOT NULL,
  day date NOT NULL,
  bin smallint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (device_id, day, bin)
);

CREATE TABLE speed_excess_daily (
  device_id uuid NOT NULL,
  day date NOT NULL,
  speed_limit real NOT NULL,
  excess smallint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (device_id, day, speed_limit, excess)
);
