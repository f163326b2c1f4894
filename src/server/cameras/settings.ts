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
/** Status changes kept per camera: enough for weeks of an ordinary camera, a bound for one that flaps all day. */
export const STATUS_HISTORY_PER_CAMERA = 500;

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

/** Detection settings' bounds, shared by the API schema and the service. */
export const DETECTION_CONFIDENCE_MIN = 0.05;
export const DETECTION_CONFIDENCE_MAX = 0.95;
export const POLYGON_POINTS_MIN = 3;
export const POLYGON_POINTS_MAX = 50;
export const ZONES_MAX = 20;
export const MASKS_MAX = 20;
export const MIN_PERSON_AREA_MAX = 0.5;

type Points = readonly (readonly number[])[];

/** Twice the polygon's signed area (shoelace): zero for points on one line, which enclose nothing. */
function doubleArea(points: Points): number {
  let sum = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) sum += points[j]![0]! * points[i]![1]! - points[i]![0]! * points[j]![1]!;
  return sum;
}

/**
 * What the schema cannot say about zones and masks: zone names are unique on a camera (incidents and
 * statistics name the zone), and a polygon must enclose an area (three points on a line never hold anyone).
 * Point counts and the 0–1 range are the schema's.
 */
export function detectionProblems(detection: { zones?: readonly { name: string; polygon: Points }[]; masks?: readonly Points[] }): FieldError[] {
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  detection.zones?.forEach((zone, index) => {
    const name = zone.name.trim().toLowerCase();
    if (seen.has(name)) problems.push({ field: `detection.zones.${index}.name`, message: `"${zone.name}" names another zone of this camera already` });
    seen.add(name);
    if (Math.abs(doubleArea(zone.polygon)) < 1e-9) problems.push({ field: `detection.zones.${index}.polygon`, message: 'encloses no area (its points lie on one line)' });
  });
  detection.masks?.forEach((mask, index) => {
    if (Math.abs(doubleArea(mask)) < 1e-9) problems.push({ field: `detection.masks.${index}`, message: 'encloses no area (its points lie on one line)' });
  });
  return problems;
}
