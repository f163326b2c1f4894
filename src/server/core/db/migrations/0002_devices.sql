-- Device registry and device keys.

CREATE TABLE devices (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
  kind text NOT NULL CHECK (kind IN ('speed_radar', 'camera', 'refrigeration', 'sensor')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  serial text NOT NULL CHECK (length(serial) BETWEEN 1 AND 200),
  lat double precision CHECK (lat BETWEEN -90 AND 90),
  lon double precision CHECK (lon BETWEEN -180 AND 180),
  speed_limit double precision CHECK (speed_limit > 0 AND speed_limit < 300),
  speed_units text CHECK (speed_units IN ('mph', 'kmh')),
  settings jsonb NOT NULL DEFAULT '{}',
  -- 'error' is reported by the device; online/offline follow from last_seen_at and the kind's threshold.
  reported_error text,
  last_seen_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, serial)
);
CREATE INDEX devices_org_name ON devices (org_id, name, id);
CREATE INDEX devices_site ON devices (site_id);

CREATE TABLE device_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  key_hash text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  -- Milliseconds: lists page by (created_at, id) with a JavaScript Date in the cursor.
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX device_keys_device ON device_keys (device_id, created_at DESC);
