import { sql, type Expression, type Selectable, type SqlBool, type Updateable } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { ReportSchedulesTable, ReportScheduleRunsTable } from '../core/db/schema.js';

/**
 * SQL of report schedules and their runs. Schedules are scoped like reports: the caller's organization
 * and, for a site-restricted member, schedules about their sites. Runs are read through their schedule.
 */
type Conn = Db | Tx;
export type ScheduleRow = Selectable<ReportSchedulesTable>;
export type ScheduleRunRow = Selectable<ReportScheduleRunsTable>;

function scopeSql(scope: Scope) {
  return scope.siteIds
    // An organization-wide site-safety report (no site) made with a view of some sites shows only those sites:
    // members who see all of them may see it.
    ? sql<SqlBool>`s.org_id = ${scope.orgId}::uuid AND (s.site_id = ANY(${scope.siteIds}::uuid[])
        OR (s.site_id IS NULL AND s.creator_site_ids <@ ${scope.siteIds}::uuid[]))`
    : sql<SqlBool>`s.org_id = ${scope.orgId}::uuid`;
}

export interface ScheduleFields {
  name: string;
  kind: ScheduleRow['kind'];
  deviceId: string | null;
  subjectSiteId: string | null;
  siteId: string | null;
  cadence: ScheduleRow['cadence'];
  dayOfWeek: number | null;
  dayOfMonth: number | null;
  timeOfDay: string;
  timezone: string;
  units: ScheduleRow['units'];
  notes: string | null;
  emailRecipients: string[];
  webhookUrl: string | null;
  enabled: boolean;
  nextRunAt: Date | null;
}

function columns(f: ScheduleFields) {
  return {
    name: f.name, kind: f.kind, device_id: f.deviceId, subject_site_id: f.subjectSiteId, site_id: f.siteId,
    cadence: f.cadence, day_of_week: f.dayOfWeek, day_of_month: f.dayOfMonth, time_of_day: f.timeOfDay, timezone: f.timezone,
    units: f.units, notes: f.notes, email_recipients: f.emailRecipients, webhook_url: f.webhookUrl, enabled: f.enabled, next_run_at: f.nextRunAt,
  };
}

export function insertSchedule(db: Conn, scope: Scope, fields: ScheduleFields, secretSealed: string | null) {
  return db.insertInto('report_schedules').values({
    ...columns(fields), org_id: scope.orgId, webhook_secret_sealed: secretSealed, created_by: scope.userId, creator_site_ids: scope.siteIds,
  }).returningAll().executeTakeFirstOrThrow();
}

export function updateSchedule(db: Conn, scope: Scope, id: string, fields: ScheduleFields, extra: Updateable<ReportSchedulesTable> = {}) {
  return db.updateTable('report_schedules as s').set({ ...columns(fields), ...extra, updated_at: new Date() })
    .where(scopeSql(scope) as Expression<SqlBool>).where('s.id', '=', id).returningAll().executeTakeFirst();
}

export function listSchedules(db: Conn, scope: Scope, limit: number, after: [string, string] | null) {
  let query = db.selectFrom('report_schedules as s').selectAll('s').where(scopeSql(scope) as Expression<SqlBool>)
    .orderBy('s.name').orderBy('s.id').limit(limit + 1);
  if (after) query = query.where(sql<SqlBool>`(s.name, s.id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findSchedule(db: Conn, scope: Scope, id: string) {
  return db.selectFrom('report_schedules as s').selectAll('s').where(scopeSql(scope) as Expression<SqlBool>).where('s.id', '=', id).executeTakeFirst();
}

export function deleteSchedule(db: Conn, scope: Scope, id: string) {
  return db.deleteFrom('report_schedules as s').where(scopeSql(scope) as Expression<SqlBool>).where('s.id', '=', id).returningAll().executeTakeFirst();
}

export function listRuns(db: Conn, scheduleId: string, limit: number, after: [string, string] | null) {
  let query = db.selectFrom('report_schedule_runs').selectAll().where('schedule_id', '=', scheduleId)
    .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1);
  if (after) query = query.where(sql<SqlBool>`(created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

/** Locks enabled schedules whose next run is due, for this transaction; another process skips them. */
export function lockDue(tx: Tx, now: Date, limit: number) {
  return tx.selectFrom('report_schedules').selectAll().where('enabled', '=', true).where('next_run_at', '<=', now)
    .orderBy('next_run_at').limit(limit).forUpdate().skipLocked().execute();
}

/** The scheduled run of one period; undefined when that period already has one (it is never made twice). */
export function insertRun(tx: Tx, run: { scheduleId: string; orgId: string; from: Date; to: Date; email: boolean; webhook: boolean }) {
  return tx.insertInto('report_schedule_runs').values({
    schedule_id: run.scheduleId, org_id: run.orgId, period_start: run.from, period_end: run.to,
    email_status: run.email ? 'pending' : 'none', webhook_status: run.webhook ? 'pending' : 'none',
  }).onConflict((oc) => oc.columns(['schedule_id', 'period_start']).where('manual', '=', false).doNothing()).returningAll().executeTakeFirst();
}

/** A run sent now: any number per period, beside the scheduled one. */
export function insertManualRun(tx: Tx, run: { scheduleId: string; orgId: string; from: Date; to: Date; email: boolean; webhook: boolean }) {
  return tx.insertInto('report_schedule_runs').values({
    schedule_id: run.scheduleId, org_id: run.orgId, period_start: run.from, period_end: run.to, manual: true,
    email_status: run.email ? 'pending' : 'none', webhook_status: run.webhook ? 'pending' : 'none',
  }).returningAll().executeTakeFirstOrThrow();
}

/** Whether a run sent now of this schedule is still being made or delivered (one at a time). */
export async function hasManualRunInProgress(tx: Tx, scheduleId: string): Promise<boolean> {
  const row = await tx.selectFrom('report_schedule_runs').select('id')
    .where('schedule_id', '=', scheduleId).where('manual', '=', true).where('status', 'in', ['generating', 'delivering'])
    .executeTakeFirst();
  return row !== undefined;
}

/** Locks a schedule row for the rest of the transaction (so two "send now" requests queue). */
export function lockSchedule(tx: Tx, scope: Scope, id: string) {
  return tx.selectFrom('report_schedules as s').selectAll('s').where(scopeSql(scope) as Expression<SqlBool>).where('s.id', '=', id).forUpdate().executeTakeFirst();
}

export async function attachReport(tx: Tx, runId: string, reportId: string): Promise<void> {
  await tx.updateTable('report_schedule_runs').set({ report_id: reportId }).where('id', '=', runId).execute();
}

export async function advance(tx: Tx, id: string, nextRunAt: Date, lastRunAt: Date | null, status: string, error: string | null): Promise<void> {
  await tx.updateTable('report_schedules').set({ next_run_at: nextRunAt, ...(lastRunAt && { last_run_at: lastRunAt }), last_status: status, last_error: error }).where('id', '=', id).execute();
}

export async function recordOutcome(db: Conn, id: string, status: string, error: string | null): Promise<void> {
  await db.updateTable('report_schedules').set({ last_status: status, last_error: error }).where('id', '=', id).execute();
}

export interface OpenRun extends ScheduleRunRow {
  report_status: string | null;
  report_error: string | null;
  report_title: string | null;
  report_file_stem: string | null;
  pdf_key: string | null;
  /** The organization's, for the period in the email. */
  locale: string;
  schedule_name: string;
  timezone: string;
  kind: ScheduleRow['kind'];
  email_recipients: string[];
  webhook_url: string | null;
  webhook_secret_sealed: string | null;
}

/**
 * Takes the next run whose report has finished and that still has something to send, holding it by a
 * lease so no other process sends it meanwhile (and a process that died mid-send gives it back).
 */
export async function claimFinishedRun(db: Conn, leaseSeconds: number): Promise<OpenRun | undefined> {
  const claimed = await sql<{ id: string }>`
    UPDATE report_schedule_runs SET status = 'delivering', attempts = attempts + 1, locked_until = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = (
      SELECT r.id FROM report_schedule_runs r LEFT JOIN reports p ON p.id = r.report_id
      WHERE r.status IN ('generating', 'delivering') AND r.next_attempt_at <= now() AND (r.locked_until IS NULL OR r.locked_until < now())
        AND (p.id IS NULL OR p.status IN ('done', 'failed'))
      ORDER BY r.next_attempt_at FOR UPDATE OF r SKIP LOCKED LIMIT 1)
    RETURNING id`.execute(db);
  const id = claimed.rows[0]?.id;
  if (!id) return undefined;
  const result = await sql<OpenRun>`
    SELECT r.*, p.status AS report_status, p.error AS report_error, p.title AS report_title, p.file_stem AS report_file_stem, p.pdf_key,
      s.name AS schedule_name, s.timezone, s.kind, s.email_recipients, s.webhook_url, s.webhook_secret_sealed, o.locale
    FROM report_schedule_runs r JOIN report_schedules s ON s.id = r.schedule_id JOIN organizations o ON o.id = s.org_id
      LEFT JOIN reports p ON p.id = r.report_id
    WHERE r.id = ${id}::uuid`.execute(db);
  return result.rows[0];
}

export async function saveRun(db: Conn, id: string, fields: Updateable<ReportScheduleRunsTable>): Promise<void> {
  await db.updateTable('report_schedule_runs').set({ ...fields, locked_until: null }).where('id', '=', id).execute();
}

/** Whether a report file may still be fetched through a signed link: it exists, is done, and came from a schedule. */
export function scheduledReportFile(db: Conn, reportId: string) {
  return db.selectFrom('reports').select(['id', 'file_stem', 'pdf_key', 'status']).where('id', '=', reportId).where('schedule_id', 'is not', null).executeTakeFirst();
}
