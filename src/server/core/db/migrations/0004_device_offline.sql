-- When a device's going offline was last announced, so the sweeper announces each transition once.
ALTER TABLE devices ADD COLUMN offline_announced_at timestamptz;
