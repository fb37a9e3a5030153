import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type Ed25519Columns } from './normalize.js';

/**
 * A KeyObject from a raw 32-byte key. JWK import is ~10x cheaper than an SPKI
 * DER import here (OpenSSL 3's DER decoder lookup dominates: ~6 us vs ~70 us
 * per key on the dev box), and Node 20 has no raw import.
 */
function importKey(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * KeyObjects of recent keys on this thread, by base64url key. Signers recur
 * (accounts send many transactions, validators sign every block): a hit costs
 * a string and a lookup instead of an import. Bounded; the oldest entry goes first.
 */
const KEY_CACHE_SIZE = 4096;
const keyCache = new Map<string, KeyObject>();

function keyObject(publicKeys: Uint8Array, at: number): KeyObject {
  const x = Buffer.from(publicKeys.buffer, publicKeys.byteOffset + at, PUBLIC_KEY_BYTES).toString('base64url');
  let key = keyCache.get(x);
  if (key === undefined) {
    key = importKey(x);
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(x, key);
  }
  return key;
}

function sameKey(keys: Uint8Array, a: number, b: number): boolean {
  for (let j = 0; j < PUBLIC_KEY_BYTES; j++) if (keys[a + j] !== keys[b + j]) return false;
  return true;
}

/**
 * Verifies items [start, end) with node:crypto (OpenSSL), the reference verdict:
 * 1 when `crypto.verify(null, msg, A, R||S)` is true, else 0. OpenSSL may throw
 * on a key it cannot use; that is a 0, not an error. A key equal to the previous
 * item's reuses its KeyObject without a lookup (batches from one signer are common).
 */
export function verifyRange(input: Ed25519Columns, output: Uint8Array, start: number, end: number): void {
  const { data, offsets, publicKeys, signatures } = input;
  let key: KeyObject | undefined;
  let keyAt = -1;
  for (let i = start; i < end; i++) {
    const pkAt = i * PUBLIC_KEY_BYTES;
    let ok = false;
    try {
      if (key === undefined || !sameKey(publicKeys, keyAt, pkAt)) {
        key = undefined;
        key = keyObject(publicKeys, pkAt);
        keyAt = pkAt;
      }
      const msg = data.subarray(offsets[i], offsets[i + 1]);
      const sig = signatures.subarray(i * SIGNATURE_BYTES, (i + 1) * SIGNATURE_BYTES);
      ok = verify(null, msg, key, sig);
    } catch {
      ok = false;
    }
    output[i] = ok ? 1 : 0;
  }
}
