import { sql } from 'kysely';
import type { Db } from '../core/db/database.js';
import type { PartitionedTable } from '../ingest/store.js';

/**
 * Removing old raw data. Platform retention drops whole monthly partitions (instant, no dead rows);
 * an organization's shorter retention deletes its rows in bounded chunks, since partitions are
 * shared by all organizations.
 */
export async function partitionsEndingBefore(db: Db, table: PartitionedTable, cutoff: Date): Promise<string[]> {
  const result = await sql<{ name: string; bound: string }>`
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table}`.execute(db);
  return result.rows
    .filter((row) => {
      const upper = /TO \('([^']+)'\)/.exec(row.bound)?.[1];
      return upper !== undefined && new Date(upper) <= cutoff;
    })
    .map((row) => row.name);
}

export async function dropPartition(db: Db, table: PartitionedTable, name: string): Promise<void> {
  if (!new RegExp(`^${table}_y\\d{4}m\\d{2}$`).test(name)) throw new Error(`not a partition of ${table}: ${name}`);
  await db.transaction().execute(async (tx) => {
    await sql`ALTER TABLE ${sql.table(table)} DETACH PARTITION ${sql.table(name)}`.execute(tx);
    await sql`DROP TABLE ${sql.table(name)}`.execute(tx);
  });
}

/** Deletes up to `limit` of an organization's events older than `cutoff`; returns their photo keys and the count. */
export async function deleteOrganizationEvents(db: Db, orgId: string, cutoff: Date, limit: number) {
  const result = await sql<{ photo_key: string | null }>`
    DELETE FROM events WHERE (id, ts) IN (
      SELECT id, ts FROM events WHERE org_id = ${orgId}::uuid AND ts < ${cutoff} LIMIT ${limit})
    RETURNING photo_key`.execute(db);
  return { deleted: result.rows.length, photoKeys: result.rows.flatMap((r) => (r.photo_key ? [r.photo_key] : [])) };
}

export async function deleteOrganizationTelemetry(db: Db, orgId: string, cutoff: Date, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM telemetry WHERE (device_id, metric, ts) IN (
      SELECT device_id, metric, ts FROM telemetry WHERE org_id = ${orgId}::uuid AND ts < ${cutoff} LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Every photo key in one events partition (read before the partition is dropped). */
export async function partitionPhotoKeys(db: Db, partition: string): Promise<string[]> {
  if (!/^events_y\d{4}m\d{2}$/.test(partition)) throw new Error(`not an events partition: ${partition}`);
  const result = await sql<{ photo_key: string }>`SELECT photo_key FROM ${sql.table(partition)} WHERE photo_key IS NOT NULL`.execute(db);
  return result.rows.map((r) => r.photo_key);
}
