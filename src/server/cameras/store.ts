import { sql, type Updateable } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import { inScope } from '../core/db/scope.js';
import type { CameraStatus, CamerasTable, DetectionStatus, PlaceholderVideo } from '../core/db/schema.js';
import { STATUS_HISTORY_PER_CAMERA } from './settings.js';

/**
 * Every SQL statement about cameras' settings. Reads show the camera with its device's name, serial and
 * map position; everything a member asks for is scoped to their organization and sites (inScope).
 */
type Conn = Db | Tx;

export type CameraSettings = Omit<
  Updateable<CamerasTable>,
  'device_id' | 'org_id' | 'site_id' | 'created_at' | 'credentials_sealed' | 'placeholder' | 'detection_status' | 'detection_cause'
>;

function withDevice(db: Conn) {
  return db
    .selectFrom('cameras as c')
    .innerJoin('devices as d', 'd.id', 'c.device_id')
    // The worker decoding the camera, while its lease runs (an expired lease is nobody's).
    .leftJoin('camera_leases as l', (join) => join.onRef('l.camera_id', '=', 'c.device_id').on('l.expires_at', '>', sql<Date>`now()`))
    .select([
      'c.device_id as id', 'c.org_id', 'c.site_id', 'd.name', 'd.serial', 'd.lat', 'd.lon',
      'c.source', 'c.rtsp_url', 'c.rtsp_transport', 'c.placeholder', 'c.use_placeholder', 'c.inference_size', 'c.target_fps',
      'c.zone', 'c.position_x', 'c.position_y', 'c.fallback_after_failures', 'c.status', 'c.status_cause', 'c.status_changed_at',
      'c.created_at', 'c.updated_at',
      'c.detection_mode', 'c.detection_confidence', 'c.detection_zones', 'c.detection_masks', 'c.detection_min_person_area',
      'c.detection_status', 'c.detection_cause',
      'l.owner as worker_id', 'l.acquired_at as worker_since', 'l.heartbeat_at as worker_heartbeat_at',
      // Whether credentials are set, never what they are: the sealed value stays in this store.
      sql<boolean>`c.credentials_sealed IS NOT NULL`.as('has_credentials'),
    ]);
}

export type CameraRow = Awaited<ReturnType<typeof findCamera>> & {};

export interface CameraFilter {
  siteId?: string;
  status?: CameraStatus;
  zone?: string;
}

export function listCameras(db: Conn, scope: Scope, filter: CameraFilter, limit: number, after: [string, string] | null) {
  let query = withDevice(db).where(inScope(scope, 'c')).orderBy('d.name').orderBy('c.device_id').limit(limit + 1);
  if (filter.siteId) query = query.where('c.site_id', '=', filter.siteId);
  if (filter.status) query = query.where('c.status', '=', filter.status);
  if (filter.zone) query = query.where('c.zone', '=', filter.zone);
  if (after) query = query.where(sql<boolean>`(d.name, c.device_id) > (${after[0]}, ${after[1]}::uuid)`);
  return query.execute();
}

export function findCamera(db: Conn, scope: Scope, id: string) {
  return withDevice(db).where(inScope(scope, 'c')).where('c.device_id', '=', id).executeTakeFirst();
}

/** A newly registered camera device's settings row, with the defaults. */
export async function insertCamera(db: Conn, device: { id: string; org_id: string; site_id: string | null }): Promise<void> {
  await db.insertInto('cameras').values({ device_id: device.id, org_id: device.org_id, site_id: device.site_id }).execute();
}

export async function countCameras(db: Conn, orgId: string): Promise<number> {
  const row = await db.selectFrom('cameras').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
  return row.n;
}

/** Changes settings of a camera in scope; false when there is none. */
export async function updateCamera(db: Conn, scope: Scope, id: string, settings: CameraSettings & Pick<Updateable<CamerasTable>, 'credentials_sealed'>): Promise<boolean> {
  const result = await db
    .updateTable('cameras as c')
    .set({ ...settings, updated_at: new Date() })
    .where(inScope(scope, 'c'))
    .where('c.device_id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Sets the placeholder video and returns the one it replaces (its file is then removed); undefined when no camera. */
export async function replacePlaceholder(tx: Tx, scope: Scope, id: string, placeholder: PlaceholderVideo) {
  const current = await tx.selectFrom('cameras as c').select('c.placeholder').where(inScope(scope, 'c')).where('c.device_id', '=', id).forUpdate().executeTakeFirst();
  if (!current) return undefined;
  await tx.updateTable('cameras').set({ placeholder: JSON.stringify(placeholder), updated_at: new Date() }).where('device_id', '=', id).execute();
  return { previous: current.placeholder };
}

/** Everything a decoder needs to open a camera, sealed credentials included; unscoped (workers serve every organization). */
export function findSource(db: Conn, id: string) {
  return db
    .selectFrom('cameras')
    .select([
      'device_id', 'org_id', 'site_id', 'source', 'rtsp_url', 'rtsp_transport', 'credentials_sealed', 'placeholder', 'use_placeholder',
      'inference_size', 'target_fps', 'fallback_after_failures',
    ])
    .where('device_id', '=', id)
    .executeTakeFirst();
}

/**
 * Records a decoder's status and its cause when either changed, in one statement with its row in the
 * camera's status history (the history's oldest rows beyond STATUS_HISTORY_PER_CAMERA go with it);
 * returns the camera's org and site for the announcement, or undefined when nothing changed (nothing
 * is written then) or the camera is gone.
 */
export async function updateStatus(db: Conn, id: string, status: CameraStatus, cause: string | null) {
  return db
    .with('changed', (qb) => qb
      .updateTable('cameras')
      .set({ status, status_cause: cause, status_changed_at: new Date() })
      .where('device_id', '=', id)
      .where((eb) => eb.or([eb('status', '!=', status), sql<boolean>`status_cause IS DISTINCT FROM ${cause}`]))
      .returning(['device_id', 'org_id', 'site_id', 'status', 'status_cause', 'status_changed_at']))
    .with('recorded', (qb) => qb
      .insertInto('camera_status_history')
      .columns(['camera_id', 'org_id', 'site_id', 'status', 'cause', 'at'])
      .expression((eb) => eb.selectFrom('changed').select(['device_id', 'org_id', 'site_id', 'status', 'status_cause', 'status_changed_at'])))
    // The statement sees the history as it was before its insert: keeping the newest (cap − 1) leaves the cap.
    .with('trimmed', (qb) => qb
      .deleteFrom('camera_status_history')
      .where('camera_id', '=', id)
      .where((eb) => eb.exists(eb.selectFrom('changed').select('device_id')))
      .where('id', 'in', (eb) => eb
        .selectFrom('camera_status_history')
        .select('id')
        .where('camera_id', '=', id)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .offset(STATUS_HISTORY_PER_CAMERA - 1)))
    .selectFrom('changed')
    .select(['org_id', 'site_id', 'status_changed_at'])
    .executeTakeFirst();
}

/** A camera's status changes, newest first, after the cursor's (at, id); scoped to the member's organization and sites. */
export function listStatusHistory(db: Conn, scope: Scope, cameraId: string, limit: number, after: [string, number] | null) {
  let query = db
    .selectFrom('camera_status_history as h')
    .select(['h.id', 'h.status', 'h.cause', 'h.at'])
    .where(inScope(scope, 'h'))
    .where('h.camera_id', '=', cameraId)
    .orderBy('h.at', 'desc')
    .orderBy('h.id', 'desc')
    .limit(limit + 1);
  if (after) query = query.where(sql<boolean>`(h.at, h.id) < (${after[0]}::timestamptz, ${after[1]}::bigint)`);
  return query.execute();
}

/**
 * What a camera's detector needs: its detection settings, and the device it reports violations as (name,
 * serial, and the zone its local days are counted in). Unscoped, for the worker holding the camera's lease.
 */
export function findDetectionSettings(db: Conn, id: string) {
  return db
    .selectFrom('cameras as c')
    .innerJoin('devices as d', 'd.id', 'c.device_id')
    .innerJoin('organizations as o', 'o.id', 'd.org_id')
    .leftJoin('sites as s', 's.id', 'd.site_id')
    .select([
      'c.device_id', 'c.org_id', 'd.site_id', 'd.name', 'd.serial', sql<string>`COALESCE(s.timezone, o.timezone)`.as('timezone'),
      'c.detection_mode', 'c.detection_confidence', 'c.detection_zones', 'c.detection_masks', 'c.detection_min_person_area',
    ])
    .where('c.device_id', '=', id)
    .executeTakeFirst();
}

/** Records the detector's state when it changed (updated_at is left alone: it is the settings' version, which restarts the camera). */
export async function updateDetectionStatus(db: Conn, id: string, status: DetectionStatus, cause: string | null) {
  return db
    .updateTable('cameras')
    .set({ detection_status: status, detection_cause: cause })
    .where('device_id', '=', id)
    .where((eb) => eb.or([eb('detection_status', '!=', status), sql<boolean>`detection_cause IS DISTINCT FROM ${cause}`]))
    .returning(['org_id', 'site_id'])
    .executeTakeFirst();
}
