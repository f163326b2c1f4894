import type { Readable } from 'node:stream';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { csvStream, streamCsvPages } from '../core/csv.js';
import type { MaintenanceType } from '../core/db/schema.js';
import { badRequest, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import type { MaintenanceAttachmentsService } from './attachments.js';
import { DUE_CSV_COLUMNS, dueCsvRow, presentDue, presentRecord, RECORD_CSV_COLUMNS, recordCsvRow, type MaintenanceRecord } from './present.js';
import type { ReminderSender, ReminderSettings } from './reminders.js';
import * as store from './store.js';

export interface RecordInput {
  type: MaintenanceType;
  performedAt?: string;
  performedBy: string;
  description: string;
  cost?: number | null;
  currency?: string | null;
  parts?: string[];
  notes?: string | null;
  nextDueOn?: string | null;
}

// A technician's phone clock may run a little ahead; anything later is a typing mistake.
const FUTURE_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
const EXPORT_PAGE = 500;
const REMINDER_BATCH = 200;

/** Checks what the schema cannot: trimmed text, dates in order, cost and currency together. */
function validated(input: RecordInput, now = Date.now()): store.RecordFields {
  const problems: FieldError[] = [];
  const performedBy = input.performedBy.trim();
  const description = input.description.trim();
  if (!performedBy) problems.push({ field: 'performedBy', message: 'is required: who did the work' });
  if (!description) problems.push({ field: 'description', message: 'is required' });
  const performedAt = input.performedAt ? new Date(input.performedAt) : new Date(now);
  if (performedAt.getTime() > now + FUTURE_SKEW_MS) problems.push({ field: 'performedAt', message: 'cannot be in the future' });
  // A due date is a calendar day where the equipment is; allow one day for time zones west of UTC.
  const earliestDue = new Date(performedAt.getTime() - DAY_MS).toISOString().slice(0, 10);
  if (input.nextDueOn && input.nextDueOn < earliestDue) problems.push({ field: 'nextDueOn', message: 'must not be before the maintenance was performed' });
  const cost = input.cost ?? null;
  const currency = input.currency ?? null;
  if (cost !== null && currency === null) problems.push({ field: 'currency', message: 'is required with a cost (ISO 4217 code, e.g. EUR)' });
  if (cost === null && currency !== null) problems.push({ field: 'cost', message: 'is required with a currency' });
  if (cost !== null && Math.abs(Math.round(cost * 100) - cost * 100) > 1e-6) problems.push({ field: 'cost', message: 'has at most 2 decimals' });
  const parts = (input.parts ?? []).map((part) => part.trim());
  if (parts.some((part) => part === '')) problems.push({ field: 'parts', message: 'must not contain empty names' });
  if (problems.length > 0) throw invalidFields(problems);
  return {
    type: input.type, performedAt, performedBy, description, cost, currency, parts,
    notes: input.notes?.trim() || null, nextDueOn: input.nextDueOn ?? null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cursor's (sort value, id), checked before it reaches SQL: a tampered cursor is a 400, not a 500. */
function keysetAfter(after: (string | number)[] | null, isValue: (value: string) => boolean): [string, string] | null {
  if (!after) return null;
  const [value, id] = after;
  if (after.length !== 2 || typeof value !== 'string' || typeof id !== 'string' || !isValue(value) || !UUID.test(id)) {
    throw badRequest('cursor is not valid; use the nextCursor of a previous page', [{ field: 'cursor', message: 'malformed' }]);
  }
  return [value, id];
}
const isTimestamp = (value: string) => !Number.isNaN(Date.parse(value));
const isDay = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));

function inputOf(row: store.RecordRow): RecordInput {
  return {
    type: row.type, performedAt: row.performed_at.toISOString(), performedBy: row.performed_by, description: row.description,
    cost: row.cost, currency: row.currency, parts: row.parts, notes: row.notes, nextDueOn: row.next_due_on,
  };
}

/** Maintenance records of devices: history, changes (audited, announced on the bus), due dates and reminders. */
export class MaintenanceService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly devices: DevicesService,
    private readonly attachments: MaintenanceAttachmentsService,
    private readonly reminders: ReminderSender,
  ) {}

  private async withAttachments(rows: store.RecordRow[]): Promise<MaintenanceRecord[]> {
    const orgId = rows[0]?.org_id;
    const attachments = orgId ? await store.listAttachments(this.ctx.db, orgId, rows.map((r) => r.id)) : [];
    return rows.map((row) => presentRecord(row, attachments));
  }

  /** A device's history, newest performed first. */
  async history(scope: Scope, deviceId: string, query: PageQuery & { type?: MaintenanceType }) {
    await this.devices.get(scope, deviceId);
    return this.list(scope, { ...query, deviceId });
  }

  async list(scope: Scope, query: PageQuery & store.RecordFilter) {
    const page = pageRequest(query);
    const rows = await store.listRecords(this.ctx.db, scope, query, page.limit, keysetAfter(page.after, isTimestamp));
    const result = toPage(rows, page.limit, (r) => [r.performed_at.toISOString(), r.id]);
    return { items: await this.withAttachments(result.items), nextCursor: result.nextCursor };
  }

  async get(scope: Scope, id: string): Promise<MaintenanceRecord> {
    const row = await store.findRecord(this.ctx.db, scope, id);
    if (!row) throw notFound('maintenance record');
    const [record] = await this.withAttachments([row]);
    return record!;
  }

  async create(scope: Scope, deviceId: string, input: RecordInput, actor: Actor): Promise<MaintenanceRecord> {
    const device = await this.devices.get(scope, deviceId);
    const fields = validated(input);
    const id = await this.ctx.db.transaction().execute(async (tx) => {
      const recordId = await store.insertRecord(tx, scope.orgId, device.id, fields, actor.userId);
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'maintenance.created', resourceType: 'maintenance_record', resourceId: recordId,
        details: { deviceId: device.id, type: fields.type, performedBy: fields.performedBy, nextDueOn: fields.nextDueOn },
      }, tx);
      return recordId;
    });
    return this.announce('maintenance.created', scope.orgId, await this.get(scope, id));
  }

  /** Changes some fields; the record is checked whole again, so a patch cannot break a rule the others keep. */
  async update(scope: Scope, id: string, patch: Partial<RecordInput>, actor: Actor): Promise<MaintenanceRecord> {
    await this.ctx.db.transaction().execute(async (tx) => {
      const current = await store.findRecord(tx, scope, id);
      if (!current) throw notFound('maintenance record');
      const fields = validated({ ...inputOf(current), ...patch });
      await store.updateRecord(tx, scope.orgId, id, fields);
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'maintenance.updated', resourceType: 'maintenance_record', resourceId: id,
        details: { deviceId: current.device_id, changes: patch },
      }, tx);
    });
    return this.announce('maintenance.updated', scope.orgId, await this.get(scope, id));
  }

  /** Deletes a record; its attachments' files follow once the rows are gone (see purgeDeletedFiles). */
  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const record = await this.get(scope, id);
    await this.ctx.db.transaction().execute(async (tx) => {
      await store.deleteRecord(tx, scope.orgId, id);
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'maintenance.deleted', resourceType: 'maintenance_record', resourceId: id,
        details: { deviceId: record.deviceId, type: record.type, performedAt: record.performedAt, performedBy: record.performedBy },
      }, tx);
    });
    await this.attachments.purgeDeletedFiles();
    await this.ctx.bus.publish({ type: 'maintenance.deleted', orgId: scope.orgId, siteId: record.siteId, data: { recordId: id, deviceId: record.deviceId } });
  }

  /** How many days ahead reminders go out, and through which notification channels (null: all enabled ones). */
  async settings(scope: Scope): Promise<ReminderSettings> {
    const [reminderDays, channelIds] = await Promise.all([store.reminderDays(this.ctx.db, scope.orgId), store.reminderChannels(this.ctx.db, scope.orgId)]);
    return { reminderDays, channelIds };
  }

  async saveSettings(scope: Scope, settings: { reminderDays: number; channelIds?: string[] | null }, actor: Actor): Promise<ReminderSettings> {
    const unknown = settings.channelIds ? await this.reminders.unknownChannels(scope.orgId, settings.channelIds) : [];
    if (unknown.length > 0) throw invalidFields([{ field: 'channelIds', message: `not notification channels of this organization: ${unknown.join(', ')}` }]);
    await this.ctx.db.transaction().execute(async (tx) => {
      await store.saveSettings(tx, scope.orgId, settings.reminderDays, settings.channelIds);
      await this.audit.record(actor, { orgId: scope.orgId, action: 'maintenance.settings_updated', resourceType: 'organization', resourceId: scope.orgId, details: { ...settings } }, tx);
    });
    return this.settings(scope);
  }

  /** Devices overdue or due within `withinDays` (default: the organization's reminder window), soonest first. */
  async due(scope: Scope, query: PageQuery & { withinDays?: number; status?: 'overdue' | 'due_soon' }) {
    const withinDays = query.withinDays ?? (await store.reminderDays(this.ctx.db, scope.orgId));
    const page = pageRequest(query);
    const rows = await store.listDue(this.ctx.db, scope, { withinDays, status: query.status }, page.limit, keysetAfter(page.after, isDay));
    const result = toPage(rows, page.limit, (r) => [r.next_due_on ?? '', r.id]);
    return { withinDays, items: result.items.map(presentDue), nextCursor: result.nextCursor };
  }

  exportRecordsCsv(scope: Scope, filter: store.RecordFilter): Readable {
    return streamCsvPages(csvStream(RECORD_CSV_COLUMNS), (cursor) => this.list(scope, { ...filter, limit: EXPORT_PAGE, cursor }), recordCsvRow);
  }

  exportDueCsv(scope: Scope, query: { withinDays?: number; status?: 'overdue' | 'due_soon' }): Readable {
    return streamCsvPages(csvStream(DUE_CSV_COLUMNS), (cursor) => this.due(scope, { ...query, limit: EXPORT_PAGE, cursor }), dueCsvRow);
  }

  /**
   * Queues, per record and due date, one reminder inside the reminder window and one overdue notice
   * once the date has passed, on the organization's notification channels: the
   * notifications are written in the transaction that holds the record's lock and sets its flag, so a
   * reminder is queued exactly once; delivery (retries, digests, quiet hours) is the channels' business.
   * Run by the job runner, in one process at a time.
   */
  async sendReminders(): Promise<number> {
    const candidates = await this.ctx.db.transaction().execute((tx) => store.dueForReminder(tx, REMINDER_BATCH));
    let queued = 0;
    for (const c of candidates) {
      const dueOn = c.next_due_on!;
      const overdue = c.days_until_due < 0;
      await this.ctx.db.transaction().execute(async (tx) => {
        if (!(await store.lockForReminder(tx, c.id, dueOn, overdue))) return;
        await this.reminders.queue(tx, {
          orgId: c.org_id, orgName: c.org_name, recordId: c.id, deviceId: c.device_id, deviceName: c.device_name, serial: c.serial,
          siteId: c.site_id, siteName: c.site_name, dueOn, daysUntilDue: c.days_until_due, lastPerformedBy: c.performed_by,
        }, c.channel_ids);
        await store.markReminded(tx, c.id, dueOn, overdue);
        queued += 1;
      });
    }
    if (queued > 0) await this.reminders.deliver();
    return queued;
  }

  private async announce(type: string, orgId: string, record: MaintenanceRecord): Promise<MaintenanceRecord> {
    await this.ctx.bus.publish({ type, orgId, siteId: record.siteId, data: { record } });
    return record;
  }
}
