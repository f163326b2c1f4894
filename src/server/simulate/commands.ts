import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { runningEmbeddedDatabaseUrl } from '../core/db/embedded.js';
import { loadSecrets } from '../core/secrets.js';
import { startRuntime } from '../runtime.js';
import { createDemo, DEMO_LIMITS } from './demo.js';
import { DEVICES_FILE, readDevicesFile, writeDevicesFile } from './devices-file.js';
import { SIMULATOR_LIMITS, type SimulatedKind, type SimulatedProtocol, type SimulatorStats } from './options.js';
import { runSimulator } from './simulator.js';

/** `vigil simulate` and `vigil demo`: argument handling around simulator.ts and demo.ts (see docs/simulator.md). */

export const SIMULATE_USAGE = `  simulate              drive simulated devices against a running Vigil through the device APIs
      --kind speed_radar|refrigeration [--devices N] [--rate R] [--duration S] [--url URL]
      [--keys FILE] [--seed N] [--protocol rushroster|polosanca|native|mqtt] [--mqtt-url URL]
      [--interval S] [--batch N] [--flat] [--timezone ZONE] [--concurrency N]`;

export const DEMO_USAGE = `  demo                  create a demo organization with sites, radars, refrigeration units and cameras
      [--days D] [--email E] [--name ORG] [--radars N] [--fridges M] [--cameras C] [--lat L --lon L] [--timezone Z]
      [--seed N] [--keys FILE]; the owner's password is read from VIGIL_PASSWORD or standard input`;

class UsageError extends Error {}

function numberOption(raw: string | undefined, name: string, min: number, max: number, integer = false): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function line(stats: SimulatorStats): string {
  return `${stats.elapsedSeconds.toFixed(1).padStart(7)} s  sent ${stats.sent}  accepted ${stats.accepted}  duplicates ${stats.duplicates}  ` +
    `rejected ${stats.rejected}  errors ${stats.errors}  retries ${stats.retries}  queued ${stats.queued}  ${stats.rate.toFixed(1)}/s` +
    (stats.photos + stats.photoFailures > 0 ? `  photos ${stats.photos}${stats.photoFailures ? ` (${stats.photoFailures} failed)` : ''}` : '') +
    (stats.lastError ? `  (last error: ${stats.lastError})` : '');
}

/** Returns the process exit code: 0 when every item was accepted or a duplicate, 1 otherwise, 2 for bad arguments. */
export async function simulateCommand(args: string[], config: Config): Promise<number> {
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    console.log('\nstopping (waiting for requests in flight; press Ctrl-C again to quit at once)');
    abort.abort();
  };
  try {
    const { values } = parseArgs({
      args,
      options: {
        kind: { type: 'string' }, devices: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, url: { type: 'string' },
        keys: { type: 'string' }, seed: { type: 'string' }, protocol: { type: 'string' }, interval: { type: 'string' }, batch: { type: 'string' },
        flat: { type: 'boolean', default: false }, timezone: { type: 'string' }, concurrency: { type: 'string' }, 'mqtt-url': { type: 'string' },
      },
    });
    const kind = values.kind as SimulatedKind | undefined;
    if (kind !== 'speed_radar' && kind !== 'refrigeration') throw new UsageError('--kind must be speed_radar or refrigeration');
    const protocol = values.protocol as SimulatedProtocol | undefined;
    if (protocol !== undefined && !['rushroster', 'polosanca', 'native', 'mqtt'].includes(protocol)) throw new UsageError('--protocol must be rushroster, polosanca, native or mqtt');
    const count = numberOption(values.devices, 'devices', 1, SIMULATOR_LIMITS.devices, true);
    const rate = numberOption(values.rate, 'rate', 0.001, SIMULATOR_LIMITS.rate) ?? (kind === 'speed_radar' ? 10 : 2);
    const duration = numberOption(values.duration, 'duration', 0.1, SIMULATOR_LIMITS.durationSeconds);
    const seed = numberOption(values.seed, 'seed', 0, 2 ** 31 - 1, true);
    const interval = numberOption(values.interval, 'interval', 0.05, 3600);
    const batch = numberOption(values.batch, 'batch', 1, SIMULATOR_LIMITS.nativeBatch, true);
    const concurrency = numberOption(values.concurrency, 'concurrency', 1, SIMULATOR_LIMITS.maxInFlight, true);
    const keysFile = path.resolve(values.keys ?? path.join(config.dataDir, DEVICES_FILE));
    const devices = readDevicesFile(keysFile, kind, count).map((d) => (values.timezone ? { ...d, timezone: values.timezone } : d));
    const url = values.url ?? config.publicUrl;

    console.log(`simulating ${devices.length} ${kind === 'speed_radar' ? 'speed radar' : 'refrigeration unit'}${devices.length === 1 ? '' : 's'} against ${url} at ${rate}/s` +
      `${duration === undefined ? ' until stopped (Ctrl-C)' : ` for ${duration} s`}`);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const stats = await runSimulator({
      baseUrl: url, kind, devices, rate, durationSeconds: duration, seed, signal: abort.signal, protocol, uploadIntervalSeconds: interval,
      batchSize: batch, flat: values.flat, timezone: values.timezone, maxInFlight: concurrency,
      mqttUrl: values['mqtt-url'] ?? (config.mqttPort ? `mqtt://localhost:${config.mqttPort}` : undefined),
      onProgress: (progress) => {
        if (!progress.done) console.log(line(progress));
      },
    });
    console.log(`${line(stats)}\ndone: seed ${stats.seed} (pass --seed ${stats.seed} to generate the same traffic again), ` +
      `${stats.generated} generated, ${stats.failedItems} in failed requests, ${stats.dropped} dropped, average ${stats.averageRate.toFixed(1)} accepted/s`);
    return stats.errors === 0 && stats.rejected === 0 && stats.dropped === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\nUsage: vigil simulate\n${SIMULATE_USAGE}`);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function demoCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  let values;
  let options;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        days: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, radars: { type: 'string' }, fridges: { type: 'string' }, cameras: { type: 'string' },
        lat: { type: 'string' }, lon: { type: 'string' }, timezone: { type: 'string' }, seed: { type: 'string' }, keys: { type: 'string' },
      },
    }));
    const lat = numberOption(values.lat, 'lat', -85, 85);
    const lon = numberOption(values.lon, 'lon', -180, 180);
    if ((lat === undefined) !== (lon === undefined)) throw new UsageError('--lat and --lon go together');
    options = {
      days: numberOption(values.days, 'days', 0, DEMO_LIMITS.days) ?? 7,
      radars: numberOption(values.radars, 'radars', 0, DEMO_LIMITS.radars, true),
      fridges: numberOption(values.fridges, 'fridges', 0, DEMO_LIMITS.fridges, true),
      cameras: numberOption(values.cameras, 'cameras', 0, DEMO_LIMITS.cameras, true),
      seed: numberOption(values.seed, 'seed', 0, 2 ** 31 - 1, true),
      center: lat !== undefined && lon !== undefined ? { lat, lon } : undefined,
    };
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\nUsage: vigil demo\n${DEMO_USAGE}`);
      return 2;
    }
    throw error;
  }
  const email = values.email ?? 'demo@example.com';
  let password = (process.env.VIGIL_PASSWORD ?? (await readStdin())).trim();
  const generated = password === '';
  if (generated) password = randomBytes(12).toString('base64url');
  if (password.length < 10) {
    console.error('the password (VIGIL_PASSWORD or standard input) needs at least 10 characters');
    return 2;
  }
  const keysFile = path.resolve(values.keys ?? path.join(config.dataDir, DEVICES_FILE));

  // While a server runs on the bundled database, the data folder is its own: the demo goes into that
  // server's database instead. The demo takes no MQTT port either (the server has it).
  const runningServer = config.databaseUrl ? undefined : runningEmbeddedDatabaseUrl(config.dataDir, loadSecrets(config).embeddedDatabasePassword);
  if (runningServer) console.log(`a Vigil server is running on ${config.dataDir}: the demo goes into its database`);
  const runtime = await startRuntime(runningServer ? { ...config, databaseUrl: runningServer } : config, { logger, mqttBroker: false });
  try {
    let lastPrinted = 0;
    const demo = await createDemo(runtime.services, {
      ...options,
      email,
      password,
      organizationName: values.name,
      timezone: values.timezone,
      batchSize: Math.min(DEMO_LIMITS.batchSize, config.ingestMaxBatch),
      ffmpegPath: config.ffmpegPath,
      onProgress: (p) => {
        const now = Date.now();
        if (p.devicesDone === p.devicesTotal || now - lastPrinted > 2000) {
          lastPrinted = now;
          console.log(`history: ${p.devicesDone}/${p.devicesTotal} devices (${p.device}: ${p.stored} ${p.kind === 'speed_radar' ? 'events' : 'readings'})`);
        }
      },
    });
    writeDevicesFile(keysFile, demo);
    const radars = demo.devices.filter((d) => d.kind === 'speed_radar').length;
    const fridges = demo.devices.length - radars;
    console.log(`\ncreated "${demo.organization.name}" with ${demo.sites.length} sites, ${radars} speed radars, ${fridges} refrigeration units and ${demo.cameras.length} cameras`);
    if (demo.cameras.length > 0) {
      console.log(demo.camerasWithoutVideo === null
        ? 'cameras: each plays a placeholder video made by ffmpeg (open Cameras in the console)'
        : `cameras have no video: ${demo.camerasWithoutVideo}; install ffmpeg (Debian: apt-get install ffmpeg) and upload a video on a camera's page`);
    }
    if (demo.backfill.days > 0) {
      console.log(`history: ${demo.backfill.days} days, ${demo.backfill.events} events (${demo.backfill.photos} with photos), ${demo.backfill.readings} readings (${demo.backfill.values} values)` +
        (demo.backfill.rejected ? `, ${demo.backfill.rejected} rejected (first: ${demo.backfill.firstRejection})` : ''));
    }
    console.log(`sign in as ${demo.owner.email}${generated ? ` with the password ${password} (shown once)` : ''}` +
      `${demo.owner.isSuperadmin ? ' (the first user: platform administrator)' : ''}` +
      `${demo.platformAdministrators > 0 ? `, or as a platform administrator (${demo.platformAdministrators} added as owners)` : ''}`);
    console.log(`device keys written to ${keysFile} (keep it private); then run e.g.\n  vigil simulate --kind speed_radar --rate 20`);
  } finally {
    await runtime.close();
  }
  return 0;
}
