import fs from 'node:fs';
import path from 'node:path';
import type { DemoResult } from './demo.js';
import type { SimulatedDevice, SimulatedKind } from './options.js';
import { FRIDGE_PROFILES, type FridgeProfile } from './fridge-model.js';

/**
 * The keys of a demo's devices, written by `vigil demo` (mode 0600: they are credentials) and read by
 * `vigil simulate`. Vigil itself keeps only the keys' hashes, so this file is the only copy.
 */
export const DEVICES_FILE = 'demo-devices.json';

export interface DevicesFileEntry {
  kind: SimulatedKind;
  id: string;
  name: string;
  serial: string;
  key: string;
  site: string;
  timezone: string;
  speedLimit: number | null;
  profile: FridgeProfile | null;
}

export interface DevicesFile {
  version: 1;
  createdAt: string;
  organization: { id: string; name: string };
  devices: DevicesFileEntry[];
}

export function writeDevicesFile(file: string, demo: DemoResult): void {
  const content: DevicesFile = {
    version: 1,
    createdAt: new Date().toISOString(),
    organization: { id: demo.organization.id, name: demo.organization.name },
    devices: demo.devices.map((d) => ({
      kind: d.kind, id: d.id, name: d.name, serial: d.serial, key: d.key, site: d.siteName, timezone: d.timezone, speedLimit: d.speedLimit, profile: d.profile,
    })),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** The first `count` devices of `kind` in the file (all of them without `count`). */
export function readDevicesFile(file: string, kind: SimulatedKind, count?: number): SimulatedDevice[] {
  let parsed: DevicesFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as DevicesFile;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist (create it with `vigil demo`)' : (error as Error).message;
    throw new Error(`cannot read the device keys from ${file}: ${reason}`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.devices)) throw new Error(`${file} is not a device keys file written by \`vigil demo\``);
  const matching = parsed.devices.filter((d) => d && d.kind === kind && typeof d.key === 'string');
  if (matching.length === 0) throw new Error(`${file} has no ${kind} devices`);
  if (count !== undefined && count > matching.length) {
    throw new Error(`${file} has ${matching.length} ${kind} device${matching.length === 1 ? '' : 's'}, not ${count}: create more with \`vigil demo --radars N --fridges M\``);
  }
  return matching.slice(0, count ?? matching.length).map((d) => ({
    key: d.key,
    serial: d.serial,
    name: d.name,
    speedLimit: typeof d.speedLimit === 'number' ? d.speedLimit : null,
    timezone: typeof d.timezone === 'string' ? d.timezone : null,
    profile: d.profile && FRIDGE_PROFILES.includes(d.profile) ? d.profile : null,
  }));
}
