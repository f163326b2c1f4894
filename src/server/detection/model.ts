import fs from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { parseNamesFile, parsePythonNames } from './class-names.js';

const { onnx } = onnxProto;

/**
 * A YOLO detection model in ONNX form (an Ultralytics export of YOLOv8 or YOLO11), run on the CPU by
 * onnxruntime. One loaded model serves every camera of a worker. onnxruntime's JavaScript API does not show a
 * model's custom metadata, so the class names are read by decoding the model file itself.
 */
export interface DetectionModel {
  path: string;
  inputName: string;
  outputName: string;
  inputWidth: number;
  inputHeight: number;
  classNames: readonly string[];
  /** Runs one letterboxed [1,3,H,W] tensor; the time is onnxruntime's alone. */
  run(input: Float32Array): Promise<{ output: Float32Array; dims: readonly number[]; inferenceMs: number }>;
  close(): Promise<void>;
}

export type ModelLoad =
  | { status: 'ready'; model: DetectionModel }
  /** No file at the path: detection is simply off until the operator installs one. */
  | { status: 'off'; reason: string }
  /** A file is there but cannot serve as a detector; the reason says what to fix. */
  | { status: 'error'; reason: string };

export interface ModelOptions {
  /** Input size to use when the model's height and width are dynamic. */
  defaultInputSize?: number;
  /** onnxruntime threads per inference; 1 keeps one camera's inference from starving the rest of the process. */
  intraOpThreads?: number;
}

type ShapeDim = number | string | undefined;

function shapeOf(value: onnxProto.onnx.IValueInfoProto): ShapeDim[] | undefined {
  const dims = value.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || undefined));
}

function showShape(shape: ShapeDim[] | undefined): string {
  return shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : 'an unknown shape';
}

async function readSidecarNames(modelPath: string): Promise<string[] | undefined> {
  for (const file of [`${modelPath}.names.json`, `${modelPath}.names.txt`, `${modelPath}.names`]) {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return parseNamesFile(text, file);
  }
  return undefined;
}

interface ModelDescription {
  inputName: string;
  outputName: string;
  inputWidth: number;
  inputHeight: number;
  classNames: string[];
}

/** Reads and checks what the pipeline needs from the model file; throws an Error whose message is for the operator. */
export async function describeModel(bytes: Uint8Array, modelPath: string, options: ModelOptions = {}): Promise<ModelDescription> {
  let proto: onnxProto.onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new Error(`${modelPath} is not an ONNX model (${(error as Error).message})`);
  }
  const graph = proto.graph;
  if (!graph) throw new Error(`${modelPath} has no graph`);
  // Older exports also list the weights as graph inputs; the real inputs are the rest.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  const outputs = graph.output ?? [];
  if (inputs.length !== 1 || outputs.length !== 1) {
    throw new Error(`${modelPath} has ${inputs.length} inputs and ${outputs.length} outputs; a YOLO detection export has one of each (export with format=onnx, nms=False)`);
  }
  const input = inputs[0]!;
  const output = outputs[0]!;
  const inputShape = shapeOf(input);
  if (!inputShape || inputShape.length !== 4 || (typeof inputShape[1] === 'number' && inputShape[1] !== 3)) {
    throw new Error(`${modelPath}: input "${input.name}" is ${showShape(inputShape)}, expected [1, 3, height, width]`);
  }
  const fallback = options.defaultInputSize ?? 640;
  const inputHeight = typeof inputShape[2] === 'number' ? inputShape[2] : fallback;
  const inputWidth = typeof inputShape[3] === 'number' ? inputShape[3] : fallback;

  const sidecar = await readSidecarNames(modelPath);
  const metadata = (proto.metadataProps ?? []).find((p) => p.key === 'names')?.value ?? undefined;
  const classNames = sidecar ?? (metadata ? parsePythonNames(metadata, `${modelPath} names metadata`) : undefined);
  if (!classNames || classNames.length === 0) {
    throw new Error(`${modelPath} names no classes: Ultralytics exports write them into the model; otherwise put them in ${modelPath}.names.json`);
  }
  const outputShape = shapeOf(output);
  const channels = outputShape?.[1];
  if (!outputShape || outputShape.length !== 3 || (typeof channels === 'number' && channels !== 4 + classNames.length)) {
    throw new Error(
      `${modelPath}: output "${output.name}" is ${showShape(outputShape)}, expected [1, ${4 + classNames.length}, N] ` +
        `(4 box values and ${classNames.length} class scores, the YOLOv8/YOLO11 layout)`,
    );
  }
  return { inputName: input.name ?? 'images', outputName: output.name ?? 'output0', inputWidth, inputHeight, classNames };
}

/** Loads the model at `modelPath`; a missing file or an unusable model is a state with a reason, not an exception. */
export async function loadDetectionModel(modelPath: string | undefined, options: ModelOptions = {}): Promise<ModelLoad> {
  if (!modelPath) return { status: 'off', reason: 'detection off: no model installed (set DETECTION_MODEL_PATH)' };
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(modelPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'off', reason: `detection off: no model installed (no file at ${modelPath})` };
    return { status: 'error', reason: `detection off: cannot read ${modelPath} (${(error as Error).message})` };
  }
  let description: ModelDescription;
  let session: InferenceSession;
  // Loaded only when there is a model: the native runtime is tens of megabytes a server without one does not need.
  const ort = await import('onnxruntime-node');
  try {
    description = await describeModel(bytes, modelPath, options);
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    return { status: 'error', reason: `detection off: ${(error as Error).message}` };
  }
  const { inputName, outputName, inputWidth, inputHeight } = description;
  const dims = [1, 3, inputHeight, inputWidth];
  const model: DetectionModel = {
    path: modelPath,
    ...description,
    async run(data) {
      const started = performance.now();
      const result = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) });
      const inferenceMs = performance.now() - started;
      const tensor = result[outputName]!;
      return { output: tensor.data as Float32Array, dims: tensor.dims, inferenceMs };
    },
    close: () => session.release(),
  };
  return { status: 'ready', model };
}
