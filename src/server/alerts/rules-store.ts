import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { MetricSeen, RuleInput, RuleRow } from './rule-model.js';

/** Every SQL statement about alert rules. An organization sees its own rules and the global ones. */
type Conn = Db | Tx;

export interface RuleFilter {
  scope?: RuleRow['scope'];
  condition?: RuleRow['condition'];
  enabled?: boolean;
  deviceId?: string;
  siteId?: string;
  search?: string;
}

function values(input: RuleInput) {
  return {
    scope: input.scope,
    site_id: input.siteId ?? null,
    device_id: input.deviceId ?? null,
    device_kind: input.deviceKind ?? null,
    name: input.name,
    description: input.description ?? null,
    condition: input.condition,
    metric: input.metric ?? null,
    event_kind: input.eventKind ?? null,
    operator: input.operator ?? null,
    threshold: input.threshold ?? null,
    threshold_high: input.thresholdHigh ?? null,
    clear_threshold: input.clearThreshold ?? null,
    clear_threshold_high: input.clearThresholdHigh ?? null,
    text_value: input.textValue ?? null,
    duration_seconds: input.durationSeconds,
    severity: input.severity,
    message_template: input.messageTemplate!,
    active_hours: input.activeHours ? JSON.stringify(input.activeHours) : null,
    enabled: input.enabled ?? true,
    auto_resolve: input.autoResolve ?? true,
    channel_ids: input.channelIds ?? [],
    escalate_after_minutes: input.escalateAfterMinutes ?? null,
  };
}

/** Rules a member may see: the organization's (a site-restricted member: those of their sites) and the global ones. */
function visible(db: Conn, scope: Scope) {
  let query = db.selectFrom('alert_rules').selectAll().where((eb) => eb.or([eb('org_id', '=', scope.orgId), eb('org_id', 'is', null)]));
  if (scope.siteIds) {
    const sites = scope.siteIds;
    query = query.where((eb) => eb.or([
      eb.and([eb('site_id', 'is', null), eb('device_id', 'is', null)]),
      eb('site_id', '=', sql<string>`ANY(${sites}::uuid[])`),
      eb('device_id', 'in', eb.selectFrom('devices').select('id').where('org_id', '=', scope.orgId).where('site_id', '=', sql<string>`ANY(${sites}::uuid[])`)),
    ]));
  }
  return query;
}

export function findRule(db: Conn, scope: Scope, id: string) {
  return visible(db, scope).where('id', '=', id).executeTakeFirst();
}

export function listRules(db: Conn, scope: Scope, filter: RuleFilter, limit: number, after: [string, string] | null) {
  let query = visible(db, scope).orderBy('name').orderBy('id').limit(limit + 1);
  if (filter.scope) query = query.where('scope', '=', filter.scope);
  if (filter.condition) query = query.where('condition', '=', filter.condition);
  if (filter.enabled !== undefined) query = query.where('enabled', '=', filter.enabled);
  if (filter.deviceId) query = query.where('device_id', '=', filter.deviceId);
  if (filter.siteId) query = query.where('site_id', '=', filter.siteId);
  if (filter.search) query = query.where('name', 'ilike', `%${filter.search.replace(/[\\%_]/g, '\\$&')}%`);
  if (after) query = query.where(sql<boolean>`(name, id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function insertRule(db: Conn, orgId: string | null, input: RuleInput, createdBy: string | null) {
  return db.insertInto('alert_rules').values({ ...values(input), org_id: orgId, created_by: createdBy }).returningAll().executeTakeFirstOrThrow();
}

export function updateRule(db: Conn, id: string, input: RuleInput) {
  return db.updateTable('alert_rules').set({ ...values(input), updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function deleteRule(db: Conn, id: string): Promise<void> {
  await db.deleteFrom('alert_rules').where('id', '=', id).execute();
}

/** The enabled rules the evaluator applies to one organization's devices (null: the global rules). */
export function enabledRules(db: Conn, orgId: string | null) {
  const query = db.selectFrom('alert_rules').selectAll().where('enabled', '=', true);
  return (orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', orgId)).execute();
}

/** Every rule (enabled or not) an organization's devices may be under: its own and the global ones; every rule for null. */
export function rulesReaching(db: Conn, orgId: string | null) {
  const query = db.selectFrom('alert_rules').selectAll();
  return (orgId === null ? query : query.where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)]))).execute();
}

/** Every rule (enabled or not) that could apply to a device, for the effective-rules view. */
export function rulesForDevice(db: Conn, device: { id: string; orgId: string; siteId: string | null; kind: string }) {
  return db.selectFrom('alert_rules').selectAll()
    .where((eb) => eb.or([eb('org_id', '=', device.orgId), eb('org_id', 'is', null)]))
    .where((eb) => eb.or([eb('device_kind', 'is', null), eb('device_kind', '=', device.kind as RuleRow['device_kind'] & string)]))
    .where((eb) => eb.or([
      eb('scope', 'in', ['global', 'organization']),
      eb('device_id', '=', device.id),
      ...(device.siteId ? [eb('site_id', '=', device.siteId)] : []),
    ]))
    .execute();
}

/**
 * How any device (of the organization, or anywhere for a global rule) has sent this metric: as numbers
 * (in the hourly rollups, or among the batches not yet folded into them), as text (a string in
 * telemetry_values, looked up per device through its primary key).
 */
export async function metricSeen(db: Conn, orgId: string | null, metric: string): Promise<MetricSeen> {
  const org = orgId ? sql`AND org_id = ${orgId}::uuid` : sql``;
  const result = await sql<MetricSeen>`
    SELECT EXISTS (
      SELECT 1 FROM telemetry_rollups_hourly WHERE metric = ${metric} ${org}
      UNION ALL
      SELECT 1 FROM telemetry_rollup_pending WHERE metric = ${metric} ${org}
    ) AS number, EXISTS (
      SELECT 1 FROM devices d WHERE true ${orgId ? sql`AND d.org_id = ${orgId}::uuid` : sql``}
        AND EXISTS (SELECT 1 FROM telemetry_values v WHERE v.device_id = d.id AND v.key = ${metric} AND jsonb_typeof(v.value) = 'string')
    ) AS text, EXISTS (
      SELECT 1 FROM devices d WHERE true ${orgId ? sql`AND d.org_id = ${orgId}::uuid` : sql``}
        AND EXISTS (SELECT 1 FROM telemetry_values v WHERE v.device_id = d.id AND v.key = ${metric})
    ) AS value`.execute(db);
  return result.rows[0]!;
}

/** The subset of `ids` that are notification channels of the organization. */
export async function existingChannels(db: Conn, orgId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('notification_channels').select('id').where('org_id', '=', orgId).where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * The rule changes committed after `version` (a trigger records them, migration 0017): per organization
 * ('global' for the global rules) its latest version, and '*' with the latest overall.
 */
export function ruleVersionsAfter(db: Conn, version: number) {
  return db.selectFrom('alert_rule_versions').select(['scope_key', 'version']).where('version', '>', version).execute();
}

export async function latestRuleVersion(db: Conn): Promise<number> {
  const row = await db.selectFrom('alert_rule_versions').select('version').where('scope_key', '=', '*').executeTakeFirst();
  return row?.version ?? 0;
}
