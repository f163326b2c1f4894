-- Speeds not above the limit in force are all counted under excess 0 instead of one row per whole unit
-- below it (excess = greatest(ceil(speed − limit), 0)). Only the counts above the limit feed figures
-- (speeding and its bands, also after converting units: a speed not above the limit stays not above
-- it), and the rows below it were a third to most of each table, read by every statistics request.
INSERT INTO speed_excess_hourly AS x (device_id, hour, speed_limit, excess, count)
SELECT device_id, hour, speed_limit, 0, sum(count) FROM speed_excess_hourly WHERE excess < 0 GROUP BY 1, 2, 3
ON CONFLICT (device_id, hour, speed_limit, excess) DO UPDATE SET count = x.count + EXCLUDED.count;
DELETE FROM speed_excess_hourly WHERE excess < 0;
ALTER TABLE speed_excess_hourly ADD CONSTRAINT speed_excess_hourly_not_below_limit CHECK (excess >= 0);

INSERT INTO speed_excess_daily AS x (device_id, day, speed_limit, excess, count)
SELECT device_id, day, speed_limit, 0, sum(count) FROM speed_excess_daily WHERE excess < 0 GROUP BY 1, 2, 3
ON CONFLICT (device_id, day, speed_limit, excess) DO UPDATE SET count = x.count + EXCLUDED.count;
DELETE FROM speed_excess_daily WHERE excess < 0;
ALTER TABLE speed_excess_daily ADD CONSTRAINT speed_excess_daily_not_below_limit CHECK (excess >= 0);
