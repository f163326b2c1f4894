-- Camera workers: every process that decodes cameras says it is alive here, so each can work out its fair
-- share (the cameras divided among the live workers); a lease remembers since when its owner has held it.

CREATE TABLE camera_workers (
  -- hostname:pid
  id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX camera_workers_expires ON camera_workers (expires_at);

ALTER TABLE camera_leases ADD COLUMN acquired_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX camera_leases_owner ON camera_leases (owner);
