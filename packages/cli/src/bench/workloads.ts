import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { toShared } from '@supervm/gpu-executor';
import type { Ed25519Columns, Sha256Columns, VectorAddInput } from '@supervm/gpu-executor/kernels';

/**
 * Deterministic inputs per kernel and size, built once per size and reused by
 * every case. Columns live in shared memory, as the runtime recommends for
 * large batches: worker threads then read them without a copy per batch.
 */
export function vectorAddInput(n: number): VectorAddInput {
  const a = new Float32Array(new SharedArrayBuffer(n * 4));
  const b = new Float32Array(new SharedArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) {
    a[i] = (i % 1000) * 0.5;
    b[i] = (i % 777) * 0.25;
  }
  return { a, b };
}

/** `n` messages of `bytes` bytes each, packed. */
export function sha256Input(n: number, bytes = 64): Sha256Columns {
  const data = new Uint8Array(new SharedArrayBuffer(n * bytes));
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >>> 8)) & 0xff;
  return { data, offsets: toShared(Uint32Array.from({ length: n + 1 }, (_, i) => i * bytes)) };
}

export interface Ed25519Workload {
  columns: Ed25519Columns;
  messages: Uint8Array[];
  publicKeys: Uint8Array[];
  signatures: Uint8Array[];
}

/** `n` valid signatures over 64-byte messages from 64 signers (round robin), every 16th corrupted. */
export function ed25519Input(n: number): Ed25519Workload {
  const signers = Array.from({ length: 64 }, () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
    return { raw, privateKey };
  });
  const messages: Uint8Array[] = [];
  const publicKeys: Uint8Array[] = [];
  const signatures: Uint8Array[] = [];
  const data = new Uint8Array(n * 64);
  const keys = new Uint8Array(n * 32);
  const sigs = new Uint8Array(n * 64);
  for (let i = 0; i < n; i++) {
    const signer = signers[i % signers.length]!;
    const msg = new Uint8Array(createHash('sha512').update(`message ${i}`).digest());
    const sig = new Uint8Array(sign(null, msg, signer.privateKey));
    if (i % 16 === 15) sig[5]! ^= 0x40;
    data.set(msg, i * 64);
    keys.set(signer.raw, i * 32);
    sigs.set(sig, i * 64);
    messages.push(msg);
    publicKeys.push(signer.raw);
    signatures.push(sig);
  }
  return {
    columns: { data: toShared(data), offsets: toShared(Uint32Array.from({ length: n + 1 }, (_, i) => i * 64)), publicKeys: toShared(keys), signatures: toShared(sigs) },
    messages,
    publicKeys,
    signatures,
  };
}

/** SHA-256 workloads are the kernel's columns. */
export type Sha256Workload = Sha256Columns;
