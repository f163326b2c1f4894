/**
 * Soak: SOAK_MINUTES (60) of steady mixed load on the built server (`node bin/vigil.js serve`, what `npm start`
 * runs) with its bundled PostgreSQL and embedded MQTT broker, to see whether memory, errors or latency drift:
 *  - HTTP ingest: SOAK_RADARS (10) radars post a batch of 10 native events and SOAK_FRIDGES (10) refrigeration
 *    units a batch of 5 telemetry readings, each every 2 s;
 *  - MQTT ingest: each refrigeration unit also publishes one reading a second, QoS 1, on its own connection;
 *  - dashboard reads by a signed-in owner, SOAK_READS_PER_SECOND (4): device and event lists, device and event
 *    summaries, traffic statistics, telemetry charts, latest values, alerts;
 *  - SOAK_SSE_CLIENTS (5) live-stream clients reading everything (reconnecting if dropped);
 *  - a speed-study report (PDF + CSVs) requested every SOAK_REPORT_SECONDS (120) and followed until done.
 * Each request is paced (the load is a fixed rate, not as fast as possible). Per SOAK_WINDOW_SECONDS (300) it prints
 * requests, p50/p99 latency, 5xx, MQTT PUBACKs, SSE messages, the Vigil process's RSS (from /proc) and the machine's
 * load average; at the end RSS growth from the end of warm-up (SOAK_WARMUP_MINUTES, 10) to the end, total 5xx, and
 * p99 of the first window after warm-up against the last. It only prints: no thresholds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { type Benchmark, envInt, freePort, makeTempDir, memoryOf, now, type Reporter, round, sleep, tryFetch, watchPostgresOf, withDescendants } from './lib.js';
import { createDevice, type Device, type SignedIn, setUpAndSignIn, startVigil, stopVigil, type Vigil, waitReady } from './vigil.js';

function settings() {
  const minutes = envInt('SOAK_MINUTES', 60, 1, 24 * 60);
  return {
    minutes,
    warmupMinutes: envInt('SOAK_WARMUP_MINUTES', Math.min(10, Math.floor(minutes / 3)), 0, minutes - 1),
    windowSeconds: envInt('SOAK_WINDOW_SECONDS', 300, 10, 3600),
    radars: envInt('SOAK_RADARS', 10, 1, 200),
    fridges: envInt('SOAK_FRIDGES', 10, 1, 200),
    readsPerSecond: envInt('SOAK_READS_PER_SECOND', 4, 1, 100),
    sseClients: envInt('SOAK_SSE_CLIENTS', 5, 0, 100),
    reportSeconds: envInt('SOAK_REPORT_SECONDS', 120, 10, 3600),
  };
}
type Settings = ReturnType<typeof settings>;

const EVENTS_PER_BATCH = 10;
const READINGS_PER_BATCH = 5;
const INGEST_PERIOD_MS = 2000;
const MQTT_PERIOD_MS = 1000;
const RSS_SAMPLE_MS = 10_000;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

/** What one window of the run saw. */
class Window {
  readonly http: number[] = [];
  readonly mqtt: number[] = [];
  serverErrors = 0;
  clientErrors = 0;
  noAnswer = 0;
  mqttFailed = 0;
  sseMessages = 0;
  readonly examples: string[] = [];
  rssMb = 0;
  pgPssMb = 0;
  load = 0;
}

class Recorder {
  readonly windows: Window[] = [new Window()];
  readonly clientErrorsBy = new Map<string, number>();
  get current(): Window {
    return this.windows.at(-1)!;
  }

  http(what: string, status: number | undefined, ms: number, body?: string): void {
    const w = this.current;
    if (status === undefined) {
      w.noAnswer += 1;
      return;
    }
    w.http.push(ms);
    if (status >= 500) {
      w.serverErrors += 1;
      if (w.examples.length < 5) w.examples.push(`${what}: ${status} ${body?.slice(0, 200) ?? ''}`);
    } else if (status >= 400) {
      w.clientErrors += 1;
      const key = `${what} ${status}`;
      this.clientErrorsBy.set(key, (this.clientErrorsBy.get(key) ?? 0) + 1);
    }
  }
}

/** One timed HTTP request; 5xx bodies are kept as examples. Answers the response's JSON for 2xx, else undefined. */
async function call(rec: Recorder, vigil: Vigil, what: string, url: string, init: RequestInit = {}): Promise<unknown> {
  const started = now();
  const response = await tryFetch(`${vigil.base}${url}`, init, 60_000);
  const text = response ? await response.text().catch(() => '') : undefined;
  rec.http(what, response?.status, now() - started, text);
  if (!response || response.status >= 300) return undefined;
  try {
    return JSON.parse(text!) as unknown;
  } catch {
    return undefined;
  }
}

/** Runs `work` every `periodMs` (or straight away again when it took longer) until `until`. */
async function paced(until: number, periodMs: number, work: (tick: number) => Promise<void>, offsetMs = 0): Promise<void> {
  await sleep(offsetMs);
  for (let tick = 0; now() < until; tick++) {
    const started = now();
    await work(tick);
    await sleep(Math.max(0, periodMs - (now() - started)));
  }
}

function ingestLoad(rec: Recorder, vigil: Vigil, radars: Device[], fridges: Device[], until: number): Promise<void>[] {
  let serial = 0;
  const post = (device: Device, url: string, body: unknown) => call(rec, vigil, `POST ${url}`, url, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': device.apiKey }, body: JSON.stringify(body),
  });
  const stagger = (i: number, n: number) => (INGEST_PERIOD_MS * i) / n;
  return [
    ...radars.map((radar, i) => paced(until, INGEST_PERIOD_MS, async () => {
      const ts = Date.now();
      const events = Array.from({ length: EVENTS_PER_BATCH }, (_, j) => ({
        client_ref: `soak-${serial++}`, ts: new Date(ts - j).toISOString(), kind: 'speed', speed: 15 + ((serial * 7) % 40), speed_limit: 30,
      }));
      await post(radar, '/api/v1/ingest/events', { events });
    }, stagger(i, radars.length))),
    ...fridges.map((fridge, i) => paced(until, INGEST_PERIOD_MS, async (tick) => {
      const ts = Date.now();
      const items = Array.from({ length: READINGS_PER_BATCH }, (_, j) => ({
        ts: new Date(ts - 500 - j).toISOString(), values: { temperature: 3 + ((tick + j) % 60) / 10, compressor: (tick + j) % 3 === 0, door: j === 0 && tick % 30 === 0 },
      }));
      await post(fridge, '/api/v1/ingest/telemetry', { items });
    }, stagger(i, fridges.length))),
  ];
}

async function mqttLoad(rec: Recorder, port: number, fridges: Device[], until: number): Promise<{ clients: mqtt.MqttClient[]; running: Promise<void>[] }> {
  const clients = await Promise.all(fridges.map((fridge) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: fridge.apiKey, clientId: `soak-${fridge.ref.deviceId}`, reconnectPeriod: 1000 })));
  const running = clients.map((client, i) => paced(until, MQTT_PERIOD_MS, async (tick) => {
    const started = now();
    const payload = JSON.stringify({ ts: Date.now(), values: { temperature: 4 + (tick % 40) / 10, pressure: 120 + (tick % 7) } });
    try {
      await Promise.race([client.publishAsync('v1/devices/me/telemetry', payload, { qos: 1 }), sleep(30_000).then(() => Promise.reject(new Error('no PUBACK in 30 s')))]);
      rec.current.mqtt.push(now() - started);
    } catch {
      rec.current.mqttFailed += 1;
    }
  }, (MQTT_PERIOD_MS * i) / clients.length));
  return { clients, running };
}

function readLoad(rec: Recorder, vigil: Vigil, user: SignedIn, s: Settings, radars: Device[], fridges: Device[], until: number): Promise<void> {
  const headers = { cookie: user.cookie };
  const ago = (minutes: number) => encodeURIComponent(new Date(Date.now() - minutes * 60_000).toISOString());
  const pick = <T>(items: T[], tick: number) => items[tick % items.length]!;
  // What the console's overview, device, events and statistics pages ask for, with bounded ranges so the work per
  // request stays the same from the first window after warm-up to the last.
  const reads: [string, (tick: number) => string][] = [
    ['device list', () => '/api/v1/devices?limit=50'],
    ['device summary', () => '/api/v1/devices/summary'],
    ['event page', () => '/api/v1/events?limit=50'],
    ['event page of a radar', (t) => `/api/v1/events?limit=50&deviceId=${pick(radars, t).ref.deviceId}`],
    ['event summary', () => `/api/v1/events/summary?from=${ago(24 * 60)}`],
    ['traffic statistics', (t) => `/api/v1/traffic/statistics?deviceId=${pick(radars, t).ref.deviceId}&from=${ago(24 * 60)}`],
    ['telemetry chart', (t) => `/api/v1/devices/${pick(fridges, t).ref.deviceId}/telemetry?bucket=1m&from=${ago(15)}`],
    ['latest values', (t) => `/api/v1/devices/${pick(fridges, t).ref.deviceId}/telemetry/latest`],
    ['alerts', () => '/api/v1/alerts?limit=50'],
  ];
  return paced(until, 1000 / s.readsPerSecond, async (tick) => {
    const [what, url] = reads[tick % reads.length]!;
    await call(rec, vigil, what, url(Math.floor(tick / reads.length)), { headers });
  });
}

/** A live-stream client counting messages; a dropped stream is counted and reopened. */
async function sseClient(rec: Recorder, vigil: Vigil, user: SignedIn, until: number, drops: { count: number }): Promise<void> {
  while (now() < until) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(0, until - now()));
    try {
      const response = await fetch(`${vigil.base}/api/v1/stream`, { headers: { cookie: user.cookie, accept: 'text/event-stream' }, signal: controller.signal });
      if (response.status !== 200 || !response.body) {
        rec.http('live stream', response.status, 0, await response.text());
      } else {
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          rec.current.sseMessages += decoder.decode(chunk as Uint8Array, { stream: true }).split('\n\n').length - 1;
        }
      }
      if (now() < until) drops.count += 1;
    } catch {
      if (now() < until) drops.count += 1;
    } finally {
      clearTimeout(timer);
    }
    if (now() < until) await sleep(1000);
  }
}

/** Requests a speed study of the first radar from the start of the run to now and follows it until done. */
async function reportLoad(rec: Recorder, vigil: Vigil, user: SignedIn, s: Settings, radar: Device, until: number, outcome: { done: number; failed: number; ms: number[] }) {
  const from = new Date().toISOString();
  const headers = { cookie: user.cookie, 'x-csrf-token': user.csrfToken, 'content-type': 'application/json' };
  await paced(until, s.reportSeconds * 1000, async () => {
    const started = now();
    const created = await call(rec, vigil, 'request report', '/api/v1/reports', {
      method: 'POST', headers, body: JSON.stringify({ kind: 'speed_study', deviceId: radar.ref.deviceId, from, to: new Date().toISOString() }),
    }) as { id: string } | undefined;
    if (!created) return;
    while (now() < until + 60_000) {
      await sleep(2000);
      const report = await call(rec, vigil, 'report status', `/api/v1/reports/${created.id}`, { headers: { cookie: user.cookie } }) as { status: string } | undefined;
      if (report?.status === 'done' || report?.status === 'failed') {
        outcome[report.status] += 1;
        if (report.status === 'done') outcome.ms.push(now() - started);
        return;
      }
    }
  }, 30_000);
}

function closeWindow(w: Window, vigil: Vigil): void {
  const tree = withDescendants([vigil.child.pid]).filter((pid) => pid !== vigil.child.pid);
  w.rssMb = memoryOf([vigil.child.pid]).rssMb;
  w.pgPssMb = memoryOf(tree).pssMb;
  w.load = os.loadavg()[1]!;
}

function describeWindow(w: Window, index: number, s: Settings): string {
  const http = [...w.http].sort((a, b) => a - b);
  const mqttMs = [...w.mqtt].sort((a, b) => a - b);
  const minutes = round(((index + 1) * s.windowSeconds) / 60, 1);
  return `window ${index + 1} (to ${minutes} min): ${http.length.toLocaleString('en-US')} requests, p50 ${round(percentile(http, 50))} ms, p99 ${round(percentile(http, 99))} ms, `
    + `5xx ${w.serverErrors}, 4xx ${w.clientErrors}, no answer ${w.noAnswer}; MQTT ${w.mqtt.length.toLocaleString('en-US')} PUBACKs (p99 ${round(percentile(mqttMs, 99))} ms, ${w.mqttFailed} failed); `
    + `SSE ${w.sseMessages.toLocaleString('en-US')} messages; Vigil RSS ${round(w.rssMb, 0)} MB, PostgreSQL PSS ${round(w.pgPssMb, 0)} MB; load avg (5 min) ${round(w.load, 2)}`;
}

async function soak(report: Reporter, s: Settings): Promise<void> {
  const tmp = makeTempDir('vigil-bench-soak-');
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir, { mode: 0o755 });
  watchPostgresOf(dataDir);
  const [port, mqttPort] = [await freePort(), await freePort()];
  const vigil = startVigil('vigil (soak)', dataDir, port, { logLevel: 'warn', env: { MQTT_PORT: String(mqttPort) } });
  let clients: mqtt.MqttClient[] = [];
  try {
    await waitReady(vigil, now());
    const user = await setUpAndSignIn(vigil);
    const radars: Device[] = [];
    const fridges: Device[] = [];
    for (let i = 0; i < s.radars; i++) radars.push(await createDevice(vigil, user, { kind: 'speed_radar', name: `Soak radar ${i + 1}`, serial: `SOAK-R${i + 1}`, speedLimit: 30 }));
    for (let i = 0; i < s.fridges; i++) fridges.push(await createDevice(vigil, user, { kind: 'refrigeration', name: `Soak fridge ${i + 1}`, serial: `SOAK-F${i + 1}` }));
    report.log(`${s.radars} radars and ${s.fridges} refrigeration units; ${s.minutes} min, windows of ${s.windowSeconds} s, warm-up ${s.warmupMinutes} min`);

    const rec = new Recorder();
    const began = now();
    const until = began + s.minutes * 60_000;
    const drops = { count: 0 };
    const reports = { done: 0, failed: 0, ms: [] as number[] };
    const mqttRun = await mqttLoad(rec, mqttPort, fridges, until);
    clients = mqttRun.clients;
    const work = [
      ...ingestLoad(rec, vigil, radars, fridges, until),
      ...mqttRun.running,
      readLoad(rec, vigil, user, s, radars, fridges, until),
      ...Array.from({ length: s.sseClients }, () => sseClient(rec, vigil, user, until, drops)),
      reportLoad(rec, vigil, user, s, radars[0]!, until, reports),
    ];

    // RSS at the end of warm-up is the baseline; windows close on the clock while the load runs.
    let warmRss = NaN;
    let maxRss = 0;
    const sampler = (async () => {
      let nextWindow = began + s.windowSeconds * 1000;
      while (now() < until) {
        await sleep(Math.min(RSS_SAMPLE_MS, Math.max(0, nextWindow - now()), Math.max(0, until - now())));
        const rss = memoryOf([vigil.child.pid]).rssMb;
        maxRss = Math.max(maxRss, rss);
        if (Number.isNaN(warmRss) && now() - began >= s.warmupMinutes * 60_000) warmRss = rss;
        // The last window closes once every request still in flight has finished (below).
        if (now() >= nextWindow - 50 && nextWindow < until - 1000) {
          const w = rec.current;
          closeWindow(w, vigil);
          report.log(describeWindow(w, rec.windows.length - 1, s));
          for (const example of w.examples) report.problem(`5xx: ${example}`);
          rec.windows.push(new Window());
          nextWindow += s.windowSeconds * 1000;
        }
        if (vigil.child.exited) throw new Error(`Vigil exited during the soak (${JSON.stringify(vigil.child.exited)})`);
      }
    })();
    await Promise.all([sampler, ...work]);
    closeWindow(rec.current, vigil);
    report.log(describeWindow(rec.current, rec.windows.length - 1, s));
    for (const example of rec.current.examples) report.problem(`5xx: ${example}`);

    summarize(report, s, rec, { warmRss, maxRss, drops: drops.count, reports });
  } finally {
    for (const client of clients) client.end(true);
    await stopVigil(vigil, report, 'soak');
  }
}

function summarize(report: Reporter, s: Settings, rec: Recorder, seen: { warmRss: number; maxRss: number; drops: number; reports: { done: number; failed: number; ms: number[] } }): void {
  const windows = rec.windows;
  windows.forEach((w, i) => {
    const http = [...w.http].sort((a, b) => a - b);
    report.add({
      metric: `window ${i + 1}: requests / p50 / p99 / 5xx / RSS`,
      value: `${http.length} / ${round(percentile(http, 50))} / ${round(percentile(http, 99))} / ${w.serverErrors} / ${round(w.rssMb, 0)}`,
      unit: 'n / ms / ms / n / MB',
      note: `MQTT ${w.mqtt.length} PUBACKs, SSE ${w.sseMessages} messages, load avg ${round(w.load, 2)}`,
    });
  });
  const endRss = windows.at(-1)!.rssMb;
  const growth = ((endRss - seen.warmRss) / seen.warmRss) * 100;
  report.add({ metric: `Vigil RSS after warm-up (${s.warmupMinutes} min) → end`, value: `${round(seen.warmRss, 0)} → ${round(endRss, 0)}`, unit: 'MB', note: `${growth >= 0 ? '+' : ''}${round(growth, 1)}% (aim < 10%); highest sample ${round(seen.maxRss, 0)} MB` });
  const total = (f: (w: Window) => number) => windows.reduce((sum, w) => sum + f(w), 0);
  report.add({ metric: 'HTTP requests / 5xx / no answer', value: `${total((w) => w.http.length)} / ${total((w) => w.serverErrors)} / ${total((w) => w.noAnswer)}`, note: '5xx aim 0' });
  const firstAfterWarmup = windows[Math.min(windows.length - 1, Math.ceil((s.warmupMinutes * 60) / s.windowSeconds))]!;
  const p99 = (w: Window) => round(percentile([...w.http].sort((a, b) => a - b), 99));
  report.add({ metric: 'HTTP p99, first window after warm-up → last', value: `${p99(firstAfterWarmup)} → ${p99(windows.at(-1)!)}`, unit: 'ms', note: 'aim: stable' });
  report.add({ metric: 'MQTT messages acknowledged / failed', value: `${total((w) => w.mqtt.length)} / ${total((w) => w.mqttFailed)}` });
  report.add({ metric: 'SSE messages received / streams dropped', value: `${total((w) => w.sseMessages)} / ${seen.drops}`, note: `${s.sseClients} clients` });
  const reportMs = [...seen.reports.ms].sort((a, b) => a - b);
  report.add({ metric: 'reports done / failed, time to done p50', value: `${seen.reports.done} / ${seen.reports.failed} / ${round(percentile(reportMs, 50) / 1000, 1)}`, unit: 'n / n / s' });
  const clientErrors = [...rec.clientErrorsBy].map(([what, n]) => `${what} ×${n}`).join(', ');
  if (clientErrors) report.problem(`4xx answers (the load should cause none): ${clientErrors}`);
  if (seen.reports.failed > 0) report.problem(`${seen.reports.failed} reports failed`);
}

export const soakBench: Benchmark = {
  name: 'soak',
  description: 'an hour (SOAK_MINUTES) of mixed ingest, reads, live streams and reports: RSS, 5xx and p99 per 5-minute window',
  needsBuild: true,
  async run(report) {
    await soak(report, settings());
  },
};
