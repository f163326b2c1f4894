import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, UpdatedAt } from './schema-columns.js';

/** The cameras tables (migration 0032): each camera's settings and the decoding leases of workers. */
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
