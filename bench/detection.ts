/**
 * Detection, measured in this process on Vigil's detector (src/server/detection) with the model at
 * DETECTION_MODEL_PATH, or else a YOLO11n-sized network with random weights (yolo-sized-model.ts), on 640 px
 * frames made the way a camera's decoder makes them (ffmpeg: 1 fps, letterboxed into 640×640, JPEG) from a
 * video of people walking (opencv-doc's vtest.avi when installed, else ffmpeg's test pattern):
 *  a. inference per frame on one thread: onnxruntime alone on the letterboxed frames (wall and CPU time);
 *  c. Vigil's whole per-frame work (JPEG in: motion, letterbox, inference, decoding and NMS, tracking and
 *     rules) against onnxruntime alone, frame by frame, alternating, on the same frames;
 *  b. cameras at 1 fps a 2-core machine holds: from the CPU per frame, plus the decoder's CPU per camera
 *     second; with every frame inferred, and with motion gating on the walking scene and on a still one;
 *  d. frame → violation on the live stream, end to end on a Vigil server (detection-live.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { JpegFrameSplitter } from '../src/server/cameras/decoder/jpeg-frames.js';
import { createDetector, type Detector, type FrameResult } from '../src/server/detection/detector.js';
import { letterbox } from '../src/server/detection/letterbox.js';
import { loadDetectionModel, type DetectionModel } from '../src/server/detection/model.js';
import { PPE_CLASSES, pythonNames } from '../tests/helpers/onnx-models.js';
import { liveLatency } from './detection-live.js';
import { type Benchmark, makeTempDir, type Reporter, round } from './lib.js';
import { yoloSizedModel } from './yolo-sized-model.js';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const SIZE = 640;
const FPS = 1;
const CORES = 2;
const WARMUP = 3;
const TIMED_FRAMES = 20;
const STILL_FRAMES = 30;
/** A restricted zone over the lower third, so the zone rule has work to do. */
const ZONES = [{ name: 'bench zone', polygon: [[0, 0.66], [1, 0.66], [1, 1], [0, 1]] as [number, number][] }];

const load = () => os.loadavg().map((l) => round(l, 1)).join(' / ');
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

async function modelFile(dir: string, report: Reporter): Promise<string> {
  const configured = process.env.DETECTION_MODEL_PATH;
  if (configured && fs.existsSync(configured)) {
    report.log(`model: ${configured} (DETECTION_MODEL_PATH)`);
    return configured;
  }
  const sized = yoloSizedModel(PPE_CLASSES, pythonNames(PPE_CLASSES));
  const file = path.join(dir, 'yolo11n-sized.onnx');
  fs.writeFileSync(file, sized.bytes);
  report.log(`model: no file at DETECTION_MODEL_PATH; a YOLO11n-sized network with random weights: ${round(sized.gflops, 2)} GFLOPs, ${round(sized.parameters / 1e6, 2)} M parameters (YOLO11n: 6.5 GFLOPs, 2.6 M)`);
  return file;
}

/** The video's frames as a camera decoder hands them over, and ffmpeg's CPU per second of video. */
async function cameraFrames(report: Reporter): Promise<{ frames: Buffer[]; source: string; decodeMsPerSecond: number }> {
  const video = fs.existsSync(VTEST);
  const input = video ? ['-i', VTEST] : ['-f', 'lavfi', '-i', 'testsrc2=size=768x576:rate=10', '-t', '60'];
  const filter = `fps=${FPS},scale=${SIZE}:${SIZE}:force_original_aspect_ratio=decrease,pad=${SIZE}:${SIZE}:(ow-iw)/2:(oh-ih)/2`;
  // Spawned here rather than with startChild, whose output is text: the frames are binary. It ends by itself.
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-nostats', '-benchmark', '-loglevel', 'info', ...input, '-vf', filter, '-an', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const splitter = new JpegFrameSplitter();
  const frames: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => frames.push(...splitter.push(chunk)));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg could not read the video: ${stderr.slice(-800)}`);
  const utime = Number(/utime=([\d.]+)s/.exec(stderr)?.[1] ?? NaN);
  const stime = Number(/stime=([\d.]+)s/.exec(stderr)?.[1] ?? NaN);
  const seconds = video ? 79.5 : 60;
  const source = video ? 'vtest.avi (opencv-doc: pedestrians, 768×576, 10 fps, 79.5 s)' : 'ffmpeg testsrc2 (768×576, 10 fps, 60 s; vtest.avi is not installed)';
  report.log(`frames: ${frames.length} at ${FPS} fps from ${source}`);
  return { frames, source, decodeMsPerSecond: ((utime + stime) * 1000) / seconds };
}

/** Vigil's pipeline and onnxruntime alone on the same frames, alternating, every frame inferred. */
async function overhead(report: Reporter, model: DetectionModel, modelPath: string, frames: Buffer[]) {
  const detector = await createDetector({ model, motion: { minChangedFraction: 0 }, rules: { zones: ZONES } });
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const dims = [1, 3, model.inputHeight, model.inputWidth];
  const vigil: { wall: number; cpu: number; result: FrameResult }[] = [];
  const alone: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < WARMUP + TIMED_FRAMES; i++) {
    const jpeg = frames[i % frames.length]!;
    const { tensor } = await letterbox(jpeg, model.inputWidth, model.inputHeight);
    let cpu = process.cpuUsage();
    let started = performance.now();
    const result = await detector.process({ jpeg, ts: 1_700_000_000_000 + i * (1000 / FPS) });
    const vigilRun = { wall: performance.now() - started, cpu: cpuMs(cpu), result };
    cpu = process.cpuUsage();
    started = performance.now();
    await session.run({ [model.inputName]: new ort.Tensor('float32', tensor, dims) });
    const aloneRun = { wall: performance.now() - started, cpu: cpuMs(cpu) };
    if (i >= WARMUP) {
      vigil.push(vigilRun);
      alone.push(aloneRun);
    }
  }
  await detector.close();
  await session.release();
  const stage = (key: keyof FrameResult['timing']) => round(mean(vigil.map((v) => v.result.timing[key])), 1);
  const ratioWall = mean(vigil.map((v) => v.wall)) / mean(alone.map((a) => a.wall));
  const ratioCpu = mean(vigil.map((v) => v.cpu)) / mean(alone.map((a) => a.cpu));
  report.add({ metric: 'Inference alone (onnxruntime, 1 thread), 640 px: wall', value: round(median(alone.map((a) => a.wall)), 1), unit: 'ms', note: `median of ${TIMED_FRAMES} frames; mean ${round(mean(alone.map((a) => a.wall)), 1)}; load ${load()}` });
  report.add({ metric: 'Inference alone: CPU', value: round(mean(alone.map((a) => a.cpu)), 1), unit: 'ms', note: 'mean per frame, this process (what a busy machine does not inflate)' });
  report.add({ metric: 'Vigil, whole frame (JPEG in, every frame inferred): wall', value: round(median(vigil.map((v) => v.wall)), 1), unit: 'ms', note: `median; stages (mean): motion ${stage('motionMs')}, letterbox ${stage('preprocessMs')}, inference ${stage('inferenceMs')}, decode+NMS ${stage('postprocessMs')}, tracking+rules ${stage('trackingMs')}` });
  report.add({ metric: 'Vigil, whole frame: CPU', value: round(mean(vigil.map((v) => v.cpu)), 1), unit: 'ms', note: `mean; ${round(mean(vigil.map((v) => v.result.detections.length)), 1)} detections per frame after NMS` });
  report.add({ metric: 'Ratio Vigil ÷ onnxruntime alone (CPU)', value: round(ratioCpu, 2), note: `target ≤ 1.25: ${ratioCpu <= 1.25 ? 'met' : 'missed'}; by wall time ${round(ratioWall, 2)}` });
  return { frameCpuMs: mean(vigil.map((v) => v.cpu)), inferenceWallMs: median(alone.map((a) => a.wall)) };
}

/** A run with the default motion gate: the share of frames inferred and the CPU per frame. */
async function gated(model: DetectionModel, frames: Buffer[]): Promise<{ ran: number; cpuPerFrame: number }> {
  const detector: Detector = await createDetector({ model, rules: { zones: ZONES } });
  let ran = 0;
  const cpu = process.cpuUsage();
  for (let i = 0; i < frames.length; i++) {
    const result = await detector.process({ jpeg: frames[i]!, ts: 1_700_000_000_000 + i * (1000 / FPS) });
    if (result.ran) ran += 1;
  }
  const spent = cpuMs(cpu);
  await detector.close();
  return { ran: ran / frames.length, cpuPerFrame: spent / frames.length };
}

export const detection: Benchmark = {
  name: 'detection',
  description: 'detector per 640 px frame on one thread, Vigil\'s share against onnxruntime\'s, cameras a 2-core machine holds with and without motion gating, frame → violation on the live stream',
  needsBuild: false,
  async run(report) {
    report.log(`load average at the start: ${load()} (${os.cpus().length} cores)`);
    const dir = makeTempDir('vigil-bench-detection-');
    const modelPath = await modelFile(dir, report);
    const loaded = await loadDetectionModel(modelPath, { intraOpThreads: 1 });
    if (loaded.status !== 'ready') throw new Error(loaded.reason);
    const model = loaded.model;
    let inferenceWallMs = NaN;
    try {
      const { frames, source, decodeMsPerSecond } = await cameraFrames(report);
      const measured = await overhead(report, model, modelPath, frames);
      const { frameCpuMs } = measured;
      inferenceWallMs = measured.inferenceWallMs;
      const budget = CORES * 1000;
      const everyFrame = budget / (decodeMsPerSecond + frameCpuMs * FPS);
      report.add({ metric: 'Decoding the source (ffmpeg, 1 fps out)', value: round(decodeMsPerSecond / 10, 1), unit: '% core', note: `per camera; ${source}` });
      report.add({ metric: `Cameras at ${FPS} fps on ${CORES} cores, every frame inferred`, value: Math.floor(everyFrame), note: `${round(everyFrame, 1)} from CPU per frame + decoding; target ≥ 8: ${everyFrame >= 8 ? 'met' : 'missed'}` });

      const walking = await gated(model, frames);
      const withGate = budget / (decodeMsPerSecond + walking.cpuPerFrame * FPS);
      report.add({ metric: 'Motion gating, walking scene: frames gated out', value: round((1 - walking.ran) * 100, 0), unit: '%', note: `${frames.length} frames of ${source.split(' (')[0]}` });
      report.add({ metric: `Cameras at ${FPS} fps on ${CORES} cores, gated, walking scene`, value: Math.floor(withGate), note: `${round(walking.cpuPerFrame, 1)} ms CPU per frame on average; target ≥ 16: ${withGate >= 16 ? 'met' : 'missed'}` });
      const still = await gated(model, Array.from({ length: STILL_FRAMES }, () => frames[0]!));
      const stillCameras = budget / (decodeMsPerSecond + still.cpuPerFrame * FPS);
      report.add({ metric: 'Motion gating, still scene: frames gated out', value: round((1 - still.ran) * 100, 0), unit: '%', note: `the first frame ${STILL_FRAMES} times` });
      report.add({ metric: `Cameras at ${FPS} fps on ${CORES} cores, gated, still scene`, value: Math.floor(stillCameras), note: `${round(still.cpuPerFrame, 1)} ms CPU per frame on average; load ${load()}` });
    } finally {
      await model.close();
    }
    // Once this process's model is closed: the live run has Vigil's process and ffmpeg on the machine.
    await liveLatency(report, dir, inferenceWallMs);
    report.log(`load average at the end: ${load()}`);
  },
};
