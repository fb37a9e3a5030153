import { hash } from 'node:crypto';
import type { GpuKernel } from '../../gpu/gpu-kernel.js';
import type { Kernel } from '../kernel.js';
import { validate, type Sha256Columns } from './normalize.js';
import { SOFTWARE_MAX_BLOCKS, sha256Wgsl } from './sha256.wgsl.js';

export { toSha256Columns, validate, type Sha256Columns } from './normalize.js';

/** SHA-256 digest size, FIPS 180-4 section 1. */
export const DIGEST_BYTES = 32;
/** Per-message overhead in work units (bytes): padding plus per-call cost, about one block. */
const MESSAGE_OVERHEAD_BYTES = 64;

const gpu: GpuKernel<Sha256Columns, Uint8Array> = {
  code: sha256Wgsl,
  entryPoint: 'main',
  workgroupSize: 64,
  inputBindings: 2,
  unsupported({ offsets }, start, end, adapter) {
    if (!adapter.software) return undefined;
    const maxBytes = SOFTWARE_MAX_BLOCKS * 64 - 9;
    for (let i = start; i < end; i++) {
      const len = offsets[i + 1]! - offsets[i]!;
      if (len > maxBytes) return `message ${i} has ${len} bytes; a software rasterizer's loop limit allows ${maxBytes}`;
    }
    return undefined;
  },
  chunkEnd({ offsets }, start, end, maxBindingBytes) {
    // Largest stop whose data bytes, offsets and digests all fit one binding (16 B spare for padding).
    const room = maxBindingBytes - 16;
    const maxItems = Math.max(1, Math.min(end - start, Math.floor(room / DIGEST_BYTES), Math.floor(room / 4) - 1));
    let lo = start + 1;
    let hi = start + maxItems;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (offsets[mid]! - offsets[start]! <= room) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  },
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

/** SHA-256 of every message: 32 output bytes per item. */
export const kernel: Kernel<Sha256Columns, Uint8Array> = {
  name: 'sha256',
  moduleUrl: import.meta.url,
  outputWidth: DIGEST_BYTES,
  // 64-byte messages: ~700 ns each with crypto.hash in one thread (measured on the 2-core dev machine).
  cost: { cpuNsPerItem: 700, gpuBytesPerItem: 64 + 4 + DIGEST_BYTES, gpuThreshold: 16_384 },
  validate,
  count: (input) => input.offsets.length - 1,
  createOutput: (items, buffer) => (buffer ? new Uint8Array(buffer, 0, items * DIGEST_BYTES) : new Uint8Array(items * DIGEST_BYTES)),
  work: ({ offsets }, start, end) => offsets[end]! - offsets[start]! + MESSAGE_OVERHEAD_BYTES * (end - start),
  cpu({ data, offsets }, output, start, end) {
    // node's one-shot hash (OpenSSL, SHA-NI where the CPU has it): cheaper per call than a Hash object.
    for (let i = start; i < end; i++) {
      output.set(hash('sha256', data.subarray(offsets[i]!, offsets[i + 1]!), 'buffer') as unknown as Uint8Array, i * DIGEST_BYTES);
    }
  },
  gpu,
};
