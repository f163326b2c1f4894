import { sql } from 'kysely';
import type { Db } from '../../core/db/database.js';

/**
 * Every SQL statement about which worker decodes which camera. Platform-wide on purpose: a worker serves
 * every organization, so nothing here takes a member's scope. Expiry is judged by the database's clock
 * alone (now()), so workers on machines whose clocks disagree still agree on who holds a camera.
 */

/** A camera this worker holds, with the settings version it was started with. */
export interface HeldLease {
  camera_id: string;
  updated_at: Date;
}

const expiresIn = (ttlMs: number) => sql<Date>`now() + ${ttlMs} * interval '1 millisecond'`;

/** Says this worker is alive for another `ttlMs`, and forgets workers gone for more than a day. */
export async function announceWorker(db: Db, workerId: string, ttlMs: number): Promise<void> {
  await db
    .insertInto('camera_workers')
    .values({ id: workerId, expires_at: expiresIn(ttlMs) })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: sql`now()`, expires_at: expiresIn(ttlMs) }))
    .execute();
  await db.deleteFrom('camera_workers').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).execute();
}

export async function retireWorker(db: Db, workerId: string): Promise<void> {
  await db.deleteFrom('camera_workers').where('id', '=', workerId).execute();
}

/** How many cameras there are, and the live workers by id (the order decides who takes the odd cameras). */
export async function census(db: Db): Promise<{ cameras: number; workers: string[] }> {
  const row = await db
    .selectNoFrom([
      sql<number>`(SELECT count(*)::int FROM cameras)`.as('cameras'),
      sql<string[]>`ARRAY(SELECT id FROM camera_workers WHERE expires_at > now() ORDER BY id)`.as('workers'),
    ])
    .executeTakeFirstOrThrow();
  return row;
}

/**
 * Extends the leases this worker still holds among `cameraIds`; the ones missing from the answer are
 * lost (expired and taken by another worker, or the camera was deleted).
 */
export function renewLeases(db: Db, workerId: string, cameraIds: string[], ttlMs: number): Promise<HeldLease[]> {
  return db
    .updateTable('camera_leases as l')
    .from('cameras as c')
    .set({ heartbeat_at: sql`now()`, expires_at: expiresIn(ttlMs) })
    .whereRef('c.device_id', '=', 'l.camera_id')
    .where('l.owner', '=', workerId)
    .where('l.camera_id', '=', sql<string>`ANY(${cameraIds}::uuid[])`)
    .where('l.expires_at', '>', sql<Date>`now()`)
    .returning(['l.camera_id', 'c.updated_at'])
    .execute();
}

/**
 * Takes up to `limit` cameras that nobody holds or whose lease expired, never-leased ones first. Rows
 * another worker is claiming at this moment are skipped rather than waited for, and the conflict branch
 * takes over a lease only while it is still expired, so two workers never both win one camera.
 */
export async function claimLeases(db: Db, workerId: string, limit: number, ttlMs: number): Promise<HeldLease[]> {
  const result = await sql<HeldLease>`
    WITH candidates AS (
      SELECT c.device_id, c.updated_at
      FROM cameras c LEFT JOIN camera_leases l ON l.camera_id = c.device_id
      WHERE l.camera_id IS NULL OR l.expires_at < now()
      ORDER BY l.expires_at NULLS FIRST, c.device_id
      LIMIT ${limit}
      FOR UPDATE OF c SKIP LOCKED
    ), claimed AS (
      INSERT INTO camera_leases (camera_id, owner, heartbeat_at, expires_at, acquired_at)
      SELECT device_id, ${workerId}, now(), ${expiresIn(ttlMs)}, now() FROM candidates
      ON CONFLICT (camera_id) DO UPDATE
        SET owner = excluded.owner, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
        WHERE camera_leases.expires_at < now()
      RETURNING camera_id
    )
    SELECT candidates.device_id AS camera_id, candidates.updated_at
    FROM claimed JOIN candidates ON candidates.device_id = claimed.camera_id`.execute(db);
  return result.rows;
}

/** Gives a camera back at once (its decoder already stopped), so another worker need not wait for expiry. */
export async function releaseLease(db: Db, workerId: string, cameraId: string): Promise<void> {
  await db.deleteFrom('camera_leases').where('owner', '=', workerId).where('camera_id', '=', cameraId).execute();
}

/** Gives back every lease in this worker's name except `keep` (all of them when `keep` is empty). */
export async function releaseAllBut(db: Db, workerId: string, keep: string[]): Promise<number> {
  let query = db.deleteFrom('camera_leases').where('owner', '=', workerId);
  if (keep.length > 0) query = query.where(sql<boolean>`NOT (camera_id = ANY(${keep}::uuid[]))`);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
