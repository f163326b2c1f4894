-- Cameras (site-safety video): a device of kind 'camera' with its own validated settings, a camera limit
-- per organization, and the leases through which exactly one worker decodes each camera.

ALTER TABLE organizations ADD COLUMN max_cameras integer CHECK (max_cameras > 0);

CREATE TABLE cameras (
  device_id uuid PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  -- The device's site, kept equal to it by the trigger below, so camera reads are scoped without a join.
  site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
  source text NOT NULL DEFAULT 'rtsp' CHECK (source IN ('rtsp', 'file')),
  -- Never with user:password@ (refused by the service); the credentials are sealed apart.
  rtsp_url text CHECK (rtsp_url ~ '^rtsps?://' AND length(rtsp_url) <= 2000),
  rtsp_transport text NOT NULL DEFAULT 'tcp' CHECK (rtsp_transport IN ('tcp', 'udp')),
  -- AES-256-GCM (core/secret-box.ts) of {"username","password"} with the deployment's ENCRYPTION_KEY.
  credentials_sealed text,
  -- Written only by the server after probing the upload: storage key, type, name, size, frame size, duration.
  placeholder jsonb,
  use_placeholder boolean NOT NULL DEFAULT false,
  inference_size integer NOT NULL DEFAULT 640 CHECK (inference_size BETWEEN 320 AND 1920),
  target_fps double precision NOT NULL DEFAULT 0.5 CHECK (target_fps BETWEEN 0.25 AND 2),
  zone text NOT NULL DEFAULT 'Common' CHECK (length(zone) BETWEEN 1 AND 100),
  -- Where the camera is on the site's floor plan, as fractions of its width and height (its map position is the device's lat/lon).
  position_x double precision CHECK (position_x BETWEEN 0 AND 1),
  position_y double precision CHECK (position_y BETWEEN 0 AND 1),
  fallback_after_failures integer NOT NULL DEFAULT 5 CHECK (fallback_after_failures BETWEEN 1 AND 100),
  status text NOT NULL DEFAULT 'offline' CHECK (status IN ('connecting', 'online', 'error', 'offline')),
  status_cause text,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((position_x IS NULL) = (position_y IS NULL))
);
CREATE INDEX cameras_org ON cameras (org_id);
CREATE INDEX cameras_site ON cameras (site_id);

-- Cameras registered before this migration get their settings row with the defaults.
INSERT INTO cameras (device_id, org_id, site_id) SELECT id, org_id, site_id FROM devices WHERE kind = 'camera';

-- Whatever moves a device to another site (an edit, the site's deletion), its camera follows.
CREATE FUNCTION cameras_follow_device_site() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE cameras SET site_id = NEW.site_id WHERE device_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER devices_site_to_camera AFTER UPDATE OF site_id ON devices
  FOR EACH ROW WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id) EXECUTE FUNCTION cameras_follow_device_site();

-- One row per camera being decoded: the worker that owns it renews heartbeat_at and expires_at; another
-- worker takes over a camera whose lease expired.
CREATE TABLE camera_leases (
  camera_id uuid PRIMARY KEY REFERENCES cameras(device_id) ON DELETE CASCADE,
  owner text NOT NULL,
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX camera_leases_expires ON camera_leases (expires_at);
