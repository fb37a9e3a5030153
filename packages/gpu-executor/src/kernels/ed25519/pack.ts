/**
 * The host half of a GPU verification: for each item, the record the shader
 * reads, A || R || S || k with k = SHA-512(R || A || M) mod L. It costs ~1.7 us
 * an item on one thread, more than the H100 spends verifying it (~1.1 us), so
 * it is also a CPU kernel of its own (`kernel` below) that the GPU executor
 * runs on the worker pool.
 */
import { createHash, hash } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import { RECORD_WORDS } from './ed25519.wgsl.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, validate, type Ed25519Columns } from './normalize.js';
import { isCanonicalScalar, reduce512 } from './scalar.js';

/** Bytes of one item record: A, R, S, k (32 each). */
export const RECORD_BYTES = RECORD_WORDS * 4;
/** Messages up to this size are hashed one-shot from a scratch copy of R || A || M (crypto.hash is ~2x cheaper than a Hash object). */
const ONE_SHOT_MAX = 4096;
/** Measured on one thread of the dev box (node 20): SHA-512 of a short R || A || M, mod L, copies. */
const PACK_NS_PER_ITEM = 1_700;

const scratch = new Uint8Array(64 + ONE_SHOT_MAX);

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
 * Writes the records of items [start, end) into `out`, item i at
 * (i - base) * RECORD_BYTES. S >= L is rejected here (RFC 8032 section 5.1.7
 * step 1) by setting bit 255 of k, which a real k (< L < 2^253) never has.
 */
export function packRange(input: Ed25519Columns, out: Uint8Array, base: number, start: number, end: number): void {
  const { data, offsets, publicKeys, signatures } = input;
  for (let i = start; i < end; i++) {
    const at = (i - base) * RECORD_BYTES;
    const a = publicKeys.subarray(i * PUBLIC_KEY_BYTES, (i + 1) * PUBLIC_KEY_BYTES);
    const sig = signatures.subarray(i * SIGNATURE_BYTES, (i + 1) * SIGNATURE_BYTES);
    out.set(a, at);
    out.set(sig, at + 32);
    if (!isCanonicalScalar(sig, 32)) {
      out.fill(0, at + 96, at + RECORD_BYTES - 1);
      out[at + RECORD_BYTES - 1] = 0x80;
      continue;
    }
    const digest = challengeHash(sig.subarray(0, 32), a, data.subarray(offsets[i], offsets[i + 1]));
    reduce512(digest, out, at + 96);
  }
}

/**
 * k of item i into out[at..at+32), for a message the GPU does not hash
 * (gpu.ts). S >= L gives zeros: the shader rejects such an item by S alone.
 */
export function challengeScalar(input: Ed25519Columns, i: number, out: Uint8Array, at: number): void {
  const { data, offsets, publicKeys, signatures } = input;
  const sig = signatures.subarray(i * SIGNATURE_BYTES, (i + 1) * SIGNATURE_BYTES);
  if (!isCanonicalScalar(sig, 32)) {
    out.fill(0, at, at + 32);
    return;
  }
  const a = publicKeys.subarray(i * PUBLIC_KEY_BYTES, (i + 1) * PUBLIC_KEY_BYTES);
  reduce512(challengeHash(sig.subarray(0, 32), a, data.subarray(offsets[i], offsets[i + 1])), out, at);
}

/** Packing as a kernel: one RECORD_BYTES record per item, so worker threads can fill a shared array. */
export const kernel: Kernel<Ed25519Columns, Uint8Array> = {
  name: 'ed25519-pack',
  moduleUrl: import.meta.url,
  outputWidth: RECORD_BYTES,
  cost: { cpuNsPerItem: PACK_NS_PER_ITEM, gpuBytesPerItem: 0, gpuThreshold: Number.POSITIVE_INFINITY },
  validate,
  count: (input) => input.offsets.length - 1,
  createOutput: (items, buffer) =>
    buffer === undefined ? new Uint8Array(items * RECORD_BYTES) : new Uint8Array(buffer, 0, items * RECORD_BYTES),
  cpu: (input, output, start, end) => packRange(input, output, 0, start, end),
};
