import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { CommandStatus } from '../core/db/schema.js';
import { inScope } from '../core/db/scope.js';

/**
 * Every SQL statement about device commands. Members read commands through the command's device, so a
 * member limited to some sites sees only their sites' devices' commands; the device-facing statements
 * (claim, answer) are bounded by the device id the caller authenticated as.
 */
type Conn = Db | Tx;

const COLUMNS = [
  'c.id', 'c.request_id', 'c.org_id', 'c.device_id', 'c.method', 'c.params', 'c.two_way', 'c.status', 'c.response', 'c.error',
  'c.timeout_seconds', 'c.deadline', 'c.created_by', 'c.created_by_label', 'c.created_at', 'c.sent_at', 'c.answered_at',
  'd.site_id',
] as const;

/** Statuses from which a command can still move on. */
export const OPEN_STATUSES: readonly CommandStatus[] = ['queued', 'sent'];

function visible(db: Conn, scope: Scope) {
  return db
    .selectFrom('device_commands as c')
    .innerJoin('devices as d', 'd.id', 'c.device_id')
    .select(COLUMNS)
    .where(inScope(scope, 'd'));
}

export type CommandRow = Awaited<ReturnType<typeof findCommand>> & {};

export function findCommand(db: Conn, scope: Scope, id: string) {
  return visible(db, scope).where('c.id', '=', id).executeTakeFirst();
}

export async function statusOf(db: Conn, id: string): Promise<CommandStatus | undefined> {
  const row = await db.selectFrom('device_commands').select('status').where('id', '=', id).executeTakeFirst();
  return row?.status;
}

/** A device's commands, newest first; `after` is the (created_at, id) of the previous page's last row. */
export function listCommands(db: Conn, scope: Scope, deviceId: string, limit: number, after: [string, string] | null) {
  let query = visible(db, scope).where('c.device_id', '=', deviceId).orderBy('c.created_at', 'desc').orderBy('c.id', 'desc').limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(c.created_at, c.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export interface NewCommand {
  orgId: string;
  deviceId: string;
  method: string;
  params: string;
  twoWay: boolean;
  timeoutSeconds: number;
  createdBy: string | null;
  createdByLabel: string | null;
}

export async function insertCommand(db: Conn, command: NewCommand): Promise<string> {
  const row = await db
    .insertInto('device_commands')
    .values({
      org_id: command.orgId,
      device_id: command.deviceId,
      method: command.method,
      params: command.params,
      two_way: command.twoWay,
      timeout_seconds: command.timeoutSeconds,
      deadline: sql<Date>`now() + make_interval(secs => ${command.timeoutSeconds})`,
      created_by: command.createdBy,
      created_by_label: command.createdByLabel,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** What a device is sent: the request id it answers with, the method and the params. */
export interface Claimed {
  id: string;
  orgId: string;
  requestId: number;
  method: string;
  params: unknown;
  twoWay: boolean;
}

/**
 * Takes the device's queued commands (oldest first, at most `limit`) for delivery: one-way commands become
 * `delivered`, two-way ones `sent`. The row lock with SKIP LOCKED makes two processes that both hold a
 * connection of the device hand each command out once.
 */
export async function claimQueued(db: Conn, deviceId: string, limit: number): Promise<Claimed[]> {
  const { rows } = await sql<{ id: string; org_id: string; request_id: number; method: string; params: unknown; two_way: boolean }>`
    UPDATE device_commands c
       SET status = CASE WHEN c.two_way THEN 'sent' ELSE 'delivered' END, sent_at = now()
      FROM (SELECT id FROM device_commands
             WHERE device_id = ${deviceId}::uuid AND status = 'queued' AND deadline > now()
             ORDER BY created_at, request_id LIMIT ${limit} FOR UPDATE SKIP LOCKED) due
     WHERE c.id = due.id
    RETURNING c.id, c.org_id, c.request_id, c.method, c.params, c.two_way`.execute(db);
  return rows
    .sort((a, b) => a.request_id - b.request_id)
    .map((r) => ({ id: r.id, orgId: r.org_id, requestId: r.request_id, method: r.method, params: r.params, twoWay: r.two_way }));
}

/** Puts a claimed command back in the queue (it could not be written to the device after all). */
export async function requeue(db: Conn, id: string): Promise<void> {
  await db.updateTable('device_commands').set({ status: 'queued', sent_at: null }).where('id', '=', id).where('status', 'in', ['sent', 'delivered']).execute();
}

export interface Answer {
  status: 'succeeded' | 'failed';
  response: string | null;
  error: string | null;
}

/**
 * Records a device's answer to one of its own two-way commands still waiting for it. Null when the
 * request id is not such a command of this device (another device's, one-way, answered or timed out).
 */
export async function answer(db: Conn, deviceId: string, requestId: number, result: Answer): Promise<{ id: string; orgId: string } | null> {
  const row = await db
    .updateTable('device_commands')
    .set({ status: result.status, response: result.response, error: result.error, answered_at: sql<Date>`now()` })
    .where('device_id', '=', deviceId)
    .where('request_id', '=', requestId)
    .where('two_way', '=', true)
    .where('status', '=', 'sent')
    .where('deadline', '>', sql<Date>`now()`)
    .returning(['id', 'org_id'])
    .executeTakeFirst();
  return row ? { id: row.id, orgId: row.org_id } : null;
}

/**
 * Closes commands whose deadline has passed: still queued → `expired` (never reached the device), sent and
 * unanswered → `timed_out`. With `id`, that one command, whose caller has waited its timeout (the caller's
 * clock decides, so a database clock a little behind cannot keep it open).
 */
export async function closeOverdue(db: Conn, id?: string, limit = 1000) {
  const { rows } = await sql<{ id: string; org_id: string; device_id: string; site_id: string | null; status: CommandStatus }>`
    UPDATE device_commands c
       SET status = CASE WHEN c.status = 'queued' THEN 'expired' ELSE 'timed_out' END
      FROM (SELECT id FROM device_commands
             WHERE status IN ('queued', 'sent') AND ${id ? sql`id = ${id}::uuid` : sql`deadline <= now()`}
             LIMIT ${limit} FOR UPDATE SKIP LOCKED) overdue, devices d
     WHERE c.id = overdue.id AND d.id = c.device_id
    RETURNING c.id, c.org_id, c.device_id, d.site_id, c.status`.execute(db);
  return rows;
}

/** A device's commands still in the queue (how many a new one may join). */
export async function countQueued(db: Conn, deviceId: string): Promise<number> {
  const row = await db
    .selectFrom('device_commands')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('device_id', '=', deviceId)
    .where('status', '=', 'queued')
    .where('deadline', '>', sql<Date>`now()`)
    .executeTakeFirstOrThrow();
  return row.n;
}

/** Which of these devices have commands waiting (the safety net when a bus message between processes was lost). */
export async function devicesWithQueued(db: Conn, deviceIds: string[]): Promise<string[]> {
  if (deviceIds.length === 0) return [];
  const rows = await db
    .selectFrom('device_commands')
    .select('device_id')
    .distinct()
    .where('status', '=', 'queued')
    .where('deadline', '>', sql<Date>`now()`)
    .where('device_id', '=', sql<string>`ANY(${deviceIds}::uuid[])`)
    .execute();
  return rows.map((r) => r.device_id);
}
