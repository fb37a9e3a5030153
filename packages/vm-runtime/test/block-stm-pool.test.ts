import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { allocateRun, prepareTables, runSingle, runStats, runWorker } from '../src/block-stm/engine.js';
import { BlockStmPool, committedWrites } from '../src/block-stm/parallel.js';
import { KIND_CALL, KIND_TRANSFER, buildTables, type BlockTables, type TxSlots } from '../src/block-stm/layout.js';
import { contractId } from '../src/contracts/index.js';
import { executeSequential, type BlockOutcome } from '../src/sequential.js';

/** Accounts own a balance slot (2a) and a nonce slot (2a + 1); `keys` contract keys follow them. */
const randomBlock = (accounts: number, keys: number) =>
  fc
    .record({
      txs: fc.array(
        fc.record({
          from: fc.nat(accounts - 1),
          to: fc.nat(accounts - 1),
          amount: fc.bigInt(0n, 50n),
          call: fc.constantFrom('transfer', 'counter', 'work'),
          key: fc.nat(keys - 1),
          rounds: fc.nat(300),
        }),
        { minLength: 1, maxLength: 200 },
      ),
      balances: fc.array(fc.bigInt(0n, 500n), { minLength: accounts, maxLength: accounts }),
    })
    .map(({ txs, balances }) => {
      const nonces = new Array<bigint>(accounts).fill(0n);
      const base = new BigUint64Array(2 * accounts + keys);
      balances.forEach((b, a) => (base[2 * a] = b));
      const slots = txs.map((t): TxSlots => {
        const tx: TxSlots = {
          kind: KIND_TRANSFER, preset: 0, senderNonce: 2 * t.from + 1, senderBalance: 2 * t.from, recipientBalance: 2 * t.to,
          nonce: nonces[t.from]!++, amount: t.amount, contract: -1, gasLimit: 0, sender: new Uint8Array(32).fill(t.from), args: new Uint8Array(0), keySlots: [],
        };
        if (t.call === 'transfer') return tx;
        const args = t.call === 'work' ? new Uint8Array(new Uint32Array([t.rounds, t.key]).buffer) : Uint8Array.of(t.key);
        return { ...tx, kind: KIND_CALL, contract: contractId(t.call), gasLimit: 10_000, args, keySlots: [2 * accounts + t.key] };
      });
      return { slots, base };
    });

const sameOutcome = (actual: BlockOutcome, expected: BlockOutcome): void => {
  assert.deepEqual([...actual.receipts], [...expected.receipts]);
  assert.deepEqual(new Map([...actual.writes].sort()), new Map([...expected.writes].sort()));
};

const pool = new BlockStmPool(4, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs: 0 });
after(() => pool.close());

describe('Block-STM engine on one thread', () => {
  test('equals sequential execution with estimates and optimistically, and counts one execution and one validation per transaction', () => {
    fc.assert(
      fc.property(randomBlock(4, 2), fc.boolean(), ({ slots, base }, optimistic) => {
        const t = buildTables(slots, base);
        prepareTables(t, optimistic);
        const run = allocateRun(t.n, 1);
        runWorker(t, run, 0);
        sameOutcome({ receipts: t.receipts.slice(0, t.n), writes: committedWrites(t), executions: 0, workerExecutions: 0 }, executeSequential(buildTables(slots, base)));
        const stats = runStats(run, 0);
        assert.equal(stats.executions, t.n);
        assert.equal(stats.validations, t.n);
        assert.equal(stats.aborts, 0);
        assert.equal(stats.suspensions, 0);
        assert.equal(stats.workerExecutions, 0);
      }),
      { numRuns: 60 },
    );
  });
});

describe('one-thread runs (runSingle)', () => {
  test('equal sequential execution whatever state the cells start in, one execution per transaction', () => {
    fc.assert(
      fc.property(randomBlock(4, 2), fc.boolean(), ({ slots, base }, optimistic) => {
        const t = buildTables(slots, base);
        prepareTables(t, optimistic);
        const run = allocateRun(t.n, 1);
        runSingle(t, run);
        sameOutcome({ receipts: t.receipts.slice(0, t.n), writes: committedWrites(t), executions: 0, workerExecutions: 0 }, executeSequential(buildTables(slots, base)));
        const stats = runStats(run, 0);
        assert.equal(stats.executions, t.n);
        assert.equal(stats.aborts, 0);
      }),
      { numRuns: 60 },
    );
    assert.throws(() => runSingle(buildTables([], new BigUint64Array(0)), allocateRun(0, 2)), RangeError);
  });
});

describe('BlockStmPool', () => {
  test('with declared writes as estimates no incarnation is ever aborted: every extra execution is a suspension on a dependency', async () => {
    await pool.ready();
    await fc.assert(
      fc.asyncProperty(randomBlock(3, 1), async ({ slots, base }) => {
        const actual = await pool.execute(buildTables(slots, base));
        sameOutcome(actual, executeSequential(buildTables(slots, base)));
        const stats = actual.stats!;
        assert.equal(stats.aborts, 0);
        assert.equal(actual.executions, slots.length + stats.suspensions);
        assert.ok(stats.validations >= slots.length);
        assert.ok(actual.workerExecutions <= actual.executions);
      }),
      { numRuns: 60 },
    );
  });

  test('running the same tables again repeats the execution', async () => {
    await fc.assert(
      fc.asyncProperty(randomBlock(4, 2), async ({ slots, base }) => {
        const t = buildTables(slots, base);
        const first = await pool.execute(t);
        const second = await pool.execute(t);
        sameOutcome(second, first);
        sameOutcome(first, executeSequential(buildTables(slots, base)));
      }),
      { numRuns: 20 },
    );
  });

  test('blocks handed over at once run one after another, each with its own result', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(randomBlock(4, 2), { minLength: 2, maxLength: 5 }), async (blocks) => {
        const outcomes = await Promise.all(blocks.map(({ slots, base }) => pool.execute(buildTables(slots, base))));
        outcomes.forEach((o, i) => sameOutcome(o, executeSequential(buildTables(blocks[i]!.slots, blocks[i]!.base))));
      }),
      { numRuns: 15 },
    );
  });

  test('a block that makes the threads throw rejects, and the pool still runs the next block', async () => {
    const block = fc.sample(randomBlock(4, 2), { numRuns: 1, seed: 3 })[0]!;
    const broken = { ...buildTables(block.slots, block.base), cellOffsets: undefined } as unknown as BlockTables;
    // The first thread to fail stops the others; its error (the main thread's own, or a worker's wrapped) rejects the block.
    await assert.rejects(pool.execute(broken), /Cannot read properties of undefined/);
    sameOutcome(await pool.execute(buildTables(block.slots, block.base)), executeSequential(buildTables(block.slots, block.base)));
  });

  test('blocks alternating between one worker and every thread: each wakes only its workers and equals sequential', async () => {
    // 0.2 ms of estimated work per thread: a few transfers get one thread (a worker alone), heavy calls all four.
    const mixed = new BlockStmPool(4, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs: 200_000 });
    try {
      await mixed.ready();
      const light = fc.sample(randomBlock(4, 2), { numRuns: 6, seed: 11 }).map(({ slots, base }) => ({ slots: slots.filter((s) => s.kind === KIND_TRANSFER), base }));
      const heavy = fc.sample(randomBlock(4, 2), { numRuns: 6, seed: 12 }).map(({ slots, base }) => ({ slots: slots.map((s) => ({ ...s, gasLimit: 100_000 })), base }));
      for (let i = 0; i < light.length; i++) {
        for (const { slots, base } of [light[i]!, heavy[i]!]) {
          if (slots.length === 0) continue;
          const t = buildTables(slots, base);
          const threads = mixed.threadsFor(t);
          const outcome = await mixed.execute(t);
          sameOutcome(outcome, executeSequential(buildTables(slots, base)));
          if (threads === 1) assert.equal(outcome.executions, slots.length, 'one thread runs each transaction once');
        }
      }
      assert.ok(light.some(({ slots, base }) => slots.length > 0 && mixed.threadsFor(buildTables(slots, base)) === 1));
      assert.ok(heavy.some(({ slots, base }) => mixed.threadsFor(buildTables(slots, base)) === 4));
    } finally {
      await mixed.close();
    }
  });

  test('a block after the workers slept for a while still runs and equals sequential', async () => {
    const block = fc.sample(randomBlock(4, 2), { numRuns: 1, seed: 13 })[0]!;
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      sameOutcome(await pool.execute(buildTables(block.slots, block.base)), executeSequential(buildTables(block.slots, block.base)));
    }
  });

  test('a one-thread pool has no workers and gives the same result; a closed pool rejects blocks', async () => {
    const single = new BlockStmPool(1, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs: 0 });
    await single.ready();
    const block = fc.sample(randomBlock(4, 2), { numRuns: 1, seed: 5 })[0]!;
    const outcome = await single.execute(buildTables(block.slots, block.base));
    assert.equal(outcome.workerExecutions, 0);
    sameOutcome(outcome, executeSequential(buildTables(block.slots, block.base)));
    await single.close();
    await single.close();
    await assert.rejects(single.execute(buildTables(block.slots, block.base)), /closed/);
  });
});
