import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import type { ViolationRule } from '../core/db/schema.js';
import { inScope } from '../core/db/scope.js';

/**
 * Every SQL statement of detection: the violations (the incident behind each violation event, whose end
 * comes later) and the per-camera daily statistics the workers add to in batches.
 */
type Conn = Db | Tx;

export interface ViolationRow {
  eventId: number;
  orgId: string;
  cameraId: string;
  siteId: string | null;
  incidentId: string;
  rule: ViolationRule;
  zone: string | null;
  startedAt: Date;
  lastSeenAt: Date;
  frames: number;
}

export async function insertViolation(db: Conn, v: ViolationRow): Promise<void> {
  await db.insertInto('violations').values({
    event_id: v.eventId, org_id: v.orgId, camera_id: v.cameraId, site_id: v.siteId, incident_id: v.incidentId, rule: v.rule, zone: v.zone,
    started_at: v.startedAt, last_seen_at: v.lastSeenAt, frames: v.frames,
  }).onConflict((oc) => oc.column('event_id').doNothing()).execute();
}

/** The incident ended: its end, last sighting and frame count; a violation is closed once. */
export async function closeViolation(db: Conn, eventId: number, end: { endedAt: Date; lastSeenAt: Date; frames: number }): Promise<void> {
  await db.updateTable('violations')
    .set({ ended_at: end.endedAt, last_seen_at: end.lastSeenAt, frames: end.frames })
    .where('event_id', '=', eventId)
    .where('ended_at', 'is', null)
    .execute();
}

/**
 * Violations a worker left open when it died (its incidents lived in its memory): ended at their last
 * sighting when the camera starts again, so none stays open for ever.
 */
export async function closeAbandonedViolations(db: Conn, cameraId: string): Promise<void> {
  await sql`UPDATE violations SET ended_at = last_seen_at WHERE camera_id = ${cameraId}::uuid AND ended_at IS NULL`.execute(db);
}

/** One camera's counts of one local day, to be added to what is stored. */
export interface DailyCounts {
  cameraId: string;
  orgId: string;
  day: string;
  framesDecoded: number;
  framesInferred: number;
  framesSkipped: number;
  framesFailed: number;
  inferenceMs: number;
  pipelineMs: number;
  noHardhat: number;
  noVest: number;
  zoneBreach: number;
}

/** Adds a batch of counts (every camera of a worker, one statement); a camera deleted meanwhile is skipped. */
export async function addDailyCounts(db: Conn, rows: DailyCounts[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <K extends keyof DailyCounts>(key: K) => rows.map((r) => r[key]);
  await sql`
    INSERT INTO camera_detection_daily AS t (camera_id, org_id, day, frames_decoded, frames_inferred, frames_skipped, frames_failed,
                                             inference_ms, pipeline_ms, no_hardhat, no_vest, zone_breach)
    SELECT u.* FROM unnest(
      ${column('cameraId')}::uuid[], ${column('orgId')}::uuid[], ${column('day')}::date[], ${column('framesDecoded')}::bigint[],
      ${column('framesInferred')}::bigint[], ${column('framesSkipped')}::bigint[], ${column('framesFailed')}::bigint[],
      ${column('inferenceMs')}::float8[], ${column('pipelineMs')}::float8[], ${column('noHardhat')}::int[], ${column('noVest')}::int[],
      ${column('zoneBreach')}::int[]
    ) AS u(camera_id, org_id, day, frames_decoded, frames_inferred, frames_skipped, frames_failed, inference_ms, pipeline_ms, no_hardhat, no_vest, zone_breach)
    WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = u.camera_id)
    ON CONFLICT (camera_id, day) DO UPDATE SET
      frames_decoded = t.frames_decoded + EXCLUDED.frames_decoded,
      frames_inferred = t.frames_inferred + EXCLUDED.frames_inferred,
      frames_skipped = t.frames_skipped + EXCLUDED.frames_skipped,
      frames_failed = t.frames_failed + EXCLUDED.frames_failed,
      inference_ms = t.inference_ms + EXCLUDED.inference_ms,
      pipeline_ms = t.pipeline_ms + EXCLUDED.pipeline_ms,
      no_hardhat = t.no_hardhat + EXCLUDED.no_hardhat,
      no_vest = t.no_vest + EXCLUDED.no_vest,
      zone_breach = t.zone_breach + EXCLUDED.zone_breach`.execute(db);
}

export interface DailyRow {
  camera_id: string;
  day: string;
  frames_decoded: number;
  frames_inferred: number;
  frames_skipped: number;
  frames_failed: number;
  inference_ms: number;
  pipeline_ms: number;
  no_hardhat: number;
  no_vest: number;
  zone_breach: number;
}

/**
 * Daily rows of the cameras the caller may see (one camera, or all of them), days from `from` to `to`
 * inclusive; the camera's current site decides who sees its history.
 */
export async function dailyStatistics(db: Conn, scope: Scope, range: { from: string; to: string; cameraId?: string }): Promise<DailyRow[]> {
  const result = await sql<DailyRow>`
    SELECT s.camera_id, s.day, s.frames_decoded, s.frames_inferred, s.frames_skipped, s.frames_failed, s.inference_ms, s.pipeline_ms,
           s.no_hardhat, s.no_vest, s.zone_breach
    FROM camera_detection_daily s JOIN cameras c ON c.device_id = s.camera_id
    WHERE ${inScope(scope, 'c')} AND s.org_id = ${scope.orgId}::uuid AND s.day BETWEEN ${range.from}::date AND ${range.to}::date
    ${range.cameraId ? sql`AND s.camera_id = ${range.cameraId}::uuid` : sql``}
    ORDER BY s.day, s.camera_id`.execute(db);
  return result.rows;
}

export interface HourOfWeekRow {
  /** ISO weekday, 1 Monday … 7 Sunday, in the organization's zone. */
  weekday: number;
  hour: number;
  violations: number;
}

/**
 * Violation events of the cameras the caller may see, counted by local weekday and hour from the hourly
 * event rollups (read after they are settled), days `from` to `to` inclusive in the organization's zone.
 */
export async function violationsByHourOfWeek(db: Conn, scope: Scope, range: { from: string; to: string; siteId?: string }): Promise<HourOfWeekRow[]> {
  const result = await sql<HourOfWeekRow>`
    WITH zone AS (SELECT timezone AS name FROM organizations WHERE id = ${scope.orgId}::uuid)
    SELECT extract(isodow FROM r.hour AT TIME ZONE zone.name)::int AS weekday, extract(hour FROM r.hour AT TIME ZONE zone.name)::int AS hour,
           sum(r.events)::int AS violations
    FROM event_rollups_hourly r JOIN cameras c ON c.device_id = r.device_id CROSS JOIN zone
    WHERE ${inScope(scope, 'c')} AND r.org_id = ${scope.orgId}::uuid AND r.kind IN ('ppe_violation', 'zone_breach')
      AND r.hour >= (${range.from}::date::timestamp AT TIME ZONE zone.name) AND r.hour < ((${range.to}::date + 1)::timestamp AT TIME ZONE zone.name)
      ${range.siteId ? sql`AND c.site_id = ${range.siteId}::uuid` : sql``}
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return result.rows;
}

/** The installed model an organization chose; undefined: the default model. */
export async function chosenModel(db: Conn, orgId: string): Promise<string | undefined> {
  const row = await db.selectFrom('organization_detection_models').select('model').where('org_id', '=', orgId).executeTakeFirst();
  return row?.model;
}

/** Records an organization's model, or (null) goes back to the default. */
export async function chooseModel(db: Conn, orgId: string, model: string | null, userId: string | null): Promise<void> {
  if (model === null) {
    await db.deleteFrom('organization_detection_models').where('org_id', '=', orgId).execute();
    return;
  }
  await db.insertInto('organization_detection_models').values({ org_id: orgId, model, updated_by: userId })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ model, updated_by: userId, updated_at: sql`now()` })).execute();
}
