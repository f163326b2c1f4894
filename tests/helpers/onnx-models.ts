import fs from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * Tiny YOLO-layout ONNX models written from JavaScript, so tests drive the real onnxruntime with known boxes.
 * The graph is `output0 = boxes + ReduceMean(images) · brightness`: with `brightness` zero it answers the same
 * fixed boxes for any picture; a box given a `brightScore` gets that much more score the brighter the frame is
 * (mean 0–1), so a test can switch a detection on and off with the picture it sends (a hard hat on a white frame,
 * none on a black one).
 */

/** The classes of the hard-hat model the original product used (Ultralytics export of best_yolo11s). */
export const PPE_CLASSES = ['Hardhat', 'Mask', 'NO-Hardhat', 'NO-Mask', 'NO-Safety Vest', 'Person', 'Safety Cone', 'Safety Vest', 'Machinery', 'Utility Pole', 'Vehicle'];

export interface ModelBox {
  /** Centre and size in model-input pixels. */
  cx: number;
  cy: number;
  w: number;
  h: number;
  classId: number;
  score: number;
  /** Added to the score times the frame's mean brightness (0–1). */
  brightScore?: number;
}

export interface TinyModelOptions {
  classNames: readonly string[];
  boxes: readonly ModelBox[];
  inputWidth?: number;
  inputHeight?: number;
  /** Candidate columns N of the output; unused ones score 0. */
  candidates?: number;
  /** The `names` metadata text; default: the Python-dict text Ultralytics writes. null: none. */
  namesMetadata?: string | null;
  /** Declare the output with this many channels instead of 4 + nc (to test the layout check). */
  outputChannels?: number;
}

/** `{0: 'Hardhat', 1: 'Mask'}`, as Ultralytics writes it. */
export function pythonNames(names: readonly string[]): string {
  return `{${names.map((n, i) => `${i}: '${n.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}}`;
}

function floatTensor(name: string, dims: number[], values: Float32Array) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(0)) });
}

function valueInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
}

export function tinyYoloModel(options: TinyModelOptions): Uint8Array {
  const { classNames, boxes } = options;
  const inputWidth = options.inputWidth ?? 640;
  const inputHeight = options.inputHeight ?? 640;
  const channels = 4 + classNames.length;
  const n = Math.max(options.candidates ?? 32, boxes.length);
  const fixed = new Float32Array(channels * n);
  const bright = new Float32Array(channels * n);
  boxes.forEach((b, i) => {
    fixed[i] = b.cx;
    fixed[n + i] = b.cy;
    fixed[2 * n + i] = b.w;
    fixed[3 * n + i] = b.h;
    fixed[(4 + b.classId) * n + i] = b.score;
    bright[(4 + b.classId) * n + i] = b.brightScore ?? 0;
  });
  const graph = onnx.GraphProto.create({
    name: 'tiny_yolo',
    node: [
      onnx.NodeProto.create({ opType: 'ReduceMean', input: ['images'], output: ['mean'], attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }),
      onnx.NodeProto.create({ opType: 'Mul', input: ['mean', 'bright'], output: ['lit'] }),
      onnx.NodeProto.create({ opType: 'Add', input: ['lit', 'fixed'], output: ['output0'] }),
    ],
    initializer: [floatTensor('fixed', [1, channels, n], fixed), floatTensor('bright', [1, channels, n], bright)],
    input: [valueInfo('images', [1, 3, inputHeight, inputWidth])],
    output: [valueInfo('output0', [1, options.outputChannels ?? channels, n])],
  });
  const names = options.namesMetadata === undefined ? pythonNames(classNames) : options.namesMetadata;
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'vigil-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
    metadataProps: names === null ? [] : [{ key: 'names', value: names }],
  });
  return onnx.ModelProto.encode(model).finish();
}

export async function writeTinyYoloModel(dir: string, file: string, options: TinyModelOptions): Promise<string> {
  const target = path.join(dir, file);
  await fs.writeFile(target, tinyYoloModel(options));
  return target;
}
