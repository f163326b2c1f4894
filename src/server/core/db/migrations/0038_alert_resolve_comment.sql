-- The corrective action taken when someone resolves an alert by hand (HACCP asks for it on the record).

ALTER TABLE alerts ADD COLUMN resolve_comment text;
