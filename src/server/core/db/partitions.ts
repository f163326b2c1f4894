import { sql } from 'kysely';
import type { Db, Tx } from './database.js';

/**
 * The partition layout of `events` and `telemetry` (docs/retention.md), shared by ingest (which creates
 * months ahead and on demand) and retention (which drops them).
 *
 * Each table is RANGE-partitioned by month (`events_y2026m11`). Months created since migration 0018
 * are themselves LIST-partitioned by organization: one sub-partition per organization that has its own
 * retention (`events_y2026m11_o<org id hex>`), and a DEFAULT one for every other organization
 * (`events_y2026m11_default`). Retention then drops an organization's month instead of deleting rows.
 * Older months are plain tables shared by all organizations.
 *
 * Rows of a month without a partition of its own go to the table's DEFAULT partition (`events_default`,
 * plain, shared; migration 0025). Its CHECK constraint `events_default_before_y2026m06` says before which
 * month it may hold rows; every month from there on has, or gets on demand, a partition of its own.
 */
type Conn = Db | Tx;

export type PartitionedTable = 'events' | 'telemetry';

/** `events_y2026m11` for the month that contains `date` (UTC months). */
export function partitionName(table: PartitionedTable, date: Date): string {
  return `${table}_y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** `events_y2026m11_o3f2a…` for an organization's own part of a month. */
export function organizationPartitionName(month: string, orgId: string): string {
  return `${month}_o${orgId.replaceAll('-', '')}`;
}

const MONTH_NAME = /^(events|telemetry)_y\d{4}m\d{2}$/;
const LEAF_NAME = /^(events|telemetry)_(y\d{4}m\d{2}(_default|_o[0-9a-f]{32})?|default)$/;

function assertName(name: string, pattern: RegExp): void {
  if (!pattern.test(name)) throw new Error(`not a partition of events or telemetry: ${name}`);
}

function monthRange(month: Date): { from: Date; to: Date } {
  return {
    from: new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1)),
    to: new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1)),
  };
}

/** Serialises layout changes of one month between processes (ingest creating it, retention changing it). */
async function lockMonth(tx: Tx, name: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${name}))`.execute(tx);
}

async function organizationsWithOwnRetention(tx: Tx): Promise<string[]> {
  // Read here, under the month's lock, so a month is laid out for the organizations of this moment.
  const result = await sql<{ id: string }>`SELECT id FROM organizations WHERE retention_days IS NOT NULL ORDER BY id`.execute(tx);
  return result.rows.map((r) => r.id);
}

async function createMonth(tx: Tx, table: PartitionedTable, name: string, from: Date, to: Date): Promise<void> {
  await sql`CREATE TABLE ${sql.table(name)} PARTITION OF ${sql.table(table)}
            FOR VALUES FROM (${sql.lit(from.toISOString())}) TO (${sql.lit(to.toISOString())}) PARTITION BY LIST (org_id)`.execute(tx);
  await sql`CREATE TABLE ${sql.table(`${name}_default`)} PARTITION OF ${sql.table(name)} DEFAULT`.execute(tx);
  for (const orgId of await organizationsWithOwnRetention(tx)) {
    await sql`CREATE TABLE ${sql.table(organizationPartitionName(name, orgId))} PARTITION OF ${sql.table(name)}
              FOR VALUES IN (${sql.lit(orgId)})`.execute(tx);
  }
}

/**
 * Creates the month's partition, laid out by organization, if it is missing. Returns false, creating
 * nothing, when the DEFAULT partition already holds rows of the month (PostgreSQL refuses the month
 * then): they stay there, and so do the month's later rows.
 */
export async function createPartition(db: Db, table: PartitionedTable, month: Date): Promise<boolean> {
  const { from, to } = monthRange(month);
  const name = partitionName(table, from);
  try {
    await db.transaction().execute(async (tx) => {
      await lockMonth(tx, name);
      const exists = await sql<{ oid: string | null }>`SELECT to_regclass(${name})::text AS oid`.execute(tx);
      if (exists.rows[0]!.oid === null) await createMonth(tx, table, name, from, to);
    });
    return true;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === '23514' && /default partition/.test(e.message ?? '')) return false;
    throw error;
  }
}

/** The partition holding the rows of months without a partition of their own. */
export function defaultPartitionName(table: PartitionedTable): string {
  return `${table}_default`;
}

const BOUND_NAME = /_default_before_y(\d{4})m(\d{2})$/;

/** The month before which the DEFAULT partition may hold rows (its newest validated bound constraint). */
export async function defaultPartitionBound(db: Conn, table: PartitionedTable): Promise<Date> {
  const result = await sql<{ name: string }>`
    SELECT conname AS name FROM pg_constraint
    WHERE conrelid = ${defaultPartitionName(table)}::regclass AND contype = 'c' AND convalidated`.execute(db);
  let bound = new Date(Date.UTC(2000, 0, 1));
  for (const { name } of result.rows) {
    const match = BOUND_NAME.exec(name);
    const month = match && new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
    if (month && month > bound) bound = month;
  }
  return bound;
}

/**
 * Moves the DEFAULT partition's bound on to `month` (never back), so that months before it may go
 * there, and returns the bound. The new constraint is added unchecked, then checked against the
 * partition's rows while they can still be read and written, then the old one is dropped: only short
 * exclusive locks. A session lock keeps two processes from doing it at once.
 */
export async function raiseDefaultPartitionBound(db: Db, table: PartitionedTable, month: Date): Promise<Date> {
  const bound = monthRange(month).from;
  const name = defaultPartitionName(table);
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(hashtext(${name}))`.execute(conn);
    try {
      const current = await defaultPartitionBound(conn, table);
      if (current >= bound) return current;
      const constraint = `${name}_before_${partitionName(table, bound).slice(table.length + 1)}`;
      await sql`ALTER TABLE ${sql.table(name)} DROP CONSTRAINT IF EXISTS ${sql.id(constraint)}`.execute(conn);
      await sql`ALTER TABLE ${sql.table(name)} ADD CONSTRAINT ${sql.id(constraint)} CHECK (ts < ${sql.lit(bound.toISOString())}) NOT VALID`.execute(conn);
      await sql`ALTER TABLE ${sql.table(name)} VALIDATE CONSTRAINT ${sql.id(constraint)}`.execute(conn);
      const older = await sql<{ name: string }>`
        SELECT conname AS name FROM pg_constraint WHERE conrelid = ${name}::regclass AND contype = 'c' AND conname <> ${constraint}`.execute(conn);
      for (const old of older.rows.filter((c) => BOUND_NAME.test(c.name))) {
        await sql`ALTER TABLE ${sql.table(name)} DROP CONSTRAINT ${sql.id(old.name)}`.execute(conn);
      }
      return bound;
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtext(${name}))`.execute(conn);
    }
  });
}

export async function existingPartitions(db: Conn, table: PartitionedTable): Promise<string[]> {
  return (await monthPartitions(db, table)).map((m) => m.name);
}

export interface MonthPartition {
  name: string;
  from: Date;
  to: Date;
  /** Laid out by organization (a month created since migration 0018), or one plain shared table. */
  byOrganization: boolean;
  /** Organizations with their own sub-partition of this month: org id → sub-partition name. */
  organizations: Map<string, string>;
}

/** The table's monthly partitions with their bounds and organization sub-partitions, oldest first. */
export async function monthPartitions(db: Conn, table: PartitionedTable): Promise<MonthPartition[]> {
  const result = await sql<{ name: string; bound: string; kind: string; sub: string | null; sub_bound: string | null }>`
    SELECT m.relname AS name, pg_get_expr(m.relpartbound, m.oid) AS bound, m.relkind::text AS kind,
           s.relname AS sub, pg_get_expr(s.relpartbound, s.oid) AS sub_bound
    FROM pg_inherits i
    JOIN pg_class m ON m.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    LEFT JOIN pg_inherits si ON si.inhparent = m.oid
    LEFT JOIN pg_class s ON s.oid = si.inhrelid
    WHERE p.relname = ${table}`.execute(db);
  const months = new Map<string, MonthPartition>();
  for (const row of result.rows) {
    let month = months.get(row.name);
    if (!month) {
      // Bounds read back as timestamps in the session's time zone, e.g. ('2026-11-01 00:00:00+00').
      const bounds = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(row.bound);
      if (!bounds) continue;
      month = { name: row.name, from: new Date(bounds[1]!), to: new Date(bounds[2]!), byOrganization: row.kind === 'p', organizations: new Map() };
      months.set(row.name, month);
    }
    const orgId = row.sub_bound && /IN \('([0-9a-f-]{36})'\)/.exec(row.sub_bound)?.[1];
    if (orgId && row.sub) month.organizations.set(orgId, row.sub);
  }
  return [...months.values()].sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Gives an organization that now has its own retention a sub-partition of a month created before, when
 * that moves no data: PostgreSQL refuses (check violation) if the DEFAULT sub-partition already holds
 * rows of the organization, and the caller then leaves the month shared. Meant for months that have not
 * begun, whose DEFAULT sub-partition is small to check.
 */
export async function addOrganizationPartition(db: Db, month: MonthPartition, orgId: string): Promise<boolean> {
  assertName(month.name, MONTH_NAME);
  try {
    await db.transaction().execute(async (tx) => {
      await lockMonth(tx, month.name);
      await sql`CREATE TABLE IF NOT EXISTS ${sql.table(organizationPartitionName(month.name, orgId))} PARTITION OF ${sql.table(month.name)}
                FOR VALUES IN (${sql.lit(orgId)})`.execute(tx);
    });
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '23514') return false;
    throw error;
  }
}

/**
 * Replaces a plain month partition that holds no rows (one created ahead before migration 0018) by one
 * laid out by organization. Returns false, changing nothing, if rows arrived meanwhile.
 */
export async function relayoutEmptyMonth(db: Db, table: PartitionedTable, month: MonthPartition): Promise<boolean> {
  assertName(month.name, MONTH_NAME);
  return db.transaction().execute(async (tx) => {
    await lockMonth(tx, month.name);
    // The parent first, as inserts lock it before the partition: no deadlock with a concurrent write.
    await sql`LOCK TABLE ${sql.table(table)} IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
    const rows = await sql`SELECT 1 FROM ${sql.table(month.name)} LIMIT 1`.execute(tx);
    if (rows.rows.length > 0) return false;
    await sql`DROP TABLE ${sql.table(month.name)}`.execute(tx);
    await createMonth(tx, table, month.name, month.from, month.to);
    return true;
  });
}

/** Detaches and drops a month, or one organization's or the default part of a month, with its rows. */
export async function dropPartition(db: Db, parent: string, name: string): Promise<void> {
  assertName(name, LEAF_NAME);
  if (parent !== 'events' && parent !== 'telemetry') assertName(parent, MONTH_NAME);
  await db.transaction().execute(async (tx) => {
    await sql`ALTER TABLE ${sql.table(parent)} DETACH PARTITION ${sql.table(name)}`.execute(tx);
    await sql`DROP TABLE ${sql.table(name)}`.execute(tx);
  });
}

/** The table holding a month's rows of organizations without their own part: the month itself if plain, else its DEFAULT part. */
export function sharedPartitionOf(month: MonthPartition): string {
  return month.byOrganization ? `${month.name}_default` : month.name;
}

export function assertLeafName(name: string): void {
  assertName(name, LEAF_NAME);
}
