-- Derived refrigeration figures per device and hour, from the raw readings: how long the door was open,
-- how long the compressor ran, and how long the temperature was outside the unit's safe range. A reading
-- holds until the next one of its metric, for at most 15 minutes (a silent unit is not assumed unchanged).
-- Folding telemetry marks the hours a batch touches (and the hour after, into which its last reading may
-- hold) as dirty; the derivation recomputes those hours whole from the raw readings, so late and resent
-- readings give the same figures as readings on time.
CREATE TABLE equipment_hourly (
  org_id uuid NOT NULL,
  device_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  -- Seconds of the hour covered by temperature readings (the denominator of the shares below).
  covered_seconds real NOT NULL,
  door_open_seconds real NOT NULL,
  -- Seconds covered by compressor readings, and of those, seconds it ran: duty cycle = on / observed.
  compressor_observed_seconds real NOT NULL,
  compressor_on_seconds real NOT NULL,
  -- Null when the unit has no safe range configured (settings.safeRange).
  outside_range_seconds real,
  temperature_min double precision,
  temperature_max double precision,
  PRIMARY KEY (device_id, hour)
);

CREATE TABLE equipment_hours_dirty (
  device_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  PRIMARY KEY (device_id, hour)
);
