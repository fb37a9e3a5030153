// The floor of a block commit: 100K sorted puts of 67-byte keys (a 50K-transfer block writes
// about that many entries) in one LMDB write transaction, six blocks, with and without fsync.
// Prints one line per environment: [transaction ms, of which puts ms] per block.
// Usage: node scripts/lmdb-commit.mjs
//
// --real [blocks]: the chain's own commit instead (run `npx tsc -b` first): ChainStore.commitAsync on its
// commit thread, with the keys a 50K-transfer block over 100K accounts writes (`b/<hex>` and `n/<hex>` keys
// interned in a ChainState's key pool, handed over in key order like Chain does, senders round-robin,
// recipients at random, 1% to one hot account) and a block record with 50K tx ids. Prints the commit
// thread's ms per block after genesis (CommitDone.ms: what `supervm run --json` reports as commitMs),
// and checks that a reopened store holds the state written.
import { open } from 'lmdb';
import { rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';

if (process.argv[2] === '--real') {
  const { ChainStore } = await import('../packages/vm-runtime/dist/src/store.js');
  const { ChainState } = await import('../packages/vm-runtime/dist/src/state.js');
  const accounts = 100_000, txs = 50_000, blocks = Number(process.argv[3] ?? 6);
  const state = new ChainState();
  const publicKeys = Buffer.concat(Array.from({ length: accounts }, (_, i) => createHash('sha256').update(`account-${i}`).digest()));
  const ids = Array.from({ length: accounts }, (_, a) => state.account(publicKeys, a * 32));
  let x = 12345;
  const random = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
  rmSync('/tmp/lmprobe-real', { recursive: true, force: true });
  const store = new ChainStore('/tmp/lmprobe-real');
  const times = [];
  for (let b = 0; b <= blocks; b++) {
    const keys = new Set();
    if (b === 0) for (let a = 0; a < accounts; a++) keys.add(state.accountKey(ids[a], false));
    else
      for (let i = 0; i < txs; i++) {
        const sender = ids[((b - 1) * txs + i) % accounts];
        keys.add(state.accountKey(sender, false));
        keys.add(state.accountKey(sender, true));
        keys.add(state.accountKey(ids[random() < 0.01 ? 0 : Math.floor(random() * accounts)], false));
      }
    const order = [...keys].sort((p, q) => state.pool.compare(p, q));
    const n = order.length, starts = new Uint32Array(n), ends = new Uint32Array(n), values = new BigUint64Array(n);
    for (let k = 0; k < n; k++) {
      starts[k] = state.pool.start(order[k]);
      ends[k] = state.pool.end(order[k]);
      values[k] = BigInt(b * 1_000_003 + k);
      state.set(order[k], values[k]);
    }
    const record = { height: b, stateRoot: randomBytes(32), txIds: randomBytes(b ? 32 * txs : 0), receipts: new Uint8Array(b ? txs : 0) };
    const { ms } = await store.commitAsync({ bytes: state.pool.bytes, starts, ends, values }, record);
    if (b > 0) times.push([n, +ms.toFixed(1)]);
  }
  await store.close();
  const sorted = times.map((t) => t[1]).sort((p, q) => p - q);
  console.log('real [entries, commit ms]', JSON.stringify(times), 'median', sorted[sorted.length >> 1]);
  const reopened = new ChainStore('/tmp/lmprobe-real');
  const loaded = reopened.loadState();
  const same = loaded.size === state.size && [...state].every(([k, v]) => loaded.get(k) === v);
  await reopened.close();
  console.log('reopened', loaded.size, 'keys:', same ? 'equal to the state written' : 'DIFFERENT');
  process.exit(same ? 0 : 1);
}
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
