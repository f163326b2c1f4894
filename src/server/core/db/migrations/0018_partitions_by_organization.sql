-- Monthly partitions of events and telemetry created from now on are LIST-partitioned by org_id, so
-- that an organization's retention drops its months instead of deleting rows (docs/retention.md).
-- PostgreSQL requires every partition key in every unique key of a partitioned table, so org_id joins
-- them. A device never changes organization, so the keys mean what they meant: the same
-- (device, ts, client_ref) or (device, metric, ts) is still a duplicate. The indexes are rebuilt on
-- every existing partition, once, inside this migration.
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (id, ts, org_id);
ALTER TABLE events DROP CONSTRAINT events_device_id_ts_client_ref_key,
  ADD CONSTRAINT events_device_id_ts_client_ref_key UNIQUE (device_id, ts, client_ref, org_id);
ALTER TABLE telemetry DROP CONSTRAINT telemetry_pkey, ADD PRIMARY KEY (device_id, metric, ts, org_id);
