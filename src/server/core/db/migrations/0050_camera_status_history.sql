-- Every change of a camera's decoder status (cameras.status / status_cause), so an operator can see that a
-- camera now online dropped ten times overnight. Written by the same statement that changes the camera's
-- status (cameras/store.ts updateStatus), and capped there at the newest 500 rows per camera, so a flapping
-- camera cannot grow the table without bound.
CREATE TABLE camera_status_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  camera_id uuid NOT NULL REFERENCES cameras(device_id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  -- The camera's site when the status changed: a member limited to sites sees the changes made on theirs.
  site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
  status text NOT NULL CHECK (status IN ('connecting', 'online', 'error', 'offline')),
  cause text,
  at timestamptz NOT NULL
);
-- Newest first per camera: the list's order and its cursor, and the cap's walk past the newest 500.
CREATE INDEX camera_status_history_by_camera ON camera_status_history (camera_id, at DESC, id DESC);
