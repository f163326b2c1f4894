import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { AttributeScope } from '../core/db/schema-attributes.js';
import { inScope } from '../core/db/scope.js';

/**
 * Every SQL statement about device attributes. Members read them through the attribute's device, so a
 * member limited to some sites sees only their sites' devices' attributes; the device-facing statements
 * are bounded by the device id the caller authenticated as (or a device the member's scope already found).
 */
type Conn = Db | Tx;

export interface AttributeEntry {
  key: string;
  /** JSON text. */
  value: string;
}

/** A device's attributes, by scope then key; `after` is the (scope, key) of the previous page's last row. */
export function listAttributes(db: Conn, scope: Scope, deviceId: string, only: AttributeScope | undefined, limit: number, after: [string, string] | null) {
  let query = db
    .selectFrom('device_attributes as a')
    .innerJoin('devices as d', 'd.id', 'a.device_id')
    .select(['a.scope', 'a.key', 'a.value', 'a.updated_at'])
    .where(inScope(scope, 'd'))
    .where('a.device_id', '=', deviceId)
    .orderBy('a.scope')
    .orderBy('a.key')
    .limit(limit + 1);
  if (only) query = query.where('a.scope', '=', only);
  if (after) query = query.where(sql<boolean>`(a.scope, a.key) > (${after[0]}, ${after[1]})`);
  return query.execute();
}

/** One scope's attributes of a device, all of them or only `keys`. */
export function attributesOf(db: Conn, deviceId: string, scope: AttributeScope, keys: string[] | null) {
  let query = db
    .selectFrom('device_attributes')
    .select(['key', 'value'])
    .where('device_id', '=', deviceId)
    .where('scope', '=', scope)
    .orderBy('key');
  if (keys) query = query.where('key', '=', sql<string>`ANY(${keys}::text[])`);
  return query.execute();
}

/** Serialises writes to one device's scope, so that the key count checked is the count written. */
export async function lockScope(tx: Tx, deviceId: string, scope: AttributeScope): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`attributes:${deviceId}:${scope}`}, 0))`.execute(tx);
}

/** How many keys the device has in this scope apart from `keys`. */
export async function countOtherKeys(tx: Tx, deviceId: string, scope: AttributeScope, keys: string[]): Promise<number> {
  const row = await tx
    .selectFrom('device_attributes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('device_id', '=', deviceId)
    .where('scope', '=', scope)
    .where('key', '!=', sql<string>`ALL(${keys}::text[])`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Writes the values in one statement; a key already there takes the new value and time. */
export async function upsertAttributes(tx: Tx, orgId: string, deviceId: string, scope: AttributeScope, entries: AttributeEntry[]): Promise<void> {
  await sql`
    INSERT INTO device_attributes (org_id, device_id, scope, key, value)
    SELECT ${orgId}::uuid, ${deviceId}::uuid, ${scope}, k, v::jsonb
      FROM unnest(${entries.map((e) => e.key)}::text[], ${entries.map((e) => e.value)}::text[]) AS t(k, v)
    ON CONFLICT (device_id, scope, key) DO UPDATE SET value = excluded.value, updated_at = now()`.execute(tx);
}

/** Deletes keys; returns those that were there. */
export async function deleteAttributes(tx: Tx, deviceId: string, scope: AttributeScope, keys: string[]): Promise<string[]> {
  const rows = await tx
    .deleteFrom('device_attributes')
    .where('device_id', '=', deviceId)
    .where('scope', '=', scope)
    .where('key', '=', sql<string>`ANY(${keys}::text[])`)
    .returning('key')
    .execute();
  return rows.map((r) => r.key);
}
