import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../src/server/core/config.js';
import { createDetector, type FrameResult } from '../src/server/detection/detector.js';
import { boxToInput, letterboxGeometry } from '../src/server/detection/letterbox.js';
import { loadDetectionModel } from '../src/server/detection/model.js';
import { DEFAULT_MOTION, greyThumbnail, MotionDetector } from '../src/server/detection/motion.js';
import { PPE_CLASSES, writeTinyYoloModel, type ModelBox } from './helpers/onnx-models.js';

/**
 * The detector with the real onnxruntime and real pictures: tiny models written at test time answer known
 * boxes, and frames drawn with sharp drive motion gating. The person model's hard hat appears on bright frames
 * and its bare head on dark ones, so the picture a test sends decides whether the worker wears a hat.
 */
const W = 640;
const H = 360;
const geometry = letterboxGeometry(W, H, 640, 640);
const SECOND = 1000;

/** A model box from a box in frame pixels. */
function boxAt(x1: number, y1: number, x2: number, y2: number, className: string, score: number, brightScore = 0): ModelBox {
  const b = boxToInput({ x1, y1, x2, y2 }, geometry);
  return { cx: (b.x1 + b.x2) / 2, cy: (b.y1 + b.y2) / 2, w: b.x2 - b.x1, h: b.y2 - b.y1, classId: PPE_CLASSES.indexOf(className), score, brightScore };
}

const solid = (value: number) => sharp({ create: { width: W, height: H, channels: 3, background: { r: value, g: value, b: value } } }).jpeg().toBuffer();

/** A textured scene (so JPEG noise is realistic) with a dark block at `x`; null: no block. */
async function scene(x: number | null, noiseSeed = 0): Promise<Buffer> {
  const rgb = Buffer.alloc(W * H * 3);
  let seed = 12345 + noiseSeed;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let y = 0; y < H; y++) {
    for (let px = 0; px < W; px++) {
      // A fixed pattern, plus a little sensor noise that changes from frame to frame.
      const base = 90 + ((px >> 5) + (y >> 5)) % 2 * 60 + Math.round((random() - 0.5) * 12);
      const inBlock = x !== null && px >= x && px < x + 60 && y >= 100 && y < 300;
      rgb.fill(inBlock ? 20 : base, (y * W + px) * 3, (y * W + px) * 3 + 3);
    }
  }
  return sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
}

describe('detection with a model', () => {
  let dir: string;
  let personModel: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-detection-'));
    personModel = await writeTinyYoloModel(dir, 'ppe.onnx', {
      classNames: PPE_CLASSES,
      boxes: [
        boxAt(200, 60, 300, 340, 'Person', 0.9),
        // Dark frame: a bare head (0.8); bright frame: a hard hat (0.9) and no bare head.
        boxAt(230, 55, 270, 95, 'NO-Hardhat', 0.8, -0.8),
        boxAt(230, 55, 270, 95, 'Hardhat', 0, 0.9),
        boxAt(210, 140, 290, 230, 'Safety Vest', 0.7),
        // Weak noise the confidence threshold removes.
        boxAt(400, 100, 450, 150, 'Safety Cone', 0.1),
      ],
    });
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  it('loads a model: input size and class names from its metadata, or from a names file beside it', async () => {
    const load = await loadDetectionModel(personModel);
    assert.equal(load.status, 'ready');
    if (load.status !== 'ready') return;
    assert.deepEqual([load.model.inputWidth, load.model.inputHeight], [640, 640]);
    assert.deepEqual(load.model.classNames, PPE_CLASSES);
    await load.model.close();

    const unnamed = await writeTinyYoloModel(dir, 'unnamed.onnx', { classNames: ['a', 'b'], boxes: [], namesMetadata: null });
    const missing = await loadDetectionModel(unnamed);
    assert.equal(missing.status, 'error');
    assert.match(missing.status === 'error' ? missing.reason : '', /names no classes.*unnamed\.onnx\.names\.json/);
    await fs.writeFile(`${unnamed}.names.json`, JSON.stringify(['Person', 'Hardhat']));
    const named = await loadDetectionModel(unnamed);
    assert.deepEqual(named.status === 'ready' ? named.model.classNames : named.reason, ['Person', 'Hardhat']);
    if (named.status === 'ready') await named.model.close();
  });

  it('says why a file cannot serve: not ONNX, or an output that is not [1, 4+nc, N]', async () => {
    const junk = path.join(dir, 'junk.onnx');
    await fs.writeFile(junk, 'this is a text file');
    const notOnnx = await loadDetectionModel(junk);
    assert.equal(notOnnx.status, 'error');
    assert.match(notOnnx.status === 'error' ? notOnnx.reason : '', /^detection off: /);

    const wrong = await writeTinyYoloModel(dir, 'wrong.onnx', { classNames: PPE_CLASSES, boxes: [], outputChannels: 84 });
    const layout = await loadDetectionModel(wrong);
    assert.equal(layout.status, 'error');
    assert.match(layout.status === 'error' ? layout.reason : '', /output "output0" is \[1, 84, 32\], expected \[1, 15, N\]/);
  });

  it('without a model detection is off, says so, and frames pass without an error', async () => {
    const configured = loadConfig({ DATA_DIR: dir }).detectionModelPath;
    assert.equal(configured, path.join(dir, 'models', 'ppe.onnx'), 'the default place is DATA_DIR/models/ppe.onnx');
    assert.equal(loadConfig({ DATA_DIR: dir, DETECTION_MODEL_PATH: personModel }).detectionModelPath, personModel);
    for (const modelPath of [undefined, configured]) {
      const detector = await createDetector({ modelPath });
      assert.equal(detector.state.status, 'off');
      assert.match(detector.state.status === 'off' ? detector.state.reason : '', /^detection off: no model installed/);
      const result = await detector.process({ jpeg: await solid(0), ts: 0 });
      assert.equal(result.ran, null);
      assert.deepEqual(result.changes, []);
    }
  });

  it('one worker without a hat over 100 frames is one violation; the hat on ends it; every stage is timed', async () => {
    const detector = await createDetector({
      modelPath: personModel,
      confidence: 0.25,
      motion: { recheckIntervalMs: SECOND },
      rules: { cooldownMs: { no_hardhat: 5 * SECOND, no_vest: 5 * SECOND, zone_breach: 5 * SECOND } },
    });
    assert.equal(detector.state.status, 'ready');
    assert.deepEqual(detector.state.status === 'ready' ? detector.state.rules : [], ['no_hardhat', 'no_vest']);
    const dark = await solid(0);
    const bright = await solid(255);
    const results: FrameResult[] = [];
    for (let i = 0; i < 100; i++) results.push(await detector.process({ jpeg: dark, ts: i * SECOND }));
    const opened = results.flatMap((r) => r.changes);
    assert.deepEqual(opened.map((c) => `${c.kind}:${c.incident.rule}`), ['open:no_hardhat']);
    const incident = opened[0]!.incident;
    assert.equal(incident.severity, 'high');
    for (const [key, value] of Object.entries({ x1: 200, y1: 60, x2: 300, y2: 340 })) {
      assert.ok(Math.abs(incident.box[key as 'x1'] - value) < 0.01, `${key} ${incident.box[key as 'x1']}`);
    }
    assert.ok(Math.abs(incident.confidence - 0.9) < 1e-6);
    // The cone below the threshold is gone; the person, bare head and vest are found on every frame that ran.
    const last = results.at(-1)!;
    assert.deepEqual(last.detections.map((d) => d.className).sort(), ['NO-Hardhat', 'Person', 'Safety Vest']);
    assert.ok(last.timing.inferenceMs > 0 && last.timing.preprocessMs > 0 && last.timing.totalMs >= last.timing.inferenceMs);

    const hatOn: FrameResult[] = [];
    for (let i = 100; i < 110; i++) hatOn.push(await detector.process({ jpeg: bright, ts: i * SECOND }));
    const closed = hatOn.flatMap((r) => r.changes);
    assert.deepEqual(closed.map((c) => `${c.kind}:${c.incident.id}`), [`close:${incident.id}`]);
    assert.equal(closed[0]!.incident.endedAt, 100 * SECOND);
    assert.deepEqual(await detector.close(), []);
  });

  it('a mask over the worker hides them', async () => {
    const detector = await createDetector({ modelPath: personModel, masks: [[[0.25, 0.5], [0.5, 0.5], [0.5, 1], [0.25, 1]]], motion: { recheckIntervalMs: SECOND } });
    const dark = await solid(0);
    const changes = [];
    for (let i = 0; i < 10; i++) changes.push(...(await detector.process({ jpeg: dark, ts: i * SECOND })).changes);
    assert.deepEqual(changes, []);
    await detector.close();
  });

  it('motion gating: a still scene goes to the detector once, a moving one on every frame, a tracked one on each re-check', async () => {
    const empty = await writeTinyYoloModel(dir, 'empty.onnx', { classNames: PPE_CLASSES, boxes: [] });
    const still = await createDetector({ modelPath: empty, motion: { recheckIntervalMs: 5 * SECOND } });
    const stillRuns = [];
    for (let i = 0; i < 12; i++) stillRuns.push((await still.process({ jpeg: await scene(200, i), ts: i * SECOND })).ran);
    assert.deepEqual(stillRuns, ['first', ...Array(11).fill(null)], 'sensor noise alone is not motion');
    await still.close();

    const moving = await createDetector({ modelPath: empty });
    const movingRuns = [];
    for (let i = 0; i < 8; i++) movingRuns.push((await moving.process({ jpeg: await scene(40 + i * 60, i), ts: i * SECOND })).ran);
    assert.deepEqual(movingRuns, ['first', ...Array(7).fill('motion')]);
    await moving.close();

    const tracked = await createDetector({ modelPath: personModel, motion: { recheckIntervalMs: 5 * SECOND } });
    const trackedRuns = [];
    for (let i = 0; i < 12; i++) trackedRuns.push((await tracked.process({ jpeg: await scene(200, i), ts: i * SECOND })).ran);
    assert.deepEqual(trackedRuns, ['first', null, null, null, null, 'recheck', null, null, null, null, 'recheck', null]);
    await tracked.close();
  });

  it('the motion measure itself: a changed fraction near zero for noise, large for a moving block', async () => {
    const detector = new MotionDetector(DEFAULT_MOTION);
    const grey = async (jpeg: Buffer) => {
      const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      return greyThumbnail({ rgb: data, width: info.width, height: info.height }, DEFAULT_MOTION.width, DEFAULT_MOTION.height);
    };
    detector.update(await grey(await scene(100, 1)));
    const noise = detector.update(await grey(await scene(100, 2)));
    const moved = detector.update(await grey(await scene(400, 3)));
    assert.equal(noise.motion, false);
    assert.ok(noise.changedFraction < DEFAULT_MOTION.minChangedFraction);
    assert.equal(moved.motion, true);
    assert.ok(moved.changedFraction > 0.05, String(moved.changedFraction));
  });
});
