-- How long an organization keeps raw events and telemetry (NULL: as long as the platform keeps them).
-- Hourly rollups are kept: statistics over long ranges survive the raw data.
ALTER TABLE organizations ADD COLUMN retention_days integer CHECK (retention_days >= 1);
