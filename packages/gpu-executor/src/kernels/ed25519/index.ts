import type { Kernel } from '../kernel.js';
import { verifyRange } from './cpu.js';
import { gpuKernel, hostPackedGpuKernel, RECORD_BYTES } from './gpu.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, validate, type Ed25519Columns } from './normalize.js';

export { toEd25519Columns, validate, type Ed25519Columns, type Ed25519BatchInput } from './normalize.js';

/**
 * Message bytes that cost as much as one verification of a short message:
 * SHA-512 runs at ~0.8 GB/s and a verification takes ~95 us on the dev box
 * (one thread, node 20 / OpenSSL 3.0), so ~80 kB.
 */
const BYTES_PER_VERIFY = 80_000;

/** The Ed25519 batch verification kernel: one verdict byte per item, 1 valid, 0 invalid (README.md). */
export const kernel: Kernel<Ed25519Columns, Uint8Array> = {
  name: 'ed25519-verify',
  moduleUrl: import.meta.url,
  outputWidth: 1,
  cost: {
    // Measured: ~95 us per 64-byte message, a different key each item (JWK import ~6 us of it).
    cpuNsPerItem: 95_000,
    // Key, signature and offset up (plus the message), one u32 verdict down.
    gpuBytesPerItem: PUBLIC_KEY_BYTES + SIGNATURE_BYTES + 4 + 4,
    gpuThreshold: 256,
  },
  validate,
  count: (input) => input.offsets.length - 1,
  createOutput: (items, buffer) => (buffer === undefined ? new Uint8Array(items) : new Uint8Array(buffer, 0, items)),
  cpu: verifyRange,
  /** In short-message verifications: one per item plus the hashing of long messages. */
  work: (input, start, end) => end - start + ((input.offsets[end] ?? 0) - (input.offsets[start] ?? 0)) / BYTES_PER_VERIFY,
  gpu: gpuKernel,
};

/**
 * The same verification with the previous GPU plan: k computed on the host
 * (worker pool when the executor has one) and 128-byte records uploaded. For
 * before/after measurements; `kernel` is the one to use.
 */
export const hostPackedKernel: Kernel<Ed25519Columns, Uint8Array> = {
  ...kernel,
  name: 'ed25519-verify-hostpack',
  cost: { ...kernel.cost, gpuBytesPerItem: RECORD_BYTES + 4 },
  gpu: hostPackedGpuKernel,
};
