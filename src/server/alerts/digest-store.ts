import { sql } from 'kysely';
import type { Tx } from '../core/db/database.js';
import type { DigestSchedule } from '../core/db/schema.js';
import type { AlertRow } from './evaluation-store.js';

/** The SQL of the digest job: claiming a channel's due digest and turning its held notifications into one delivery. */

/**
 * One enabled digest channel whose digest is due, locked for this transaction (SKIP LOCKED: another
 * process takes the next one). Moving `next_digest_at` on in the same transaction is the claim.
 */
export async function claimDueDigest(tx: Tx, now: Date) {
  const result = await sql<{ id: string; org_id: string; name: string; digest: DigestSchedule; timezone: string }>`
    SELECT c.id, c.org_id, c.name, c.digest, o.timezone
    FROM notification_channels c JOIN organizations o ON o.id = c.org_id
    WHERE c.enabled AND c.digest IS NOT NULL AND c.next_digest_at <= ${now}
    ORDER BY c.next_digest_at LIMIT 1
    FOR UPDATE OF c SKIP LOCKED`.execute(tx);
  return result.rows[0];
}

export async function setNextDigest(tx: Tx, channelId: string, at: Date): Promise<void> {
  await tx.updateTable('notification_channels').set({ next_digest_at: at }).where('id', '=', channelId).execute();
}

/** The channel's held notifications, oldest first. */
export function takeHeld(tx: Tx, channelId: string) {
  return tx.selectFrom('notification_outbox').select(['id', 'alert_id', 'event', 'payload', 'created_at'])
    .where('channel_id', '=', channelId).where('status', '=', 'held').orderBy('id').forUpdate().execute();
}

/** The alerts of a digest as they are now (acknowledged or resolved since), with their device's name. */
export async function alertsWithDevice(tx: Tx, ids: string[]) {
  if (ids.length === 0) return [];
  const result = await sql<AlertRow & { device_name: string }>`
    SELECT a.*, d.name AS device_name FROM alerts a JOIN devices d ON d.id = a.device_id WHERE a.id = ANY(${ids}::uuid[])`.execute(tx);
  return result.rows;
}

/** Queues the digest itself as one delivery of the channel (retried and logged like any other). */
export async function insertDigest(tx: Tx, orgId: string, channelId: string, payload: Record<string, unknown>): Promise<number> {
  const row = await tx.insertInto('notification_outbox').values({ org_id: orgId, channel_id: channelId, event: 'digest', payload: JSON.stringify(payload) })
    .returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function markDigested(tx: Tx, ids: number[], digestId: number): Promise<void> {
  await tx.updateTable('notification_outbox').set({ status: 'digested', digest_id: digestId, delivered_at: new Date() }).where('id', 'in', ids).execute();
}
