-- Each local hour of day's speed histogram per local month, for the 85th percentile of each hour over long
-- ranges: a device's year was ~350,000 hourly rows to read, and is 12 × 24 hours × the bins here. Keyed like
-- the daily tables (migration 0021): the month and hour of each hour's start in the device's day zone.
-- month = date_trunc('month', hour AT TIME ZONE zone)::date; local_hour = date_part('hour', hour AT TIME ZONE zone).
CREATE TABLE speed_histogram_hour_of_day (
  device_id uuid NOT NULL,
  month date NOT NULL,
  local_hour smallint NOT NULL,
  bin smallint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (device_id, month, local_hour, bin)
);

INSERT INTO speed_histogram_hour_of_day (device_id, month, local_hour, bin, count)
SELECT h.device_id, date_trunc('month', h.hour AT TIME ZONE z.zone)::date, date_part('hour', h.hour AT TIME ZONE z.zone)::smallint, h.bin, sum(h.count)
FROM speed_histogram_hourly h JOIN traffic_day_zones z ON z.device_id = h.device_id
GROUP BY 1, 2, 3, 4;
