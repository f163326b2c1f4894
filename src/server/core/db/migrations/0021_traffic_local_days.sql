-- Daily traffic rollups (speed_histogram_daily, speed_excess_daily) keyed by the device's local date, not
-- the UTC date. A statistics range runs from local midnight to local midnight, so with UTC days each
-- request read a whole day of hourly rows per device for its two partial edge days, as many rows as
-- the rest of a month together.
--
-- An hour counts under the local date of its start in the zone recorded here for the device: the
-- fold records the device's time zone (its site's, else its organization's) with its first batch,
-- and keys every daily row in that zone. When the device's time zone changes, a background job
-- re-keys its daily rows from the hourly ones and records the new zone; until then, statistics read
-- the days in the recorded zone, so figures stay exact either way. Lock order: a fold or an event
-- delete takes this row FOR SHARE; the re-key updates it first.
CREATE TABLE traffic_day_zones (
  device_id uuid PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  zone text NOT NULL
);

-- Daily rows written so far are keyed by UTC date.
INSERT INTO traffic_day_zones (device_id, zone)
SELECT id, 'UTC' FROM devices
WHERE id IN (SELECT device_id FROM speed_histogram_daily UNION SELECT device_id FROM speed_excess_daily);
