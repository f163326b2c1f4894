import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, apiUrl, currentCsrfToken, type FieldError } from './client';
import type { Page } from './types';

/**
 * The cameras API (docs/cameras.md). Every key starts with 'cameras', so one `camera.status` or
 * `camera.updated` message from the live stream refreshes every view of them (lib/live.ts).
 */
export const cameraKeys = {
  all: ['cameras'] as const,
  list: (filter: CameraFilter, cursor: string | null) => ['cameras', 'list', filter, cursor] as const,
  detail: (id: string) => ['cameras', 'detail', id] as const,
  decoder: (id: string) => ['cameras', 'decoder', id] as const,
  statusHistory: (id: string, cursor: string | null) => ['cameras', 'status-history', id, cursor] as const,
  presets: ['cameras', 'presets'] as const,
};

export type CameraStatus = 'connecting' | 'online' | 'error' | 'offline';
export const CAMERA_STATUSES: CameraStatus[] = ['online', 'connecting', 'error', 'offline'];

export interface PlaceholderVideo {
  fileName: string;
  contentType: string;
  sizeBytes: number;
  width: number;
  height: number;
  durationSeconds: number;
  uploadedAt: string;
}

export interface Camera {
  id: string;
  siteId: string | null;
  name: string;
  serial: string;
  source: 'rtsp' | 'file';
  rtspUrl: string | null;
  rtspTransport: 'tcp' | 'udp';
  /** Only whether credentials are set: the API never returns them. */
  hasCredentials: boolean;
  placeholder: PlaceholderVideo | null;
  usePlaceholder: boolean;
  inferenceSize: number;
  targetFps: number;
  zone: string;
  position: { x: number; y: number } | null;
  lat: number | null;
  lon: number | null;
  fallbackAfterFailures: number;
  status: CameraStatus;
  statusCause: string | null;
  statusChangedAt: string;
  createdAt: string;
  updatedAt: string;
  detection: CameraDetection;
  /** Admins only: the worker process that decodes the camera. */
  worker?: { id: string; since: string; heartbeatAt: string } | null;
}

export type DetectionMode = 'ppe' | 'zone' | 'both' | 'off';
/** A polygon as [x, y] points, fractions (0–1) of the picture's width and height from its top left. */
export type Polygon = [number, number][];
export interface DetectionSettings {
  mode: DetectionMode;
  confidence: number;
  zones: { name: string; polygon: Polygon }[];
  masks: Polygon[];
  minPersonArea: number;
}
export interface CameraDetection extends DetectionSettings {
  status: 'idle' | 'running' | 'off' | 'error';
  statusCause: string | null;
}

export type CameraSettings = Partial<Pick<Camera, 'source' | 'rtspUrl' | 'rtspTransport' | 'usePlaceholder' | 'inferenceSize' | 'targetFps' | 'zone' | 'position' | 'fallbackAfterFailures'>>
  & { detection?: Partial<DetectionSettings> };

export interface CameraPresets {
  inferenceSizes: { name: string; size: number }[];
  inferenceSizeMin: number;
  inferenceSizeMax: number;
  targetFps: number[];
  targetFpsMin: number;
  targetFpsMax: number;
}

/** One change of a camera's status, as kept by the server (the newest 500 per camera). */
export interface CameraStatusChange {
  status: CameraStatus;
  cause: string | null;
  at: string;
}

export interface DecoderState {
  running: boolean;
  status?: string;
  cause?: string | null;
  failuresInARow?: number;
  fallbackActive?: boolean;
  latestFrameAt?: string | null;
  stderrTail?: string[];
}

export interface ConnectionTest {
  ok: boolean;
  width?: number;
  height?: number;
  cause?: string;
  elapsedMs: number;
}

export interface CameraFilter {
  siteId?: string;
  status?: CameraStatus;
}

/** Where a camera's pictures are: the MJPEG stream for an `<img>` (cookie auth) and one JPEG. */
export const cameraStreamUrl = (id: string) => apiUrl(`/cameras/${id}/stream`);
export const cameraSnapshotUrl = (id: string) => apiUrl(`/cameras/${id}/snapshot`);

export function useCameras(filter: CameraFilter, cursor: string | null, limit = 24) {
  return useQuery({
    queryKey: [...cameraKeys.list(filter, cursor), limit],
    queryFn: ({ signal }) => api<Page<Camera>>('/cameras', { query: { ...filter, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useCamera(id: string) {
  return useQuery({ queryKey: cameraKeys.detail(id), queryFn: ({ signal }) => api<Camera>(`/cameras/${id}`, { signal }) });
}

/** A page of the camera's status changes, newest first; a `camera.status` message refreshes it like every camera query. */
export function useCameraStatusHistory(id: string, cursor: string | null, limit = 20) {
  return useQuery({
    queryKey: [...cameraKeys.statusHistory(id, cursor), limit],
    queryFn: ({ signal }) => api<Page<CameraStatusChange>>(`/cameras/${id}/status-history`, { query: { cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useCameraPresets() {
  return useQuery({ queryKey: cameraKeys.presets, queryFn: () => api<CameraPresets>('/cameras/presets'), staleTime: Infinity });
}

/** ffmpeg's last messages on the server that decodes the camera (admins); refreshed every few seconds while shown. */
export function useDecoderState(id: string, enabled: boolean) {
  return useQuery({
    queryKey: cameraKeys.decoder(id),
    queryFn: ({ signal }) => api<DecoderState>(`/cameras/${id}/decoder`, { signal }),
    enabled,
    refetchInterval: 5000,
  });
}

/** Puts a changed camera into its detail query and refreshes the lists. */
function useCameraWrite<T>(id: string, send: (input: T) => Promise<Camera>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: send,
    onSuccess: (camera) => {
      queryClient.setQueryData(cameraKeys.detail(id), camera);
      void queryClient.invalidateQueries({ queryKey: ['cameras', 'list'] });
    },
  });
}

export function useSaveCameraSettings(id: string) {
  return useCameraWrite(id, (settings: CameraSettings) => api<Camera>(`/cameras/${id}`, { method: 'PATCH', body: settings }));
}

export function useSetCameraCredentials(id: string) {
  return useCameraWrite(id, (credentials: { username: string; password: string }) => api<Camera>(`/cameras/${id}/credentials`, { method: 'PUT', body: credentials }));
}

export function useRemoveCameraCredentials(id: string) {
  return useCameraWrite(id, () => api<Camera>(`/cameras/${id}/credentials`, { method: 'DELETE' }));
}

export function useTestCamera(id: string) {
  return useMutation({ mutationFn: () => api<ConnectionTest>(`/cameras/${id}/test`, { method: 'POST' }) });
}

/**
 * Uploads a placeholder video with progress (fetch cannot report an upload's progress; XMLHttpRequest
 * can). Errors come back as ApiError with the server's message and field, like every other call.
 */
export function uploadPlaceholder(id: string, file: File, onProgress: (fraction: number) => void): Promise<Camera> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', apiUrl(`/cameras/${id}/placeholder`));
    request.setRequestHeader('accept', 'application/json');
    const csrfToken = currentCsrfToken();
    if (csrfToken) request.setRequestHeader('x-csrf-token', csrfToken);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onerror = () => reject(new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.'));
    request.onload = () => {
      let body: { error?: { code?: string; message?: string; details?: FieldError[] } } & Partial<Camera> = {};
      try {
        body = JSON.parse(request.responseText) as typeof body;
      } catch {
        // A proxy's error page: the status line below says enough.
      }
      if (request.status >= 200 && request.status < 300) resolve(body as Camera);
      else reject(new ApiError(request.status, body.error?.code ?? 'http_error', body.error?.message ?? `The server answered ${request.status}`, body.error?.details ?? []));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    request.send(form);
  });
}

export function useUploadPlaceholder(id: string, onProgress: (fraction: number) => void) {
  return useCameraWrite(id, (file: File) => uploadPlaceholder(id, file, onProgress));
}
