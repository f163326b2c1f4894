import { DateTime } from 'luxon';
import { isValidTimezone } from '../../shared/validation.js';

/** Device-local wall-clock time, and timestamps and numbers written the way the RushRoster firmware (Python) writes them. */

const BUCKET_MS = 15 * 60 * 1000;

/** UTC instant → the device's local wall time (offsets cached per 15 minutes: every real transition falls on one). */
export class WallClock {
  private readonly offsets = new Map<number, number>();

  constructor(readonly zone: string) {
    if (!isValidTimezone(zone)) throw new Error(`unknown time zone "${zone}"`);
  }

  offsetMs(ms: number): number {
    const bucket = Math.floor(ms / BUCKET_MS);
    let offset = this.offsets.get(bucket);
    if (offset === undefined) {
      offset = DateTime.fromMillis(bucket * BUCKET_MS, { zone: this.zone }).offset * 60_000;
      if (this.offsets.size > 50_000) this.offsets.clear();
      this.offsets.set(bucket, offset);
    }
    return offset;
  }

  /** Local wall time as milliseconds of a fake UTC date (read it with getUTC*). */
  local(ms: number): number {
    return ms + this.offsetMs(ms);
  }

  /** Local hour as a fraction (8.5 = 08:30) and whether the local day is Saturday or Sunday. */
  hourOf(ms: number): { hour: number; weekend: boolean } {
    const local = new Date(this.local(ms));
    const day = local.getUTCDay();
    return { hour: local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600, weekend: day === 0 || day === 6 };
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A naive local timestamp the way the RushRoster firmware writes it (Python `datetime.isoformat()`):
 * `YYYY-MM-DDTHH:MM:SS`, plus `.ffffff` (six digits, trailing zeros kept) unless the microseconds are 0.
 */
export function pythonIsoformat(localMs: number, extraMicros = 0): string {
  const d = new Date(localMs);
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const micros = d.getUTCMilliseconds() * 1000 + extraMicros;
  return micros === 0 ? base : `${base}.${pad(micros, 6)}`;
}

/** A float as Python's `json.dumps` writes it: `42.0`, not `42`. */
export function pythonFloat(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return Number.isInteger(value) ? `${value}.0` : String(value);
}
