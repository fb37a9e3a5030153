/**
 * Storage format 2 (state-codec.ts): one LMDB record per account (its
 * balance and nonce keys), binary keys, a `format` entry in the meta DB.
 * What a store reads back equals what was written, key ids come back in key
 * order as format 1 gave them, a block changing only a balance or a nonce
 * keeps the other, and a folder of another format is refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { open } from 'lmdb';
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain } from '../src/chain.js';
import { balanceKey, contractKey, nonceKey } from '../src/keys.js';
import { ACCOUNT_TAG, STATE_FORMAT, writeStateEntries } from '../src/state-codec.js';
import { ChainStore, type BlockRecord } from '../src/store.js';
import { tempDirs } from './helpers/temp-dirs.js';

const dirs = tempDirs('supervm-format-');
after(async () => {
  await closeRuntime();
  dirs.removeAll();
});

const record = (height: number): BlockRecord => ({ height, stateRoot: new Uint8Array(32).fill(height), txIds: new Uint8Array(0), receipts: new Uint8Array(0) });
const ACCOUNTS = Array.from({ length: 6 }, (_, a) => new Uint8Array(32).fill(0x11 * a).map((b, i) => (i === 31 ? a : b)));
/** Keys that are not account keys, some close to one, sorting before, among and after the account keys. */
const OTHER_KEYS = [
  'a',
  'b',
  'b/',
  `b/${'0'.repeat(63)}`,
  `b/${'A'.repeat(64)}`,
  `b/${'0'.repeat(64)}x`,
  `b/${'1'.repeat(63)}g`,
  contractKey('counter', 'x'),
  contractKey('work', 'é∑'),
  'm',
  `n/${'f'.repeat(64)}0`,
  'o',
  'zz\u00ff',
];
const KEYS = [...ACCOUNTS.flatMap((a) => [balanceKey(a), nonceKey(a)]), ...OTHER_KEYS];

function sortedEntries(map: ReadonlyMap<string, bigint>): [string, bigint][] {
  const bytes = (k: string): Buffer => Buffer.from(k, 'utf8');
  return [...map].sort((x, y) => Buffer.compare(bytes(x[0]), bytes(y[0])));
}

const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const blockArb = fc.array(fc.tuple(fc.constantFrom(...KEYS), u64), { minLength: 1, maxLength: 24 });

describe('storage format 2', () => {
  test('blocks written on the commit thread or this one read back equal, ids in key order; partial account updates keep the other value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(blockArb, { minLength: 1, maxLength: 5 }), fc.boolean(), async (blocks, onThread) => {
        const path = dirs.make();
        const expected = new Map<string, bigint>();
        const hooked: number[][] = [];
        const store = new ChainStore(path, (height, written, total) => {
          hooked[height] ??= [];
          hooked[height]!.push(written);
          assert.ok(written <= total);
        });
        try {
          for (const [height, entries] of blocks.entries()) {
            const changes = new Map(entries);
            if (onThread) await store.commitAsync(changes, record(height));
            else store.commit(changes, record(height));
            for (const [k, v] of changes) expected.set(k, v);
            // The hook ran once per state entry, counting up.
            assert.deepEqual(hooked[height], Array.from({ length: changes.size }, (_, i) => i + 1));
          }
        } finally {
          await store.close();
        }
        const reopened = new ChainStore(path);
        try {
          assert.equal(reopened.height(), blocks.length - 1);
          const state = reopened.loadState();
          // Entries equal, and in key order: the ids format 1 gave (it read keys in key order).
          assert.deepEqual([...state], sortedEntries(expected));
        } finally {
          await reopened.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  test('writes in any order, with repeated keys, land as in order (the last of equal keys wins)', () => {
    const accounts = Array.from({ length: 50 }, () => randomBytes(32));
    const entries: [string, bigint][] = [];
    for (let i = 0; i < 300; i++) {
      const a = accounts[i % 50]!;
      entries.push([i % 3 === 0 ? nonceKey(a) : balanceKey(a), BigInt(i)]);
    }
    entries.push([OTHER_KEYS[3]!, 7n], [OTHER_KEYS[3]!, 8n]);
    const puts = new Map<string, Uint8Array>();
    const db = {
      putSync: (key: Uint8Array, value: Uint8Array) => puts.set(Buffer.from(key).toString('hex'), Uint8Array.from(value)),
      getBinaryFast: (key: Uint8Array) => {
        const v = puts.get(Buffer.from(key).toString('hex'));
        return v && Buffer.from(v);
      },
    } as unknown as Parameters<typeof writeStateEntries>[0];
    const pack = (list: [string, bigint][]) => {
      const keys = list.map(([k]) => Buffer.from(k, 'utf8'));
      const bytes = Buffer.concat(keys);
      const starts = new Uint32Array(list.length);
      const ends = new Uint32Array(list.length);
      for (let k = 0, at = 0; k < list.length; k++) {
        starts[k] = at;
        ends[k] = at += keys[k]!.length;
      }
      return { bytes, starts, ends, values: BigUint64Array.from(list, ([, v]) => v) };
    };
    let written = 0;
    writeStateEntries(db, pack(entries), (w) => assert.equal(w, ++written));
    assert.equal(written, entries.length);
    const shuffled = new Map(puts);
    puts.clear();
    const last = new Map(entries);
    writeStateEntries(db, pack(sortedEntries(last)));
    assert.deepEqual(shuffled, puts);
    // One record per account: ACCOUNT_TAG and its 32 bytes, 17-byte values.
    for (const [key, value] of puts) {
      if (key.startsWith(ACCOUNT_TAG.toString(16))) {
        assert.equal(key.length, 66);
        assert.equal(value.length, 17);
      } else assert.equal(value.length, 8);
    }
    assert.equal(puts.size, 50 + 1);
  });

  test('a chain stores one record per account and the format entry, and reopens with the same state and root', async () => {
    const path = dirs.make();
    const accounts = ACCOUNTS.slice(0, 3);
    const chain = await Chain.open({ path, threads: 1, device: 'cpu' });
    let state: [string, bigint][];
    let root: string;
    try {
      await chain.genesis(accounts.map((publicKey, a) => ({ publicKey, balance: BigInt(100 * (a + 1)) })));
      state = [...chain.state];
      root = Buffer.from(chain.stateRoot).toString('hex');
    } finally {
      await chain.close();
    }
    const env = open({ path, compression: false });
    try {
      assert.equal(env.openDB<number, string>({ name: 'meta' }).get('format'), STATE_FORMAT);
      const keys = [...env.openDB<Uint8Array, Uint8Array>({ name: 'state', encoding: 'binary', keyEncoding: 'binary' }).getRange()].map(({ key, value }) => [Buffer.from(key).toString('hex'), value.length]);
      assert.deepEqual(keys, accounts.map((a) => [Buffer.concat([Buffer.of(ACCOUNT_TAG), a]).toString('hex'), 17]).sort());
    } finally {
      await env.close();
    }
    const reopened = await Chain.open({ path, threads: 1, device: 'cpu' });
    try {
      assert.deepEqual([...reopened.state].sort(), state.sort());
      assert.equal(Buffer.from(reopened.stateRoot).toString('hex'), root);
    } finally {
      await reopened.close();
    }
  });

  test('a folder in format 1 (hex keys, no format entry) or of an unknown format is refused, not misread', async () => {
    const old = dirs.make();
    const env = open({ path: old, compression: false });
    const account = randomBytes(32);
    env.transactionSync(() => {
      const value = Buffer.alloc(8);
      value.writeBigUInt64LE(5n);
      env.openDB({ name: 'state', encoding: 'binary', keyEncoding: 'binary' }).putSync(Buffer.from(balanceKey(account)), value);
      env.openDB({ name: 'blocks' }).putSync(0, record(0));
      env.openDB({ name: 'meta' }).putSync('height', 0);
    });
    await env.close();
    assert.throws(() => new ChainStore(old), /storage format 1/);
    await assert.rejects(Chain.open({ path: old, threads: 1, device: 'cpu' }), /storage format 1/);

    const future = dirs.make();
    const store = new ChainStore(future);
    store.commit(new Map([[balanceKey(account), 1n]]), record(0));
    await store.close();
    const meta = open({ path: future, compression: false });
    await meta.openDB({ name: 'meta' }).put('format', STATE_FORMAT + 1);
    await meta.close();
    assert.throws(() => new ChainStore(future), new RegExp(`storage format ${STATE_FORMAT + 1}`));
  });
});
