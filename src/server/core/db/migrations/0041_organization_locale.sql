-- How the organization's people read dates and numbers (a BCP 47 tag, e.g. en-US, de-DE): the console, public
-- pages, PDF reports and the human-facing text of CSV files follow it. Times are shown in the site's zone.

ALTER TABLE organizations ADD COLUMN locale text NOT NULL DEFAULT 'en-US';
