/**
 * The web console, measured on the production build (`npm run build`, what `npm start` serves):
 *  1. JavaScript shipped for the sign-in page and for the overview (its map chunks, loaded lazily),
 *     gzip bytes, read from Vite's build manifest (dist/web/.vite/manifest.json); target ≤ 300 KB;
 *  2. in headless Chromium (Debian's, through playwright-core), the overview of an organization with
 *     BENCH_WEB_DEVICES (1,000) located devices: time from navigation to the first map render (the
 *     page's `vigil:map-rendered` mark; target < 1 s), then BENCH_WEB_SECONDS (30) of live updates at
 *     BENCH_WEB_RATE (50) events/s sent through the device API (some from offline devices, so markers
 *     change status too): the longest main-thread task (PerformanceObserver `longtask`; target ≤ 200 ms).
 *     Baseline in the same run: the same page idle for 10 s, and the sign-in page's first render.
 * The server runs in this process (`startRuntime`) on a fresh database created on BENCH_WEB_DATABASE_URL
 * (postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end; the browser is its own process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import pino from 'pino';
import { chromium, type Page } from 'playwright-core';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime } from '../src/server/runtime.js';
import { makeTempDir, now, onCleanup, type Benchmark, type Reporter, ROOT, round, sleep } from './lib.js';

const DEVICES = Number(process.env.BENCH_WEB_DEVICES ?? 1000);
const SECONDS = Number(process.env.BENCH_WEB_SECONDS ?? 30);
const RATE = Number(process.env.BENCH_WEB_RATE ?? 50);
const ADMIN_URL = process.env.BENCH_WEB_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WEB_ROOT = path.join(ROOT, 'dist', 'web');

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

/** The files a chunk needs before it runs: itself, its static imports (recursively), their CSS. */
function closure(manifest: Record<string, ManifestChunk>, keys: string[], seen = new Set<string>()): Set<string> {
  for (const key of keys) {
    const chunk = manifest[key];
    if (!chunk || seen.has(chunk.file)) continue;
    seen.add(chunk.file);
    for (const css of chunk.css ?? []) seen.add(css);
    closure(manifest, chunk.imports ?? [], seen);
  }
  return seen;
}

function gzipBytes(files: Iterable<string>, ext: string): number {
  let total = 0;
  for (const file of files) if (file.endsWith(ext)) total += gzipSync(fs.readFileSync(path.join(WEB_ROOT, file)), { level: 9 }).length;
  return total;
}

function measureBundles(report: Reporter): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(WEB_ROOT, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const entry = Object.keys(manifest).find((key) => manifest[key]!.isEntry);
  if (!entry) throw new Error('no entry in the Vite manifest');
  const login = closure(manifest, [entry]);
  const mapChunk = Object.keys(manifest).find((key) => key.endsWith('components/map/DeviceMap.tsx'));
  if (!mapChunk) throw new Error('the overview map chunk (DeviceMap.tsx) is not in the manifest');
  const overview = closure(manifest, [mapChunk], new Set(login));
  const loginJs = gzipBytes(login, '.js');
  const overviewJs = gzipBytes(overview, '.js');
  report.add({ metric: 'sign-in page JS (gzip)', value: round(loginJs / 1024), unit: 'KB', note: `${[...login].filter((f) => f.endsWith('.js')).length} files` });
  report.add({ metric: 'sign-in + overview JS (gzip)', value: round(overviewJs / 1024), unit: 'KB', note: `map loaded lazily; target ≤ 300 KB: ${overviewJs <= 300 * 1024 ? 'met' : 'NOT met'}` });
  report.add({ metric: 'sign-in + overview CSS (gzip)', value: round(gzipBytes(overview, '.css') / 1024), unit: 'KB' });
  const everything = fs.readdirSync(path.join(WEB_ROOT, 'assets')).map((f) => `assets/${f}`);
  report.add({ metric: 'whole console JS (gzip)', value: round(gzipBytes(everything, '.js') / 1024), unit: 'KB', note: 'every route and chunk' });
}

async function freshDatabase(): Promise<string> {
  const name = `vigil_bench_web_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  onCleanup(`drop ${name}`, async () => {
    const dropper = new pg.Client({ connectionString: ADMIN_URL });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Collects long tasks from the first script on, into window.__longTasks. */
const LONG_TASK_PROBE = `
  window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: true });
`;

async function longTasks(page: Page, reset = false): Promise<number[]> {
  return page.evaluate((clear) => {
    const w = window as unknown as { __longTasks: number[] };
    const tasks = [...w.__longTasks];
    if (clear) w.__longTasks = [];
    return tasks;
  }, reset);
}

function describeTasks(tasks: number[]): string {
  return `${tasks.length} long tasks (> 50 ms), ${tasks.filter((t) => t > 200).length} over 200 ms`;
}

async function measureOverview(report: Reporter): Promise<void> {
  const dataDir = makeTempDir('vigil-bench-web-');
  const config = testConfig({ databaseUrl: await freshDatabase(), dataDir, logLevel: 'silent', mapTiles: { url: 'https://tiles.invalid/{z}/{x}/{y}.png', attribution: 'none' } });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), jobs: false });
  onCleanup('vigil runtime', () => runtime.close());
  const actor = { userId: null, label: 'bench', ip: null, userAgent: null };
  const email = 'bench-owner@example.com';
  const password = 'bench password 123';
  await runtime.services.setup.createUserWithOrganization({ email, name: 'Bench Owner', password, organizationName: 'Bench City' }, actor);
  const login = await runtime.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  const session = login.cookies.find((c) => c.name === 'vigil_session');
  if (!session) throw new Error(`sign-in failed: ${login.body}`);
  const headers = { cookie: `vigil_session=${session.value}`, 'x-csrf-token': login.json().csrfToken as string };

  // The fleet: DEVICES radars over a city, 80% having reported (online), the rest never (offline).
  const started = now();
  const keys: string[] = [];
  for (let i = 0; i < DEVICES; i += 1) {
    const lat = 40.70 + (i % 40) * 0.004 + Math.random() * 0.002;
    const lon = -74.02 + Math.floor(i / 40) * 0.004 + Math.random() * 0.002;
    const created = await runtime.app.inject({
      method: 'POST', url: '/api/v1/devices', headers,
      payload: { kind: 'speed_radar', name: `Radar ${i + 1}`, serial: `B-${i + 1}`, lat, lon, speedLimit: 30, speedUnits: 'mph' },
    });
    if (created.statusCode !== 201) throw new Error(`device registration failed: ${created.body}`);
    keys.push(created.json().apiKey as string);
  }
  const send = async (key: string, speed: number) => {
    const answer = await runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key },
      payload: { events: [{ ts: new Date().toISOString(), kind: 'speed', speed }] },
    });
    if (answer.statusCode !== 200) throw new Error(`ingest failed: ${answer.statusCode} ${answer.body}`);
  };
  for (let i = 0; i < DEVICES * 0.8; i += 1) await send(keys[i]!, 20 + (i % 25));
  report.log(`seeded ${DEVICES} devices in ${round((now() - started) / 1000)} s`);

  // The server's share of the overview: the fleet in one page, measured without a browser.
  const listTimes: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const t = now();
    const list = await runtime.app.inject({ method: 'GET', url: `/api/v1/devices?limit=${Math.min(DEVICES, 1000)}`, headers });
    if (list.statusCode !== 200) throw new Error(`device list failed: ${list.body}`);
    listTimes.push(now() - t);
  }
  listTimes.sort((a, b) => a - b);
  report.add({ metric: `GET /api/v1/devices?limit=${Math.min(DEVICES, 1000)} in the server`, value: round(listTimes[2]!), unit: 'ms', note: 'median of 5, no browser' });

  const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  onCleanup('chromium', () => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('https://tiles.invalid/**', (route) => route.abort());
  await context.addInitScript(LONG_TASK_PROBE);

  // Baseline: the sign-in page, without a session.
  const anonymous = await context.newPage();
  const signInStart = now();
  await anonymous.goto(`${url}/login`);
  await anonymous.getByRole('button', { name: 'Sign in' }).waitFor();
  const signInMs = now() - signInStart;
  await anonymous.close();

  await context.addCookies([{ name: 'vigil_session', value: session.value, url }]);
  const page = await context.newPage();
  await page.goto(`${url}/dashboard`);
  await page.waitForFunction(() => performance.getEntriesByName('vigil:map-rendered').length > 0, null, { timeout: 60_000 });
  const firstMap = await page.evaluate(() => performance.getEntriesByName('vigil:map-rendered')[0]!.startTime);
  const markers = Number(await page.locator('.map-canvas').getAttribute('data-markers'));
  // Where the time went: when the session, each page of devices and the map's code arrived.
  const timeline = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => /auth\/me|\/api\/v1\/devices\?|console\/config|DeviceMap|leaflet|index-/.test(e.name))
    .map((e) => `${new URL(e.name).pathname.replace(/^.*\//, '')} ${Math.round(e.startTime)}–${Math.round((e as PerformanceResourceTiming).responseEnd)}`));
  report.log(`overview timeline (ms from navigation): ${timeline.join(', ')}`);
  report.add({ metric: 'sign-in page rendered (baseline)', value: round(signInMs), unit: 'ms', note: 'navigation to the form, incl. network' });
  report.add({ metric: `overview: first map render, ${DEVICES} devices`, value: round(firstMap), unit: 'ms', note: `${markers} markers; × ${round(firstMap / signInMs, 2)} the sign-in page; target < 1,000 ms: ${firstMap < 1000 ? 'met' : 'NOT met'}` });
  const loading = await longTasks(page, true);
  report.add({ metric: 'longest task while loading', value: round(Math.max(0, ...loading)), unit: 'ms', note: describeTasks(loading) });

  await sleep(10_000);
  const idle = await longTasks(page, true);
  const idleMax = Math.max(0, ...idle);
  report.add({ metric: 'longest task, overview idle 10 s (baseline)', value: round(idleMax), unit: 'ms', note: describeTasks(idle) });

  // Live: RATE events/s in ticks of 100 ms, from random devices (a fifth of them offline until they report).
  const tickMs = 100;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  const liveStart = now();
  let sent = 0;
  while (now() - liveStart < SECONDS * 1000) {
    const tick = now();
    await Promise.all(Array.from({ length: perTick }, () => send(keys[Math.floor(Math.random() * keys.length)]!, 15 + Math.random() * 30)));
    sent += perTick;
    await sleep(Math.max(0, tickMs - (now() - tick)));
  }
  const liveSeconds = (now() - liveStart) / 1000;
  const live = await longTasks(page);
  const liveMax = Math.max(0, ...live);
  const online = await page.getByRole('link', { name: /Devices online/ }).innerText();
  report.add({ metric: 'events sent while watching', value: round(sent / liveSeconds), unit: 'events/s', note: `${sent} over ${round(liveSeconds)} s` });
  report.add({ metric: `longest task, ${SECONDS} s of live updates`, value: round(liveMax), unit: 'ms', note: `${describeTasks(live)}; target ≤ 200 ms: ${liveMax <= 200 ? 'met' : 'NOT met'}` });
  report.add({ metric: 'online devices shown at the end', value: Number(online.split(/\s/)[0]!.replace(/,/g, '')), note: `of ${DEVICES}; ${Math.round(DEVICES * 0.8)} before the live run` });
  await browser.close();
}

export const web: Benchmark = {
  name: 'web',
  description: 'console JS size (gzip) and the overview map with 1,000 devices under 50 events/s in headless Chromium',
  needsBuild: true,
  async run(report) {
    measureBundles(report);
    await measureOverview(report);
  },
};
