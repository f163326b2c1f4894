import { deriveSeed, Rng } from './random.js';
import { WallClock } from './clock.js';

/**
 * The thermal cycle of a refrigeration unit: compressor duty cycle around a setpoint, door openings in
 * business hours, defrost. A deterministic stream of readings, like the radar model.
 */

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

/**
 * The safe range a food business would set for each profile (°C): chilled food at most 5 °C (8 °C for a
 * display cabinet, the legal ceiling), frozen at most −15 °C; the lower bounds keep chilled food from freezing.
 */
const SAFE_RANGES: Record<FridgeProfile, { min: number; max: number }> = {
  cooler: { min: 0, max: 5 },
  freezer: { min: -25, max: -15 },
  display: { min: 0, max: 8 },
};

export function fridgeSafeRange(profile: FridgeProfile): { min: number; max: number } {
  return SAFE_RANGES[profile];
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
