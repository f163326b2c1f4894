-- Rows of months that have no partition of their own go to a DEFAULT partition of events and of
-- telemetry (a plain table shared by all organizations) instead of a new month each: ingest creates
-- months on demand only for recent ones, so old timestamps cannot add tables (docs/retention.md).
-- Each DEFAULT partition carries a CHECK constraint naming the instant before which it may hold rows
-- (`<table>_default_before_y<year>m<month>`); every month from there on has a partition of its own.
-- It starts at 2000-01-01 (no rows) and is moved on by the server as months pass
-- (core/db/partitions.ts), so PostgreSQL creates a new month without scanning the DEFAULT partition.
CREATE TABLE events_default PARTITION OF events DEFAULT;
ALTER TABLE events_default ADD CONSTRAINT events_default_before_y2000m01 CHECK (ts < '2000-01-01T00:00:00Z');
CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
ALTER TABLE telemetry_default ADD CONSTRAINT telemetry_default_before_y2000m01 CHECK (ts < '2000-01-01T00:00:00Z');
-- Retention deletes the DEFAULT partitions' rows older than a cutoff every hour, in chunks, mostly
-- finding none: an index on ts answers that without reading the table.
CREATE INDEX events_default_ts ON events_default (ts);
CREATE INDEX telemetry_default_ts ON telemetry_default (ts);
