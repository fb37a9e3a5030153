/**
 * The `node:crypto-workers` peer's worker: node:crypto called directly in a
 * piscina worker thread over shared-memory columns, without SuperVM's
 * executor, kernel validation or scheduler. What a user would write by hand.
 */
import { createPublicKey, hash, verify, type KeyObject } from 'node:crypto';

export type PeerTask =
  | { op: 'sha256'; data: Uint8Array; offsets: Uint32Array; out: Uint8Array; start: number; end: number }
  | { op: 'ed25519'; data: Uint8Array; offsets: Uint32Array; keys: Uint8Array; sigs: Uint8Array; out: Uint8Array; start: number; end: number };

/** Each worker imports a signer's key once (the first, warm-up run) and reuses it, as a long-lived verifier would. */
const keyCache = new Map<string, KeyObject>();

function keyFor(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw.buffer, raw.byteOffset, 32).toString('base64url');
  let key = keyCache.get(x);
  if (key === undefined) {
    if (keyCache.size >= 65_536) keyCache.clear();
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    keyCache.set(x, key);
  }
  return key;
}

export default function run(task: PeerTask): number {
  const { data, offsets, out, start, end } = task;
  if (task.op === 'sha256') {
    for (let i = start; i < end; i++) out.set(hash('sha256', data.subarray(offsets[i]!, offsets[i + 1]!), 'buffer') as unknown as Uint8Array, i * 32);
  } else {
    const { keys, sigs } = task;
    for (let i = start; i < end; i++) {
      let ok = false;
      try {
        ok = verify(null, data.subarray(offsets[i]!, offsets[i + 1]!), keyFor(keys.subarray(i * 32, i * 32 + 32)), sigs.subarray(i * 64, i * 64 + 64));
      } catch {
        ok = false;
      }
      out[i] = ok ? 1 : 0;
    }
  }
  return end - start;
}
