-- When an hour was last marked dirty: the background derivation waits until an hour has been quiet for a
-- while, so a device uploading a backlog into an hour has it recomputed once, not after every fold.
ALTER TABLE equipment_hours_dirty ADD COLUMN marked_at timestamptz NOT NULL DEFAULT now();
