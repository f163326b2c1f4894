import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { assignAttributes, classRoles, DEFAULT_ATTRIBUTES } from '../src/server/detection/attributes.js';
import { parseNamesFile, parsePythonNames } from '../src/server/detection/class-names.js';
import { decodeYolo, nms, type Detection } from '../src/server/detection/decode.js';
import { pointInPolygon, type Box } from '../src/server/detection/geometry.js';
import { boxToInput, boxToSource, letterbox, letterboxGeometry, PAD_GREY } from '../src/server/detection/letterbox.js';
import type { Track } from '../src/server/detection/tracker.js';
import { PPE_CLASSES, pythonNames } from './helpers/onnx-models.js';

/** Pure pieces of the detection pipeline, with known inputs: class names, letterbox maths, decoding, NMS, attributes. */

function close(actual: Box, expected: Box, tolerance = 1e-6): void {
  for (const key of ['x1', 'y1', 'x2', 'y2'] as const) {
    assert.ok(Math.abs(actual[key] - expected[key]) <= tolerance, `${key}: ${actual[key]} vs ${expected[key]} (${JSON.stringify(actual)})`);
  }
}

/** A [1, 4+nc, N] tensor from boxes in model-input pixels. */
function yoloTensor(nc: number, boxes: Array<{ cx: number; cy: number; w: number; h: number; classId: number; score: number }>): { data: Float32Array; dims: number[] } {
  const n = boxes.length;
  const data = new Float32Array((4 + nc) * n);
  boxes.forEach((b, i) => {
    data[i] = b.cx;
    data[n + i] = b.cy;
    data[2 * n + i] = b.w;
    data[3 * n + i] = b.h;
    data[(4 + b.classId) * n + i] = b.score;
  });
  return { data, dims: [1, 4 + nc, n] };
}

describe('class names', () => {
  it("reads Ultralytics' Python-dict metadata, quotes and all, without evaluating it", () => {
    assert.deepEqual(parsePythonNames(pythonNames(PPE_CLASSES)), PPE_CLASSES);
    assert.deepEqual(parsePythonNames(`{0: "it's", 1: 'say \\'hi\\'', 2: 'a, b: c'}`), ["it's", "say 'hi'", 'a, b: c']);
    assert.throws(() => parsePythonNames(`{0: 'a', 1: __import__('os').system('id')}`), /cannot read the entry/);
    assert.throws(() => parsePythonNames(`{0: 'a', 2: 'c'}`), /class 1 has no name/);
    assert.throws(() => parsePythonNames(`['a']`), /expected \{0: 'name'/);
  });

  it('reads a sidecar file as a JSON list, a JSON object or one name per line', () => {
    assert.deepEqual(parseNamesFile('["Person", "Hardhat"]', 'x'), ['Person', 'Hardhat']);
    assert.deepEqual(parseNamesFile('{"1": "Hardhat", "0": "Person"}', 'x'), ['Person', 'Hardhat']);
    assert.deepEqual(parseNamesFile('Person\r\nHardhat\n\n', 'x'), ['Person', 'Hardhat']);
  });
});

describe('letterbox', () => {
  it('fits a 1280×720 frame into 640×640 with grey bars above and below, and boxes map back exactly', () => {
    const g = letterboxGeometry(1280, 720, 640, 640);
    assert.deepEqual([g.scaledWidth, g.scaledHeight, g.padX, g.padY], [640, 360, 0, 140]);
    const box = { x1: 100, y1: 200, x2: 300, y2: 500 };
    close(boxToInput(box, g), { x1: 50, y1: 240, x2: 150, y2: 390 });
    close(boxToSource(boxToInput(box, g), g), box);
    // Odd sizes round the scaled picture; each axis keeps its own scale so the round trip stays exact.
    const odd = letterboxGeometry(333, 501, 640, 640);
    const b = { x1: 33.3, y1: 50, x2: 99.9, y2: 400.5 };
    close(boxToSource(boxToInput(b, odd), odd), b, 1e-9);
    // A box reaching into the padding is clipped to the frame.
    close(boxToSource({ x1: -10, y1: 100, x2: 700, y2: 520 }, g), { x1: 0, y1: 0, x2: 1280, y2: 720 });
  });

  it('pads with grey 114, scales the picture to CHW floats 0–1, and a drawn rectangle comes back where it was', async () => {
    const width = 320;
    const height = 180;
    const rgb = new Uint8Array(width * height * 3); // black, with a white rectangle
    const rect = { x1: 80, y1: 40, x2: 160, y2: 120 };
    for (let y = rect.y1; y < rect.y2; y++) for (let x = rect.x1; x < rect.x2; x++) rgb.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
    const { tensor, geometry } = await letterbox({ rgb, width, height }, 640, 640);
    assert.equal(tensor.length, 3 * 640 * 640);
    assert.deepEqual([geometry.padX, geometry.padY, geometry.scaledWidth, geometry.scaledHeight], [0, 140, 640, 360]);
    const plane = 640 * 640;
    const at = (c: number, x: number, y: number) => tensor[c * plane + y * 640 + x]!;
    assert.equal(at(0, 10, 10), Math.fround(PAD_GREY / 255));
    assert.equal(at(2, 630, 630), Math.fround(PAD_GREY / 255));
    assert.equal(at(1, 10, 300), 0);
    // The white region in the tensor, mapped back to frame pixels, is the rectangle drawn.
    let found = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
    for (let y = 0; y < 640; y++) {
      for (let x = 0; x < 640; x++) {
        if (at(0, x, y) > 0.5 && at(1, x, y) > 0.5 && at(2, x, y) > 0.5) found = { x1: Math.min(found.x1, x), y1: Math.min(found.y1, y), x2: Math.max(found.x2, x + 1), y2: Math.max(found.y2, y + 1) };
      }
    }
    close(boxToSource(found, geometry), rect, 1);
  });

  it('letterboxes a JPEG frame as well as raw pixels', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
    const { tensor, geometry } = await letterbox(jpeg, 64, 64);
    assert.deepEqual([geometry.sourceWidth, geometry.sourceHeight, geometry.padY], [64, 48, 8]);
    const centre = 32 * 64 + 32;
    assert.ok(tensor[centre]! > 0.7 && tensor[64 * 64 + centre]! < 0.15, 'red in the middle');
    assert.equal(tensor[0], Math.fround(PAD_GREY / 255));
  });
});

describe('decoding YOLO output', () => {
  const names = ['Person', 'Hardhat'];
  const geometry = letterboxGeometry(1280, 720, 640, 640);

  it('turns centre/size columns into frame boxes with the best class, and drops weak candidates', () => {
    const { data, dims } = yoloTensor(2, [
      { cx: 100, cy: 315, w: 100, h: 150, classId: 0, score: 0.9 },
      { cx: 400, cy: 320, w: 40, h: 40, classId: 1, score: 0.2 },
    ]);
    const found = decodeYolo(data, dims, { classNames: names, geometry, confidence: 0.25, iouThreshold: 0.45, maxDetections: 10 });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.className, 'Person');
    assert.ok(Math.abs(found[0]!.score - 0.9) < 1e-6);
    close(found[0]!.box, { x1: 100, y1: 200, x2: 300, y2: 500 });
  });

  it('suppresses overlapping boxes of one class, keeps a different class in the same place, and caps the count', () => {
    const d = (classId: number, score: number, x1: number): Detection => ({ classId, className: names[classId]!, score, box: { x1, y1: 0, x2: x1 + 100, y2: 100 } });
    const kept = nms([d(0, 0.6, 10), d(0, 0.9, 0), d(1, 0.5, 0), d(0, 0.7, 300)], 0.45, 10);
    assert.deepEqual(kept.map((k) => [k.classId, k.score]), [[0, 0.9], [0, 0.7], [1, 0.5]]);
    assert.equal(nms([d(0, 0.6, 10), d(0, 0.9, 0), d(1, 0.5, 0), d(0, 0.7, 300)], 0.45, 2).length, 2);
  });

  it('refuses an output of another layout with the shape it expected', () => {
    assert.throws(() => decodeYolo(new Float32Array(84), [1, 84, 1], { classNames: names, geometry, confidence: 0.25, iouThreshold: 0.45, maxDetections: 10 }), /\[1, 6, N\]/);
  });
});

describe('attributes of a person', () => {
  const roles = classRoles(PPE_CLASSES);
  const person = (id: number, box: Box): Track => ({ id, classId: 5, className: 'Person', box, score: 0.9, scores: [0.9], smoothedScore: 0.9, hits: 3, misses: 0, confirmed: true, firstSeenAt: 0, lastSeenAt: 0 });
  const attribute = (className: string, box: Box): Detection => ({ classId: PPE_CLASSES.indexOf(className), className, score: 0.8, box });

  it('a hard hat belongs to the smallest person box that holds it, even when it pokes out of the top', () => {
    const near = person(1, { x1: 100, y1: 100, x2: 200, y2: 400 });
    const far = person(2, { x1: 50, y1: 90, x2: 400, y2: 600 });
    const hat = attribute('Hardhat', { x1: 130, y1: 90, x2: 170, y2: 125 });
    const byTrack = assignAttributes([far, near], [hat], roles, DEFAULT_ATTRIBUTES);
    assert.deepEqual([...byTrack.keys()], [1]);
  });

  it('a head item near the feet is nobody’s, a vest on the body is, and a box outside every person is dropped', () => {
    const worker = person(1, { x1: 100, y1: 100, x2: 200, y2: 400 });
    const byTrack = assignAttributes(
      [worker],
      [
        attribute('NO-Hardhat', { x1: 130, y1: 350, x2: 170, y2: 390 }),
        attribute('Safety Vest', { x1: 110, y1: 180, x2: 190, y2: 280 }),
        attribute('Hardhat', { x1: 500, y1: 100, x2: 540, y2: 130 }),
      ],
      roles,
      DEFAULT_ATTRIBUTES,
    );
    assert.deepEqual(byTrack.get(1)?.map((a) => a.className), ['Safety Vest']);
  });

  it('zones count their boundary as inside', () => {
    const square = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]] as const;
    assert.equal(pointInPolygon(0.4, 0.4, square), true);
    assert.equal(pointInPolygon(0.6, 0.3, square), true);
    assert.equal(pointInPolygon(0.61, 0.3, square), false);
  });
});
