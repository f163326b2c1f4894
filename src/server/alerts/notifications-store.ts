import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { DigestSchedule, NotificationChannelsTable, NotificationOutboxTable, QuietHours } from '../core/db/schema.js';

/** Every SQL statement about notification channels and the outbox. */
type Conn = Db | Tx;

export type ChannelRow = Selectable<NotificationChannelsTable>;
export type DeliveryRow = Selectable<NotificationOutboxTable>;

const CHANNEL_COLUMNS = ['id', 'org_id', 'name', 'kind', 'recipients', 'url', 'secret_sealed', 'quiet_hours', 'digest', 'next_digest_at', 'enabled', 'created_at', 'updated_at'] as const;

export interface ChannelFields {
  name: string;
  kind: ChannelRow['kind'];
  recipients: string[];
  url: string | null;
  quietHours: QuietHours | null;
  digest: DigestSchedule | null;
  enabled: boolean;
}

const json = (value: object | null) => (value ? JSON.stringify(value) : null);

function columns(fields: Partial<ChannelFields>) {
  const { quietHours, digest, ...rest } = fields;
  return { ...rest, ...(quietHours !== undefined && { quiet_hours: json(quietHours) }), ...(digest !== undefined && { digest: json(digest) }) };
}

export function listChannels(db: Conn, orgId: string, limit: number, after: [string, string] | null) {
  let query = db.selectFrom('notification_channels').select(CHANNEL_COLUMNS).where('org_id', '=', orgId).orderBy('name').orderBy('id').limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(name, id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findChannel(db: Conn, orgId: string, id: string) {
  return db.selectFrom('notification_channels').select(CHANNEL_COLUMNS).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

export function insertChannel(db: Conn, orgId: string, fields: ChannelFields, secretSealed: string | null, nextDigestAt: Date | null) {
  return db.insertInto('notification_channels').values({
    org_id: orgId, name: fields.name, kind: fields.kind, recipients: fields.recipients, url: fields.url, enabled: fields.enabled,
    quiet_hours: json(fields.quietHours), digest: json(fields.digest), next_digest_at: nextDigestAt, secret_sealed: secretSealed,
  }).returning(CHANNEL_COLUMNS).executeTakeFirstOrThrow();
}

export function updateChannel(db: Conn, orgId: string, id: string, fields: Partial<ChannelFields> & { secret_sealed?: string; next_digest_at?: Date | null }) {
  return db.updateTable('notification_channels').set({ ...columns(fields), updated_at: new Date() }).where('org_id', '=', orgId).where('id', '=', id)
    .returning(CHANNEL_COLUMNS).executeTakeFirst();
}

export async function deleteChannel(db: Conn, orgId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('notification_channels').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function orgTimezone(db: Conn, orgId: string): Promise<string> {
  const row = await db.selectFrom('organizations').select('timezone').where('id', '=', orgId).executeTakeFirstOrThrow();
  return row.timezone;
}

/** Puts a channel's held notifications back in the queue (its digest was turned off). */
export async function releaseHeld(db: Conn, channelId: string): Promise<void> {
  await db.updateTable('notification_outbox').set({ status: 'pending', next_attempt_at: new Date() }).where('channel_id', '=', channelId).where('status', '=', 'held').execute();
}

/** The channels that were told an alert opened or escalated (whatever became of those deliveries). */
export async function channelsToldOf(db: Conn, alertId: string): Promise<string[]> {
  const rows = await db.selectFrom('notification_outbox').select('channel_id').distinct()
    .where('alert_id', '=', alertId).where('event', 'in', ['alert.opened', 'alert.escalated']).execute();
  return rows.map((row) => row.channel_id);
}

/** One notification to queue on some of an organization's channels. */
export interface Outgoing {
  orgId: string;
  /** null: every enabled channel of the organization. */
  channelIds: string[] | null;
  alertId: string | null;
  event: string;
  payload: Record<string, unknown>;
  /** Sent at once even through a digest channel. */
  urgent: boolean;
}

/**
 * Queues one notification per enabled channel of the organization among `channelIds`: pending, or held
 * for the channel's next digest unless urgent.
 */
export async function enqueue(db: Conn, notice: Outgoing): Promise<number> {
  if (notice.channelIds?.length === 0) return 0;
  const among = notice.channelIds ? sql`AND c.id = ANY(${notice.channelIds}::uuid[])` : sql``;
  const result = await sql`
    INSERT INTO notification_outbox (org_id, channel_id, alert_id, event, payload, status)
    SELECT ${notice.orgId}::uuid, c.id, ${notice.alertId}::uuid, ${notice.event}, ${JSON.stringify(notice.payload)}::jsonb,
      CASE WHEN c.digest IS NOT NULL AND NOT ${notice.urgent}::boolean THEN 'held' ELSE 'pending' END
    FROM notification_channels c WHERE c.org_id = ${notice.orgId}::uuid AND c.enabled ${among}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Claims due deliveries for this process: each row is leased for a minute (a process that dies
 * mid-delivery leaves it to be retried), and SKIP LOCKED keeps two workers off the same row.
 */
export async function claimDue(db: Conn, limit: number) {
  const result = await sql<DeliveryRow & { kind: ChannelRow['kind']; recipients: string[]; url: string | null; secret_sealed: string | null; quiet_hours: QuietHours | null; timezone: string }>`
    WITH due AS (
      SELECT id FROM notification_outbox
      WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
      ORDER BY next_attempt_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE notification_outbox o SET locked_until = now() + interval '1 minute', attempts = o.attempts + 1
      FROM due WHERE o.id = due.id RETURNING o.*
    )
    SELECT claimed.*, c.kind, c.recipients, c.url, c.secret_sealed, c.quiet_hours, o.timezone
    FROM claimed JOIN notification_channels c ON c.id = claimed.channel_id JOIN organizations o ON o.id = claimed.org_id
    ORDER BY claimed.id`.execute(db);
  return result.rows;
}

export async function markDelivered(db: Conn, id: number, responseStatus: number | null): Promise<void> {
  await db.updateTable('notification_outbox').set({ status: 'delivered', delivered_at: new Date(), locked_until: null, response_status: responseStatus, last_error: null })
    .where('id', '=', id).execute();
}

export async function markFailed(db: Conn, id: number, error: string, responseStatus: number | null, retryAt: Date | null): Promise<void> {
  await db.updateTable('notification_outbox').set({
    status: retryAt ? 'pending' : 'failed', next_attempt_at: retryAt ?? new Date(), locked_until: null, last_error: error.slice(0, 1000), response_status: responseStatus,
  }).where('id', '=', id).execute();
}

/** Holds a claimed delivery until a channel's quiet hours end (the claim does not count as an attempt). */
export async function defer(db: Conn, id: number, until: Date): Promise<void> {
  await db.updateTable('notification_outbox').set((eb) => ({ next_attempt_at: until, locked_until: null, attempts: eb('attempts', '-', 1) }))
    .where('id', '=', id).execute();
}

export function listDeliveries(db: Conn, orgId: string, channelId: string, limit: number, afterId: number | null) {
  let query = db.selectFrom('notification_outbox')
    .select(['id', 'alert_id', 'event', 'status', 'attempts', 'next_attempt_at', 'last_error', 'response_status', 'delivered_at', 'digest_id', 'created_at'])
    .where('org_id', '=', orgId).where('channel_id', '=', channelId).orderBy('id', 'desc').limit(limit + 1);
  if (afterId !== null) query = query.where('id', '<', afterId);
  return query.execute();
}
