-- Community sharing (RushRoster's public pages). An organization opts in with organizations.public_sharing
-- (0001); photos of speeders on the public pages need a second, separate opt-in. A device is shared when it
-- has a row here: both opt-ins are needed before anything about it is public, and both are off by default.
ALTER TABLE organizations ADD COLUMN public_photos boolean NOT NULL DEFAULT false;

CREATE TABLE community_devices (
  device_id uuid PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  shared_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX community_devices_org ON community_devices (org_id);
