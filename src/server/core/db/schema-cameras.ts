import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, UpdatedAt } from './schema-columns.js';

/**
 * The cameras tables (migration 0032): each camera's settings and the decoding leases of workers; detection
 * settings and state, violations, acknowledgements and daily detection statistics (migration 0037); the history of
 * each camera's status (migration 0050).
 */
export type CameraSource = 'rtsp' | 'file';
export type CameraTransport = 'tcp' | 'udp';
export type CameraStatus = 'connecting' | 'online' | 'error' | 'offline';

/** A placeholder video as the server accepted it after probing it with ffprobe. */
export interface PlaceholderVideo {
  storageKey: string;
  contentType: 'video/mp4' | 'video/webm';
  fileName: string;
  sizeBytes: number;
  width: number;
  height: number;
  durationSeconds: number;
  uploadedAt: string;
}

export interface CamerasTable {
  device_id: string;
  org_id: string;
  site_id: string | null;
  source: Generated<CameraSource>;
  rtsp_url: string | null;
  rtsp_transport: Generated<CameraTransport>;
  credentials_sealed: string | null;
  placeholder: ColumnType<PlaceholderVideo | null, string | null | undefined, string | null>;
  use_placeholder: Generated<boolean>;
  inference_size: Generated<number>;
  target_fps: Generated<number>;
  zone: Generated<string>;
  position_x: number | null;
  position_y: number | null;
  fallback_after_failures: Generated<number>;
  status: Generated<CameraStatus>;
  status_cause: string | null;
  status_changed_at: Generated<Date>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  detection_mode: Generated<DetectionMode>;
  detection_confidence: Generated<number>;
  detection_zones: ColumnType<DetectionZone[], string | undefined, string>;
  detection_masks: ColumnType<DetectionPolygon[], string | undefined, string>;
  detection_min_person_area: Generated<number>;
  detection_status: Generated<DetectionStatus>;
  detection_cause: string | null;
}

/** Which rules a camera's detector judges: hard hats and vests, restricted zones, both, or none. */
export type DetectionMode = 'ppe' | 'zone' | 'both' | 'off';
/** idle: no worker runs the camera; off: no model installed or detection switched off. */
export type DetectionStatus = 'idle' | 'running' | 'off' | 'error';
/** [x, y] points as fractions (0–1) of the frame's width and height from its top left. */
export type DetectionPolygon = [number, number][];
export interface DetectionZone {
  name: string;
  polygon: DetectionPolygon;
}
export type ViolationRule = 'no_hardhat' | 'no_vest' | 'zone_breach';

/** One change of a camera's decoder status (migration 0050); the newest 500 per camera are kept. */
export interface CameraStatusHistoryTable {
  id: Generated<number>;
  camera_id: string;
  org_id: string;
  site_id: string | null;
  status: CameraStatus;
  cause: string | null;
  at: Date;
}

export interface CameraLeasesTable {
  camera_id: string;
  owner: string;
  heartbeat_at: Generated<Date>;
  expires_at: Date;
  /** Since when the current owner holds the camera (migration 0034). */
  acquired_at: Generated<Date>;
}

/** A process that decodes cameras, alive while it renews expires_at (migration 0034). */
export interface CameraWorkersTable {
  id: string;
  started_at: Generated<Date>;
  heartbeat_at: Generated<Date>;
  expires_at: Date;
}

/** The incident behind a violation event: its end is known only after the event was written. */
export interface ViolationsTable {
  event_id: number;
  org_id: string;
  camera_id: string;
  site_id: string | null;
  incident_id: string;
  rule: ViolationRule;
  zone: string | null;
  started_at: Date;
  last_seen_at: Date;
  ended_at: Date | null;
  frames: Generated<number>;
}

export interface EventAcknowledgementsTable {
  event_id: number;
  org_id: string;
  user_id: string | null;
  user_label: string;
  comment: string | null;
  acknowledged_at: Generated<Date>;
}

/** Per camera and local day; the worker adds its counts in batches. */
export interface CameraDetectionDailyTable {
  camera_id: string;
  org_id: string;
  day: ColumnType<string, string, string>;
  frames_decoded: Generated<number>;
  frames_inferred: Generated<number>;
  frames_skipped: Generated<number>;
  frames_failed: Generated<number>;
  inference_ms: Generated<number>;
  pipeline_ms: Generated<number>;
  no_hardhat: Generated<number>;
  no_vest: Generated<number>;
  zone_breach: Generated<number>;
}

/** The installed detection model an organization chose (migration 0043); no row: the default model. */
export interface OrganizationDetectionModelsTable {
  org_id: string;
  model: string;
  updated_by: string | null;
  updated_at: Generated<Date>;
}
