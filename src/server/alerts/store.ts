import { sql, type Expression, type SqlBool } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { AlertRow } from './evaluation-store.js';

/**
 * SQL of the alert lifecycle as members see it: lists, counts, statistics, acknowledge and resolve.
 * Scoped to the caller's organization and, for a site-restricted member, to their sites.
 */
type Conn = Db | Tx;

export interface AlertFilter {
  status?: 'open' | 'acknowledged' | 'resolved' | 'active';
  severity?: AlertRow['severity'];
  deviceId?: string;
  siteId?: string;
  ruleId?: string;
  from?: string;
  to?: string;
  search?: string;
}

function scopeSql(scope: Scope, alias = 'a') {
  const column = (name: string) => sql.ref(`${alias}.${name}`);
  return scope.siteIds
    ? sql<SqlBool>`${column('org_id')} = ${scope.orgId}::uuid AND ${column('site_id')} = ANY(${scope.siteIds}::uuid[])`
    : sql<SqlBool>`${column('org_id')} = ${scope.orgId}::uuid`;
}

function scoped(db: Conn, scope: Scope) {
  return db.selectFrom('alerts as a').selectAll('a').where(scopeSql(scope) as Expression<SqlBool>);
}

export function listAlerts(db: Conn, scope: Scope, filter: AlertFilter, limit: number, after: [string, string] | null) {
  let query = scoped(db, scope).orderBy('a.opened_at', 'desc').orderBy('a.id', 'desc').limit(limit + 1);
  if (filter.status === 'active') query = query.where('a.status', '<>', 'resolved');
  else if (filter.status) query = query.where('a.status', '=', filter.status);
  if (filter.severity) query = query.where('a.severity', '=', filter.severity);
  if (filter.deviceId) query = query.where('a.device_id', '=', filter.deviceId);
  if (filter.siteId) query = query.where('a.site_id', '=', filter.siteId);
  if (filter.ruleId) query = query.where('a.rule_id', '=', filter.ruleId);
  if (filter.from) query = query.where('a.opened_at', '>=', new Date(filter.from));
  if (filter.to) query = query.where('a.opened_at', '<', new Date(filter.to));
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, '\\$&')}%`;
    query = query.where((eb) => eb.or([eb('a.message', 'ilike', pattern), eb('a.rule_name', 'ilike', pattern)]));
  }
  if (after) query = query.where(sql<SqlBool>`(a.opened_at, a.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export function findAlert(db: Conn, scope: Scope, id: string) {
  return scoped(db, scope).where('a.id', '=', id).executeTakeFirst();
}

/** Acknowledges open alerts among `ids` (others are left alone and not returned). */
export function acknowledge(db: Conn, scope: Scope, ids: string[], userId: string, comment: string | null) {
  return db.updateTable('alerts as a')
    .set({ status: 'acknowledged', acknowledged_at: new Date(), acknowledged_by: userId, acknowledge_comment: comment, next_escalation_at: null, updated_at: new Date() })
    .where(scopeSql(scope) as Expression<SqlBool>).where('a.id', 'in', ids).where('a.status', '=', 'open')
    .returningAll().execute();
}

export function resolveByHand(db: Conn, scope: Scope, id: string, userId: string, comment: string | null) {
  return db.updateTable('alerts as a')
    .set({ status: 'resolved', resolved_at: new Date(), resolved_by: userId, resolution: 'manual', resolve_comment: comment, next_escalation_at: null, updated_at: new Date() })
    .where(scopeSql(scope) as Expression<SqlBool>).where('a.id', '=', id).where('a.status', '<>', 'resolved')
    .returningAll().executeTakeFirst();
}

export async function counts(db: Conn, scope: Scope) {
  const result = await sql<{ status: AlertRow['status']; severity: AlertRow['severity']; n: number }>`
    SELECT status, severity, count(*)::int AS n FROM alerts a WHERE ${scopeSql(scope)} AND status <> 'resolved' GROUP BY 1, 2`.execute(db);
  return result.rows;
}

export async function byType(db: Conn, scope: Scope) {
  const result = await sql<{ type: string; n: number }>`
    SELECT CASE WHEN condition IN ('metric', 'event', 'door_open') THEN COALESCE(metric, condition) ELSE condition END AS type, count(*)::int AS n
    FROM alerts a WHERE ${scopeSql(scope)} AND status <> 'resolved' GROUP BY 1`.execute(db);
  return result.rows;
}

/** Times to acknowledge and to resolve (seconds) over alerts opened in the range. */
export async function timings(db: Conn, scope: Scope, from: Date, to: Date) {
  const result = await sql<{ opened: number; ack_count: number; ack_avg: number | null; ack_p50: number | null; ack_p90: number | null; res_count: number; res_avg: number | null; res_p50: number | null; res_p90: number | null }>`
    WITH r AS (
      SELECT extract(epoch FROM acknowledged_at - opened_at) AS ack, extract(epoch FROM resolved_at - opened_at) AS res
      FROM alerts a WHERE ${scopeSql(scope)} AND opened_at >= ${from} AND opened_at < ${to}
    )
    SELECT count(*)::int AS opened,
      count(ack)::int AS ack_count, avg(ack)::float8 AS ack_avg,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ack) AS ack_p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY ack) AS ack_p90,
      count(res)::int AS res_count, avg(res)::float8 AS res_avg,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY res) AS res_p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY res) AS res_p90
    FROM r`.execute(db);
  return result.rows[0]!;
}

export async function noisiestDevices(db: Conn, scope: Scope, from: Date, to: Date, limit: number) {
  const result = await sql<{ device_id: string; name: string; alerts: number }>`
    SELECT a.device_id, d.name, count(*)::int AS alerts FROM alerts a JOIN devices d ON d.id = a.device_id
    WHERE ${scopeSql(scope)} AND a.opened_at >= ${from} AND a.opened_at < ${to}
    GROUP BY a.device_id, d.name ORDER BY alerts DESC, d.name LIMIT ${limit}`.execute(db);
  return result.rows;
}

export async function noisiestRules(db: Conn, scope: Scope, from: Date, to: Date, limit: number) {
  const result = await sql<{ rule_id: string | null; name: string; alerts: number; devices: number }>`
    SELECT a.rule_id, a.rule_name AS name, count(*)::int AS alerts, count(DISTINCT a.device_id)::int AS devices FROM alerts a
    WHERE ${scopeSql(scope)} AND a.opened_at >= ${from} AND a.opened_at < ${to}
    GROUP BY a.rule_id, a.rule_name ORDER BY alerts DESC, a.rule_name LIMIT ${limit}`.execute(db);
  return result.rows;
}
