import { sql } from 'kysely';
import type { Db } from '../core/db/database.js';
import { assertLeafName } from '../core/db/partitions.js';

/**
 * Row-wise removal of old raw data, for what partitions cannot drop: an organization's rows in a
 * partition it shares with others (a month from before migration 0018, or a month's DEFAULT part), and
 * the old rows of the table's DEFAULT partition (months without a partition of their own).
 * Each call works on one such table, named by core/db/partitions.ts, and deletes at most `limit` rows.
 */

/** Rows of one organization, or (null) of every organization. */
const ofOrganization = (orgId: string | null) => (orgId === null ? sql`true` : sql`org_id = ${orgId}::uuid`);

/** Deletes up to `limit` of an organization's (null: anyone's) events older than `cutoff` from one shared partition; returns their photo keys and the count. */
export async function deleteOldEvents(db: Db, partition: string, orgId: string | null, cutoff: Date, limit: number) {
  assertLeafName(partition);
  const result = await sql<{ photo_key: string | null }>`
    DELETE FROM ${sql.table(partition)} WHERE (id, ts) IN (
      SELECT id, ts FROM ${sql.table(partition)} WHERE ${ofOrganization(orgId)} AND ts < ${cutoff} LIMIT ${limit})
    RETURNING photo_key`.execute(db);
  return { deleted: result.rows.length, photoKeys: result.rows.flatMap((r) => (r.photo_key ? [r.photo_key] : [])) };
}

/** Deletes up to `limit` of an organization's (null: anyone's) telemetry older than `cutoff` from one shared partition. */
export async function deleteOldTelemetry(db: Db, partition: string, orgId: string | null, cutoff: Date, limit: number): Promise<number> {
  assertLeafName(partition);
  const result = await sql`
    DELETE FROM ${sql.table(partition)} WHERE (device_id, metric, ts) IN (
      SELECT device_id, metric, ts FROM ${sql.table(partition)} WHERE ${ofOrganization(orgId)} AND ts < ${cutoff} LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Every photo key in an events partition (a month or one organization's part), read before it is dropped. */
export async function partitionPhotoKeys(db: Db, partition: string): Promise<string[]> {
  assertLeafName(partition);
  if (!partition.startsWith('events_')) throw new Error(`not an events partition: ${partition}`);
  const result = await sql<{ photo_key: string }>`SELECT photo_key FROM ${sql.table(partition)} WHERE photo_key IS NOT NULL`.execute(db);
  return result.rows.map((r) => r.photo_key);
}

/** Deletes up to `limit` of an organization's (null: anyone's) typed telemetry values (strings, JSON) older than `cutoff`. */
export async function deleteOldTelemetryValues(db: Db, orgId: string | null, cutoff: Date, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM telemetry_values WHERE (device_id, key, ts) IN (
      SELECT device_id, key, ts FROM telemetry_values WHERE ${ofOrganization(orgId)} AND ts < ${cutoff} LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
