import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { MaintenanceType } from '../core/db/schema.js';

/**
 * Every SQL statement about maintenance records, their attachments and the reminder setting. Reads go
 * through the record's device, so a site-restricted member sees only their sites' devices' records.
 */
type Conn = Db | Tx;

export const DEFAULT_REMINDER_DAYS = 7;

const RECORD_COLUMNS = [
  'r.id', 'r.org_id', 'r.device_id', 'r.type', 'r.performed_at', 'r.performed_by', 'r.description', 'r.cost', 'r.currency',
  'r.parts', 'r.notes', 'r.next_due_on', 'r.reminded_for', 'r.created_by', 'r.created_at', 'r.updated_at',
  'd.name as device_name', 'd.site_id',
] as const;

export interface RecordFields {
  type: MaintenanceType;
  performedAt: Date;
  performedBy: string;
  description: string;
  cost: number | null;
  currency: string | null;
  parts: string[];
  notes: string | null;
  nextDueOn: string | null;
}

function inSites(scope: Scope) {
  return sql<boolean>`d.site_id = ANY(${scope.siteIds}::uuid[])`;
}

function visibleRecords(db: Conn, scope: Scope) {
  let query = db
    .selectFrom('maintenance_records as r')
    .innerJoin('devices as d', 'd.id', 'r.device_id')
    .select(RECORD_COLUMNS)
    .where('r.org_id', '=', scope.orgId);
  if (scope.siteIds) query = query.where(inSites(scope));
  return query;
}

export type RecordRow = Awaited<ReturnType<typeof findRecord>> & {};

export interface RecordFilter {
  deviceId?: string;
  type?: MaintenanceType;
}

/** Newest performed first; `after` is the (performed_at, id) of the last row of the previous page. */
export function listRecords(db: Conn, scope: Scope, filter: RecordFilter, limit: number, after: [string, string] | null) {
  let query = visibleRecords(db, scope).orderBy('r.performed_at', 'desc').orderBy('r.id', 'desc').limit(limit + 1);
  if (filter.deviceId) query = query.where('r.device_id', '=', filter.deviceId);
  if (filter.type) query = query.where('r.type', '=', filter.type);
  if (after) query = query.where(sql<boolean>`(r.performed_at, r.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export function findRecord(db: Conn, scope: Scope, id: string) {
  return visibleRecords(db, scope).where('r.id', '=', id).executeTakeFirst();
}

/** A record's editable fields as columns (insert and update write the same ones). */
function recordColumns(fields: RecordFields) {
  return {
    type: fields.type,
    performed_at: fields.performedAt,
    performed_by: fields.performedBy,
    description: fields.description,
    cost: fields.cost,
    currency: fields.currency,
    parts: fields.parts,
    notes: fields.notes,
    next_due_on: fields.nextDueOn,
  };
}

export async function insertRecord(db: Conn, orgId: string, deviceId: string, fields: RecordFields, createdBy: string | null): Promise<string> {
  const row = await db
    .insertInto('maintenance_records')
    .values({
      org_id: orgId,
      device_id: deviceId,
      ...recordColumns(fields),
      created_by: createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Callers find the record through their scope first; the organization still bounds the write. */
export async function updateRecord(db: Conn, orgId: string, id: string, fields: RecordFields): Promise<void> {
  await db
    .updateTable('maintenance_records')
    .set({
      ...recordColumns(fields),
      updated_at: new Date(),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export async function deleteRecord(db: Conn, orgId: string, id: string): Promise<void> {
  await db.deleteFrom('maintenance_records').where('org_id', '=', orgId).where('id', '=', id).execute();
}

const ATTACHMENT_COLUMNS = ['a.id', 'a.record_id', 'a.file_name', 'a.content_type', 'a.size_bytes', 'a.storage_key', 'a.created_at'] as const;

export type AttachmentRow = Awaited<ReturnType<typeof listAttachments>>[number];

export function listAttachments(db: Conn, orgId: string, recordIds: string[]) {
  if (recordIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('maintenance_attachments as a')
    .select(ATTACHMENT_COLUMNS)
    .where('a.org_id', '=', orgId)
    .where('a.record_id', 'in', recordIds)
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();
}

/** An attachment whose record's device the caller may see. */
export function findAttachment(db: Conn, scope: Scope, id: string) {
  let query = db
    .selectFrom('maintenance_attachments as a')
    .innerJoin('maintenance_records as r', 'r.id', 'a.record_id')
    .innerJoin('devices as d', 'd.id', 'r.device_id')
    .select([...ATTACHMENT_COLUMNS, 'r.device_id', 'd.site_id'])
    .where('a.org_id', '=', scope.orgId)
    .where('a.id', '=', id);
  if (scope.siteIds) query = query.where(inSites(scope));
  return query.executeTakeFirst();
}

export async function countAttachments(db: Conn, recordId: string): Promise<number> {
  const row = await db
    .selectFrom('maintenance_attachments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('record_id', '=', recordId)
    .executeTakeFirstOrThrow();
  return row.n;
}

export function insertAttachment(
  db: Conn,
  a: { id: string; orgId: string; recordId: string; fileName: string; contentType: string; sizeBytes: number; storageKey: string; createdBy: string | null },
) {
  return db
    .insertInto('maintenance_attachments')
    .values({
      id: a.id, org_id: a.orgId, record_id: a.recordId, file_name: a.fileName, content_type: a.contentType,
      size_bytes: a.sizeBytes, storage_key: a.storageKey, created_by: a.createdBy,
    })
    .returning(['id', 'record_id', 'file_name', 'content_type', 'size_bytes', 'storage_key', 'created_at'])
    .executeTakeFirstOrThrow();
}

export async function deleteAttachment(db: Conn, orgId: string, id: string): Promise<void> {
  await db.deleteFrom('maintenance_attachments').where('org_id', '=', orgId).where('id', '=', id).execute();
}

export async function reminderDays(db: Conn, orgId: string): Promise<number> {
  const row = await db.selectFrom('maintenance_settings').select('reminder_days').where('org_id', '=', orgId).executeTakeFirst();
  return row?.reminder_days ?? DEFAULT_REMINDER_DAYS;
}

/** The reminder channels: null = every enabled notification channel of the organization. */
export async function reminderChannels(db: Conn, orgId: string): Promise<string[] | null> {
  const row = await db.selectFrom('maintenance_settings').select('channel_ids').where('org_id', '=', orgId).executeTakeFirst();
  return row?.channel_ids ?? null;
}

/** `channelIds` undefined leaves the channels as they are. */
export async function saveSettings(db: Conn, orgId: string, days: number, channelIds: string[] | null | undefined): Promise<void> {
  const channels = channelIds === undefined ? {} : { channel_ids: channelIds };
  await db
    .insertInto('maintenance_settings')
    .values({ org_id: orgId, reminder_days: days, ...channels })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ reminder_days: days, ...channels, updated_at: new Date() }))
    .execute();
}

/**
 * Devices with their current due date: the one on the most recently performed record that sets one
 * (logging the next maintenance replaces the previous schedule). One index probe per device.
 */
function devicesWithCurrentDue(db: Conn) {
  return db
    .selectFrom('devices as d')
    .innerJoinLateral(
      (eb) => eb
        .selectFrom('maintenance_records as m')
        .selectAll('m')
        .whereRef('m.device_id', '=', 'd.id')
        .where('m.next_due_on', 'is not', null)
        .orderBy('m.performed_at', 'desc')
        .orderBy('m.id', 'desc')
        .limit(1)
        .as('r'),
      (join) => join.onTrue(),
    )
    .innerJoin('organizations as o', 'o.id', 'd.org_id')
    .leftJoin('sites as s', 's.id', 'd.site_id');
}

/** Today in the organization's time zone: a due date is a calendar day where the equipment is. */
const today = sql<string>`(now() AT TIME ZONE o.timezone)::date`;

export interface DueFilter {
  withinDays: number;
  status?: 'overdue' | 'due_soon';
}

/** Devices whose current due date is past or within `withinDays`, soonest first; keyset on (due date, id). */
export function listDue(db: Conn, scope: Scope, filter: DueFilter, limit: number, after: [string, string] | null) {
  let query = devicesWithCurrentDue(db)
    .where('d.org_id', '=', scope.orgId)
    .select(RECORD_COLUMNS)
    .select([
      'd.serial', 's.name as site_name',
      sql<number>`r.next_due_on - ${today}`.as('days_until_due'),
    ])
    .where(sql<boolean>`r.next_due_on <= ${today} + ${filter.withinDays}::int`)
    .orderBy('r.next_due_on')
    .orderBy('r.id')
    .limit(limit + 1);
  if (scope.siteIds) query = query.where(inSites(scope));
  if (filter.status === 'overdue') query = query.where(sql<boolean>`r.next_due_on < ${today}`);
  if (filter.status === 'due_soon') query = query.where(sql<boolean>`r.next_due_on >= ${today}`);
  if (after) query = query.where(sql<boolean>`(r.next_due_on, r.id) > (${after[0]}::date, ${after[1]}::uuid)`);
  return query.execute();
}

export type DueRow = Awaited<ReturnType<typeof listDue>>[number];

/**
 * Current due dates inside their organization's reminder window that no reminder was sent for, locked
 * so that only one sender handles each (the job runner already runs one sender at a time).
 */
export function dueForReminder(db: Tx, limit: number) {
  return devicesWithCurrentDue(db)
    .leftJoin('maintenance_settings as ms', 'ms.org_id', 'd.org_id')
    .select([
      'r.id', 'r.org_id', 'r.device_id', 'r.type', 'r.performed_at', 'r.performed_by', 'r.next_due_on', 'r.description',
      'd.name as device_name', 'd.serial', 'd.site_id', 's.name as site_name', 'o.name as org_name', 'ms.channel_ids',
      sql<number>`r.next_due_on - ${today}`.as('days_until_due'),
    ])
    .where(sql<boolean>`(
      (r.next_due_on >= ${today} AND r.next_due_on <= ${today} + COALESCE(ms.reminder_days, ${DEFAULT_REMINDER_DAYS}::int) AND r.reminded_for IS DISTINCT FROM r.next_due_on)
      OR (r.next_due_on < ${today} AND r.overdue_noticed_for IS DISTINCT FROM r.next_due_on))`)
    .orderBy('r.next_due_on')
    .limit(limit)
    .execute();
}

/** Locks one record's row for the reminder (or overdue notice) being queued; false when it changed or was sent meanwhile. */
export async function lockForReminder(db: Tx, id: string, dueOn: string, overdue: boolean): Promise<boolean> {
  const flag = overdue ? sql`overdue_noticed_for` : sql`reminded_for`;
  const row = await sql<{ id: string }>`
    SELECT id FROM maintenance_records
    WHERE id = ${id} AND next_due_on = ${dueOn}::date AND ${flag} IS DISTINCT FROM next_due_on
    FOR UPDATE SKIP LOCKED`.execute(db);
  return row.rows.length > 0;
}

/** An overdue notice also stands for the reminder: a date first seen overdue gets the notice only. */
export async function markReminded(db: Tx, id: string, dueOn: string, overdue: boolean): Promise<void> {
  await db.updateTable('maintenance_records').set({ reminded_for: dueOn, ...(overdue && { overdue_noticed_for: dueOn }) }).where('id', '=', id).execute();
}

/** Storage keys of deleted attachments whose files are still to be removed (queued by a trigger). */
export async function queuedFileDeletions(db: Conn, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('maintenance_file_deletions').select('storage_key').orderBy('queued_at').limit(limit).execute();
  return rows.map((row) => row.storage_key);
}

export async function forgetFileDeletion(db: Conn, storageKey: string): Promise<void> {
  await db.deleteFrom('maintenance_file_deletions').where('storage_key', '=', storageKey).execute();
}
