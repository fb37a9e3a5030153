import type { GpuKernel } from '../../gpu/gpu-kernel.js';
import { baseTable } from './constants.js';
import { ED25519_WGSL } from './ed25519.wgsl.js';
import type { Ed25519Columns } from './normalize.js';
import { kernel as packKernel, packRange, RECORD_BYTES } from './pack.js';

export { RECORD_BYTES };

/**
 * Items per dispatch, and the workgroup size below. Measured on the H100
 * machine in one run (scripts/ed25519-workgroups.mjs, 131,072 signatures,
 * records packed on the 16-thread pool, every verdict equal to the CPU's):
 * workgroup 64 with 32K-item chunks 83.3 ms (1.57 M/s), 16K 95.1 ms, 8K
 * 109 ms, 4K 148 ms; workgroups of 128 and 256 were 2-12 % slower at each
 * chunk size. Larger dispatches fill more of the GPU; packing of chunk k+1
 * overlaps the GPU's work on chunk k.
 */
const CHUNK_ITEMS = 32_768;
/** Verdict bytes per item on the device (one u32: WGSL stores whole words). */
const VERDICT_BYTES = 4;

let table: Uint8Array | undefined;

export const gpuKernel: GpuKernel<Ed25519Columns, Uint8Array> = {
  code: ED25519_WGSL,
  entryPoint: 'main',
  workgroupSize: 64,
  inputBindings: 1,
  tables: () => [(table ??= baseTable())],
  // Chunks of at most CHUNK_ITEMS: the host packs chunk k+1 (SHA-512, mod L) while the GPU verifies chunk k.
  chunkEnd: (_input, start, end, maxBindingBytes) =>
    Math.min(end, start + Math.max(1, Math.min(CHUNK_ITEMS, Math.floor(maxBindingBytes / RECORD_BYTES)))),
  pack: (input, start, end) => {
    const records = new Uint8Array((end - start) * RECORD_BYTES);
    packRange(input, records, start, start, end);
    return [records];
  },
  hostPack: packKernel,
  outputBytes: (count) => count * VERDICT_BYTES,
  invocations: (count) => count,
  unpack: (bytes, output, start, end) => {
    for (let i = start; i < end; i++) output[i] = bytes[(i - start) * VERDICT_BYTES] ?? 0;
  },
};
