-- A report's title is for people ("Speed study · Main Street · 1–30 Nov 2026", in the organization's locale);
-- the files it is downloaded and mailed as keep a name that sorts and has no spaces
-- ("Speed-study-Main-Street-2026-11-01-to-2026-11-30"), made once when the report is asked for.
-- Reports made before were titled with ISO dates: their file names stay what they were, the title made safe.
ALTER TABLE reports ADD COLUMN file_stem text;
UPDATE reports SET file_stem = left(regexp_replace(regexp_replace(title, '[^A-Za-z0-9_.-]+', '-', 'g'), '-+', '-', 'g'), 100);
ALTER TABLE reports ALTER COLUMN file_stem SET NOT NULL;
