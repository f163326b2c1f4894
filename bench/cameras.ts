/**
 * Cameras, measured on a Vigil server (run from its sources, bundled PostgreSQL) decoding RTSP streams from
 * loopback (see camera-sources.ts), every camera at 1 fps and the default 640 px frames:
 *  a. decode cost of one camera at 720p and at 1080p (its ffmpeg child plus what the Vigil process spends over
 *     its idle rate), against ffmpeg alone doing the same (same input, filters and JPEG encoding, written to
 *     /dev/null), run at the same time so both see the same machine;
 *  b. 4, 8 and 16 cameras at 720p: CPU in all, per camera, and whether each keeps its 1 frame a second;
 *  c. MJPEG fan-out: the Vigil process with 50 viewers of one camera against 1 viewer;
 *  d. reconnection: the camera's server goes away and comes back; time from the attempt after the backoff
 *     (the ffmpeg that connects, by its start time in /proc) to `online`, and from the server's return.
 * CPU is read from /proc (user + system time) and given as % of one core.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { rtspArgs } from '../src/server/cameras/decoder/ffmpeg-args.js';
import { makeCameraClip, serveClip, SOURCE_FPS, SOURCE_GOP_SECONDS, SwitchableProxy } from './camera-sources.js';
import {
  type Benchmark, cpuSpent, cpuTimes, freePort, makeTempDir, now, pollUntil, processes, type Reporter, round, sleep,
  startChild, stopChild, tryFetch, watchPostgresOf,
} from './lib.js';
import { api, createDevice, exitReason, setUpAndSignIn, type SignedIn, startVigil, stopVigil, type Vigil, waitReady } from './vigil.js';

const WINDOW_MS = 12_000;
const SETTLE_MS = 3000;
const FAN_OUT = 50;
const COUNTS = [4, 8, 16];
const RECONNECT_RUNS = 6;
const FPS = 1;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const load = () => os.loadavg().map((l) => round(l, 1)).join(' / ');
const pct = (cpuMs: number, ms: number) => round((cpuMs / ms) * 100, 1);

interface Cameras {
  vigil: Vigil;
  user: SignedIn;
}

async function call(c: Cameras, method: string, url: string, body?: unknown) {
  const response = await api(c.vigil, method, url, body, { cookie: c.user.cookie, 'x-csrf-token': c.user.csrfToken });
  if (response.status >= 300) throw new Error(`${method} ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { status: string; statusChangedAt: string; id: string };
}

async function addCamera(c: Cameras, name: string, rtspUrl: string): Promise<string> {
  const device = await createDevice(c.vigil, c.user, { kind: 'camera', name, serial: `bench-${name.replace(/\W+/g, '-')}-${Date.now()}` });
  await call(c, 'PATCH', `/api/v1/cameras/${device.ref.deviceId}`, { rtspUrl, rtspTransport: 'tcp', targetFps: FPS });
  return device.ref.deviceId;
}

async function waitStatus(c: Cameras, id: string, wanted: (status: string) => boolean, deadlineMs = 60_000) {
  return pollUntil(`camera ${id} status`, async () => {
    const camera = await call(c, 'GET', `/api/v1/cameras/${id}`);
    return wanted(camera.status) ? camera : undefined;
  }, { deadlineMs, intervalMs: 50, abort: exitReason(c.vigil.child) });
}

/** Vigil's ffmpeg children, with the address each reads. */
function decoders(vigil: Vigil) {
  return processes().filter((p) => p.ppid === vigil.child.pid && /ffmpeg/.test(p.args));
}

/** CPU milliseconds of each group of processes over `ms` (groups listed at the start and the end). */
async function cpuWindow(ms: number, groups: Record<string, () => number[]>) {
  const pidsOf = () => Object.fromEntries(Object.entries(groups).map(([name, list]) => [name, list()]));
  const startPids = pidsOf();
  const before = Object.fromEntries(Object.entries(startPids).map(([name, pids]) => [name, cpuTimes(pids)]));
  await sleep(ms);
  const endPids = pidsOf();
  const spent: Record<string, number> = {};
  for (const name of Object.keys(groups)) {
    const after = cpuTimes([...new Set([...startPids[name]!, ...endPids[name]!])]);
    const t = cpuSpent(before[name]!, after);
    spent[name] = t.user + t.system;
  }
  return spent;
}

/** `vigil_camera_frames_total` per camera, from /metrics. */
async function framesTotal(vigil: Vigil): Promise<Map<string, number>> {
  const text = await (await tryFetch(`${vigil.base}/metrics`, {}, 10_000))?.text();
  const frames = new Map<string, number>();
  for (const match of (text ?? '').matchAll(/^vigil_camera_frames_total\{camera="([^"]+)"\} (\d+)/gm)) frames.set(match[1]!, Number(match[2]));
  return frames;
}

/** Process start of `pid` as epoch ms, from /proc/<pid>/stat (10 ms resolution). */
function startedAt(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const uptimeS = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Date.now() - (uptimeS - startTicks / CLOCK_TICKS) * 1000;
  } catch {
    return undefined;
  }
}

/** A viewer of an MJPEG stream that counts the parts it receives. */
function openViewer(c: Cameras, id: string): Promise<{ parts: () => number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${c.vigil.base}/api/v1/cameras/${id}/stream`, { headers: { cookie: c.user.cookie } }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`stream answered ${response.statusCode}`));
      let parts = 0;
      response.on('data', (chunk: Buffer) => {
        for (let at = chunk.indexOf('image/jpeg'); at >= 0; at = chunk.indexOf('image/jpeg', at + 1)) parts += 1;
      });
      response.on('error', () => undefined);
      resolve({ parts: () => parts, close: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

let nodeIdleRate = 0;

/** a. One camera against ffmpeg alone on the same stream, at the same time. */
async function decodeCost(report: Reporter, c: Cameras, id: string, label: string, url: string): Promise<void> {
  await call(c, 'PATCH', `/api/v1/cameras/${id}`, { rtspUrl: url });
  await waitStatus(c, id, (s) => s === 'online');
  const args = rtspArgs(url, 'tcp', { size: 640, fps: FPS });
  args.splice(args.length - 1, 1, '-y', '/dev/null');
  const alone = startChild(`ffmpeg alone ${label}`, 'ffmpeg', args);
  await sleep(SETTLE_MS);
  const cpu = await cpuWindow(WINDOW_MS, {
    decoder: () => decoders(c.vigil).map((p) => p.pid),
    node: () => [c.vigil.child.pid],
    alone: () => [alone.pid],
  });
  await stopChild(alone, 'SIGTERM', 5000);
  if (alone.exited?.code && alone.exited.code !== 255) report.problem(`ffmpeg alone (${label}) exited with ${alone.exited.code}: ${alone.stderr.slice(-500)}`);
  const nodeDelta = Math.max(0, cpu.node! - nodeIdleRate * WINDOW_MS);
  const vigilCost = cpu.decoder! + nodeDelta;
  report.add({ metric: `${label} source, 1 camera: Vigil (ffmpeg child + node over idle)`, value: pct(vigilCost, WINDOW_MS), unit: '% core', note: `ffmpeg ${pct(cpu.decoder!, WINDOW_MS)} + node ${pct(nodeDelta, WINDOW_MS)}; load ${load()}` });
  report.add({ metric: `${label} source: ffmpeg alone to /dev/null, same settings`, value: pct(cpu.alone!, WINDOW_MS), unit: '% core' });
  report.add({ metric: `${label} source: ratio Vigil ÷ ffmpeg alone`, value: round(vigilCost / Math.max(1, cpu.alone!), 2), note: `target ≤ 1.3: ${vigilCost / Math.max(1, cpu.alone!) <= 1.3 ? 'met' : 'missed'}` });
}

/** c. 50 viewers against 1 of one camera: the Vigil process's CPU. */
async function fanOut(report: Reporter, c: Cameras, id: string): Promise<void> {
  const viewers = [await openViewer(c, id)];
  await sleep(SETTLE_MS);
  const one = await cpuWindow(WINDOW_MS, { node: () => [c.vigil.child.pid] });
  for (let i = 1; i < FAN_OUT; i++) viewers.push(await openViewer(c, id));
  await sleep(SETTLE_MS);
  const partsBefore = viewers.map((v) => v.parts());
  const many = await cpuWindow(WINDOW_MS, { node: () => [c.vigil.child.pid] });
  const received = viewers.map((v, i) => v.parts() - partsBefore[i]!);
  for (const v of viewers) v.close();
  const extra = pct(many.node! - one.node!, WINDOW_MS);
  report.add({ metric: 'MJPEG, 1 viewer: Vigil node process', value: pct(one.node!, WINDOW_MS), unit: '% core', note: `load ${load()}` });
  report.add({ metric: `MJPEG, ${FAN_OUT} viewers: Vigil node process`, value: pct(many.node!, WINDOW_MS), unit: '% core', note: `frames per viewer in ${WINDOW_MS / 1000} s: ${Math.min(...received)}–${Math.max(...received)}` });
  report.add({ metric: `MJPEG: ${FAN_OUT} viewers − 1 viewer`, value: extra, unit: '% core', note: `target < 10: ${extra < 10 ? 'met' : 'missed'}` });
}

/** d. The camera's server goes away and comes back; the camera restarts first so each run starts from a 1 s backoff. */
async function reconnects(report: Reporter, c: Cameras, proxy: SwitchableProxy): Promise<void> {
  const id = await addCamera(c, 'reconnecting camera', proxy.url('reconnect'));
  await waitStatus(c, id, (s) => s === 'online');
  const fromAttempt: number[] = [];
  const fromReturn: number[] = [];
  for (let run = 0; run < RECONNECT_RUNS; run++) {
    await proxy.down();
    await waitStatus(c, id, (s) => s === 'error');
    await call(c, 'PATCH', `/api/v1/cameras/${id}`, { zone: `run ${run}` }); // a restart: failures start from 0
    await waitStatus(c, id, (s) => s === 'error');
    await sleep(300 + Math.random() * 2000);
    await proxy.up();
    const backAt = Date.now();
    const online = await waitStatus(c, id, (s) => s === 'online', 30_000);
    const onlineAt = Date.parse(online.statusChangedAt);
    const attempt = decoders(c.vigil).filter((p) => p.args.includes(`:${proxy.port}/`)).map((p) => startedAt(p.pid)).find((t) => t !== undefined);
    fromReturn.push(onlineAt - backAt);
    if (attempt !== undefined) fromAttempt.push(onlineAt - attempt);
  }
  const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.95) - 1)] ?? NaN;
  const attemptP95 = p95(fromAttempt);
  report.add({ metric: 'Reconnect: attempt after the backoff → online, p95', value: round(attemptP95 / 1000, 2), unit: 's', note: `${fromAttempt.length} runs: ${fromAttempt.map((v) => round(v / 1000, 2)).join(', ')}; target < 5: ${attemptP95 < 5000 ? 'met' : 'missed'}` });
  report.add({ metric: 'Reconnect: server back → online (incl. the rest of the backoff), p95', value: round(p95(fromReturn) / 1000, 2), unit: 's', note: `${fromReturn.map((v) => round(v / 1000, 2)).join(', ')}; key frame every ${SOURCE_GOP_SECONDS} s` });
  await call(c, 'DELETE', `/api/v1/devices/${id}`).catch(() => undefined);
}

/** b. Many cameras at 720p: total CPU and whether each keeps 1 frame a second. */
async function manyCameras(report: Reporter, c: Cameras, responderUrl: (path: string) => string, existing: string[]): Promise<void> {
  const ids = [...existing];
  let perCamera = NaN;
  for (const count of COUNTS) {
    while (ids.length < count) ids.push(await addCamera(c, `camera ${ids.length + 1}`, responderUrl(`cam-${ids.length + 1}`)));
    await Promise.all(ids.map((id) => waitStatus(c, id, (s) => s === 'online', 90_000)));
    await sleep(SETTLE_MS);
    const framesBefore = await framesTotal(c.vigil);
    const started = now();
    const cpu = await cpuWindow(WINDOW_MS, { decoder: () => decoders(c.vigil).map((p) => p.pid), node: () => [c.vigil.child.pid] });
    const framesAfter = await framesTotal(c.vigil);
    const seconds = (now() - started) / 1000;
    const rates = ids.map((id) => ((framesAfter.get(id) ?? 0) - (framesBefore.get(id) ?? 0)) / seconds);
    const total = cpu.decoder! + Math.max(0, cpu.node! - nodeIdleRate * WINDOW_MS);
    const kept = rates.filter((r) => r >= FPS * 0.85).length;
    report.add({
      metric: `${count} cameras at 720p: CPU in all`,
      value: pct(total, WINDOW_MS),
      unit: '% core',
      note: `${round(pct(total, WINDOW_MS) / count, 1)} per camera; fps per camera ${round(Math.min(...rates), 2)}–${round(Math.max(...rates), 2)}; ${kept}/${count} kept ${FPS} fps; load ${load()}`,
    });
    if (kept < count) report.problem(`${count - kept} of ${count} cameras fell below ${FPS} fps (load ${load()})`);
    perCamera = pct(total, WINDOW_MS) / count;
  }
  const holds = Math.floor((os.cpus().length * 100) / perCamera);
  report.add({ metric: `Cameras at 720p, ${FPS} fps, this machine's ${os.cpus().length} cores hold (decoding only)`, value: holds, note: `from ${round(perCamera, 1)}% of a core per camera at ${COUNTS.at(-1)}; target ≥ 16: ${holds >= 16 ? 'met' : 'missed'}; detection needs the rest` });
}

export const cameras: Benchmark = {
  name: 'cameras',
  description: `camera decoding at ${FPS} fps: cost per camera against ffmpeg alone, ${COUNTS.join('/')} cameras, MJPEG fan-out, reconnect time`,
  needsBuild: false,
  async run(report) {
    const dir = makeTempDir('vigil-bench-cameras-');
    const dataDir = `${dir}/data`;
    watchPostgresOf(dataDir);
    report.log(`load average at the start: ${load()} (${os.cpus().length} cores)`);
    report.log(`making the sources (testsrc2, ${SOURCE_FPS} fps, key frame every ${SOURCE_GOP_SECONDS} s, no B-frames)`);
    const [clip720, clip1080] = [await makeCameraClip(dir, 1280, 720), await makeCameraClip(dir, 1920, 1080)];
    const [source720, source1080] = [await serveClip(clip720), await serveClip(clip1080)];
    const proxy = await SwitchableProxy.start(source720.port);

    const vigil = startVigil('vigil (cameras)', dataDir, await freePort(), {
      logLevel: 'error',
      fromSource: true,
      env: { METRICS_PUBLIC: 'true', CAMERA_LIVE_MAX_VIEWERS: String(FAN_OUT + 10), CAMERA_LIVE_MAX_STREAMS_PER_USER: String(FAN_OUT + 10) },
    });
    await waitReady(vigil, now());
    const c: Cameras = { vigil, user: await setUpAndSignIn(vigil) };
    try {
      await sleep(SETTLE_MS);
      const idle = await cpuWindow(WINDOW_MS, { node: () => [vigil.child.pid] });
      nodeIdleRate = idle.node! / WINDOW_MS;
      report.add({ metric: 'Vigil node process, idle (no camera)', value: pct(idle.node!, WINDOW_MS), unit: '% core', note: `subtracted from the figures below; load ${load()}` });

      const first = await addCamera(c, 'camera 1', source720.url('cam-1'));
      await decodeCost(report, c, first, '720p', source720.url('cam-1'));
      await decodeCost(report, c, first, '1080p', source1080.url('cam-1'));
      await call(c, 'PATCH', `/api/v1/cameras/${first}`, { rtspUrl: source720.url('cam-1') });
      await waitStatus(c, first, (s) => s === 'online');

      await fanOut(report, c, first);
      await reconnects(report, c, proxy);
      await manyCameras(report, c, (p) => source720.url(p), [first]);
      report.log(`load average at the end: ${load()}`);
    } finally {
      await stopVigil(vigil, report, 'cameras');
    }
  },
};
