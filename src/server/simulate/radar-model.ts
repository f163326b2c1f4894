import { deriveSeed, Rng } from './random.js';
import { WallClock, pythonFloat, pythonIsoformat } from './clock.js';

/**
 * Street traffic as a speed radar sees it: volume over the day and week, speeds around the limit, and
 * the RushRoster upload body. A deterministic stream: the same seed, start and parameters give the same cars.
 */

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
