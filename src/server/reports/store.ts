import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { ReportKind, ReportsTable } from '../core/db/schema.js';

/**
 * SQL of report runs and of the raw rows reports read beyond the statistics services: top speeders and the
 * raw events (speed studies), temperature readings, daily figures and alerts (compliance). Runs are scoped
 * to the caller's organization and, for a site-restricted member, to reports about their sites.
 */
type Conn = Db | Tx;
export type ReportRow = Selectable<ReportsTable>;

function scopeSql(scope: Scope) {
  return scope.siteIds
    // An organization-wide site-safety report (no site) made with a view of some sites shows only those sites:
    // members who see all of them may see it.
    ? sql<SqlBool>`r.org_id = ${scope.orgId}::uuid AND (r.site_id = ANY(${scope.siteIds}::uuid[])
        OR (r.site_id IS NULL AND r.requester_site_ids <@ ${scope.siteIds}::uuid[]))`
    : sql<SqlBool>`r.org_id = ${scope.orgId}::uuid`;
}

export interface NewReport {
  orgId: string;
  siteId: string | null;
  kind: ReportKind;
  title: string;
  fileStem: string;
  parameters: Record<string, unknown>;
  requestedBy: string | null;
  requestedByLabel: string | null;
  requesterSiteIds: string[] | null;
  scheduleId?: string;
}

export function insertReport(db: Conn, report: NewReport) {
  return db.insertInto('reports').values({
    org_id: report.orgId,
    site_id: report.siteId,
    kind: report.kind,
    title: report.title,
    file_stem: report.fileStem,
    parameters: JSON.stringify(report.parameters),
    requested_by: report.requestedBy,
    requested_by_label: report.requestedByLabel,
    requester_site_ids: report.requesterSiteIds,
    schedule_id: report.scheduleId ?? null,
  }).returningAll().executeTakeFirstOrThrow();
}

export function listReports(db: Conn, scope: Scope, filter: { kind?: ReportKind }, limit: number, after: [string, string] | null) {
  let query = db.selectFrom('reports as r').selectAll('r').where(scopeSql(scope) as Expression<SqlBool>)
    .orderBy('r.requested_at', 'desc').orderBy('r.id', 'desc').limit(limit + 1);
  if (filter.kind) query = query.where('r.kind', '=', filter.kind);
  if (after) query = query.where(sql<SqlBool>`(r.requested_at, r.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  return query.execute();
}

export function findReport(db: Conn, scope: Scope, id: string) {
  return db.selectFrom('reports as r').selectAll('r').where(scopeSql(scope) as Expression<SqlBool>).where('r.id', '=', id).executeTakeFirst();
}

export function deleteReport(db: Conn, scope: Scope, id: string) {
  return db.deleteFrom('reports as r').where(scopeSql(scope) as Expression<SqlBool>).where('r.id', '=', id).returningAll().executeTakeFirst();
}

/**
 * Takes the oldest waiting report for this process: a queued one, or a running one whose lease ran out
 * (its process died). SKIP LOCKED lets several processes claim at once without taking the same row.
 */
export async function claimNext(db: Conn, leaseSeconds: number, maxAttempts: number): Promise<ReportRow | undefined> {
  const result = await sql<ReportRow>`
    UPDATE reports SET status = 'running', progress = 0, attempts = attempts + 1, started_at = now(),
      locked_until = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = (
      SELECT id FROM reports
      WHERE (status = 'queued' OR (status = 'running' AND locked_until < now())) AND attempts < ${maxAttempts}
      ORDER BY requested_at FOR UPDATE SKIP LOCKED LIMIT 1)
    RETURNING *`.execute(db);
  return result.rows[0];
}

/** Fails reports whose process died too often while running them. */
export async function failAbandoned(db: Conn, maxAttempts: number) {
  const result = await db.updateTable('reports')
    .set({ status: 'failed', error: 'the report stopped unexpectedly several times', finished_at: new Date(), locked_until: null })
    .where('status', '=', 'running').where('locked_until', '<', new Date()).where('attempts', '>=', maxAttempts)
    .returning(['id', 'org_id', 'site_id']).execute();
  return result;
}

export function setProgress(db: Conn, id: string, progress: number, leaseSeconds: number) {
  return db.updateTable('reports')
    .set({ progress, locked_until: sql`now() + make_interval(secs => ${leaseSeconds})` })
    .where('id', '=', id).where('status', '=', 'running').executeTakeFirst();
}

export function finish(db: Conn, id: string, files: { pdfKey: string; csvKey: string; eventsCsvKey: string | null; size: number }) {
  return db.updateTable('reports')
    .set({ status: 'done', progress: 100, finished_at: new Date(), locked_until: null, pdf_key: files.pdfKey, csv_key: files.csvKey, events_csv_key: files.eventsCsvKey, size_bytes: files.size, error: null })
    .where('id', '=', id).returningAll().executeTakeFirst();
}

export function fail(db: Conn, id: string, error: string) {
  return db.updateTable('reports')
    .set({ status: 'failed', finished_at: new Date(), locked_until: null, error: error.slice(0, 1000) })
    .where('id', '=', id).returningAll().executeTakeFirst();
}

export async function includePhotos(db: Conn, orgId: string): Promise<boolean> {
  const row = await db.selectFrom('report_settings').select('include_photos').where('org_id', '=', orgId).executeTakeFirst();
  return row?.include_photos ?? false;
}

export function saveSettings(db: Conn, orgId: string, includePhotos: boolean) {
  return db.insertInto('report_settings').values({ org_id: orgId, include_photos: includePhotos })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ include_photos: includePhotos, updated_at: new Date() }))
    .execute();
}

export interface SpeedEvent {
  id: number;
  ts: Date;
  device_id: string;
  device_name: string;
  kind: string;
  speed: number;
  speed_limit: number | null;
  photo_key: string | null;
}

/**
 * The fastest vehicles of the range (speeds as recorded, in each device's own units), read from the
 * events of only the hours that hold them. The hourly speed histogram gives the highest 1-unit bin T with
 * at least `limit` speeds at or above it, counting hours wholly inside the range (so every one of those
 * is in it): the fastest `limit` are then all ≥ T, and lie in hours whose histogram reaches T. Without
 * `limit` such speeds, every event of the range is read. (1M events of a month: ~0.6 s read whole.)
 * The rollups must be settled.
 */
export async function topSpeeders(db: Conn, deviceIds: string[], from: Date, to: Date, limit: number): Promise<SpeedEvent[]> {
  const inRange = sql`e.device_id = ANY(${deviceIds}::uuid[]) AND e.ts >= ${from} AND e.ts < ${to} AND e.speed IS NOT NULL`;
  const hourOf = (instant: Date, up: boolean) => new Date((up ? Math.ceil : Math.floor)(instant.getTime() / 3_600_000) * 3_600_000);
  const threshold = await sql<{ bin: number | null }>`
    SELECT max(bin) FILTER (WHERE at_or_above >= ${limit}) AS bin FROM (
      SELECT bin, sum(sum(count)) OVER (ORDER BY bin DESC) AS at_or_above
      FROM speed_histogram_hourly
      WHERE device_id = ANY(${deviceIds}::uuid[]) AND hour >= ${hourOf(from, true)} AND hour + interval '1 hour' <= ${to}
      GROUP BY bin) b`.execute(db);
  const bin = threshold.rows[0]?.bin ?? null;
  const candidates = bin === null
    ? sql`SELECT e.* FROM events e WHERE ${inRange}`
    : sql`SELECT e.* FROM (SELECT DISTINCT device_id, hour FROM speed_histogram_hourly
                           WHERE device_id = ANY(${deviceIds}::uuid[]) AND hour >= ${hourOf(from, false)} AND hour < ${to} AND bin >= ${bin}) h
          JOIN events e ON e.device_id = h.device_id AND e.ts >= h.hour AND e.ts < h.hour + interval '1 hour'
          WHERE ${inRange} AND e.speed >= ${bin}`;
  const result = await sql<SpeedEvent>`
    SELECT e.id, e.ts, e.device_id, d.name AS device_name, e.kind, e.speed::float8 AS speed, e.speed_limit::float8 AS speed_limit, e.photo_key
    FROM (${candidates}) e JOIN devices d ON d.id = e.device_id
    ORDER BY e.speed DESC, e.ts LIMIT ${limit}`.execute(db);
  return result.rows;
}

/**
 * Every speed event of a range in time order, handed over in batches from one server-side cursor: a single
 * pass over the events however many there are (paging with keyset queries re-planned each batch measured
 * ~2 s per 20,000-row page at 1 million events).
 */
export async function eachSpeedEventBatch(db: Db, deviceIds: string[], from: Date, to: Date, batchSize: number, handle: (batch: SpeedEvent[]) => Promise<void>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`DECLARE report_events NO SCROLL CURSOR FOR
      SELECT e.id, e.ts, e.device_id, d.name AS device_name, e.kind, e.speed::float8 AS speed, e.speed_limit::float8 AS speed_limit, e.photo_key
      FROM events e JOIN devices d ON d.id = e.device_id
      WHERE e.device_id = ANY(${deviceIds}::uuid[]) AND e.ts >= ${from} AND e.ts < ${to} AND e.speed IS NOT NULL
      ORDER BY e.ts, e.id`.execute(tx);
    for (;;) {
      const batch = (await sql<SpeedEvent>`FETCH ${sql.raw(String(Math.trunc(batchSize)))} FROM report_events`.execute(tx)).rows;
      if (batch.length > 0) await handle(batch);
      if (batch.length < batchSize) return;
    }
  });
}

export interface RefrigerationUnit {
  id: string;
  name: string;
  serial: string;
  site_id: string | null;
  site_name: string | null;
  timezone: string;
  settings: Record<string, unknown>;
}

/** The refrigeration units a compliance report covers, within the scope: one unit or every unit of a site. */
export async function refrigerationUnits(db: Conn, scope: Scope, subject: { deviceId?: string; siteId?: string }): Promise<RefrigerationUnit[]> {
  const result = await sql<RefrigerationUnit>`
    SELECT d.id, d.name, d.serial, d.site_id, s.name AS site_name, COALESCE(s.timezone, o.timezone) AS timezone, d.settings
    FROM devices d JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
    WHERE d.org_id = ${scope.orgId}::uuid AND d.kind = 'refrigeration'
    ${scope.siteIds ? sql`AND d.site_id = ANY(${scope.siteIds}::uuid[])` : sql``}
    ${subject.deviceId ? sql`AND d.id = ${subject.deviceId}::uuid` : sql``}
    ${subject.siteId ? sql`AND d.site_id = ${subject.siteId}::uuid` : sql``}
    ORDER BY d.name, d.id`.execute(db);
  return result.rows;
}

/** A unit's temperature readings of the range in time order, with the last one before it (an excursion may have begun earlier). */
export async function temperatureReadings(db: Conn, deviceId: string, from: Date, to: Date): Promise<{ ts: Date; value: number }[]> {
  const result = await sql<{ ts: Date; value: number }>`
    (SELECT ts, value FROM telemetry WHERE device_id = ${deviceId}::uuid AND metric = 'temperature' AND ts < ${from} ORDER BY ts DESC LIMIT 1)
    UNION ALL
    (SELECT ts, value FROM telemetry WHERE device_id = ${deviceId}::uuid AND metric = 'temperature' AND ts >= ${from} AND ts < ${to} ORDER BY ts)
    ORDER BY ts`.execute(db);
  return result.rows;
}

export interface DailyTemperature {
  date: string;
  min: number | null;
  max: number | null;
  mean: number | null;
  readings: number;
  outside_seconds: number | null;
  covered_seconds: number | null;
}

/** Per local date: temperature min/max/mean (hourly telemetry rollups) and time outside the safe range (equipment figures). */
export async function dailyTemperatures(db: Conn, deviceId: string, timezone: string, from: Date, to: Date): Promise<DailyTemperature[]> {
  const result = await sql<DailyTemperature>`
    WITH t AS (
      SELECT to_char(hour AT TIME ZONE ${timezone}, 'YYYY-MM-DD') AS date, min(min) AS min, max(max) AS max, sum(sum) / NULLIF(sum(count), 0) AS mean, sum(count)::int AS readings
      FROM telemetry_rollups_hourly WHERE device_id = ${deviceId}::uuid AND metric = 'temperature' AND hour >= ${from} AND hour < ${to} GROUP BY 1
    ), e AS (
      SELECT to_char(hour AT TIME ZONE ${timezone}, 'YYYY-MM-DD') AS date, sum(outside_range_seconds)::float8 AS outside_seconds, sum(covered_seconds)::float8 AS covered_seconds
      FROM equipment_hourly WHERE device_id = ${deviceId}::uuid AND hour >= ${from} AND hour < ${to} GROUP BY 1
    )
    SELECT COALESCE(t.date, e.date) AS date, t.min, t.max, t.mean, COALESCE(t.readings, 0) AS readings, e.outside_seconds, e.covered_seconds
    FROM t FULL JOIN e ON e.date = t.date ORDER BY 1`.execute(db);
  return result.rows;
}

export interface PeriodAlert {
  id: string;
  device_id: string;
  rule_name: string;
  severity: string;
  status: string;
  message: string;
  peak_value: number | null;
  started_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by_name: string | null;
  acknowledge_comment: string | null;
  resolved_at: Date | null;
  resolved_by_name: string | null;
  resolve_comment: string | null;
  resolution: string | null;
}

/** The alerts of some devices that were open at any moment of the range, with who acknowledged and resolved them. */
export async function periodAlerts(db: Conn, orgId: string, deviceIds: string[], from: Date, to: Date): Promise<PeriodAlert[]> {
  const result = await sql<PeriodAlert>`
    SELECT a.id, a.device_id, a.rule_name, a.severity, a.status, a.message, a.peak_value, a.started_at, a.acknowledged_at,
      u.name AS acknowledged_by_name, a.acknowledge_comment, a.resolved_at, r.name AS resolved_by_name, a.resolve_comment, a.resolution
    FROM alerts a LEFT JOIN users u ON u.id = a.acknowledged_by LEFT JOIN users r ON r.id = a.resolved_by
    WHERE a.org_id = ${orgId}::uuid AND a.device_id = ANY(${deviceIds}::uuid[])
      AND a.started_at < ${to} AND (a.resolved_at IS NULL OR a.resolved_at >= ${from})
    ORDER BY a.started_at, a.id LIMIT 1000`.execute(db);
  return result.rows;
}
