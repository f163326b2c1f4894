-- Every photo a device uploaded for one of its events, one row per upload URL (each URL names its own
-- storage key). The row is written as the upload is accepted, so a URL works once; and the event keeps the
-- first photo confirmed for it: a later upload is kept here as another version instead of replacing it.
-- The stored file is a re-encoded copy; the hash and size of the bytes the device sent are kept with it.
CREATE TABLE event_photo_uploads (
  storage_key text PRIMARY KEY,
  device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  event_id bigint NOT NULL,
  original_sha256 text NOT NULL,
  original_bytes integer NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz
);
CREATE INDEX event_photo_uploads_event ON event_photo_uploads (event_id);
