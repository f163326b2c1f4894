import type { Scope } from '../core/access.js';
import type { Actor } from '../audit/service.js';
import type { Services } from '../services.js';
import { isValidTimezone } from '../../shared/validation.js';
import { deriveSeed, Rng } from './random.js';
import { fridgeSafeRange, fridgeSetpoint, FRIDGE_PROFILES, RefrigerationUnit, type FridgeProfile } from './fridge-model.js';
import { RadarTraffic, type Car } from './radar-model.js';
import { attachDemoPhotos, DEMO_PHOTOS_PER_RADAR, takesPhoto } from './radar-photos.js';
import { createDemoCameras, DEMO_CAMERAS_MAX, type DemoCamera } from './demo-cameras.js';

/**
 * A demo organization that looks real: an owner, sites around one city centre, speed radars on a street
 * grid ("Elm St & 3rd Ave"), refrigeration units and safety cameras on a building site playing a video made
 * by ffmpeg (demo-cameras.ts), all created through the services (audit records,
 * live updates and plan checks included). Optionally loads the last days of history for every device
 * through the real ingest service, so dashboards have data at once.
 */

export interface DemoOptions {
  email: string;
  /** At least 10 characters. */
  password: string;
  ownerName?: string;
  /** Default "Demo City". */
  organizationName?: string;
  /** The city centre; default downtown Denver, Colorado. */
  center?: { lat: number; lon: number };
  /** The sites' time zone (must fit the centre); default America/Denver. */
  timezone?: string;
  /** Default 12, at most 200. */
  radars?: number;
  /** Default 3, at most 50. */
  fridges?: number;
  /** Safety cameras on a building site; default 3, at most 3. */
  cameras?: number;
  /** The ffmpeg that makes the cameras' placeholder video (default "ffmpeg" on PATH). */
  ffmpegPath?: string;
  /** Days of history to load (0 = none; at most 90). */
  days?: number;
  seed?: number | string;
  /** Items per ingest call (at most 5,000, and the server's INGEST_MAX_BATCH). */
  batchSize?: number;
  /** Minutes between the refrigeration units' readings in the history (default 1). */
  readingIntervalMinutes?: number;
  /** The end of the history (default: now). */
  now?: number;
  onProgress?: (progress: DemoProgress) => void;
}

export interface DemoProgress {
  device: string;
  kind: 'speed_radar' | 'refrigeration';
  /** Events or readings stored for this device so far. */
  stored: number;
  /** Devices whose history is complete, of all. */
  devicesDone: number;
  devicesTotal: number;
}

export interface DemoDevice {
  id: string;
  kind: 'speed_radar' | 'refrigeration';
  name: string;
  serial: string;
  /** The device key, shown only here (Vigil keeps its hash). */
  key: string;
  siteId: string;
  siteName: string;
  timezone: string;
  lat: number;
  lon: number;
  speedLimit: number | null;
  profile: FridgeProfile | null;
}

export interface DemoResult {
  organization: { id: string; name: string; slug: string };
  owner: { id: string; email: string; isSuperadmin: boolean };
  /** Platform administrators made owners of the demo organization (besides its own owner). */
  platformAdministrators: number;
  sites: { id: string; name: string; lat: number; lon: number; timezone: string }[];
  devices: DemoDevice[];
  /** The cameras and, when they play no video, why (e.g. ffmpeg is not installed). */
  cameras: DemoCamera[];
  camerasWithoutVideo: string | null;
  backfill: { days: number; events: number; photos: number; readings: number; values: number; duplicates: number; rejected: number; firstRejection: string | null };
}

export const DEMO_LIMITS = { radars: 200, fridges: 50, cameras: DEMO_CAMERAS_MAX, days: 90, batchSize: 5000 } as const;

const DEFAULT_CENTER = { lat: 39.7392, lon: -104.9903 };
const DEFAULT_TIMEZONE = 'America/Denver';

// East–west streets per neighbourhood; north–south avenues are numbered across the whole city.
const STREET_NAMES: Record<string, string[]> = {
  Downtown: ['Elm', 'Oak', 'Maple', 'Pine', 'Cedar', 'Birch', 'Walnut', 'Chestnut', 'Spruce', 'Willow', 'Ash', 'Poplar'],
  Northside: ['Lincoln', 'Jefferson', 'Madison', 'Monroe', 'Adams', 'Jackson', 'Grant', 'Harrison', 'Taylor', 'Polk', 'Tyler', 'Pierce'],
};

// Grid spacing: about 110 m between streets and 160 m between avenues.
const STREET_SPACING_M = 110;
const AVENUE_SPACING_M = 160;
const METRES_PER_DEGREE_LAT = 111_320;

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th'}`;
}

function offset(center: { lat: number; lon: number }, northM: number, eastM: number) {
  const lat = center.lat + northM / METRES_PER_DEGREE_LAT;
  const lon = center.lon + eastM / (METRES_PER_DEGREE_LAT * Math.cos((center.lat * Math.PI) / 180));
  return { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 };
}

interface TrafficSite {
  name: string;
  /** Where the neighbourhood's grid starts, relative to the city centre. */
  northM: number;
  eastM: number;
  /** The number of the neighbourhood's first avenue. */
  firstAvenue: number;
}

const TRAFFIC_SITES: TrafficSite[] = [
  { name: 'Downtown', northM: -600, eastM: -900, firstAvenue: 1 },
  { name: 'Northside', northM: 2200, eastM: -100, firstAvenue: 6 },
];
const DEPOT = { name: 'Cold Storage Depot', northM: -1500, eastM: 2600 };
const BUILDING_SITE = { name: 'Riverside Build', northM: 900, eastM: 1800 };

/** Arterials (every fourth avenue) 35 mph, collectors (even avenues) 30, the rest 25; busier roads carry more cars. */
function roadClass(avenue: number): { speedLimit: number; dailyVolume: number } {
  if (avenue % 4 === 0) return { speedLimit: 35, dailyVolume: 4000 };
  if (avenue % 2 === 0) return { speedLimit: 30, dailyVolume: 1800 };
  return { speedLimit: 25, dailyVolume: 700 };
}

function checkCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${value})`);
}

/**
 * A quarterly service on each refrigeration unit, spread so that the first units are overdue or due this
 * week: the maintenance page has something to show.
 */
async function logDemoService(services: Services, scope: Scope, deviceId: string, n: number, nowMs: number, actor: Actor) {
  const day = 86_400_000;
  // Due between 8 days ago and 89 days ahead, serviced 90 days before (never in the future).
  const dueMs = nowMs + (((n * 5) % 98) - 8) * day;
  await services.maintenance.create(scope, deviceId, {
    type: 'preventive',
    performedAt: new Date(dueMs - 90 * day).toISOString(),
    performedBy: 'Cold Chain Services',
    description: 'Quarterly service: condenser coils cleaned, door gaskets and thermostat checked',
    parts: n % 3 === 0 ? ['Door gasket'] : [],
    nextDueOn: new Date(dueMs).toISOString().slice(0, 10),
  }, actor);
}

export async function createDemo(services: Services, options: DemoOptions): Promise<DemoResult> {
  const radars = options.radars ?? 12;
  const fridges = options.fridges ?? 3;
  const cameraCount = options.cameras ?? DEMO_CAMERAS_MAX;
  const days = options.days ?? 0;
  const batchSize = options.batchSize ?? DEMO_LIMITS.batchSize;
  const center = options.center ?? DEFAULT_CENTER;
  const timezone = options.timezone ?? DEFAULT_TIMEZONE;
  const seed = options.seed ?? 1;
  const readingIntervalMinutes = options.readingIntervalMinutes ?? 1;
  checkCount('radars', radars, 0, DEMO_LIMITS.radars);
  checkCount('fridges', fridges, 0, DEMO_LIMITS.fridges);
  checkCount('cameras', cameraCount, 0, DEMO_LIMITS.cameras);
  if (!(days >= 0 && days <= DEMO_LIMITS.days)) throw new Error(`days must be from 0 to ${DEMO_LIMITS.days} (got ${days})`);
  checkCount('batchSize', batchSize, 1, DEMO_LIMITS.batchSize);
  if (!(readingIntervalMinutes >= 0.1 && readingIntervalMinutes <= 60)) throw new Error('readingIntervalMinutes must be from 0.1 to 60');
  if (!(Math.abs(center.lat) <= 85 && Math.abs(center.lon) <= 180)) throw new Error('the centre needs a latitude within ±85 and a longitude within ±180');
  if (!isValidTimezone(timezone)) throw new Error(`unknown time zone "${timezone}"`);
  if (options.password.length < 10) throw new Error('the password needs at least 10 characters');

  const created = await services.setup.createUserWithOrganization(
    { email: options.email, name: options.ownerName ?? 'Demo Owner', password: options.password, organizationName: options.organizationName ?? 'Demo City' },
    { userId: null, label: 'demo', ip: null, userAgent: 'vigil-demo' },
  );
  const actor: Actor = { userId: created.user.id, label: created.user.email, ip: null, userAgent: 'vigil-demo' };
  const scope: Scope = { orgId: created.organization.id, userId: created.user.id, role: 'owner', siteIds: null };
  await services.organizations.update(scope.orgId, { timezone, units: 'mph' }, actor);
  // The administrator who ran setup finds the demo in their organization list.
  const platformAdministrators = (await services.members.addPlatformAdministrators(scope.orgId, actor)).length;

  const rng = new Rng(deriveSeed(seed, 'demo-layout'));
  const sites: DemoResult['sites'] = [];
  const devices: DemoDevice[] = [];
  const dailyVolume = new Map<string, number>();

  // Radars alternate between the two neighbourhoods, each on its own intersections.
  const perSite = TRAFFIC_SITES.map((_, i) => Math.floor(radars / TRAFFIC_SITES.length) + (i < radars % TRAFFIC_SITES.length ? 1 : 0));
  let radarNumber = 0;
  for (const [i, site] of TRAFFIC_SITES.entries()) {
    if (perSite[i] === 0 && i > 0) continue;
    const streets = STREET_NAMES[site.name]!;
    const origin = offset(center, site.northM, site.eastM);
    const row = await services.sites.create(scope, {
      name: site.name, address: `${streets[0]} St & ${ordinal(site.firstAvenue)} Ave, ${created.organization.name}`, lat: origin.lat, lon: origin.lon, timezone,
    }, actor);
    sites.push({ id: row.id, name: row.name, lat: origin.lat, lon: origin.lon, timezone });
    const avenues = 12;
    const corners = rng.shuffle(streets.flatMap((_, s) => Array.from({ length: avenues }, (__, a) => ({ s, a }))));
    for (const { s, a } of corners.slice(0, perSite[i])) {
      radarNumber += 1;
      const avenue = site.firstAvenue + a;
      const { speedLimit, dailyVolume: volume } = roadClass(avenue);
      const position = offset(center, site.northM + s * STREET_SPACING_M, site.eastM + a * AVENUE_SPACING_M);
      const name = `${streets[s]} St & ${ordinal(avenue)} Ave`;
      const serial = `RR-DEMO-${String(radarNumber).padStart(4, '0')}`;
      const made = await services.devices.create(scope, {
        kind: 'speed_radar', name, serial, siteId: row.id, lat: position.lat, lon: position.lon, speedLimit, speedUnits: 'mph', settings: { demo: true },
      }, actor);
      devices.push({ id: made.device.id, kind: 'speed_radar', name, serial, key: made.key, siteId: row.id, siteName: row.name, timezone, ...position, speedLimit, profile: null });
      // Each road has its own volume around its class's.
      dailyVolume.set(made.device.id, volume * rng.uniform(0.7, 1.3));
    }
  }

  if (fridges > 0) {
    const origin = offset(center, DEPOT.northM, DEPOT.eastM);
    const row = await services.sites.create(scope, { name: DEPOT.name, address: `1200 Industrial Way, ${created.organization.name}`, lat: origin.lat, lon: origin.lon, timezone }, actor);
    sites.push({ id: row.id, name: row.name, lat: origin.lat, lon: origin.lon, timezone });
    const labels: Record<FridgeProfile, string> = { cooler: 'Walk-in Cooler', freezer: 'Walk-in Freezer', display: 'Display Case' };
    for (let n = 1; n <= fridges; n++) {
      const profile = FRIDGE_PROFILES[(n - 1) % FRIDGE_PROFILES.length]!;
      const name = `${labels[profile]} ${n}`;
      const serial = `PS-DEMO-${String(n).padStart(4, '0')}`;
      // The units stand in one building, a few metres apart.
      const position = offset(center, DEPOT.northM + rng.uniform(-15, 15), DEPOT.eastM + rng.uniform(-15, 15));
      const made = await services.devices.create(scope, {
        kind: 'refrigeration', name, serial, siteId: row.id, lat: position.lat, lon: position.lon, settings: { demo: true, profile, setpoint: fridgeSetpoint(profile), safeRange: fridgeSafeRange(profile) },
      }, actor);
      devices.push({ id: made.device.id, kind: 'refrigeration', name, serial, key: made.key, siteId: row.id, siteName: row.name, timezone, ...position, speedLimit: null, profile });
      await logDemoService(services, scope, made.device.id, n, options.now ?? Date.now(), actor);
    }
  }

  let cameras: DemoCamera[] = [];
  let camerasWithoutVideo: string | null = null;
  if (cameraCount > 0) {
    const origin = offset(center, BUILDING_SITE.northM, BUILDING_SITE.eastM);
    const row = await services.sites.create(scope, { name: BUILDING_SITE.name, address: `40 River Road, ${created.organization.name}`, lat: origin.lat, lon: origin.lon, timezone }, actor);
    sites.push({ id: row.id, name: row.name, lat: origin.lat, lon: origin.lon, timezone });
    ({ cameras, noVideoReason: camerasWithoutVideo } = await createDemoCameras(services, scope, actor, {
      count: cameraCount, site: { id: row.id, ...origin }, ffmpegPath: options.ffmpegPath ?? 'ffmpeg',
    }));
  }

  const backfill: DemoResult['backfill'] = { days, events: 0, photos: 0, readings: 0, values: 0, duplicates: 0, rejected: 0, firstRejection: null };
  if (days > 0) {
    const endMs = options.now ?? Date.now();
    const startMs = endMs - days * 86_400_000;
    for (const [index, device] of devices.entries()) {
      const principal = await services.devices.authenticateDevice(device.key);
      if (!principal) throw new Error(`the new key of ${device.name} does not authenticate`);
      const progress = (stored: number, done: boolean) =>
        options.onProgress?.({ device: device.name, kind: device.kind, stored, devicesDone: index + (done ? 1 : 0), devicesTotal: devices.length });
      const deviceSeed = deriveSeed(seed, 'history', device.serial);
      if (device.kind === 'speed_radar') {
        const traffic = new RadarTraffic({
          seed: deviceSeed, speedLimit: device.speedLimit!, timezone, startMs, meanPerSecond: dailyVolume.get(device.id)! / 86_400,
        });
        let stored = 0;
        const photographed: { car: Car; eventId: string }[] = [];
        for (;;) {
          const cars = traffic.takeUntil(endMs, batchSize);
          if (cars.length === 0) break;
          // The same item a RushRoster upload of this car makes, so a later device resend is a duplicate.
          const result = await services.ingest.ingestEvents(principal, cars.map((car) => ({
            ts: car.timestamp, kind: 'speed', speed: car.speed, speed_limit: car.speedLimit, client_ref: `rr:${car.timestamp}|${car.speed}`, attributes: { has_photo: takesPhoto(car) },
          })));
          for (const event of result.events) {
            const car = cars[event.index]!;
            if (!event.duplicate && takesPhoto(car)) photographed.push({ car, eventId: event.id });
          }
          photographed.splice(0, Math.max(0, photographed.length - DEMO_PHOTOS_PER_RADAR));
          tally(backfill, result.duplicates, result.rejected);
          backfill.events += result.accepted;
          stored += result.accepted;
          progress(stored, false);
        }
        backfill.photos += await attachDemoPhotos(services.photos, principal, photographed, actor);
        progress(stored, true);
      } else {
        const unit = new RefrigerationUnit({ seed: deviceSeed, profile: device.profile!, timezone, startMs, intervalMs: readingIntervalMinutes * 60_000 });
        let stored = 0;
        for (;;) {
          const readings = unit.takeUntil(endMs, batchSize);
          if (readings.length === 0) break;
          const result = await services.ingest.ingestTelemetry(principal, readings.map((r) => ({ ts: new Date(r.ms).toISOString(), values: r.values })));
          tally(backfill, result.duplicates, result.rejected);
          backfill.readings += result.accepted;
          backfill.values += result.values;
          stored += result.accepted;
          progress(stored, false);
        }
        progress(stored, true);
      }
    }
  }

  return {
    organization: created.organization,
    owner: { id: created.user.id, email: created.user.email, isSuperadmin: created.user.isSuperadmin },
    platformAdministrators,
    sites,
    devices,
    cameras,
    camerasWithoutVideo,
    backfill,
  };
}

function tally(backfill: DemoResult['backfill'], duplicates: number, rejected: { index: number; errors: { field: string; message: string }[] }[]): void {
  backfill.duplicates += duplicates;
  backfill.rejected += rejected.length;
  if (rejected.length > 0 && backfill.firstRejection === null) {
    const first = rejected[0]!;
    backfill.firstRejection = `item ${first.index}: ${first.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`;
  }
}
