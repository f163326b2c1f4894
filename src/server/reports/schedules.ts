import { randomBytes } from 'node:crypto';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { conflict, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { seal } from '../core/secret-box.js';
import { isValidTimezone } from '../../shared/validation.js';
import type { Actor, AuditService } from '../audit/service.js';
import { cadenceOf, nextRun, periodOf } from './cadence.js';
import * as store from './schedule-store.js';
import type { ReportsService } from './service.js';

const MAX_RECIPIENTS = 20;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** What a member sends to create a schedule (all of it) or change one (any of it). */
export interface ScheduleInput {
  name: string;
  kind: store.ScheduleRow['kind'];
  deviceId?: string | null;
  siteId?: string | null;
  cadence: store.ScheduleRow['cadence'];
  dayOfWeek?: number | null;
  dayOfMonth?: number | null;
  timeOfDay: string;
  /** Default: the subject's time zone (its site's, else the organization's). */
  timezone?: string | null;
  units?: 'mph' | 'kmh' | null;
  notes?: string | null;
  emailRecipients?: string[];
  webhookUrl?: string | null;
  enabled?: boolean;
}

export function presentSchedule(s: store.ScheduleRow) {
  return {
    id: s.id,
    name: s.name,
    kind: s.kind,
    deviceId: s.device_id,
    siteId: s.subject_site_id,
    cadence: s.cadence,
    dayOfWeek: s.day_of_week,
    dayOfMonth: s.day_of_month,
    timeOfDay: s.time_of_day,
    timezone: s.timezone,
    units: s.units,
    notes: s.notes,
    emailRecipients: s.email_recipients,
    webhookUrl: s.webhook_url,
    enabled: s.enabled,
    nextRunAt: s.next_run_at?.toISOString() ?? null,
    lastRunAt: s.last_run_at?.toISOString() ?? null,
    lastStatus: s.last_status,
    lastError: s.last_error,
    createdAt: s.created_at.toISOString(),
    updatedAt: s.updated_at.toISOString(),
  };
}

export function presentRun(r: store.ScheduleRunRow) {
  return {
    id: r.id,
    periodFrom: r.period_start.toISOString(),
    periodTo: r.period_end.toISOString(),
    reportId: r.report_id,
    status: r.status,
    email: r.email_status,
    webhook: r.webhook_status,
    webhookResponseStatus: r.webhook_response_status,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    deliveredAt: r.delivered_at?.toISOString() ?? null,
    manual: r.manual,
  };
}

const newSecret = () => `whsec_${randomBytes(32).toString('hex')}`;

/**
 * Report schedules as members manage them: validated against what the caller may see, audited, and
 * given their next run time. The runs themselves are made and delivered by ScheduleDelivery.
 */
export class ReportSchedulesService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly deps: { reports: ReportsService },
  ) {}

  async list(scope: Scope, query: PageQuery) {
    const page = pageRequest(query);
    const rows = await store.listSchedules(this.ctx.db, scope, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  async get(scope: Scope, id: string) {
    const schedule = await store.findSchedule(this.ctx.db, scope, id);
    if (!schedule) throw notFound('report schedule');
    return schedule;
  }

  async runs(scope: Scope, id: string, query: PageQuery) {
    await this.get(scope, id);
    const page = pageRequest(query);
    const rows = await store.listRuns(this.ctx.db, id, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id]);
  }

  /** Checks a whole schedule; every problem is reported at once as a 400. */
  private async check(scope: Scope, input: ScheduleInput): Promise<store.ScheduleFields> {
    const problems: FieldError[] = [];
    const name = input.name.trim();
    if (!name) problems.push({ field: 'name', message: 'is required' });
    if (!input.deviceId && !input.siteId && input.kind !== 'site_safety') problems.push({ field: 'deviceId', message: 'give a device or a site' });
    if (input.deviceId && input.siteId) problems.push({ field: 'siteId', message: 'give a device or a site, not both' });
    if (input.cadence === 'weekly') {
      if (!input.dayOfWeek) problems.push({ field: 'dayOfWeek', message: 'a weekly schedule needs a day of the week (1 = Monday … 7 = Sunday)' });
      if (input.dayOfMonth) problems.push({ field: 'dayOfMonth', message: 'applies to monthly schedules only' });
    } else {
      if (!input.dayOfMonth) problems.push({ field: 'dayOfMonth', message: 'a monthly schedule needs a day of the month (29–31 run on the last day of shorter months)' });
      if (input.dayOfWeek) problems.push({ field: 'dayOfWeek', message: 'applies to weekly schedules only' });
    }
    if (input.timezone && !isValidTimezone(input.timezone)) problems.push({ field: 'timezone', message: 'is not a known IANA time zone' });
    if (input.units && input.kind !== 'speed_study') problems.push({ field: 'units', message: 'applies to speed studies only' });
    const recipients = [...new Set((input.emailRecipients ?? []).map((r) => r.trim().toLowerCase()).filter(Boolean))];
    const badAddress = recipients.find((r) => !EMAIL.test(r));
    if (badAddress) problems.push({ field: 'emailRecipients', message: `"${badAddress}" is not an email address` });
    if (recipients.length > MAX_RECIPIENTS) problems.push({ field: 'emailRecipients', message: `at most ${MAX_RECIPIENTS} addresses` });
    if (recipients.length > 0 && !this.ctx.mailer.configured) problems.push({ field: 'emailRecipients', message: 'this server cannot send email: SMTP is not configured (SMTP_HOST)' });
    const webhookUrl = input.webhookUrl?.trim() || null;
    if (webhookUrl) {
      const problem = await this.ctx.outbound.problem(webhookUrl);
      if (problem) problems.push({ field: 'webhookUrl', message: problem });
    }
    if (recipients.length === 0 && !webhookUrl) problems.push({ field: 'emailRecipients', message: 'give at least one delivery target: email recipients or a webhook URL' });
    if (problems.length > 0) throw invalidFields(problems);

    const subject = await this.deps.reports.subject(scope, input.kind, input);
    const fields: store.ScheduleFields = {
      name,
      kind: input.kind,
      deviceId: input.deviceId ?? null,
      subjectSiteId: input.deviceId ? null : input.siteId ?? null,
      siteId: subject.siteId,
      cadence: input.cadence,
      dayOfWeek: input.cadence === 'weekly' ? input.dayOfWeek ?? null : null,
      dayOfMonth: input.cadence === 'monthly' ? input.dayOfMonth ?? null : null,
      timeOfDay: input.timeOfDay,
      timezone: input.timezone || subject.timezone,
      units: input.units ?? null,
      notes: input.notes?.trim() || null,
      emailRecipients: recipients,
      webhookUrl,
      enabled: input.enabled ?? true,
      nextRunAt: null,
    };
    fields.nextRunAt = fields.enabled ? nextRun(fields, new Date()) : null;
    return fields;
  }

  /** Creates a schedule; a webhook's signing secret is in the answer, once. */
  async create(scope: Scope, input: ScheduleInput, actor: Actor) {
    const fields = await this.check(scope, input);
    const secret = fields.webhookUrl ? newSecret() : null;
    const schedule = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await store.insertSchedule(tx, scope, fields, secret ? seal(this.ctx.secrets.encryptionKey, secret) : null);
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report_schedule.created', resourceType: 'report_schedule', resourceId: row.id, details: this.auditDetails(row) }, tx);
      return row;
    });
    return { schedule, secret };
  }

  /** Changes a schedule (the next run is worked out again); a webhook added now gets its secret, shown once. */
  async update(scope: Scope, id: string, patch: Partial<ScheduleInput>, actor: Actor) {
    const current = await this.get(scope, id);
    const merged: ScheduleInput = {
      name: current.name, kind: current.kind, deviceId: current.device_id, siteId: current.subject_site_id, cadence: current.cadence,
      dayOfWeek: current.day_of_week, dayOfMonth: current.day_of_month, timeOfDay: current.time_of_day, timezone: current.timezone,
      units: current.units, notes: current.notes, emailRecipients: current.email_recipients, webhookUrl: current.webhook_url, enabled: current.enabled,
      ...patch,
    };
    // Switching cadence drops the other cadence's day unless the caller gave it.
    if (patch.cadence === 'weekly' && patch.dayOfMonth === undefined) merged.dayOfMonth = null;
    if (patch.cadence === 'monthly' && patch.dayOfWeek === undefined) merged.dayOfWeek = null;
    // A subject given replaces the other kind of subject.
    if (patch.deviceId && patch.siteId === undefined) merged.siteId = null;
    if (patch.siteId && patch.deviceId === undefined) merged.deviceId = null;
    const fields = await this.check(scope, merged);
    const secret = fields.webhookUrl && !current.webhook_secret_sealed ? newSecret() : null;
    const extra = secret ? { webhook_secret_sealed: seal(this.ctx.secrets.encryptionKey, secret) } : fields.webhookUrl ? {} : { webhook_secret_sealed: null };
    const schedule = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await store.updateSchedule(tx, scope, id, fields, extra);
      if (!row) throw notFound('report schedule');
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report_schedule.updated', resourceType: 'report_schedule', resourceId: id, name: row.name, details: { changes: { ...patch } } }, tx);
      return row;
    });
    return { schedule, secret };
  }

  async rotateSecret(scope: Scope, id: string, actor: Actor) {
    const current = await this.get(scope, id);
    if (!current.webhook_url) throw invalidFields([{ field: 'webhookUrl', message: 'this schedule has no webhook, so no signing secret' }]);
    const secret = newSecret();
    await this.ctx.db.transaction().execute(async (tx) => {
      await store.updateSchedule(tx, scope, id, this.fieldsOf(current), { webhook_secret_sealed: seal(this.ctx.secrets.encryptionKey, secret) });
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report_schedule.secret_rotated', resourceType: 'report_schedule', resourceId: id }, tx);
    });
    return { secret };
  }

  /**
   * Sends a schedule's report for its last full period now (enabled or not), to the schedule's targets,
   * without touching its next run: the run is marked manual, so the period's scheduled run still
   * happens. One at a time per schedule; delivered by the same job, with the same retries.
   */
  async sendNow(scope: Scope, id: string, actor: Actor) {
    const { run, report } = await this.ctx.db.transaction().execute(async (tx) => {
      const schedule = await store.lockSchedule(tx, scope, id);
      if (!schedule) throw notFound('report schedule');
      if (await store.hasManualRunInProgress(tx, id)) throw conflict('this schedule is already being sent; wait for that run to finish');
      const period = periodOf(cadenceOf(schedule), new Date());
      const row = await store.insertManualRun(tx, {
        scheduleId: id, orgId: schedule.org_id, ...period, email: schedule.email_recipients.length > 0, webhook: schedule.webhook_url !== null,
      });
      const queued = await this.deps.reports.createScheduled(tx, schedule, period);
      await store.attachReport(tx, row.id, queued.id);
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'report_schedule.sent_now', resourceType: 'report_schedule', resourceId: id,
        details: { name: schedule.name, periodFrom: period.from.toISOString(), periodTo: period.to.toISOString(), reportId: queued.id },
      }, tx);
      return { run: { ...row, report_id: queued.id }, report: queued };
    });
    await this.deps.reports.announceQueued(report);
    return run;
  }

  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    await this.ctx.db.transaction().execute(async (tx) => {
      const deleted = await store.deleteSchedule(tx, scope, id);
      if (!deleted) throw notFound('report schedule');
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report_schedule.deleted', resourceType: 'report_schedule', resourceId: id, details: { name: deleted.name } }, tx);
    });
  }

  private fieldsOf(s: store.ScheduleRow): store.ScheduleFields {
    return {
      name: s.name, kind: s.kind, deviceId: s.device_id, subjectSiteId: s.subject_site_id, siteId: s.site_id, cadence: s.cadence,
      dayOfWeek: s.day_of_week, dayOfMonth: s.day_of_month, timeOfDay: s.time_of_day, timezone: s.timezone, units: s.units, notes: s.notes,
      emailRecipients: s.email_recipients, webhookUrl: s.webhook_url, enabled: s.enabled, nextRunAt: s.next_run_at,
    };
  }

  private auditDetails(s: store.ScheduleRow) {
    return { name: s.name, kind: s.kind, cadence: s.cadence, emailRecipients: s.email_recipients, webhookUrl: s.webhook_url, enabled: s.enabled };
  }
}
