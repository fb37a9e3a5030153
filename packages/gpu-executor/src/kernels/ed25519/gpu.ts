import { createHash, hash } from 'node:crypto';
import type { GpuKernel } from '../../gpu/gpu-kernel.js';
import { baseTable } from './constants.js';
import { ED25519_WGSL, RECORD_WORDS } from './ed25519.wgsl.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type Ed25519Columns } from './normalize.js';
import { isCanonicalScalar, reduce512 } from './scalar.js';

/** Bytes of one item record: A, R, S, k (32 each). */
export const RECORD_BYTES = RECORD_WORDS * 4;
/**
 * Items per dispatch. Packing (SHA-512 and mod L on the host, ~1.7 us an item)
 * of chunk k+1 overlaps the GPU's work on chunk k. Measured on the H100 machine
 * in one run (scripts/ed25519-workgroups.mjs, 64K signatures): workgroup 256
 * with 16K-item chunks 265.6 ms, against 345.5 ms for workgroup 64 in one chunk.
 */
const CHUNK_ITEMS = 16_384;
/** Verdict bytes per item on the device (one u32: WGSL stores whole words). */
const VERDICT_BYTES = 4;
/** Messages up to this size are hashed one-shot from a scratch copy of R || A || M (crypto.hash is ~2x cheaper than a Hash object). */
const ONE_SHOT_MAX = 4096;

const scratch = new Uint8Array(64 + ONE_SHOT_MAX);
let table: Uint8Array | undefined;

/** SHA-512(R || A || M) (RFC 8032 section 5.1.7 step 2). */
function challengeHash(r: Uint8Array, a: Uint8Array, msg: Uint8Array): Uint8Array {
  if (msg.length <= ONE_SHOT_MAX) {
    scratch.set(r, 0);
    scratch.set(a, 32);
    scratch.set(msg, 64);
    return hash('sha512', scratch.subarray(0, 64 + msg.length), 'buffer');
  }
  return createHash('sha512').update(r).update(a).update(msg).digest();
}

/**
 * Host half of a GPU batch: for each item, the record A || R || S || k with
 * k = SHA-512(R || A || M) mod L. S >= L is rejected here (RFC 8032 section
 * 5.1.7 step 1) by setting bit 255 of k, which a real k (< L < 2^253) never has.
 */
function packRecords(input: Ed25519Columns, start: number, end: number): Uint8Array {
  const { data, offsets, publicKeys, signatures } = input;
  const records = new Uint8Array((end - start) * RECORD_BYTES);
  for (let i = start; i < end; i++) {
    const at = (i - start) * RECORD_BYTES;
    const a = publicKeys.subarray(i * PUBLIC_KEY_BYTES, (i + 1) * PUBLIC_KEY_BYTES);
    const sig = signatures.subarray(i * SIGNATURE_BYTES, (i + 1) * SIGNATURE_BYTES);
    records.set(a, at);
    records.set(sig, at + 32);
    if (!isCanonicalScalar(sig, 32)) {
      records[at + RECORD_BYTES - 1] = 0x80;
      continue;
    }
    const digest = challengeHash(sig.subarray(0, 32), a, data.subarray(offsets[i], offsets[i + 1]));
    reduce512(digest, records, at + 96);
  }
  return records;
}

export const gpuKernel: GpuKernel<Ed25519Columns, Uint8Array> = {
  code: ED25519_WGSL,
  entryPoint: 'main',
  workgroupSize: 256,
  inputBindings: 1,
  tables: () => [(table ??= baseTable())],
  // Chunks of at most CHUNK_ITEMS: the host packs chunk k+1 (SHA-512, mod L) while the GPU verifies chunk k.
  chunkEnd: (_input, start, end, maxBindingBytes) =>
    Math.min(end, start + Math.max(1, Math.min(CHUNK_ITEMS, Math.floor(maxBindingBytes / RECORD_BYTES)))),
  pack: (input, start, end) => [packRecords(input, start, end)],
  outputBytes: (count) => count * VERDICT_BYTES,
  invocations: (count) => count,
  unpack: (bytes, output, start, end) => {
    for (let i = start; i < end; i++) output[i] = bytes[(i - start) * VERDICT_BYTES] ?? 0;
  },
};
