import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The decoders' Prometheus metrics, labelled by camera id only (one series per camera, removed when its
 * decoder stops), in the process's /metrics registry.
 */
export function createDecoderMetrics(registry: Registry) {
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const labelNames = ['camera'] as const;
  const registers = [registry];
  return {
    frames: reuse('vigil_camera_frames_total', () => new Counter({ name: 'vigil_camera_frames_total', help: 'Frames decoded from the camera (not the placeholder)', labelNames, registers })),
    placeholderFrames: reuse('vigil_camera_placeholder_frames_total', () => new Counter({
      name: 'vigil_camera_placeholder_frames_total', help: 'Frames played from the placeholder video', labelNames, registers,
    })),
    reconnects: reuse('vigil_camera_reconnects_total', () => new Counter({ name: 'vigil_camera_reconnects_total', help: 'Times the decoder restarted after a failure or a stall', labelNames, registers })),
    frameInterval: reuse('vigil_camera_frame_interval_seconds', () => new Histogram({
      name: 'vigil_camera_frame_interval_seconds', help: 'Time between two decoded camera frames', labelNames, registers,
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
    })),
    online: reuse('vigil_camera_online', () => new Gauge({ name: 'vigil_camera_online', help: '1 while the camera delivers frames, else 0', labelNames, registers })),
    fallback: reuse('vigil_camera_fallback_active', () => new Gauge({ name: 'vigil_camera_fallback_active', help: '1 while the placeholder video stands in for the camera', labelNames, registers })),
  };
}

export type DecoderMetrics = ReturnType<typeof createDecoderMetrics>;

/** Drops a stopped camera's series. */
export function forgetCamera(metrics: DecoderMetrics, cameraId: string): void {
  for (const metric of Object.values(metrics)) metric.remove({ camera: cameraId });
}
