import { randomUUID } from 'node:crypto';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import type {
  CameraSource, CameraStatus, CameraTransport, DetectionMode, DetectionPolygon, DetectionStatus, DetectionZone, PlaceholderVideo,
} from '../core/db/schema.js';
import { AppError, forbidden, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { roleMay } from '../core/permissions.js';
import { seal, unseal } from '../core/secret-box.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DeviceKindExtension, DeviceRow, DevicesService } from '../devices/service.js';
import { displayName } from '../maintenance/attachments.js';
import type { OrganizationRow } from '../organizations/service.js';
import { probeVideo } from './probe.js';
import { auditableUrl, detectionProblems, rtspUrlProblem } from './settings.js';
import * as store from './store.js';

/** `showWorker`: for admins, which worker decodes the camera (host:process id) and since when. */
export function presentCamera(row: store.CameraRow, showWorker = false) {
  const placeholder = row.placeholder;
  return {
    id: row.id,
    siteId: row.site_id,
    name: row.name,
    serial: row.serial,
    source: row.source,
    rtspUrl: row.rtsp_url,
    rtspTransport: row.rtsp_transport,
    hasCredentials: row.has_credentials,
    placeholder: placeholder && {
      fileName: placeholder.fileName, contentType: placeholder.contentType, sizeBytes: placeholder.sizeBytes,
      width: placeholder.width, height: placeholder.height, durationSeconds: placeholder.durationSeconds, uploadedAt: placeholder.uploadedAt,
    },
    usePlaceholder: row.use_placeholder,
    inferenceSize: row.inference_size,
    targetFps: row.target_fps,
    zone: row.zone,
    position: row.position_x === null || row.position_y === null ? null : { x: row.position_x, y: row.position_y },
    lat: row.lat,
    lon: row.lon,
    fallbackAfterFailures: row.fallback_after_failures,
    status: row.status,
    statusCause: row.status_cause,
    statusChangedAt: row.status_changed_at.toISOString(),
    detection: {
      mode: row.detection_mode,
      confidence: row.detection_confidence,
      zones: row.detection_zones,
      masks: row.detection_masks,
      minPersonArea: row.detection_min_person_area,
      status: row.detection_status,
      statusCause: row.detection_cause,
    },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(showWorker && {
      worker: row.worker_id === null || row.worker_since === null || row.worker_heartbeat_at === null
        ? null
        : { id: row.worker_id, since: row.worker_since.toISOString(), heartbeatAt: row.worker_heartbeat_at.toISOString() },
    }),
  };
}

export interface CameraPatch {
  source?: CameraSource;
  rtspUrl?: string | null;
  rtspTransport?: CameraTransport;
  usePlaceholder?: boolean;
  inferenceSize?: number;
  targetFps?: number;
  zone?: string;
  position?: { x: number; y: number } | null;
  lat?: number | null;
  lon?: number | null;
  fallbackAfterFailures?: number;
  detection?: DetectionPatch;
}

export interface DetectionPatch {
  mode?: DetectionMode;
  confidence?: number;
  zones?: DetectionZone[];
  masks?: DetectionPolygon[];
  minPersonArea?: number;
}

/** What a camera's detector runs with, and the device its violations are reported as. Never sent over HTTP. */
export interface CameraDetectionSettings {
  cameraId: string;
  orgId: string;
  siteId: string | null;
  name: string;
  serial: string;
  /** The zone the camera's local days (statistics) are counted in: its site's, else its organization's. */
  timezone: string;
  mode: DetectionMode;
  confidence: number;
  zones: DetectionZone[];
  masks: DetectionPolygon[];
  minPersonArea: number;
}

export interface RtspCredentials {
  username: string;
  password: string;
}

/** What a decoder needs to open a camera; credentials unsealed. Never sent over HTTP. */
export interface CameraSourceSettings {
  cameraId: string;
  orgId: string;
  siteId: string | null;
  source: CameraSource;
  rtspUrl: string | null;
  rtspTransport: CameraTransport;
  credentials: RtspCredentials | null;
  usePlaceholder: boolean;
  placeholder: PlaceholderVideo | null;
  fallbackAfterFailures: number;
  inferenceSize: number;
  targetFps: number;
}

const EXTENSIONS = { 'video/mp4': 'mp4', 'video/webm': 'webm' } as const;

/** A status history cursor is [at as ISO time, id]; anything else is a 400, not a database error. */
function historyCursor(after: (string | number)[] | null): [string, number] | null {
  if (!after) return null;
  const [at, id] = after;
  if (after.length === 2 && typeof at === 'string' && !Number.isNaN(Date.parse(at)) && Number.isSafeInteger(id)) return [at, id as number];
  throw invalidFields([{ field: 'cursor', message: 'malformed; use the nextCursor of a previous page' }]);
}

/**
 * Cameras: devices of kind `camera` with their video settings. The row is made with the device (this
 * service extends the device registry for its kind); admins configure it, every member may look at it.
 */
export class CamerasService implements DeviceKindExtension {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly devices: DevicesService,
  ) {}

  /** Device registration of a camera: admins only, within the plan's camera limit, with default settings. */
  async created(tx: Tx, scope: Scope, device: DeviceRow, org: OrganizationRow): Promise<void> {
    if (!roleMay(scope.role, 'camera.write')) throw forbidden(`your role (${scope.role}) may not register cameras: a camera opens a site's video, so admins add them`);
    if (org.max_cameras !== null && (await store.countCameras(tx, org.id)) >= org.max_cameras) {
      throw new AppError(403, 'plan_limit', `${org.name} has reached its limit of ${org.max_cameras} cameras`);
    }
    await store.insertCamera(tx, device);
  }

  removing(scope: Scope): void {
    if (!roleMay(scope.role, 'camera.write')) throw forbidden(`your role (${scope.role}) may not remove cameras`);
  }

  async list(scope: Scope, query: PageQuery & store.CameraFilter) {
    const page = pageRequest(query);
    const rows = await store.listCameras(this.ctx.db, scope, query, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  async get(scope: Scope, id: string) {
    const camera = await store.findCamera(this.ctx.db, scope, id);
    if (!camera) throw notFound('camera');
    return camera;
  }

  /** A camera's status changes, newest first; a camera the member may not see is not found. */
  async statusHistory(scope: Scope, id: string, query: PageQuery) {
    await this.get(scope, id);
    const page = pageRequest(query);
    const rows = await store.listStatusHistory(this.ctx.db, scope, id, page.limit, historyCursor(page.after));
    const changes = toPage(rows, page.limit, (r) => [r.at.toISOString(), r.id]);
    return {
      items: changes.items.map((r) => ({ status: r.status, cause: r.cause, at: r.at.toISOString() })),
      nextCursor: changes.nextCursor,
    };
  }

  async configure(scope: Scope, id: string, patch: CameraPatch, actor: Actor) {
    const current = await this.get(scope, id);
    const problems: FieldError[] = [];
    const urlProblem = patch.rtspUrl == null ? null : rtspUrlProblem(patch.rtspUrl);
    if (urlProblem) problems.push(urlProblem);
    const hasPlaceholder = current.placeholder !== null;
    if (patch.source === 'file' && !hasPlaceholder) {
      problems.push({ field: 'source', message: 'a file camera plays its placeholder video: upload one first (POST /api/v1/cameras/{id}/placeholder)' });
    }
    if (patch.usePlaceholder === true && !hasPlaceholder) problems.push({ field: 'usePlaceholder', message: 'upload a placeholder video first' });
    if (patch.detection) problems.push(...detectionProblems(patch.detection));
    if (problems.length > 0) throw invalidFields(problems);

    const { lat, lon, position, detection, ...rest } = patch;
    // The map position is the device's: one place for it, changed (and audited) by the device registry.
    if (lat !== undefined || lon !== undefined) await this.devices.update(scope, id, { lat, lon }, actor);
    const settings: store.CameraSettings = {
      ...(rest.source !== undefined && { source: rest.source }),
      ...(rest.rtspUrl !== undefined && { rtsp_url: rest.rtspUrl }),
      ...(rest.rtspTransport !== undefined && { rtsp_transport: rest.rtspTransport }),
      ...(rest.usePlaceholder !== undefined && { use_placeholder: rest.usePlaceholder }),
      ...(rest.inferenceSize !== undefined && { inference_size: rest.inferenceSize }),
      ...(rest.targetFps !== undefined && { target_fps: rest.targetFps }),
      ...(rest.zone !== undefined && { zone: rest.zone }),
      ...(rest.fallbackAfterFailures !== undefined && { fallback_after_failures: rest.fallbackAfterFailures }),
      ...(position !== undefined && { position_x: position?.x ?? null, position_y: position?.y ?? null }),
      ...(detection?.mode !== undefined && { detection_mode: detection.mode }),
      ...(detection?.confidence !== undefined && { detection_confidence: detection.confidence }),
      ...(detection?.zones !== undefined && { detection_zones: JSON.stringify(detection.zones.map((z) => ({ name: z.name.trim(), polygon: z.polygon }))) }),
      ...(detection?.masks !== undefined && { detection_masks: JSON.stringify(detection.masks) }),
      ...(detection?.minPersonArea !== undefined && { detection_min_person_area: detection.minPersonArea }),
    };
    if (Object.keys(settings).length > 0) {
      if (!(await store.updateCamera(this.ctx.db, scope, id, settings))) throw notFound('camera');
      const changes = {
        ...rest, ...(position !== undefined && { position }), ...(detection !== undefined && { detection }),
        ...(rest.rtspUrl !== undefined && { rtspUrl: auditableUrl(rest.rtspUrl) }),
      };
      await this.audit.record(actor, { orgId: scope.orgId, action: 'camera.updated', resourceType: 'camera', resourceId: id, details: { changes } });
    }
    return this.changed(scope, id);
  }

  /** Sets (null: removes) the RTSP credentials, sealed with the deployment's encryption key. The audit says only that they changed. */
  async setCredentials(scope: Scope, id: string, credentials: RtspCredentials | null, actor: Actor) {
    await this.get(scope, id);
    const sealed = credentials && seal(this.ctx.secrets.encryptionKey, JSON.stringify({ username: credentials.username, password: credentials.password }));
    if (!(await store.updateCamera(this.ctx.db, scope, id, { credentials_sealed: sealed }))) throw notFound('camera');
    await this.audit.record(actor, {
      orgId: scope.orgId, action: credentials ? 'camera.credentials_changed' : 'camera.credentials_removed', resourceType: 'camera', resourceId: id, details: {},
    });
    return this.changed(scope, id);
  }

  /**
   * Accepts a placeholder video (already within the size limit) once ffprobe shows it plays; stores it in
   * the media storage and removes the one it replaces.
   */
  async setPlaceholder(scope: Scope, id: string, upload: { fileName: string | undefined; data: Buffer }, actor: Actor) {
    await this.get(scope, id);
    if (upload.data.length === 0) throw new AppError(400, 'empty_upload', 'the upload has no file', [{ field: 'file', message: 'is empty' }]);
    const probed = await probeVideo(upload.data);
    if ('problem' in probed) throw new AppError(415, 'unsupported_video', `the file ${probed.problem}`, [{ field: 'file', message: probed.problem }]);
    const { video } = probed;
    const placeholder: PlaceholderVideo = {
      storageKey: `cameras/${scope.orgId}/${id}/placeholder-${randomUUID()}.${EXTENSIONS[video.contentType]}`,
      contentType: video.contentType,
      fileName: displayName(upload.fileName),
      sizeBytes: upload.data.length,
      width: video.width,
      height: video.height,
      durationSeconds: video.durationSeconds,
      uploadedAt: new Date().toISOString(),
    };
    // The file first: a row never points at a missing file; a failed update removes the new file again.
    await this.ctx.media.put(placeholder.storageKey, upload.data, video.contentType);
    let replaced: { previous: PlaceholderVideo | null } | undefined;
    try {
      replaced = await this.ctx.db.transaction().execute(async (tx) => {
        const result = await store.replacePlaceholder(tx, scope, id, placeholder);
        if (result) {
          await this.audit.record(actor, {
            orgId: scope.orgId, action: 'camera.placeholder_uploaded', resourceType: 'camera', resourceId: id,
            details: { fileName: placeholder.fileName, sizeBytes: placeholder.sizeBytes, width: video.width, height: video.height, durationSeconds: video.durationSeconds, codec: video.codec },
          }, tx);
        }
        return result;
      });
    } finally {
      if (!replaced) await this.removeFile(placeholder.storageKey);
    }
    if (!replaced) throw notFound('camera');
    if (replaced.previous) await this.removeFile(replaced.previous.storageKey);
    return this.changed(scope, id);
  }

  /**
   * Everything a decoder needs to open one camera, with the credentials unsealed: for the worker
   * that holds the camera's lease, never for an HTTP answer.
   */
  async sourceFor(cameraId: string): Promise<CameraSourceSettings> {
    const row = await store.findSource(this.ctx.db, cameraId);
    if (!row) throw notFound('camera');
    return {
      cameraId: row.device_id,
      orgId: row.org_id,
      siteId: row.site_id,
      source: row.source,
      rtspUrl: row.rtsp_url,
      rtspTransport: row.rtsp_transport,
      credentials: row.credentials_sealed ? (JSON.parse(unseal(this.ctx.secrets.encryptionKey, row.credentials_sealed)) as RtspCredentials) : null,
      usePlaceholder: row.use_placeholder,
      placeholder: row.placeholder,
      fallbackAfterFailures: row.fallback_after_failures,
      inferenceSize: row.inference_size,
      targetFps: row.target_fps,
    };
  }

  /** The detection settings of a camera and the device its violations are reported as: for the worker holding its lease. */
  async detectionFor(cameraId: string): Promise<CameraDetectionSettings> {
    const row = await store.findDetectionSettings(this.ctx.db, cameraId);
    if (!row) throw notFound('camera');
    return {
      cameraId: row.device_id, orgId: row.org_id, siteId: row.site_id, name: row.name, serial: row.serial, timezone: row.timezone,
      mode: row.detection_mode, confidence: row.detection_confidence, zones: row.detection_zones, masks: row.detection_masks,
      minPersonArea: row.detection_min_person_area,
    };
  }

  /** The detector's state (running, off with the reason, error): persisted and announced like the decoder's status. */
  async recordDetectionStatus(cameraId: string, status: DetectionStatus, cause: string | null): Promise<void> {
    const changed = await store.updateDetectionStatus(this.ctx.db, cameraId, status, cause);
    if (!changed) return;
    await this.ctx.bus.publish({
      type: 'camera.detection', orgId: changed.org_id, siteId: changed.site_id, requires: 'camera.read',
      data: { cameraId, status, statusCause: cause },
    });
  }

  /** A decoder's status change: persisted, and announced to the console as `camera.status`. */
  async recordStatus(cameraId: string, status: CameraStatus, cause: string | null): Promise<void> {
    const changed = await store.updateStatus(this.ctx.db, cameraId, status, cause);
    if (!changed) return;
    await this.ctx.bus.publish({
      type: 'camera.status', orgId: changed.org_id, siteId: changed.site_id, requires: 'camera.read',
      data: { cameraId, status, statusCause: cause, statusChangedAt: changed.status_changed_at.toISOString() },
    });
  }

  /** The camera delivers frames: its device is seen, like a device that sends data. */
  async recordSeen(cameraId: string): Promise<void> {
    await this.devices.recordSeen(cameraId);
  }

  /** Re-reads a changed camera and tells whoever follows it (the console; later the worker decoding it). */
  private async changed(scope: Scope, id: string) {
    const camera = await this.get(scope, id);
    await this.ctx.bus.publish({ type: 'camera.updated', orgId: camera.org_id, siteId: camera.site_id, requires: 'camera.read', data: { camera: presentCamera(camera) } });
    return camera;
  }

  private async removeFile(key: string): Promise<void> {
    try {
      await this.ctx.media.delete(key);
    } catch (error) {
      this.ctx.logger.warn({ err: error, key }, 'could not remove a camera placeholder file');
    }
  }
}
