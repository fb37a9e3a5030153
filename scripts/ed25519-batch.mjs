// A batch of n signed 64-byte messages from 64 signers, as verifyEd25519Batch's
// columns; every `corruptEvery`-th signature has one flipped bit (0: none).
import { generateKeyPairSync, sign } from 'node:crypto';

export function signedBatch(n, { corruptEvery = 0 } = {}) {
  const signers = Array.from({ length: 64 }, () => {
    const pair = generateKeyPairSync('ed25519');
    return { ...pair, raw: Buffer.from(pair.publicKey.export({ format: 'jwk' }).x, 'base64url') };
  });
  const data = new Uint8Array(n * 64);
  const publicKeys = new Uint8Array(n * 32);
  const signatures = new Uint8Array(n * 64);
  for (let i = 0; i < n; i++) {
    const s = signers[i % 64];
    const msg = data.subarray(i * 64, i * 64 + 64);
    msg.fill(i & 0xff, 0, 8);
    publicKeys.set(s.raw, i * 32);
    const sig = sign(null, msg, s.privateKey);
    if (corruptEvery > 0 && i % corruptEvery === corruptEvery - 1) sig[3] ^= 1;
    signatures.set(sig, i * 64);
  }
  return { data, offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i * 64), publicKeys, signatures };
}
