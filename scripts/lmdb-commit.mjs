// The floor of a block commit: 100K sorted puts of 67-byte keys (a 50K-transfer block writes
// about that many entries) in one LMDB write transaction, six blocks, with and without fsync.
// Prints one line per environment: [transaction ms, of which puts ms] per block.
// Usage: node scripts/lmdb-commit.mjs
import { open } from 'lmdb';
import { rmSync } from 'node:fs';
const n = 100_000, keyLen = 68;
const bytes = new Uint8Array(new SharedArrayBuffer(200_000 * keyLen));
for (let i = 0; i < 200_000; i++) { const s = `acct:${String(i).padStart(62, '0')}`; for (let j = 0; j < keyLen - 1; j++) bytes[i * keyLen + j] = s.charCodeAt(j) || 48; }
const v = Buffer.alloc(8);
for (const opts of [{}, { noSync: true }, {}, { noSync: true }]) {
  rmSync('/tmp/lmprobe', { recursive: true, force: true });
  const root = open({ path: '/tmp/lmprobe', compression: false, ...opts });
  const db = root.openDB({ name: 'state', encoding: 'binary', keyEncoding: 'binary' });
  const times = [];
  for (let b = 0; b < 6; b++) {
    let put = 0;
    const t0 = performance.now();
    root.transactionSync(() => {
      const t = performance.now();
      for (let k = 0; k < n; k++) { const id = k * 2 + (b & 1); v.writeBigUInt64LE(BigInt(k)); db.putSync(bytes.subarray(id * keyLen, id * keyLen + keyLen - 1), v); }
      put = performance.now() - t;
    });
    times.push([+(performance.now() - t0).toFixed(1), +put.toFixed(1)]);
  }
  console.log(JSON.stringify(opts), JSON.stringify(times));
  await root.close();
}
