import type { GpuKernel } from '../../gpu/gpu-kernel.js';
import type { Kernel } from '../kernel.js';
import { BLOCK_BYTES, DIGEST_BYTES } from './constants.js';
import { sha256Cpu } from './cpu.js';
import { validate, type Sha256Columns } from './normalize.js';
import { SOFTWARE_MAX_BLOCKS, sha256Wgsl } from './sha256.wgsl.js';

export { BLOCK_BYTES, DIGEST_BYTES } from './constants.js';
export { jsIsFaster, sha256Cpu, sha256Js } from './cpu.js';
export { toSha256Columns, validate, type Sha256BatchInput, type Sha256Columns } from './normalize.js';
export { SOFTWARE_MAX_BLOCKS, sha256Wgsl } from './sha256.wgsl.js';

/**
 * Work units (bytes) one message costs beyond its length. On the CPU a
 * node:crypto call costs ~600 ns and ~1 ns a byte, a short message in JS
 * ~350-500 ns: about what 512 more bytes cost.
 */
const MESSAGE_OVERHEAD_BYTES = 512;

/** Longest message a software rasterizer hashes correctly: SOFTWARE_MAX_BLOCKS blocks, less 0x80 and the 8-byte length. */
const SOFTWARE_MAX_BYTES = SOFTWARE_MAX_BLOCKS * BLOCK_BYTES - 9;

/**
 * Items [start, stop) form one dispatch where data (padded to a word), offsets
 * ((n + 1) words) and digests (32 n bytes) each fit `maxBindingBytes`; the stop
 * is found by binary search over the offsets. A message longer than the limit
 * is a chunk of its own: its data binding is then its own length, which the
 * device's binding limit (128 MiB or more) still allows.
 */
function chunkEnd({ offsets }: Sha256Columns, start: number, end: number, maxBindingBytes: number): number {
  const dataRoom = Math.floor(maxBindingBytes / 4) * 4;
  const maxItems = Math.min(end - start, Math.floor(maxBindingBytes / DIGEST_BYTES), Math.floor(maxBindingBytes / 4) - 1);
  const base = offsets[start]!;
  let lo = start + 1;
  let hi = start + Math.max(1, maxItems);
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (offsets[mid]! - base <= dataRoom) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const gpu: GpuKernel<Sha256Columns, Uint8Array> = {
  code: sha256Wgsl,
  entryPoint: 'main',
  workgroupSize: 128,
  inputBindings: 2,
  unsupported({ offsets }, start, end, adapter) {
    if (!adapter.software) return undefined;
    for (let i = start; i < end; i++) {
      const len = offsets[i + 1]! - offsets[i]!;
      if (len > SOFTWARE_MAX_BYTES) return `message ${i} has ${len} bytes; a software rasterizer's loop limit allows ${SOFTWARE_MAX_BYTES}`;
    }
    return undefined;
  },
  chunkEnd,
  // Views, no copies: the executor copies them into its staging buffer and zero-pads data to a word.
  pack: ({ data, offsets }, start, end) => [
    data.subarray(offsets[start]!, offsets[end]!),
    new Uint8Array(offsets.buffer, offsets.byteOffset + start * 4, (end - start + 1) * 4),
  ],
  params: ({ offsets }, start) => [offsets[start]!],
  outputBytes: (count) => count * DIGEST_BYTES,
  invocations: (count) => count,
  unpack(bytes, output, start, end) {
    output.set(bytes.subarray(0, (end - start) * DIGEST_BYTES), start * DIGEST_BYTES);
  },
};

/** SHA-256 of every message: 32 output bytes per item, the big-endian digest. */
export const kernel: Kernel<Sha256Columns, Uint8Array> = {
  name: 'sha256',
  moduleUrl: import.meta.url,
  outputWidth: DIGEST_BYTES,
  // cpuNsPerItem: 64-byte messages, JS path, one thread (README.md). GPU: 64 B in, 4 B offset, 32 B out.
  cost: { cpuNsPerItem: 500, gpuBytesPerItem: 64 + 4 + DIGEST_BYTES, gpuThreshold: 16_384 },
  validate,
  count: (input) => input.offsets.length - 1,
  createOutput: (items, buffer) => (buffer ? new Uint8Array(buffer, 0, items * DIGEST_BYTES) : new Uint8Array(items * DIGEST_BYTES)),
  work: ({ offsets }, start, end) => offsets[end]! - offsets[start]! + MESSAGE_OVERHEAD_BYTES * (end - start),
  cpu: sha256Cpu,
  gpu,
};
