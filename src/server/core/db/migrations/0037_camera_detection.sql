-- Safety detection on cameras: each camera's detection settings and state, the violations its worker turns
-- into events (their start and end), who acknowledged an event, and per-camera daily detection statistics.

ALTER TABLE cameras
  ADD COLUMN detection_mode text NOT NULL DEFAULT 'both' CHECK (detection_mode IN ('ppe', 'zone', 'both', 'off')),
  ADD COLUMN detection_confidence double precision NOT NULL DEFAULT 0.25 CHECK (detection_confidence BETWEEN 0.05 AND 0.95),
  -- [{"name": "Crane swing", "polygon": [[x, y], …]}]: fractions (0–1) of the frame from its top left; checked by the service.
  ADD COLUMN detection_zones jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(detection_zones) = 'array'),
  -- [[[x, y], …], …]: areas whose detections are ignored.
  ADD COLUMN detection_masks jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(detection_masks) = 'array'),
  ADD COLUMN detection_min_person_area double precision NOT NULL DEFAULT 0.001 CHECK (detection_min_person_area BETWEEN 0 AND 0.5),
  -- What the worker's detector does: idle (no worker runs the camera), running, off (no model, or switched off), error.
  ADD COLUMN detection_status text NOT NULL DEFAULT 'idle' CHECK (detection_status IN ('idle', 'running', 'off', 'error')),
  ADD COLUMN detection_cause text;

-- One row per violation event: events are written once, so the end of the incident (known later) is kept here.
-- Events are partitioned (their key holds ts and org_id): event_id is unique across partitions by its sequence.
CREATE TABLE violations (
  event_id bigint PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  camera_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  site_id uuid,
  incident_id uuid NOT NULL UNIQUE,
  rule text NOT NULL CHECK (rule IN ('no_hardhat', 'no_vest', 'zone_breach')),
  zone text,
  started_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  ended_at timestamptz,
  frames integer NOT NULL DEFAULT 1
);
CREATE INDEX violations_camera_started ON violations (camera_id, started_at);
CREATE INDEX violations_open ON violations (camera_id) WHERE ended_at IS NULL;

-- Acknowledgement of an event (a violation, any other event): the first one stands, with who and why.
CREATE TABLE event_acknowledgements (
  event_id bigint PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  -- The name shown when the user is gone.
  user_label text NOT NULL,
  comment text CHECK (length(comment) <= 1000),
  acknowledged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_acknowledgements_org ON event_acknowledgements (org_id, acknowledged_at);

-- Per camera and local day (the camera's site's zone, else its organization's): added to in batches by the
-- worker that runs the camera, never computed from events.
CREATE TABLE camera_detection_daily (
  camera_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  day date NOT NULL,
  frames_decoded bigint NOT NULL DEFAULT 0,
  frames_inferred bigint NOT NULL DEFAULT 0,
  -- Frames that arrived while the previous one was still being analysed, and frames that could not be read.
  frames_skipped bigint NOT NULL DEFAULT 0,
  frames_failed bigint NOT NULL DEFAULT 0,
  -- Sums of onnxruntime's time and the whole pipeline's time over the inferred frames.
  inference_ms double precision NOT NULL DEFAULT 0,
  pipeline_ms double precision NOT NULL DEFAULT 0,
  no_hardhat integer NOT NULL DEFAULT 0,
  no_vest integer NOT NULL DEFAULT 0,
  zone_breach integer NOT NULL DEFAULT 0,
  PRIMARY KEY (camera_id, day)
);
CREATE INDEX camera_detection_daily_org_day ON camera_detection_daily (org_id, day);
