/**
 * The commit thread and the per-block thread count: commits overlap the
 * next block's execution yet land one block per LMDB transaction, in order;
 * close() waits for them; a failed commit stops the chain at the block
 * before; blocks run on the threads their estimated work asks for, with the
 * same result as sequential execution.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { closeRuntime } from '@supervm/gpu-executor';
import { BlockStmPool, estimateWorkNs } from '../src/block-stm/parallel.js';
import { KIND_CALL, KIND_TRANSFER, buildTables, type TxSlots } from '../src/block-stm/layout.js';
import { Chain, type BlockResult } from '../src/chain.js';
import { contractId } from '../src/contracts/index.js';
import { executeSequential } from '../src/sequential.js';
import { SIGNERS, signBlock, txSpecArb, type TxSpec } from './helpers/blocks.js';
import { tempDirs } from './helpers/temp-dirs.js';

const dirs = tempDirs('supervm-commit-');
after(async () => {
  await closeRuntime();
  dirs.removeAll();
});

const ACCOUNTS = 8;
const genesis = SIGNERS.slice(0, ACCOUNTS).map((s, a) => ({ publicKey: s.publicKey, balance: BigInt(1000 + 100 * a) }));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const summary = (r: BlockResult) => ({ height: r.height, root: hex(r.stateRoot), ids: hex(r.txIds), receipts: r.receipts });

describe('commits on the commit thread', () => {
  test('overlapped commits equal commits one at a time; close() flushes them; every block record is on disk after reopening', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(txSpecArb(ACCOUNTS, 2), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 5 }), async (specs: TxSpec[][]) => {
        const nonces = new Array<bigint>(ACCOUNTS).fill(0n);
        const blocks = specs.map((s) => signBlock(s, nonces).encoded);
        const open = async (path: string, overlapCommit: boolean): Promise<Chain> => {
          const chain = await Chain.open({ path, threads: 2, device: 'cpu', sequentialBelow: 0, overlapCommit });
          await chain.genesis(genesis);
          return chain;
        };
        const serialPath = dirs.make();
        const overlappedPath = dirs.make();
        const serial = await open(serialPath, false);
        const overlapped = await open(overlappedPath, true);
        const expected: BlockResult[] = [];
        let submitted: Promise<BlockResult>[];
        try {
          for (const block of blocks) expected.push(await serial.executeBlock(block));
          // Every block submitted at once; close() right after must wait for all of them to commit.
          submitted = blocks.map((block) => overlapped.executeBlock(block));
          // A block executed but perhaps still committing is already readable (from memory, then from disk).
          const first = await Promise.race(submitted);
          assert.ok(overlapped.block(first.height) !== undefined);
        } finally {
          await serial.close();
          await overlapped.close();
        }
        const results = await Promise.all(submitted);
        assert.deepEqual(results.map(summary), expected.map(summary));
        const reopened = await Chain.open({ path: overlappedPath, threads: 1, device: 'cpu' });
        try {
          assert.equal(reopened.height, blocks.length);
          assert.equal(hex(reopened.stateRoot), hex(expected.at(-1)!.stateRoot));
          for (const r of expected) {
            const record = reopened.block(r.height)!;
            assert.equal(hex(record.stateRoot), hex(r.stateRoot));
            assert.equal(hex(record.txIds), hex(r.txIds));
            assert.equal(record.receipts.length, r.receipts.length);
          }
          assert.deepEqual([...reopened.state].sort(), [...(await stateOf(serialPath))].sort());
        } finally {
          await reopened.close();
        }
      }),
      { numRuns: 8 },
    );
  });

  test('a commit that fails inside its transaction leaves the store at the block before; the chain then refuses blocks; reopening resumes there', async () => {
    const path = dirs.make();
    const nonces = new Array<bigint>(ACCOUNTS).fill(0n);
    const spec = (from: number, to: number): TxSpec => ({ from, kind: 'transfer', to, amount: 5n, key: 0, rounds: 0, gasLimit: 0, fault: 'none' });
    const blocks = [0, 1, 2].map((b) => signBlock([spec(b, b + 1), spec(b + 3, b), spec(b + 4, b + 2)], nonces).encoded);
    const chain = await Chain.open({
      path,
      threads: 2,
      device: 'cpu',
      commitHook: (height, written) => {
        if (height === 2 && written === 2) throw new Error('disk on fire');
      },
    });
    let first: BlockResult;
    try {
      await chain.genesis(genesis);
      first = await chain.executeBlock(blocks[0]!);
      await assert.rejects(chain.executeBlock(blocks[1]!), /disk on fire/);
      await assert.rejects(chain.executeBlock(blocks[2]!), /commit/);
    } finally {
      await chain.close();
    }
    const reopened = await Chain.open({ path, threads: 1, device: 'cpu' });
    try {
      assert.equal(reopened.height, 1);
      assert.equal(hex(reopened.stateRoot), hex(first.stateRoot));
      // The chain continues from block 1 with the block that failed to commit.
      const again = await reopened.executeBlock(blocks[1]!);
      assert.equal(again.height, 2);
      assert.ok(again.receipts.every((r) => r === 'ok'));
    } finally {
      await reopened.close();
    }
  });
});

/** The state a chain folder holds, read by opening it. */
async function stateOf(path: string): Promise<ReadonlyMap<string, bigint>> {
  const chain = await Chain.open({ path, threads: 1, device: 'cpu' });
  try {
    return new Map(chain.state);
  } finally {
    await chain.close();
  }
}

/** A block of `transfers` transfers and `calls` work calls of `gas` gas over 16 accounts and 4 keys. */
function slotBlock(transfers: number, calls: number, gas: number) {
  const accounts = 16;
  const work = contractId('work');
  const base = new BigUint64Array(2 * accounts + 4).fill(1_000_000n);
  const nonces = new Array<bigint>(accounts).fill(0n);
  const txs: TxSlots[] = [];
  for (let i = 0; i < transfers + calls; i++) {
    const from = i % accounts;
    const tx: TxSlots = {
      kind: KIND_TRANSFER, preset: 0, senderNonce: 2 * from + 1, senderBalance: 2 * from, recipientBalance: 2 * ((i * 7 + 3) % accounts),
      nonce: nonces[from]!++, amount: BigInt(i % 9), contract: -1, gasLimit: 0, sender: new Uint8Array(32).fill(from), args: new Uint8Array(0), keySlots: [],
    };
    txs.push(i < transfers ? tx : { ...tx, kind: KIND_CALL, contract: work, gasLimit: gas, args: new Uint8Array(new Uint32Array([gas >> 1, i % 4]).buffer), keySlots: [2 * accounts + (i % 4)] });
  }
  return buildTables(txs, base);
}

describe('threads per block', () => {
  const pools = [0, 200_000, 1_000_000, 5_000_000].map((workPerThreadNs) => new BlockStmPool(4, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs }));
  after(async () => Promise.all(pools.map((p) => p.close())));

  test('one thread per workPerThreadNs of estimated work, 1 to all; cheap blocks get few; the result always equals sequential execution', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(300), fc.nat(120), fc.constantFrom(50, 2_000, 20_000), fc.nat(pools.length - 1), async (transfers, calls, gas, p) => {
        fc.pre(transfers + calls > 0);
        const pool = pools[p]!;
        const t = slotBlock(transfers, calls, gas);
        const threads = pool.threadsFor(t);
        assert.ok(threads >= 1 && threads <= pool.threads);
        if (pool.workPerThreadNs === 0) assert.equal(threads, pool.threads);
        else assert.equal(threads, Math.min(pool.threads, Math.max(1, Math.ceil(estimateWorkNs(t) / pool.workPerThreadNs))));
        const expected = executeSequential(slotBlock(transfers, calls, gas));
        const outcome = await pool.execute(t);
        assert.deepEqual([...outcome.receipts], [...expected.receipts]);
        assert.deepEqual([...outcome.writes].sort((a, b) => a[0] - b[0]), [...expected.writes].sort((a, b) => a[0] - b[0]));
      }),
      { numRuns: 60 },
    );
  });

  test('defaults: a block of cheap transfers runs on one worker, heavy calls on every thread; small blocks stay sequential', () => {
    const pool = pools[0]!; // only for its threads; the defaults are checked on a fresh options object below
    const defaults = new BlockStmPool(pool.threads);
    try {
      assert.equal(defaults.workPerThreadNs, 50_000_000);
      assert.equal(defaults.threadsFor(slotBlock(40_000, 0, 0)), 1);
      assert.equal(defaults.threadsFor(slotBlock(0, 20_000, 4_000)), 4);
      assert.equal(defaults.threadsFor(slotBlock(10, 0, 0)), 1);
      assert.equal(defaults.runsInParallel(slotBlock(10, 0, 0)), false);
    } finally {
      void defaults.close();
    }
  });
});
