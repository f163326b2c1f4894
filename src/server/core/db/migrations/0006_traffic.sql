-- Traffic statistics: what the hourly speed histogram cannot say on its own, because it does not know
-- the limit in force at each event (a device's limit may change in the middle of a range).
--
-- Per device, hour and limit in force: how many speeds were `excess` units above that limit, with
-- excess = ceil(speed − limit). Speeding (strictly above the limit) is excess ≥ 1, and the bands
-- "1–5, 6–10, 11–15, over 15 above the limit" are excess 1–5, 6–10, 11–15 and ≥ 16, exact.
-- Only events that carry both a speed and a limit are counted. Speeds and limits are in the device's units.
CREATE TABLE speed_excess_hourly (
  device_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  speed_limit real NOT NULL,
  excess smallint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (device_id, hour, speed_limit, excess)
);
