import { DateTime } from 'luxon';
import { isValidTimezone } from '../../shared/validation.js';
import { deriveSeed, Rng } from './random.js';

/**
 * The device models behind the simulator and the demo backfill: street traffic seen by a speed radar
 * and the thermal cycle of a refrigeration unit. Each model is a deterministic stream: the same seed,
 * start time and parameters give the same items, however the caller slices them in time.
 */

// ---------------------------------------------------------------------------------------------------
// Local wall-clock time

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

// ---------------------------------------------------------------------------------------------------
// Traffic volume over the day

const gauss = (x: number, mu: number, sigma: number) => Math.exp(-((x - mu) ** 2) / (2 * sigma * sigma));
const rise = (x: number, at: number, steepness: number) => 1 / (1 + Math.exp(-(x - at) * steepness));

function rawVolume(hour: number, weekend: boolean): number {
  if (weekend) {
    // Late start, a broad midday hump, a little evening traffic.
    return 0.05 + 0.55 * rise(hour, 8, 1.2) * (1 - rise(hour, 22.5, 1.2)) + 0.75 * gauss(hour, 13, 3);
  }
  // Night floor, a day plateau, the morning peak (about 08:00) and the longer evening peak (about 17:30).
  return 0.05 + 0.5 * rise(hour, 6.5, 1.5) * (1 - rise(hour, 21.5, 1.2)) + 1.5 * gauss(hour, 8, 1) + 1.25 * gauss(hour, 17.5, 1.4) + 0.3 * gauss(hour, 12.5, 1.5);
}

// Normalised so that the average over a week is 1: a device's daily volume is its mean rate × 86,400.
const WEEK_MEAN = (() => {
  let sum = 0;
  let n = 0;
  for (let m = 0; m < 24 * 60; m += 5) {
    sum += 5 * rawVolume(m / 60, false) + 2 * rawVolume(m / 60, true);
    n += 7;
  }
  return sum / n;
})();

/** Relative traffic volume at a local hour (week average 1; about 3 at the weekday morning peak, under 0.1 at night). */
export function trafficFactor(hour: number, weekend: boolean): number {
  return rawVolume(hour, weekend) / WEEK_MEAN;
}

export const TRAFFIC_FACTOR_MAX = (() => {
  let max = 0;
  for (let m = 0; m < 24 * 60; m += 1) max = Math.max(max, trafficFactor(m / 60, false), trafficFactor(m / 60, true));
  return max * 1.01;
})();

// ---------------------------------------------------------------------------------------------------
// Speed radar

export interface Car {
  /** The instant the car passed (UTC milliseconds). */
  ms: number;
  /** The device's naive local timestamp string (Python isoformat). */
  timestamp: string;
  /** Whole mph, as the device reports it. */
  speed: number;
  speedLimit: number;
  isSpeeding: 0 | 1;
}

export interface RadarTrafficOptions {
  seed: number | string;
  speedLimit: number;
  timezone: string;
  /** Cars are generated from this instant on. */
  startMs: number;
  /** Average cars per second over a week (the hour-of-day curve shapes it unless `flat`). */
  meanPerSecond: number;
  /** Constant volume (no hour-of-day curve): the rate is what is asked for at any hour. */
  flat?: boolean;
}

/**
 * Cars passing one radar: a Poisson process whose rate follows the hour-of-day curve (by thinning),
 * speeds roughly normal around the limit (slower in congestion, faster at night) with a tail of speeders.
 */
export class RadarTraffic {
  private readonly rng: Rng;
  private readonly clock: WallClock;
  private readonly personality: number;
  private readonly tail: number;
  private readonly maxRatePerMs: number;
  private t: number;
  private lastMicros = Number.NEGATIVE_INFINITY;
  private lookahead: Car | null = null;

  constructor(private readonly options: RadarTrafficOptions) {
    if (!(options.meanPerSecond > 0) || !Number.isFinite(options.meanPerSecond)) throw new Error('meanPerSecond must be a positive number');
    if (!(options.speedLimit > 0 && options.speedLimit < 300)) throw new Error('speedLimit must be between 0 and 300');
    this.rng = new Rng(deriveSeed(options.seed, 'radar'));
    this.clock = new WallClock(options.timezone);
    // Each street has its habits: some run a little faster, some have more speeders.
    this.personality = this.rng.normal(0, 1.5);
    this.tail = this.rng.uniform(0.03, 0.08);
    this.maxRatePerMs = (options.meanPerSecond * (options.flat ? 1 : TRAFFIC_FACTOR_MAX)) / 1000;
    this.t = options.startMs;
  }

  next(): Car {
    if (this.lookahead) {
      const car = this.lookahead;
      this.lookahead = null;
      return car;
    }
    // Thinning: candidates at the peak rate, each kept with probability rate(t) / peak rate.
    for (;;) {
      this.t += this.rng.exponential(1 / this.maxRatePerMs);
      const { hour, weekend } = this.clock.hourOf(this.t);
      const factor = trafficFactor(hour, weekend);
      if (this.options.flat || this.rng.next() * TRAFFIC_FACTOR_MAX < factor) return this.car(Math.floor(this.t), factor);
    }
  }

  /** The cars that passed before `endMs` (at most `max`; the rest come with the next call). */
  takeUntil(endMs: number, max = Number.POSITIVE_INFINITY): Car[] {
    const cars: Car[] = [];
    while (cars.length < max) {
      const car = this.next();
      if (car.ms >= endMs) {
        this.lookahead = car;
        break;
      }
      cars.push(car);
    }
    return cars;
  }

  private car(ms: number, factor: number): Car {
    const limit = this.options.speedLimit;
    let speed: number;
    if (this.rng.chance(this.tail)) {
      speed = limit + 6 + this.rng.exponential(7);
    } else {
      const congestion = Math.max(0, factor - 1.3) * 2;
      const night = factor < 0.35 ? 3 : 0;
      speed = this.rng.normal(limit - 1 + this.personality - congestion + night, 3 + 0.08 * limit);
    }
    speed = Math.round(Math.min(Math.max(speed, 3), 120));
    // The radar's clock has microseconds and never stamps two cars alike.
    const total = Math.max(ms * 1000 + this.rng.int(0, 999), this.lastMicros + 1);
    this.lastMicros = total;
    const at = Math.floor(total / 1000);
    return {
      ms: at,
      timestamp: pythonIsoformat(this.clock.local(at), total - at * 1000),
      speed,
      speedLimit: limit,
      isSpeeding: speed > limit ? 1 : 0,
    };
  }
}

export interface RushRosterEvent {
  timestamp: string;
  speed: number;
  speed_limit: number;
  is_speeding: 0 | 1;
  has_photo: boolean;
}

export function rushRosterEvent(car: Car, hasPhoto = false): RushRosterEvent {
  return { timestamp: car.timestamp, speed: car.speed, speed_limit: car.speedLimit, is_speeding: car.isSpeeding, has_photo: hasPhoto };
}

/**
 * The upload body exactly as the device's `requests.post(json=…)` serialises it: Python's default
 * separators (`, ` and `: `), floats with `.0`, `is_speeding` as an integer.
 */
export function rushRosterBody(events: RushRosterEvent[]): string {
  const items = events.map((e) =>
    `{"timestamp": ${JSON.stringify(e.timestamp)}, "speed": ${pythonFloat(e.speed)}, "speed_limit": ${pythonFloat(e.speed_limit)}, ` +
    `"is_speeding": ${e.is_speeding}, "has_photo": ${e.has_photo}}`);
  return `{"events": [${items.join(', ')}]}`;
}

// ---------------------------------------------------------------------------------------------------
// Refrigeration unit

export type FridgeProfile = 'cooler' | 'freezer' | 'display';
export const FRIDGE_PROFILES: readonly FridgeProfile[] = ['cooler', 'freezer', 'display'];

interface ProfileParameters {
  setpoint: number;
  /** The thermostat turns the compressor on above setpoint + band and off below setpoint − band. */
  band: number;
  /** Heat leak towards ambient, per minute, as a fraction of (ambient − temperature). */
  leak: number;
  /** Cooling by the running compressor, °C per minute. */
  cooling: number;
  /** Extra leak while the door is open. */
  doorLeak: number;
  /** Door openings per hour in business hours (07–20) and outside them. */
  doorsDay: number;
  doorsNight: number;
  /** Defrost every so many hours, for so many minutes (heater on, compressor and fan off). */
  defrostEveryHours: number;
  defrostMinutes: number;
  /** Warming by the defrost heater, °C per minute. */
  defrostHeat: number;
  /** Discharge pressure while running and at rest (unit unspecified by the protocol). */
  pressureOn: number;
  pressureOff: number;
}

const PROFILES: Record<FridgeProfile, ProfileParameters> = {
  cooler: { setpoint: 3, band: 1.2, leak: 0.008, cooling: 0.5, doorLeak: 0.05, doorsDay: 5, doorsNight: 0.3, defrostEveryHours: 8, defrostMinutes: 20, defrostHeat: 0.1, pressureOn: 150, pressureOff: 95 },
  freezer: { setpoint: -18, band: 1.5, leak: 0.0025, cooling: 0.4, doorLeak: 0.06, doorsDay: 2, doorsNight: 0.1, defrostEveryHours: 6, defrostMinutes: 25, defrostHeat: 0.2, pressureOn: 175, pressureOff: 90 },
  display: { setpoint: 4, band: 1.5, leak: 0.012, cooling: 0.6, doorLeak: 0.04, doorsDay: 12, doorsNight: 0.2, defrostEveryHours: 6, defrostMinutes: 15, defrostHeat: 0.12, pressureOn: 140, pressureOff: 100 },
};

export function fridgeSetpoint(profile: FridgeProfile): number {
  return PROFILES[profile].setpoint;
}

export interface FridgeValues {
  temperature: number;
  pressure: number;
  door: 0 | 1;
  heater: 0 | 1;
  compressor: 0 | 1;
  fan: 0 | 1;
}

export interface Reading {
  ms: number;
  values: FridgeValues;
}

export interface RefrigerationOptions {
  seed: number | string;
  profile: FridgeProfile;
  timezone: string;
  startMs: number;
  /** Time between readings. */
  intervalMs: number;
  ambient?: number;
}

const MAX_STEP_MS = 5_000;

/**
 * One refrigeration unit: a thermostat cycling the compressor around the setpoint, heat leaking in
 * (much faster while the door is open: openings follow business hours), and periodic defrosts.
 */
export class RefrigerationUnit {
  private readonly rng: Rng;
  private readonly clock: WallClock;
  private readonly p: ProfileParameters;
  private readonly ambient: number;
  private temperature: number;
  private pressure: number;
  private compressor: boolean;
  private compressorChangedAt: number;
  private doorUntil = 0;
  private defrostUntil = 0;
  private nextDefrost: number;
  private simulatedTo: number;
  private nextReading: number;
  private lookahead: Reading | null = null;

  constructor(private readonly options: RefrigerationOptions) {
    if (!(options.intervalMs >= 10) || !Number.isFinite(options.intervalMs)) throw new Error('intervalMs must be at least 10');
    this.rng = new Rng(deriveSeed(options.seed, 'fridge'));
    this.clock = new WallClock(options.timezone);
    this.p = PROFILES[options.profile];
    this.ambient = options.ambient ?? 22;
    this.temperature = this.p.setpoint + this.rng.uniform(-this.p.band, this.p.band);
    this.compressor = this.rng.chance(0.4);
    this.pressure = this.compressor ? this.p.pressureOn : this.p.pressureOff;
    this.compressorChangedAt = options.startMs - 10 * 60_000;
    this.nextDefrost = options.startMs + this.rng.uniform(0.1, 1) * this.p.defrostEveryHours * 3_600_000;
    this.simulatedTo = options.startMs;
    // Units are not synchronised: each starts at its own phase of the interval.
    this.nextReading = options.startMs + Math.floor(this.rng.next() * options.intervalMs);
  }

  next(): Reading {
    if (this.lookahead) {
      const reading = this.lookahead;
      this.lookahead = null;
      return reading;
    }
    const at = this.nextReading;
    this.advance(at);
    this.nextReading += this.options.intervalMs;
    const door = at < this.doorUntil;
    const defrost = at < this.defrostUntil;
    const fanRunning = !door && !defrost && (this.options.profile !== 'freezer' || this.compressor);
    return {
      ms: at,
      values: {
        temperature: round(this.temperature + this.rng.normal(0, 0.05), 2),
        pressure: round(this.pressure + this.rng.normal(0, 1.5), 1),
        door: door ? 1 : 0,
        heater: defrost ? 1 : 0,
        compressor: this.compressor ? 1 : 0,
        fan: fanRunning ? 1 : 0,
      },
    };
  }

  takeUntil(endMs: number, max = Number.POSITIVE_INFINITY): Reading[] {
    const readings: Reading[] = [];
    while (readings.length < max) {
      const reading = this.next();
      if (reading.ms >= endMs) {
        this.lookahead = reading;
        break;
      }
      readings.push(reading);
    }
    return readings;
  }

  /** Integrates the unit's physics up to `to`, in steps of at most 5 s. */
  private advance(to: number): void {
    const p = this.p;
    while (this.simulatedTo < to) {
      const step = Math.min(MAX_STEP_MS, to - this.simulatedTo);
      const now = this.simulatedTo + step;
      const minutes = step / 60_000;
      if (now >= this.nextDefrost) {
        this.defrostUntil = now + p.defrostMinutes * 60_000;
        this.nextDefrost += p.defrostEveryHours * 3_600_000;
      }
      const defrost = now < this.defrostUntil;
      if (now >= this.doorUntil) {
        const { hour } = this.clock.hourOf(now);
        const perHour = hour >= 7 && hour < 20 ? p.doorsDay : p.doorsNight;
        if (this.rng.chance((perHour * step) / 3_600_000)) {
          // Mostly a quick reach-in; now and then a delivery with the door propped open.
          const seconds = this.rng.chance(0.03) ? this.rng.uniform(120, 360) : Math.min(120, 4 + this.rng.exponential(18));
          this.doorUntil = now + seconds * 1000;
        }
      }
      const door = now < this.doorUntil;
      // Thermostat with hysteresis and a minimum off time (compressors must not short-cycle).
      if (defrost) {
        if (this.compressor) this.switchCompressor(false, now);
      } else if (!this.compressor && this.temperature >= p.setpoint + p.band && now - this.compressorChangedAt >= 2 * 60_000) {
        this.switchCompressor(true, now);
      } else if (this.compressor && this.temperature <= p.setpoint - p.band) {
        this.switchCompressor(false, now);
      }
      let dT = (p.leak + (door ? p.doorLeak : 0)) * (this.ambient - this.temperature) * minutes;
      if (this.compressor) dT -= p.cooling * minutes;
      if (defrost) dT += p.defrostHeat * minutes;
      this.temperature += dT;
      // Pressure follows the compressor with a time constant of about a minute, higher when the box is warm.
      const target = this.compressor ? p.pressureOn + 2 * Math.min(Math.max(this.temperature - p.setpoint, -3), 8) : p.pressureOff;
      this.pressure += (target - this.pressure) * Math.min(1, minutes);
      this.simulatedTo = now;
    }
  }

  private switchCompressor(on: boolean, now: number): void {
    this.compressor = on;
    this.compressorChangedAt = now;
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
