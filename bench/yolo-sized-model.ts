/**
 * A YOLO11n-sized detector with random weights, written with onnx-proto, for timing when no real model is
 * installed. It follows YOLO11n's layers at 640 px (width 0.25, depth 0.5): the same convolutions at the same
 * resolutions and channel counts (stride-2 convs, C3k2 blocks as a split, a residual bottleneck and a 1×1 merge,
 * SPPF, the top-down and bottom-up neck with upsampling and concatenation, and the detect head's box and class
 * branches at strides 8, 16 and 32 with depthwise convs), each conv followed by SiLU. C2PSA's attention is
 * stood in for by 1×1 convs of its size and DFL by a 1×1 conv. The output is Ultralytics' layout
 * [1, 4 + classes, 8400]: boxes in input pixels around each grid cell, class scores through a sigmoid with a
 * negative bias, so that, as with a real model on a real scene, only a few candidates pass the threshold.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Bias of the class scores' logits: with random weights, a few candidates a frame pass a 0.25 threshold. */
const CLASS_BIAS = -4.5;
/** Random weights leave the class logits nearly flat; a large gain on the last conv spreads them, as a trained head's are. */
const CLASS_GAIN = 300;

export interface SizedModel {
  bytes: Uint8Array;
  /** Multiply-adds ×2 of the convolutions. */
  gflops: number;
  parameters: number;
}

interface Tensor {
  name: string;
  channels: number;
  size: number;
}

/** A seeded generator, so every run times the same network. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  flops = 0;
  parameters = 0;
  private count = 0;
  private readonly next = random(11);

  name(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  constant(prefix: string, dims: number[], values: Float32Array | BigInt64Array): string {
    const name = this.name(prefix);
    const isInt = values instanceof BigInt64Array;
    this.initializers.push(onnx.TensorProto.create({
      name, dims, dataType: isInt ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(values.buffer.slice(0)),
    }));
    return name;
  }

  node(opType: string, inputs: string[], attributes: onnxProto.onnx.IAttributeProto[] = []): string {
    const output = this.name(opType.toLowerCase());
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], attribute: attributes }));
    return output;
  }

  /** Conv (k×k, stride, groups) + SiLU unless `act` is false. */
  conv(x: Tensor, channels: number, k = 1, stride = 1, groups = 1, act = true, bias = 0, gain = 1.5): Tensor {
    const fanIn = (x.channels / groups) * k * k;
    const weights = new Float32Array(channels * fanIn);
    const bound = Math.sqrt(3 / fanIn) * gain;
    for (let i = 0; i < weights.length; i++) weights[i] = (this.next() * 2 - 1) * bound;
    const w = this.constant('w', [channels, x.channels / groups, k, k], weights);
    const b = this.constant('b', [channels], new Float32Array(channels).fill(bias));
    const ints = (name: string, values: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
    const conv = this.node('Conv', [x.name, w, b], [
      ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', Array(4).fill(Math.floor(k / 2))),
      { name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: groups },
    ]);
    const size = Math.ceil(x.size / stride);
    this.flops += 2 * size * size * channels * fanIn;
    this.parameters += weights.length + channels;
    const out = act ? this.node('Mul', [conv, this.node('Sigmoid', [conv])]) : conv;
    return { name: out, channels, size };
  }

  concat(parts: Tensor[], axis = 1): Tensor {
    return { name: this.node('Concat', parts.map((p) => p.name), [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }]), channels: parts.reduce((s, p) => s + p.channels, 0), size: parts[0]!.size };
  }

  upsample(x: Tensor): Tensor {
    const scales = this.constant('scales', [4], new Float32Array([1, 1, 2, 2]));
    return { name: this.node('Resize', [x.name, '', scales], [{ name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('nearest') }]), channels: x.channels, size: x.size * 2 };
  }

  maxPool(x: Tensor): Tensor {
    const ints = (name: string, values: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
    return { ...x, name: this.node('MaxPool', [x.name], [ints('kernel_shape', [5, 5]), ints('strides', [1, 1]), ints('pads', [2, 2, 2, 2])]) };
  }

  /** C3k2: the input split in two (two 1×1 convs), bottlenecks of two 3×3 convs with a shortcut, all merged by a 1×1 conv. */
  c3k2(x: Tensor, out: number, c3k: boolean): Tensor {
    const hidden = Math.floor(out * (c3k ? 0.5 : 0.25));
    const a = this.conv(x, hidden);
    let b = this.conv(x, hidden);
    const parts = [a, b];
    for (let i = 0; i < (c3k ? 2 : 1); i++) {
      const m = this.conv(this.conv(b, hidden, 3), hidden, 3);
      b = { ...m, name: this.node('Add', [m.name, b.name]) };
      parts.push(b);
    }
    return this.conv(this.concat(parts), out);
  }

  sppf(x: Tensor): Tensor {
    const y0 = this.conv(x, x.channels / 2);
    const y1 = this.maxPool(y0);
    const y2 = this.maxPool(y1);
    const y3 = this.maxPool(y2);
    return this.conv(this.concat([y0, y1, y2, y3]), x.channels);
  }

  /** The detect head of one level: [1, 4 + classes, size²]. */
  head(x: Tensor, stride: number, classes: number, clsBias: number): string {
    const boxRaw = this.conv(this.conv(this.conv(this.conv(x, 64, 3), 64, 3), 64, 1, 1, 1, false), 4, 1, 1, 1, false);
    const cls1 = this.conv(this.conv(x, x.channels, 3, 1, x.channels), x.channels);
    const cls2 = this.conv(this.conv(cls1, x.channels, 3, 1, x.channels), x.channels);
    const clsRaw = this.conv(cls2, classes, 1, 1, 1, false, clsBias, CLASS_GAIN);
    const n = x.size * x.size;
    const anchors = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      anchors[i] = ((i % x.size) + 0.5) * stride;
      anchors[n + i] = (Math.floor(i / x.size) + 0.5) * stride;
      anchors[2 * n + i] = stride * 3;
      anchors[3 * n + i] = stride * 6;
    }
    const scale = this.constant('stride', [1], new Float32Array([stride]));
    const box = this.node('Add', [this.node('Mul', [boxRaw.name, scale]), this.constant('anchors', [1, 4, x.size, x.size], anchors)]);
    const both = this.node('Concat', [box, this.node('Sigmoid', [clsRaw.name])], [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);
    return this.node('Reshape', [both, this.constant('shape', [3], new BigInt64Array([1n, BigInt(4 + classes), BigInt(n)]))]);
  }
}

export function yoloSizedModel(classNames: readonly string[], names: string, clsBias = CLASS_BIAS): SizedModel {
  const g = new GraphBuilder();
  const input: Tensor = { name: 'images', channels: 3, size: 640 };
  const b1 = g.conv(g.conv(input, 16, 3, 2), 32, 3, 2);
  const p3 = g.c3k2(g.conv(g.c3k2(b1, 64, false), 64, 3, 2), 128, false);
  const p4 = g.c3k2(g.conv(p3, 128, 3, 2), 128, true);
  let p5 = g.c3k2(g.conv(p4, 256, 3, 2), 256, true);
  p5 = g.sppf(p5);
  p5 = g.conv(g.conv(g.conv(p5, 256), 256), 256); // C2PSA's size, without its attention
  const n4 = g.c3k2(g.concat([g.upsample(p5), p4]), 128, false);
  const n3 = g.c3k2(g.concat([g.upsample(n4), p3]), 64, false);
  const m4 = g.c3k2(g.concat([g.conv(n3, 64, 3, 2), n4]), 128, false);
  const m5 = g.c3k2(g.concat([g.conv(m4, 128, 3, 2), p5]), 256, true);
  const heads = [g.head(n3, 8, classNames.length, clsBias), g.head(m4, 16, classNames.length, clsBias), g.head(m5, 32, classNames.length, clsBias)];
  const output = g.node('Concat', heads, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 }]);
  const valueInfo = (name: string, dims: number[]) => onnx.ValueInfoProto.create({
    name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const outputName = 'output0';
  g.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [output], output: [outputName] }));
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'vigil-bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph: onnx.GraphProto.create({
      name: 'yolo11n_sized',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('images', [1, 3, 640, 640])],
      output: [valueInfo(outputName, [1, 4 + classNames.length, 8400])],
    }),
    metadataProps: [{ key: 'names', value: names }],
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), gflops: g.flops / 1e9, parameters: g.parameters };
}
