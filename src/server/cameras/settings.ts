import type { FieldError } from '../core/http/errors.js';

/** Rules of a camera's settings that a JSON schema cannot say, as pure functions. */

/** Square inference sizes offered by name; any size from the minimum to the maximum may be set instead. */
export const INFERENCE_PRESETS = [
  { name: 'low', size: 640 },
  { name: 'medium', size: 720 },
  { name: 'high', size: 1080 },
] as const;
export const INFERENCE_SIZE_MIN = 320;
export const INFERENCE_SIZE_MAX = 1920;
export const TARGET_FPS_PRESETS = [0.25, 0.5, 1, 2] as const;
export const TARGET_FPS_MIN = 0.25;
export const TARGET_FPS_MAX = 2;

/**
 * What is wrong with an RTSP address, or null. Credentials inside it are refused: they would be shown to
 * every member who may see the camera and kept in clear text; they belong in the sealed credentials.
 * The message never repeats the address, which may hold a password.
 */
export function rtspUrlProblem(value: string): FieldError | null {
  const problem = (message: string) => ({ field: 'rtspUrl', message });
  if (/\s/.test(value)) return problem('must not contain spaces or line breaks');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem('is not a valid address (e.g. rtsp://192.168.1.20:554/stream1)');
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') return problem('must start with rtsp:// or rtsps://');
  if (url.username !== '' || url.password !== '' || /^rtsps?:\/\/[^/]*@/i.test(value)) {
    return problem('must not contain a user name or password: set them with the camera\'s credentials (PUT /api/v1/cameras/{id}/credentials), where they are stored encrypted');
  }
  if (url.hostname === '') return problem('must name the camera\'s host (e.g. rtsp://192.168.1.20:554/stream1)');
  return null;
}

/** The address without its query and fragment, for the audit log (some cameras take a token in the query). */
export function auditableUrl(value: string | null): string | null {
  if (value === null) return null;
  const url = new URL(value);
  return `${url.protocol}//${url.host}${url.pathname}`;
}
