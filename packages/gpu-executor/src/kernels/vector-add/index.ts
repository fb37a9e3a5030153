import { invalidInput } from '../../errors.js';
import type { GpuKernel } from '../../gpu/gpu-kernel.js';
import type { Kernel } from '../kernel.js';
import { vectorAddWgsl } from './vector-add.wgsl.js';

export interface VectorAddInput {
  readonly [column: string]: Float32Array;
  readonly a: Float32Array;
  readonly b: Float32Array;
}

/** Bits of the one NaN both paths write, so outputs compare bit for bit. */
export const CANONICAL_NAN_BITS = 0x7fc00000;

function toFloat32(value: unknown, name: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (Array.isArray(value)) {
    const out = new Float32Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'number') throw invalidInput(`${name}[${i}] is ${typeof v}, expected a number`, i);
      out[i] = v;
    }
    return out;
  }
  throw invalidInput(`${name} must be a Float32Array or an array of numbers`);
}

const gpu: GpuKernel<VectorAddInput, Float32Array> = {
  code: vectorAddWgsl,
  entryPoint: 'main',
  workgroupSize: 256,
  inputBindings: 2,
  bindingAlignment: 16,
  chunkEnd: (_input, start, end, maxBindingBytes) => Math.min(end, start + Math.floor(maxBindingBytes / 4)),
  pack: (input, start, end) => [
    new Uint8Array(input.a.buffer, input.a.byteOffset + start * 4, (end - start) * 4),
    new Uint8Array(input.b.buffer, input.b.byteOffset + start * 4, (end - start) * 4),
  ],
  outputBytes: (count) => count * 4,
  invocations: (count) => Math.ceil(count / 4),
  unpack(bytes, output, start, end) {
    new Uint8Array(output.buffer, output.byteOffset + start * 4, (end - start) * 4).set(bytes.subarray(0, (end - start) * 4));
  },
};

/** c[i] = a[i] + b[i] in binary32; the seed's demo kernel and the memory-bound reference case. */
export const kernel: Kernel<VectorAddInput, Float32Array> = {
  name: 'vector-add',
  moduleUrl: import.meta.url,
  outputWidth: 1,
  // Memory-bound: from host memory the GPU cannot win (docs/BENCHMARKS.md), so the threshold is high.
  cost: { cpuNsPerItem: 1, gpuBytesPerItem: 12, gpuThreshold: 1 << 26 },
  validate(input: unknown): VectorAddInput {
    if (typeof input !== 'object' || input === null) throw invalidInput('vector-add input must be {a, b}');
    const { a, b } = input as { a?: unknown; b?: unknown };
    const fa = toFloat32(a, 'a');
    const fb = toFloat32(b, 'b');
    if (fa.length !== fb.length) {
      throw invalidInput(`a has ${fa.length} elements and b has ${fb.length}`, Math.min(fa.length, fb.length));
    }
    return { a: fa, b: fb };
  },
  count: (input) => input.a.length,
  createOutput: (items, buffer) => (buffer ? new Float32Array(buffer, 0, items) : new Float32Array(items)),
  cpu(input, output, start, end) {
    const { a, b } = input;
    const bits = new Uint32Array(output.buffer, output.byteOffset, output.length);
    for (let i = start; i < end; i++) {
      // f64 add then f32 store rounds once correctly (53 >= 2*24+2, so no double-rounding error).
      const s = a[i]! + b[i]!;
      if (s !== s) bits[i] = CANONICAL_NAN_BITS;
      else output[i] = s;
    }
  },
  gpu,
};
