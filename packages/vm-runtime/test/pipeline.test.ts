import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain, type BlockResult } from '../src/chain.js';
import { executeWithHybrid } from '../src/hybrid.js';
import { StateRootCache, stateRoot } from '../src/state-root.js';
import { SIGNERS, signBlock, txSpecArb, type TxSpec } from './helpers/blocks.js';
import { tempDirs } from './helpers/temp-dirs.js';

const dirs = tempDirs('supervm-pipeline-');
const tempDir = dirs.make;
after(async () => {
  await closeRuntime();
  dirs.removeAll();
});

const ACCOUNTS = 8;
const genesis = SIGNERS.slice(0, ACCOUNTS).map((s, a) => ({ publicKey: s.publicKey, balance: BigInt(100 * a) }));
const summary = (r: BlockResult) => ({ height: r.height, root: Buffer.from(r.stateRoot).toString('hex'), ids: Buffer.from(r.txIds).toString('hex'), receipts: r.receipts });

describe('pipelined blocks equal blocks run one at a time', () => {
  test('submitted without waiting, or verified ahead with verifyBlock: same receipts, ids, roots and state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(txSpecArb(ACCOUNTS, 2), { maxLength: 50 }), { minLength: 1, maxLength: 4 }), async (specs: TxSpec[][]) => {
        const nonces = new Array<bigint>(ACCOUNTS).fill(0n);
        const blocks = specs.map((s) => signBlock(s, nonces).encoded);
        const open = async (): Promise<Chain> => {
          const chain = await Chain.open({ path: tempDir(), threads: 2, device: 'cpu', sequentialBelow: 0 });
          await chain.genesis(genesis);
          return chain;
        };
        const [serial, together, ahead] = await Promise.all([open(), open(), open()]);
        try {
          const expected: BlockResult[] = [];
          for (const block of blocks) expected.push(await serial.executeBlock(block));
          // All at once: verification of block k+1 overlaps block k's execution.
          const submitted = await Promise.all(blocks.map((block) => together.executeBlock(block)));
          // Every block verified first, then executed in order from the prepared form.
          const prepared = await Promise.all(blocks.map((block) => ahead.verifyBlock(block)));
          const fromPrepared: BlockResult[] = [];
          for (const p of prepared) fromPrepared.push(await ahead.executeBlock(p));
          assert.deepEqual(submitted.map(summary), expected.map(summary));
          assert.deepEqual(fromPrepared.map(summary), expected.map(summary));
          assert.deepEqual([...together.state].sort(), [...serial.state].sort());
          assert.deepEqual([...ahead.state].sort(), [...serial.state].sort());
        } finally {
          await Promise.all([serial.close(), together.close(), ahead.close()]);
        }
      }),
      { numRuns: 12 },
    );
  });

  test('a malformed block among pipelined ones rejects alone; the blocks after it still run on the state before it', async () => {
    const nonces = new Array<bigint>(ACCOUNTS).fill(0n);
    const spec = (from: number): TxSpec => ({ from, kind: 'transfer', to: 1, amount: 1n, key: 0, rounds: 0, gasLimit: 0, fault: 'none' });
    const first = signBlock([spec(2), spec(3)], nonces).encoded;
    const good = signBlock([spec(4)], nonces).encoded;
    const chain = await Chain.open({ path: tempDir(), threads: 2, device: 'cpu' });
    try {
      await chain.genesis(genesis);
      const results = await Promise.allSettled([chain.executeBlock(first), chain.executeBlock([good[0]!.subarray(0, 60)]), chain.executeBlock(good)]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      assert.equal((results[1] as PromiseRejectedResult).reason.code, 'INVALID_INPUT');
      assert.equal(results[2].status, 'fulfilled');
      assert.equal((results[2] as PromiseFulfilledResult<BlockResult>).value.height, 2);
      assert.equal(chain.height, 2);
    } finally {
      await chain.close();
    }
  });
});

describe('decoding', () => {
  test('a transfer-sized encoding with a wrong version or kind is INVALID_INPUT with its index', async () => {
    const { encoded } = signBlock([{ from: 0, kind: 'transfer', to: 1, amount: 1n, key: 0, rounds: 0, gasLimit: 0, fault: 'none' }], [0n]);
    const good = encoded[0]!;
    for (const [at, byte] of [[0, 2], [41, 3], [41, 0]] as const) {
      const bad = Uint8Array.from(good);
      bad[at] = byte;
      await assert.rejects(executeWithHybrid([good, good, bad], { state: new Map(), threads: 1, device: 'cpu' }), { code: 'INVALID_INPUT', index: 2 });
    }
  });
});

/**
 * An independent Merkle root (node:crypto, one hash at a time). Keys sort as
 * JS strings (UTF-16 code units), as the root always has: that is UTF-8 byte
 * order except for characters beyond U+FFFF.
 */
function naiveRoot(state: ReadonlyMap<string, bigint>): Uint8Array {
  const sha = (...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
  const entries = [...state].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const);
  if (entries.length === 0) return sha();
  let level = entries.map(([k, v]) => {
    const value = Buffer.alloc(8);
    value.writeBigUInt64LE(v);
    return sha(k, value);
  });
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sha(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

describe('state root cache', () => {
  const keyArb = fc.oneof(
    fc.integer({ min: 0, max: 300 }).map((i) => `b/${i.toString(16).padStart(4, '0')}`),
    fc.integer({ min: 0, max: 300 }).map((i) => `n/${i}`),
    fc.string({ unit: 'grapheme', maxLength: 4 }).map((s) => `c/x/${s}`),
  );
  const changesArb = fc.array(fc.tuple(keyArb, fc.bigInt(0n, (1n << 64n) - 1n)), { maxLength: 40 });

  test('after every block it equals an independent Merkle root, with few changes (changed paths only) and many, added keys and none', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(keyArb, fc.bigInt(0n, 1000n)), { maxLength: 300 }), fc.array(changesArb, { minLength: 1, maxLength: 6 }), async (initial, blocks) => {
        const state = new Map(initial);
        const { cache, root } = await StateRootCache.build(state, 'cpu');
        assert.deepEqual(Buffer.from(root), Buffer.from(naiveRoot(state)));
        for (const entries of blocks) {
          // Half the blocks only rewrite existing keys, so the tree keeps its shape.
          const existing = [...state.keys()];
          const changes = new Map(existing.length > 0 && entries.length % 2 === 0 ? entries.map(([, v], i) => [existing[(i * 7) % existing.length]!, v]) : entries);
          const next = await cache.prepare(state, changes);
          next.apply();
          for (const [k, v] of changes) state.set(k, v);
          assert.deepEqual(Buffer.from(next.root), Buffer.from(naiveRoot(state)));
        }
        assert.deepEqual(Buffer.from(await stateRoot(state, 'cpu')), Buffer.from(naiveRoot(state)));
      }),
      { numRuns: 150 },
    );
  });
});
