import { createHmac } from 'node:crypto';

const EARTH_METRES_PER_DEGREE = 111_320;
/** Public coordinates have 4 decimals (~11 m): finer digits would only describe the fuzzing. */
const DECIMALS = 4;
export const FUZZ_MIN_METRES = 80;
export const FUZZ_MAX_METRES = 120;

export interface PublicLocation {
  lat: number;
  lon: number;
}

function round(value: number): number {
  const factor = 10 ** DECIMALS;
  return Math.round(value * factor) / factor;
}

/**
 * Where a shared device is shown: moved 80–120 m in a direction, both taken from a keyed hash of the
 * device id, then rounded to 4 decimals. The same device always lands on the same spot, so averaging
 * many answers reveals nothing, and without the server's secret the offset cannot be undone.
 * (RushRoster's "anonymised" map sent the exact coordinates alongside.)
 */
export function fuzzLocation(secret: string, deviceId: string, lat: number, lon: number): PublicLocation {
  const digest = createHmac('sha256', secret).update(`community-location:${deviceId}`).digest();
  const bearing = (digest.readUInt32BE(0) / 2 ** 32) * 2 * Math.PI;
  const metres = FUZZ_MIN_METRES + (digest.readUInt32BE(4) / 2 ** 32) * (FUZZ_MAX_METRES - FUZZ_MIN_METRES);
  const north = Math.cos(bearing) * metres;
  const east = Math.sin(bearing) * metres;
  const movedLat = Math.max(-90, Math.min(90, lat + north / EARTH_METRES_PER_DEGREE));
  // Near the poles a metre east is many degrees: clamp the divisor so the result stays a longitude.
  const metresPerLonDegree = EARTH_METRES_PER_DEGREE * Math.max(0.01, Math.cos((lat * Math.PI) / 180));
  const movedLon = ((((lon + east / metresPerLonDegree) + 540) % 360) - 180);
  return { lat: round(movedLat), lon: round(movedLon) };
}
