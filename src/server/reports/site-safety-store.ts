import { sql, type RawBuilder } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import { inScope } from '../core/db/scope.js';

/**
 * SQL of the site-safety report: the violation events of cameras in a scope (an organization, a site or one
 * camera) with their incident's end and their acknowledgement, summary figures over all of them, and frames
 * analysed from the cameras' daily statistics. Every read is limited to what the requester could see.
 */
type Conn = Db | Tx;

export interface SafetySubject {
  deviceId?: string;
  siteId?: string;
}

const VIOLATION_KINDS = ['ppe_violation', 'zone_breach'];

/** The violation events of the period in the scope; `e` is the events table. */
function violationsOf(scope: Scope, subject: SafetySubject, from: Date, to: Date): RawBuilder<unknown> {
  return sql`${inScope(scope, 'e')} AND e.kind = ANY(${VIOLATION_KINDS}::text[]) AND e.ts >= ${from} AND e.ts < ${to}
    ${subject.deviceId ? sql`AND e.device_id = ${subject.deviceId}::uuid` : sql``}
    ${subject.siteId ? sql`AND e.site_id = ${subject.siteId}::uuid` : sql``}`;
}

export interface SafetyCamera {
  id: string;
  name: string;
  serial: string;
  site_name: string | null;
  timezone: string;
}

/** The cameras the report covers, in the scope: one camera, a site's cameras, or every camera. */
export async function safetyCameras(db: Conn, scope: Scope, subject: SafetySubject): Promise<SafetyCamera[]> {
  const result = await sql<SafetyCamera>`
    SELECT d.id, d.name, d.serial, s.name AS site_name, COALESCE(s.timezone, o.timezone) AS timezone
    FROM devices d JOIN organizations o ON o.id = d.org_id LEFT JOIN sites s ON s.id = d.site_id
    WHERE ${inScope(scope, 'd')} AND d.kind = 'camera'
    ${subject.deviceId ? sql`AND d.id = ${subject.deviceId}::uuid` : sql``}
    ${subject.siteId ? sql`AND d.site_id = ${subject.siteId}::uuid` : sql``}
    ORDER BY s.name NULLS LAST, d.name, d.id`.execute(db);
  return result.rows;
}

export interface ViolationRow {
  id: string;
  ts: Date;
  kind: string;
  severity: string | null;
  rule: string | null;
  zone: string | null;
  photo_key: string | null;
  camera_id: string;
  camera: string;
  site: string | null;
  timezone: string;
  started_at: Date;
  ended_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  comment: string | null;
}

/** The violations of the period in time order, at most `limit`, with their incident's end and acknowledgement. */
export async function periodViolations(db: Conn, scope: Scope, subject: SafetySubject, from: Date, to: Date, limit: number): Promise<ViolationRow[]> {
  const result = await sql<ViolationRow>`
    SELECT e.id::text AS id, e.ts, e.kind, e.severity, e.attributes->>'rule' AS rule, e.attributes->>'zone' AS zone, e.photo_key,
      d.id AS camera_id, d.name AS camera, s.name AS site, COALESCE(s.timezone, o.timezone) AS timezone,
      COALESCE(v.started_at, e.ts) AS started_at, v.ended_at,
      a.user_label AS acknowledged_by, a.acknowledged_at, a.comment
    FROM events e JOIN devices d ON d.id = e.device_id JOIN organizations o ON o.id = e.org_id
      LEFT JOIN sites s ON s.id = e.site_id
      LEFT JOIN violations v ON v.event_id = e.id
      LEFT JOIN event_acknowledgements a ON a.event_id = e.id
    WHERE ${violationsOf(scope, subject, from, to)}
    ORDER BY e.ts, e.id LIMIT ${limit}`.execute(db);
  return result.rows;
}

export interface ViolationCount {
  rule: string | null;
  severity: string | null;
  camera_id: string;
  day: string;
  count: number;
  acknowledged: number;
}

/**
 * Counts of every violation of the period (not only the listed ones) by rule, severity, camera and local day
 * (the camera's site's zone, else the organization's), and how many of them were acknowledged.
 */
export async function violationCounts(db: Conn, scope: Scope, subject: SafetySubject, from: Date, to: Date): Promise<ViolationCount[]> {
  const result = await sql<ViolationCount>`
    SELECT e.attributes->>'rule' AS rule, e.severity, e.device_id AS camera_id,
      to_char(e.ts AT TIME ZONE COALESCE(s.timezone, o.timezone), 'YYYY-MM-DD') AS day,
      count(*)::int AS count, count(a.event_id)::int AS acknowledged
    FROM events e JOIN organizations o ON o.id = e.org_id LEFT JOIN sites s ON s.id = e.site_id
      LEFT JOIN event_acknowledgements a ON a.event_id = e.id
    WHERE ${violationsOf(scope, subject, from, to)}
    GROUP BY 1, 2, 3, 4 ORDER BY 4, 1, 2, 3`.execute(db);
  return result.rows;
}

/** The median time from a violation's start to its acknowledgement, over the acknowledged ones; null when none. */
export async function medianSecondsToAcknowledge(db: Conn, scope: Scope, subject: SafetySubject, from: Date, to: Date): Promise<number | null> {
  const result = await sql<{ seconds: number | null }>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - COALESCE(v.started_at, e.ts)))::float8 AS seconds
    FROM events e JOIN event_acknowledgements a ON a.event_id = e.id LEFT JOIN violations v ON v.event_id = e.id
    WHERE ${violationsOf(scope, subject, from, to)}`.execute(db);
  return result.rows[0]?.seconds ?? null;
}

export interface FramesAnalysed {
  camera_id: string;
  frames_decoded: number;
  frames_inferred: number;
}

/**
 * Frames decoded and analysed per camera from the daily detection statistics, over the local days the period
 * touches (statistics are kept per camera's local day).
 */
export async function framesAnalysed(db: Conn, scope: Scope, cameraIds: string[], from: Date, to: Date): Promise<FramesAnalysed[]> {
  const result = await sql<FramesAnalysed>`
    SELECT c.camera_id, sum(c.frames_decoded)::float8 AS frames_decoded, sum(c.frames_inferred)::float8 AS frames_inferred
    FROM camera_detection_daily c JOIN devices d ON d.id = c.camera_id JOIN organizations o ON o.id = d.org_id
      LEFT JOIN sites s ON s.id = d.site_id
    WHERE ${inScope(scope, 'd')} AND c.camera_id = ANY(${cameraIds}::uuid[])
      AND c.day >= (${from}::timestamptz AT TIME ZONE COALESCE(s.timezone, o.timezone))::date
      AND c.day <= ((${to}::timestamptz - interval '1 microsecond') AT TIME ZONE COALESCE(s.timezone, o.timezone))::date
    GROUP BY c.camera_id`.execute(db);
  return result.rows;
}
