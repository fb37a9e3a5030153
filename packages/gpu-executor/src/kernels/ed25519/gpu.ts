import type { GpuKernel } from '../../gpu/gpu-kernel.js';
import { baseTable } from './constants.js';
import { ED25519_HASH_WGSL, ED25519_WGSL, HOST_K_FLAG } from './ed25519.wgsl.js';
import { hashTable } from './hash-table.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type Ed25519Columns } from './normalize.js';
import { challengeScalar, kernel as packKernel, packRange, RECORD_BYTES } from './pack.js';

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

/**
 * Longest message M whose k the GPU computes: one invocation hashes at most
 * 64 + 4096 bytes (33 SHA-512 blocks, ~10K u32 operations each, against ~10M
 * for the verification), so a long message in a warp holds the other lanes up
 * by a few percent at most. Longer messages are hashed on the host in `pack`
 * (SHA-512 at ~0.8 GB/s, one thread) and their 32-byte k takes the message's
 * place in the data binding.
 */
export const GPU_HASH_MAX_MESSAGE_BYTES = 4096;
/** Data binding bytes per chunk stay below 2^31: bit 31 of an offset is HOST_K_FLAG. */
const MAX_CHUNK_DATA_BYTES = 0x7fff_ffff;

let table: Uint8Array | undefined;
let hashes: Uint8Array | undefined;

/** Bytes item i puts in the data binding: its message, or k for a long one. */
function dataBytes(offsets: Uint32Array, i: number): number {
  const length = (offsets[i + 1] ?? 0) - (offsets[i] ?? 0);
  return length > GPU_HASH_MAX_MESSAGE_BYTES ? 32 : length;
}

/**
 * The default GPU plan: raw columns up (keys, signatures, rebased offsets,
 * message bytes: views of the input, copied once into staging by the
 * executor), S < L and k = SHA-512(R || A || M) mod L on the GPU, one verdict
 * down. The host hashes only messages over GPU_HASH_MAX_MESSAGE_BYTES.
 */
export const gpuKernel: GpuKernel<Ed25519Columns, Uint8Array> = {
  code: ED25519_HASH_WGSL,
  entryPoint: 'main',
  workgroupSize: 64,
  inputBindings: 4,
  tables: () => [(table ??= baseTable()), (hashes ??= hashTable())],
  chunkEnd: (input, start, end, maxBindingBytes) => {
    const { offsets } = input;
    const items = Math.max(1, Math.min(CHUNK_ITEMS, Math.floor(maxBindingBytes / SIGNATURE_BYTES)));
    const stop = Math.min(end, start + items);
    const limit = Math.min(maxBindingBytes, MAX_CHUNK_DATA_BYTES);
    // Long messages only shrink to 32 bytes, so the raw span bounds the binding.
    if ((offsets[stop] ?? 0) - (offsets[start] ?? 0) <= limit) return stop;
    let bytes = 0;
    for (let i = start; i < stop; i++) {
      bytes += dataBytes(offsets, i);
      if (bytes > limit) return Math.max(start + 1, i);
    }
    return stop;
  },
  pack: (input, start, end) => {
    const { data, offsets, publicKeys, signatures } = input;
    const n = end - start;
    const base = offsets[start] ?? 0;
    const rebased = new Uint32Array(n + 1);
    let long = false;
    for (let j = 1; j <= n; j++) {
      const at = offsets[start + j] ?? 0;
      rebased[j] = at - base;
      if (at - (offsets[start + j - 1] ?? 0) > GPU_HASH_MAX_MESSAGE_BYTES) long = true;
    }
    const keys = publicKeys.subarray(start * PUBLIC_KEY_BYTES, end * PUBLIC_KEY_BYTES);
    const sigs = signatures.subarray(start * SIGNATURE_BYTES, end * SIGNATURE_BYTES);
    const offsetBytes = new Uint8Array(rebased.buffer);
    if (!long) return [keys, sigs, offsetBytes, data.subarray(base, offsets[end])];
    // Some messages are long: rebuild the data with their k in their place, flagged on their end offset.
    let size = 0;
    for (let i = start; i < end; i++) size += dataBytes(offsets, i);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (let i = start; i < end; i++) {
      const from = offsets[i] ?? 0;
      const to = offsets[i + 1] ?? 0;
      if (to - from > GPU_HASH_MAX_MESSAGE_BYTES) {
        challengeScalar(input, i, bytes, at);
        at += 32;
        rebased[i - start + 1] = (at | HOST_K_FLAG) >>> 0;
      } else {
        bytes.set(data.subarray(from, to), at);
        at += to - from;
        rebased[i - start + 1] = at;
      }
    }
    return [keys, sigs, offsetBytes, bytes];
  },
  outputBytes: (count) => count * VERDICT_BYTES,
  invocations: (count) => count,
  unpack: (bytes, output, start, end) => {
    for (let i = start; i < end; i++) output[i] = bytes[(i - start) * VERDICT_BYTES] ?? 0;
  },
};

/**
 * The previous plan, kept for comparison and for callers that want it: the
 * host packs A || R || S || k per item (pack.ts, on the worker pool when the
 * executor has one) and the GPU only verifies.
 */
export const hostPackedGpuKernel: GpuKernel<Ed25519Columns, Uint8Array> = {
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
