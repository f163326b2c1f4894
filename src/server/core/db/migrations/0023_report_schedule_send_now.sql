-- A schedule can be sent now (to try its delivery, or to have the last period's report early). Such a run
-- is marked manual and does not take its period's place: the scheduled run of that period still happens,
-- and stays the only scheduled one.
ALTER TABLE report_schedule_runs ADD COLUMN manual boolean NOT NULL DEFAULT false;
ALTER TABLE report_schedule_runs DROP CONSTRAINT report_schedule_runs_schedule_id_period_start_key;
CREATE UNIQUE INDEX report_schedule_runs_period ON report_schedule_runs (schedule_id, period_start) WHERE NOT manual;
