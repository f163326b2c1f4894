import { deriveSeed } from './random.js';
import { FRIDGE_PROFILES, RefrigerationUnit, type Reading } from './fridge-model.js';
import { RadarTraffic, type Car } from './radar-model.js';
import type { SimulatedDevice, SimulatedKind } from './options.js';

/** The simulated devices' item streams. */

/** A problem with the simulator's options (or a refused key at start): reported to the user, not a crash. */
export class SimulatorError extends Error {}

export type Item = Car | Reading;

export interface Source {
  takeUntil(endMs: number, max?: number): Item[];
}

export const defaultZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export interface GeneratorOptions {
  kind: SimulatedKind;
  devices: SimulatedDevice[];
  rate: number;
  seed: number;
  startMs: number;
  flat?: boolean;
  timezone?: string;
}

/**
 * One deterministic item stream per device: the same seed, start, devices and rate give the same items
 * (each device draws from its own seed, so adding a device does not change the others).
 */
export function createSources(options: GeneratorOptions): Source[] {
  const n = options.devices.length;
  if (n === 0) throw new SimulatorError('no devices to simulate');
  if (!(options.rate > 0)) throw new SimulatorError('rate must be above 0');
  return options.devices.map((device, index) => {
    const timezone = device.timezone ?? options.timezone ?? defaultZone();
    const seed = deriveSeed(options.seed, options.kind, index);
    if (options.kind === 'speed_radar') {
      return new RadarTraffic({ seed, speedLimit: device.speedLimit ?? 30, timezone, startMs: options.startMs, meanPerSecond: options.rate / n, flat: options.flat });
    }
    return new RefrigerationUnit({
      seed,
      profile: device.profile ?? FRIDGE_PROFILES[index % FRIDGE_PROFILES.length]!,
      timezone,
      startMs: options.startMs,
      intervalMs: Math.max(10, Math.round((1000 * n) / options.rate)),
    });
  });
}

/** The items the simulator would generate for each device over `seconds` from `startMs` (at most `max` per device). */
export function generateItems(options: GeneratorOptions, seconds: number, max = 100_000): Item[][] {
  return createSources(options).map((source) => source.takeUntil(options.startMs + seconds * 1000, max));
}
