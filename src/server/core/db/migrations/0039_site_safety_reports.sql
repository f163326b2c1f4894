-- Site-safety reports (camera violations and their acknowledgement) join the report kinds. Their subject may be
-- the whole organization: a schedule of that kind names no device and no site.

ALTER TABLE reports DROP CONSTRAINT reports_kind_check;
ALTER TABLE reports ADD CONSTRAINT reports_kind_check CHECK (kind IN ('speed_study', 'compliance', 'site_safety'));

ALTER TABLE report_schedules DROP CONSTRAINT report_schedules_kind_check;
ALTER TABLE report_schedules ADD CONSTRAINT report_schedules_kind_check CHECK (kind IN ('speed_study', 'compliance', 'site_safety'));

-- One subject, a device or a site; a site-safety schedule may have neither (the organization).
ALTER TABLE report_schedules DROP CONSTRAINT report_schedules_check;
ALTER TABLE report_schedules ADD CONSTRAINT report_schedules_subject_check
  CHECK (NOT (device_id IS NOT NULL AND subject_site_id IS NOT NULL)
         AND (kind = 'site_safety' OR device_id IS NOT NULL OR subject_site_id IS NOT NULL));
