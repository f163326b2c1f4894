import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { AlertRuleStatesTable, AlertsTable } from '../core/db/schema.js';

/**
 * The evaluator's SQL: per-(rule, device) state, and opening, updating and resolving alerts. Writes
 * for one device happen under a transaction-scoped advisory lock on that device, so two batches (or a
 * batch and the timer job, in any process) evaluate one after the other; the partial unique index on
 * alerts stays the last word on "one open alert per rule and device".
 */
type Conn = Db | Tx;

export type StateRow = Selectable<AlertRuleStatesTable>;
export type AlertRow = Selectable<AlertsTable>;

export async function lockDevice(tx: Tx, deviceId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`vigil-alerts:${deviceId}`}))`.execute(tx);
}

/**
 * The rules' states for a device. A state written before the device's last change is `stale`: the change may
 * have moved the device out of the rule's reach (another site) and back, and what the state holds from before
 * (a half-run duration, the last value a "changes" rule compared) says nothing about the time between.
 */
export function statesFor(db: Conn, deviceId: string, ruleIds: string[]): Promise<(StateRow & { stale: boolean })[]> {
  return db.selectFrom('alert_rule_states as s').innerJoin('devices as d', 'd.id', 's.device_id').selectAll('s')
    .select(sql<boolean>`s.updated_at < d.updated_at`.as('stale'))
    .where('s.device_id', '=', deviceId).where('s.rule_id', 'in', ruleIds).execute();
}

export function openAlertsFor(db: Conn, deviceId: string, ruleIds: string[]) {
  return db.selectFrom('alerts').selectAll().where('device_id', '=', deviceId).where('rule_id', 'in', ruleIds).where('status', '<>', 'resolved').execute();
}

/** Whether any of the rules has a pending state or an open alert for the device. */
export async function anyStateOrOpenAlert(db: Conn, deviceId: string, ruleIds: string[]): Promise<boolean> {
  const result = await sql`
    SELECT 1 FROM alert_rule_states WHERE device_id = ${deviceId}::uuid AND rule_id = ANY(${ruleIds}::uuid[])
    UNION ALL
    SELECT 1 FROM alerts WHERE device_id = ${deviceId}::uuid AND rule_id = ANY(${ruleIds}::uuid[]) AND status <> 'resolved'
    LIMIT 1`.execute(db);
  return result.rows.length > 0;
}

export async function saveStates(db: Conn, states: Omit<StateRow, 'updated_at'>[]): Promise<void> {
  if (states.length === 0) return;
  // Column by column: a state read with statesFor carries `stale`, which is no column.
  const rows = states.map((s) => ({
    rule_id: s.rule_id, device_id: s.device_id, org_id: s.org_id, breach_since: s.breach_since, breach_value: s.breach_value, breach_peak: s.breach_peak,
    breach_text: s.breach_text, clear_since: s.clear_since, last_ts: s.last_ts, last_value: s.last_value, last_text: s.last_text, updated_at: new Date(),
  }));
  await db.insertInto('alert_rule_states').values(rows)
    .onConflict((oc) => oc.columns(['rule_id', 'device_id']).doUpdateSet((eb) => ({
      breach_since: eb.ref('excluded.breach_since'),
      breach_value: eb.ref('excluded.breach_value'),
      breach_peak: eb.ref('excluded.breach_peak'),
      clear_since: eb.ref('excluded.clear_since'),
      last_ts: eb.ref('excluded.last_ts'),
      last_value: eb.ref('excluded.last_value'),
      breach_text: eb.ref('excluded.breach_text'),
      last_text: eb.ref('excluded.last_text'),
      updated_at: eb.ref('excluded.updated_at'),
    })))
    .execute();
}

export async function deleteStates(db: Conn, deviceId: string, ruleIds: string[]): Promise<void> {
  if (ruleIds.length === 0) return;
  await db.deleteFrom('alert_rule_states').where('device_id', '=', deviceId).where('rule_id', 'in', ruleIds).execute();
}

export interface NewAlert {
  orgId: string;
  siteId: string | null;
  deviceId: string;
  ruleId: string;
  ruleName: string;
  condition: AlertRow['condition'];
  metric: string | null;
  severity: AlertRow['severity'];
  message: string;
  threshold: number | null;
  firstValue: number | null;
  latestValue: number | null;
  peakValue: number | null;
  /** Text rules: the values as text (the numbers above are then null). */
  firstText: string | null;
  latestText: string | null;
  previousText: string | null;
  startedAt: Date;
  lastBreachAt: Date;
  nextEscalationAt: Date | null;
}

/**
 * Opens an alert, or, when one is already open for the rule and device (another process got there
 * first), counts this breach on it. `opened` says which happened.
 */
export async function openAlert(db: Conn, alert: NewAlert): Promise<{ row: AlertRow; opened: boolean }> {
  const result = await sql<AlertRow & { opened: boolean }>`
    INSERT INTO alerts (org_id, site_id, device_id, rule_id, rule_name, condition, metric, severity, message, threshold,
                        first_value, latest_value, peak_value, first_text, latest_text, previous_text, started_at, last_breach_at, next_escalation_at)
    VALUES (${alert.orgId}, ${alert.siteId}, ${alert.deviceId}, ${alert.ruleId}, ${alert.ruleName}, ${alert.condition}, ${alert.metric},
            ${alert.severity}, ${alert.message}, ${alert.threshold}, ${alert.firstValue}, ${alert.latestValue}, ${alert.peakValue},
            ${alert.firstText}, ${alert.latestText}, ${alert.previousText}, ${alert.startedAt}, ${alert.lastBreachAt}, ${alert.nextEscalationAt})
    ON CONFLICT (rule_id, device_id) WHERE status <> 'resolved' DO UPDATE SET
      latest_value = EXCLUDED.latest_value, latest_text = EXCLUDED.latest_text, breach_count = alerts.breach_count + 1,
      last_breach_at = GREATEST(alerts.last_breach_at, EXCLUDED.last_breach_at), updated_at = now()
    RETURNING *, (xmax = 0) AS opened`.execute(db);
  const { opened, ...row } = result.rows[0]!;
  return { row, opened };
}

export interface AlertProgress {
  id: string;
  latestValue: number | null;
  /** Text rules: the latest value (latestValue is then null). */
  latestText?: string | null;
  peakValue: number | null;
  breaches: number;
  lastBreachAt: Date;
}

/** Repeated breaches on open alerts: latest value, peak, count. */
export async function recordBreaches(db: Conn, updates: AlertProgress[]): Promise<AlertRow[]> {
  if (updates.length === 0) return [];
  const result = await sql<AlertRow>`
    UPDATE alerts a SET latest_value = u.latest, latest_text = u.latest_text, peak_value = u.peak, breach_count = a.breach_count + u.breaches,
      last_breach_at = GREATEST(a.last_breach_at, u.last_breach_at), updated_at = now()
    FROM unnest(${updates.map((u) => u.id)}::uuid[], ${updates.map((u) => u.latestValue)}::float8[], ${updates.map((u) => u.latestText ?? null)}::text[],
                ${updates.map((u) => u.peakValue)}::float8[], ${updates.map((u) => u.breaches)}::int[], ${updates.map((u) => u.lastBreachAt.toISOString())}::timestamptz[])
      AS u(id, latest, latest_text, peak, breaches, last_breach_at)
    WHERE a.id = u.id AND a.status <> 'resolved'
    RETURNING a.*`.execute(db);
  return result.rows;
}

/** Resolves open alerts automatically (the value came back, the device spoke again, the rule went away). */
export async function resolveAlerts(db: Conn, ids: string[], resolution: 'auto' | 'rule_changed', latest?: Map<string, number>): Promise<AlertRow[]> {
  if (ids.length === 0) return [];
  const result = await sql<AlertRow>`
    UPDATE alerts a SET status = 'resolved', resolved_at = now(), resolution = ${resolution}, next_escalation_at = NULL, updated_at = now(),
      latest_value = COALESCE(v.latest, a.latest_value)
    FROM unnest(${ids}::uuid[], ${ids.map((id) => latest?.get(id) ?? null)}::float8[]) AS v(id, latest)
    WHERE a.id = v.id AND a.status <> 'resolved'
    RETURNING a.*`.execute(db);
  return result.rows;
}

/** Open silence alerts (offline, no data) of a device that its new data ends. */
export function openSilenceAlerts(db: Conn, deviceId: string, ruleIds: string[]) {
  return db.selectFrom('alerts').selectAll().where('device_id', '=', deviceId)
    .where('rule_id', 'in', ruleIds).where('status', '<>', 'resolved').execute();
}

/** Pending breaches whose duration has run out without new data (the last value is held), and clears likewise. */
export async function dueStates(db: Conn, limit: number) {
  const result = await sql<StateRow & { kind: 'breach' | 'clear' }>`
    SELECT s.*, 'breach' AS kind FROM alert_rule_states s JOIN alert_rules r ON r.id = s.rule_id
    WHERE s.breach_since IS NOT NULL AND s.breach_since + make_interval(secs => r.duration_seconds) <= now() AND r.enabled
    UNION ALL
    SELECT s.*, 'clear' AS kind FROM alert_rule_states s JOIN alert_rules r ON r.id = s.rule_id
    WHERE s.clear_since IS NOT NULL AND s.clear_since + make_interval(secs => r.duration_seconds) <= now() AND r.auto_resolve
    LIMIT ${limit}`.execute(db);
  return result.rows;
}

/**
 * The last text a device sent under `key` before `before`: what a "changes" rule compares the first
 * value of a batch with. Read from the stored series, so the answer does not depend on which process
 * evaluates which batch first.
 */
export async function previousText(db: Conn, deviceId: string, key: string, before: Date): Promise<string | null> {
  const result = await sql<{ value: string }>`
    SELECT value #>> '{}' AS value FROM telemetry_values
    WHERE device_id = ${deviceId}::uuid AND key = ${key} AND ts < ${before} AND jsonb_typeof(value) = 'string'
    ORDER BY ts DESC LIMIT 1`.execute(db);
  return result.rows[0]?.value ?? null;
}

/**
 * The texts a device stored under `key` after `since` (or from it on, `inclusive`) up to `through`, oldest
 * first, at most the latest `limit`: the values a "changes" rule has not evaluated yet, whichever batch
 * (and process) stored them.
 */
export async function textsSince(db: Conn, deviceId: string, key: string, since: Date, inclusive: boolean, through: Date, limit: number) {
  const result = await sql<{ ts: Date; value: string }>`
    SELECT ts, value #>> '{}' AS value FROM telemetry_values
    WHERE device_id = ${deviceId}::uuid AND key = ${key} AND ts ${inclusive ? sql`>=` : sql`>`} ${since} AND ts <= ${through}
      AND jsonb_typeof(value) = 'string'
    ORDER BY ts DESC LIMIT ${limit}`.execute(db);
  return result.rows.reverse();
}

/** A device as the evaluator needs it (name for messages, site for visibility, zone for active hours). */
export async function deviceInfo(db: Conn, ids: string[]) {
  if (ids.length === 0) return [];
  const result = await sql<{ id: string; org_id: string; site_id: string | null; kind: string; name: string; serial: string; timezone: string }>`
    SELECT d.id, d.org_id, d.site_id, d.kind, d.name, d.serial, COALESCE(s.timezone, o.timezone) AS timezone
    FROM devices d JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
    WHERE d.id = ANY(${ids}::uuid[])`.execute(db);
  return result.rows;
}

/**
 * When device `d` last sent `metric`: its latest reading as a number or as a value (text, JSON), each one
 * indexed read. GREATEST skips the series the device has never sent the metric in.
 */
function lastOfMetric(metric: RawBuilder<unknown>) {
  return sql`GREATEST(
    (SELECT max(t.ts) FROM telemetry t WHERE t.org_id = d.org_id AND t.device_id = d.id AND t.metric = ${metric}),
    (SELECT max(v.ts) FROM telemetry_values v WHERE v.device_id = d.id AND v.key = ${metric}))`;
}

/**
 * Devices a silence rule (offline, no data) should fire for now: in the rule's reach, heard from
 * before but not within the rule's duration, and without an open alert of that rule.
 */
export async function silentDevices(db: Conn, rule: { id: string; org_id: string | null; scope: string; site_id: string | null; device_id: string | null; device_kind: string | null; metric: string | null; duration_seconds: number }) {
  const lastHeard = rule.metric ? lastOfMetric(sql`${rule.metric}::text`) : sql`d.last_seen_at`;
  const result = await sql<{ id: string; last_heard: Date }>`
    SELECT d.id, ${lastHeard} AS last_heard FROM devices d
    WHERE ${rule.org_id ? sql`d.org_id = ${rule.org_id}::uuid` : sql`true`}
      ${rule.site_id ? sql`AND d.site_id = ${rule.site_id}::uuid` : sql``}
      ${rule.device_id ? sql`AND d.id = ${rule.device_id}::uuid` : sql``}
      ${rule.device_kind ? sql`AND d.kind = ${rule.device_kind}` : sql``}
      AND d.last_seen_at IS NOT NULL
      AND ${lastHeard} < now() - make_interval(secs => ${rule.duration_seconds})
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule_id = ${rule.id}::uuid AND a.device_id = d.id AND a.status <> 'resolved')
    LIMIT 1000`.execute(db);
  return result.rows;
}

/**
 * Open silence alerts whose silence no longer holds (the negation of silentDevices): contact that is no
 * data (client attributes, a command poll, a connection) moves `last_seen_at`, which offline and no-data-
 * of-any-metric rules go by; data evaluated just before the alert opened ends it too.
 */
export async function heardAgain(db: Conn) {
  const result = await sql<AlertRow>`
    SELECT a.* FROM alerts a JOIN alert_rules r ON r.id = a.rule_id JOIN devices d ON d.id = a.device_id
    WHERE a.status <> 'resolved' AND a.condition IN ('offline', 'no_data')
      AND (CASE WHEN r.metric IS NULL THEN d.last_seen_at ELSE ${lastOfMetric(sql`r.metric`)} END) >= now() - make_interval(secs => r.duration_seconds)
    LIMIT 1000`.execute(db);
  return result.rows;
}

/** Open event alerts whose rule has seen no matching event for its duration. */
export async function quietEventAlerts(db: Conn) {
  const result = await sql<AlertRow>`
    SELECT a.* FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
    WHERE a.status <> 'resolved' AND a.condition = 'event' AND r.auto_resolve
      AND a.last_breach_at + make_interval(secs => r.duration_seconds) <= now()
    LIMIT 1000`.execute(db);
  return result.rows;
}

/**
 * The rules' states are void (their test changed, or they went in or out of force): for every device, or only
 * for the devices of `orgId`.
 */
export async function forgetStates(db: Conn, ruleIds: string[], orgId: string | null = null): Promise<void> {
  if (ruleIds.length === 0) return;
  let query = db.deleteFrom('alert_rule_states').where('rule_id', 'in', ruleIds);
  if (orgId !== null) query = query.where('org_id', '=', orgId);
  await query.execute();
}

export function openAlertsOfRule(db: Conn, ruleId: string) {
  return db.selectFrom('alerts').selectAll().where('rule_id', '=', ruleId).where('status', '<>', 'resolved').execute();
}

/** Open alerts that have a rule (the sweep for rules no longer in force). */
export function openRuleAlerts(db: Conn) {
  return db.selectFrom('alerts').selectAll().where('status', '<>', 'resolved').where('rule_id', 'is not', null).orderBy('opened_at').limit(5000).execute();
}
