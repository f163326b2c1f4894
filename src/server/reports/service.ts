import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import type { ReportKind, ReportSchedulesTable } from '../core/db/schema.js';
import type { Selectable } from 'kysely';
import { AppError, conflict, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { SitesService } from '../sites/service.js';
import { resolveRange } from '../traffic/range.js';
import { KIND_TITLES, reportNames } from './naming.js';
import { REPORT_PROGRESS, type ReportParameters } from './runner.js';
import * as store from './store.js';

const DAY = 86_400_000;
/** Compliance and site-safety reports read every reading or violation of their range: a year is the most one may cover. */
const MAX_COMPLIANCE_DAYS = 366;

export interface ReportRequest extends Partial<ReportParameters> {
  kind: ReportKind;
  title?: string;
}

/** What a schedule's report is about: the schedule row's subject, period settings and creator's view. */
export type ScheduledSubject = Pick<Selectable<ReportSchedulesTable>, 'id' | 'org_id' | 'name' | 'kind' | 'device_id' | 'subject_site_id' | 'site_id' | 'timezone' | 'units' | 'notes' | 'creator_site_ids'>;

export type ReportFile = 'pdf' | 'csv' | 'events';

const FILES: Record<ReportFile, { column: 'pdf_key' | 'csv_key' | 'events_csv_key'; type: string; suffix: string }> = {
  pdf: { column: 'pdf_key', type: 'application/pdf', suffix: '.pdf' },
  csv: { column: 'csv_key', type: 'text/csv; charset=utf-8', suffix: '-figures.csv' },
  events: { column: 'events_csv_key', type: 'text/csv; charset=utf-8', suffix: '-events.csv' },
};

/** The device kind each report reads, when its subject is one device. */
const SUBJECT_DEVICE: Record<ReportKind, string> = { speed_study: 'speed_radar', compliance: 'refrigeration', site_safety: 'camera' };

export function presentReport(report: store.ReportRow) {
  return {
    id: report.id,
    kind: report.kind,
    title: report.title,
    siteId: report.site_id,
    parameters: report.parameters,
    requestedBy: report.requested_by ? { id: report.requested_by, label: report.requested_by_label } : null,
    schedule: report.schedule_id ? { id: report.schedule_id, name: report.requested_by_label } : null,
    requestedAt: report.requested_at.toISOString(),
    status: report.status,
    progress: report.progress,
    error: report.error,
    startedAt: report.started_at?.toISOString() ?? null,
    finishedAt: report.finished_at?.toISOString() ?? null,
    files: {
      pdf: report.pdf_key !== null,
      csv: report.csv_key !== null,
      events: report.events_csv_key !== null,
    },
    sizeBytes: report.size_bytes,
  };
}

/**
 * Report requests as members see them: validated and queued here, generated in the background by
 * ReportRunner, listed and downloaded again later, deleted with an audit entry.
 */
export class ReportsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly deps: { devices: DevicesService; sites: SitesService; organizations: OrganizationsService },
  ) {}

  async create(scope: Scope, request: ReportRequest, actor: Actor) {
    const { siteId, timezone, locale, name, parameters } = await this.validate(scope, request);
    const { title, fileStem } = reportNames(request.kind, name, parameters, timezone, locale, request.title?.trim());
    const report = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await store.insertReport(tx, {
        orgId: scope.orgId, siteId, kind: request.kind, title, fileStem, parameters: { ...parameters },
        requestedBy: scope.userId, requestedByLabel: actor.label, requesterSiteIds: scope.siteIds,
      });
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report.requested', resourceType: 'report', resourceId: row.id, name: title, details: { kind: request.kind, ...parameters } }, tx);
      return row;
    });
    await this.announceQueued(report);
    return report;
  }

  /**
   * The device or site a report (or a report schedule) is about, as the caller may see it: its site, time zone
   * and name. A device must be of the kind the report reads; anything else is a 400 naming the field.
   */
  async subject(scope: Scope, kind: ReportKind, request: { deviceId?: string | null; siteId?: string | null }) {
    const org = await this.deps.organizations.get(scope.orgId);
    if (request.deviceId) {
      const device = await this.visible(() => this.deps.devices.get(scope, request.deviceId!), 'deviceId', 'no such device among those you can see');
      const wanted = SUBJECT_DEVICE[kind];
      if (device.kind !== wanted) throw invalidFields([{ field: 'deviceId', message: `a ${KIND_TITLES[kind].toLowerCase()} needs a ${wanted.replace('_', ' ')} device, not a ${device.kind.replace('_', ' ')}` }]);
      const timezone = device.site_id ? (await this.deps.sites.get(scope, device.site_id)).timezone : org.timezone;
      return { siteId: device.site_id, timezone, locale: org.locale, name: device.name };
    }
    // A site-safety report without a device or site covers the organization (a site-restricted member's: their sites).
    if (!request.siteId) return { siteId: null, timezone: org.timezone, locale: org.locale, name: org.name };
    const site = await this.visible(() => this.deps.sites.get(scope, request.siteId!), 'siteId', 'no such site among those you can see');
    return { siteId: site.id as string | null, timezone: site.timezone, locale: org.locale, name: site.name };
  }

  /** Checks the parameters against what the caller may see; every problem is reported at once as a 400. */
  private async validate(scope: Scope, request: ReportRequest) {
    const problems: FieldError[] = [];
    if (!request.deviceId && !request.siteId && request.kind !== 'site_safety') problems.push({ field: 'deviceId', message: 'give a device or a site' });
    if (request.deviceId && request.siteId) problems.push({ field: 'siteId', message: 'give a device or a site, not both' });
    if (!request.from) problems.push({ field: 'from', message: 'is required' });
    if (!request.to) problems.push({ field: 'to', message: 'is required' });
    if (request.units && request.kind !== 'speed_study') problems.push({ field: 'units', message: 'applies to speed studies only' });
    if (problems.length) throw invalidFields(problems);

    const { siteId, timezone, locale, name } = await this.subject(scope, request.kind, request);
    const range = resolveRange({ from: request.from, to: request.to }, timezone);
    if (range.to.getTime() > Date.now() + DAY) throw invalidFields([{ field: 'to', message: 'is in the future' }]);
    if (request.kind !== 'speed_study' && range.to.getTime() - range.from.getTime() > MAX_COMPLIANCE_DAYS * DAY) {
      throw invalidFields([{ field: 'from', message: `a ${KIND_TITLES[request.kind].toLowerCase()} may cover at most ${MAX_COMPLIANCE_DAYS} days` }]);
    }
    const parameters: ReportParameters = {
      ...(request.deviceId ? { deviceId: request.deviceId } : request.siteId ? { siteId: request.siteId } : {}),
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      ...(request.units ? { units: request.units } : {}),
      ...(request.notes?.trim() ? { notes: request.notes.trim() } : {}),
    };
    return { siteId, timezone, locale, name, parameters };
  }

  /**
   * Queues the report of one period of a schedule, in the schedule's transaction (so the period's run and
   * its report exist together or not at all). It is read with the view its creator had.
   */
  async createScheduled(tx: Tx, schedule: ScheduledSubject, period: { from: Date; to: Date }) {
    const parameters: ReportParameters = {
      ...(schedule.device_id ? { deviceId: schedule.device_id } : schedule.subject_site_id ? { siteId: schedule.subject_site_id } : {}),
      from: period.from.toISOString(),
      to: period.to.toISOString(),
      ...(schedule.units ? { units: schedule.units } : {}),
      ...(schedule.notes ? { notes: schedule.notes } : {}),
    };
    const { locale } = await this.deps.organizations.get(schedule.org_id);
    const { title, fileStem } = reportNames(schedule.kind, schedule.name, parameters, schedule.timezone, locale);
    return store.insertReport(tx, {
      orgId: schedule.org_id, siteId: schedule.site_id, kind: schedule.kind, title, fileStem,
      parameters: { ...parameters }, requestedBy: null, requestedByLabel: schedule.name, requesterSiteIds: schedule.creator_site_ids, scheduleId: schedule.id,
    });
  }

  /** Tells live consoles about a queued report (after its transaction committed). */
  announceQueued(report: store.ReportRow): Promise<void> {
    return this.ctx.bus.publish({ type: REPORT_PROGRESS, orgId: report.org_id, siteId: report.site_id, requires: 'report.read', data: { id: report.id, status: report.status, progress: 0 } });
  }

  /** A device or site the caller cannot see is a bad parameter of this request, not a missing report. */
  private async visible<T>(load: () => Promise<T>, field: string, message: string): Promise<T> {
    try {
      return await load();
    } catch (error) {
      if (error instanceof AppError && error.status === 404) throw invalidFields([{ field, message }]);
      throw error;
    }
  }

  async list(scope: Scope, query: PageQuery & { kind?: ReportKind }) {
    const page = pageRequest(query);
    const rows = await store.listReports(this.ctx.db, scope, { kind: query.kind }, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.requested_at.toISOString(), r.id]);
  }

  async get(scope: Scope, id: string) {
    const report = await store.findReport(this.ctx.db, scope, id);
    if (!report) throw notFound('report');
    return report;
  }

  /** A finished report's file, with the name a browser saves it under. */
  async file(scope: Scope, id: string, which: ReportFile) {
    const report = await this.get(scope, id);
    const file = FILES[which];
    const key = report[file.column];
    if (report.status !== 'done') throw conflict(`the report is ${report.status}; files are ready when it is done`);
    if (!key) throw notFound('file');
    const data = await this.ctx.media.get(key);
    if (!data) throw notFound('file');
    return { data, contentType: file.type, filename: `${report.file_stem}${file.suffix}` };
  }

  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const report = await this.ctx.db.transaction().execute(async (tx) => {
      const deleted = await store.deleteReport(tx, scope, id);
      if (!deleted) throw notFound('report');
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report.delete', resourceType: 'report', resourceId: id, details: { kind: deleted.kind, title: deleted.title } }, tx);
      return deleted;
    });
    // A report still running finishes into a deleted row (its update matches nothing) and its files are never listed.
    for (const key of [report.pdf_key, report.csv_key, report.events_csv_key]) if (key) await this.ctx.media.delete(key);
    await this.ctx.bus.publish({ type: 'report.deleted', orgId: scope.orgId, siteId: report.site_id, requires: 'report.read', data: { id } });
  }

  async settings(scope: Scope) {
    return { includePhotos: await store.includePhotos(this.ctx.db, scope.orgId) };
  }

  async updateSettings(scope: Scope, includePhotos: boolean, actor: Actor) {
    await this.ctx.db.transaction().execute(async (tx) => {
      await store.saveSettings(tx, scope.orgId, includePhotos);
      await this.audit.record(actor, { orgId: scope.orgId, action: 'report.settings', resourceType: 'organization', resourceId: scope.orgId, details: { includePhotos } }, tx);
    });
    return { includePhotos };
  }
}
