import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { BlockStmPool } from '../src/block-stm/parallel.js';
import { KIND_CALL, KIND_SKIP, KIND_TRANSFER, buildTables, type TxSlots } from '../src/block-stm/layout.js';
import { contractId } from '../src/contracts/index.js';
import { Receipt } from '../src/receipts.js';
import { executeSequential } from '../src/sequential.js';

/**
 * Random blocks straight over slots (no signatures needed): accounts own a
 * balance slot (2a) and a nonce slot (2a + 1); contract keys come after them.
 */
const ACCOUNT_SLOTS = (accounts: number): number => 2 * accounts;

const txArb = (accounts: number, hotKeys: number) =>
  fc.oneof(
    fc.record({
      kind: fc.constant(KIND_TRANSFER),
      from: fc.nat(accounts - 1),
      to: fc.nat(accounts - 1),
      amount: fc.bigInt(0n, 300n),
      nonceSkew: fc.oneof(fc.constant(0n), fc.constant(0n), fc.constant(0n), fc.bigInt(-1n, 2n)),
    }),
    fc.record({
      kind: fc.constant(KIND_CALL),
      from: fc.nat(accounts - 1),
      contract: fc.constantFrom('counter', 'work'),
      key: fc.nat(hotKeys - 1),
      rounds: fc.nat(400),
      gasLimit: fc.oneof(fc.constant(10_000), fc.nat(300)),
      nonceSkew: fc.constant(0n),
    }),
    fc.record({ kind: fc.constant(KIND_SKIP), from: fc.nat(accounts - 1), nonceSkew: fc.constant(0n) }),
  );

type RandomTx = { kind: number; from: number; to?: number; amount?: bigint; nonceSkew: bigint; contract?: string; key?: number; rounds?: number; gasLimit?: number };

function toBlock(accounts: number, hotKeys: number, txs: RandomTx[], balances: bigint[]) {
  const nonces = new Array<bigint>(accounts).fill(0n);
  const base = new BigUint64Array(ACCOUNT_SLOTS(accounts) + hotKeys);
  balances.forEach((b, a) => (base[2 * a] = b));
  const slots: TxSlots[] = txs.map((t) => {
    const nonce = nonces[t.from]! + t.nonceSkew;
    if (t.nonceSkew === 0n) nonces[t.from]!++;
    const record: TxSlots = {
      kind: t.kind,
      preset: Receipt.bad_signature,
      senderNonce: 2 * t.from + 1,
      senderBalance: 2 * t.from,
      recipientBalance: 2 * (t.to ?? 0),
      nonce: nonce < 0n ? 0n : nonce,
      amount: t.amount ?? 0n,
      contract: -1,
      gasLimit: 0,
      sender: new Uint8Array(32).fill(t.from),
      args: new Uint8Array(0),
      keySlots: [],
    };
    if (t.kind !== KIND_CALL) return record;
    const args = t.contract === 'work' ? new Uint8Array(new Uint32Array([t.rounds!, t.key!]).buffer) : Uint8Array.of(t.key!);
    return { ...record, contract: contractId(t.contract!), gasLimit: t.gasLimit!, args, keySlots: [ACCOUNT_SLOTS(accounts) + t.key!] };
  });
  return { slots, base };
}

// sequentialBelow 0: even the smallest random block goes through Block-STM. The optimistic pools start cells
// empty as in the paper, which sends far more incarnations through validation failure and re-execution.
const pools = [1, 2, 3, 4].map((threads) => new BlockStmPool(threads, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs: 0 }));
const optimisticPools = [1, 2, 3, 4].map((threads) => new BlockStmPool(threads, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs: 0, optimistic: true }));
after(() => Promise.all([...pools, ...optimisticPools].map((p) => p.close())));

for (const [label, accounts, hotKeys] of [
  ['low contention', 64, 64],
  ['high contention', 3, 1],
] as const) {
  describe(`Block-STM equals sequential execution (${label})`, () => {
    test('same receipts and final state for 1 to 4 threads, declared writes as estimates or optimistic', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(txArb(accounts, hotKeys) as fc.Arbitrary<RandomTx>, { maxLength: 120 }),
          fc.array(fc.bigInt(0n, 1000n), { minLength: accounts, maxLength: accounts }),
          fc.constantFrom(...pools, ...optimisticPools),
          async (txs, balances, pool) => {
            const { slots, base } = toBlock(accounts, hotKeys, txs, balances);
            const expected = executeSequential(buildTables(slots, base));
            const actual = await pool.execute(buildTables(slots, base));
            assert.deepEqual([...actual.receipts], [...expected.receipts]);
            assert.deepEqual(new Map([...actual.writes].sort()), new Map([...expected.writes].sort()));
          },
        ),
        { numRuns: 80 },
      );
    });

    test('transfers conserve the total balance', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(txArb(accounts, hotKeys) as fc.Arbitrary<RandomTx>, { maxLength: 100 }),
          fc.array(fc.bigInt(0n, 1000n), { minLength: accounts, maxLength: accounts }),
          async (txs, balances) => {
            const { slots, base } = toBlock(accounts, hotKeys, txs, balances);
            const { writes } = await pools[3]!.execute(buildTables(slots, base));
            let before = 0n;
            let afterSum = 0n;
            for (let a = 0; a < accounts; a++) {
              before += base[2 * a]!;
              afterSum += writes.get(2 * a) ?? base[2 * a]!;
            }
            assert.equal(afterSum, before);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}

describe('Block-STM under real concurrency', () => {
  test('large contended blocks: worker threads take part and the result still equals sequential', async () => {
    const accounts = 8;
    const hotKeys = 2;
    let workerExecutions = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(txArb(accounts, hotKeys) as fc.Arbitrary<RandomTx>, { minLength: 1500, maxLength: 2500 }),
        fc.array(fc.bigInt(100n, 1000n), { minLength: accounts, maxLength: accounts }),
        fc.constantFrom(pools[3]!, optimisticPools[3]!),
        async (txs, balances, pool) => {
          const { slots, base } = toBlock(accounts, hotKeys, txs, balances);
          const expected = executeSequential(buildTables(slots, base));
          const actual = await pool.execute(buildTables(slots, base));
          assert.deepEqual([...actual.receipts], [...expected.receipts]);
          assert.deepEqual(new Map([...actual.writes].sort()), new Map([...expected.writes].sort()));
          workerExecutions += actual.workerExecutions;
        },
      ),
      { numRuns: 12 },
    );
    assert.ok(workerExecutions > 0, 'no transaction ran on a worker thread');
  });

  // tx 0 burns 5 x 10^7 rounds (~0.1-0.2 s) and then writes the key; tx 1 increments the same key and runs on
  // another thread meanwhile.
  const slowWriterThenReader = (): TxSlots[] => {
    const work = contractId('work');
    const counter = contractId('counter');
    const call = (sender: number, contract: number, args: Uint8Array, gasLimit: number): TxSlots => ({
      kind: KIND_CALL, preset: 0, senderNonce: 2 * sender + 1, senderBalance: 2 * sender, recipientBalance: 0, nonce: 0n, amount: 0n,
      contract, gasLimit, sender: new Uint8Array(32).fill(sender), args, keySlots: [4],
    });
    return [call(0, work, new Uint8Array(new Uint32Array([50_000_000, 0]).buffer), 60_000_000), call(1, counter, new Uint8Array(0), 100)];
  };

  test('optimistic: a transaction that read a value its slow predecessor then overwrote is aborted and re-executed', async () => {
    // tx 1 reads the old value (the cell is empty until tx 0 writes), so its validation must fail.
    const txs = slowWriterThenReader();
    const base = new BigUint64Array(5);
    let reexecuted = false;
    for (let attempt = 0; attempt < 5 && !reexecuted; attempt++) {
      const expected = executeSequential(buildTables(txs, base));
      const actual = await optimisticPools[1]!.execute(buildTables(txs, base));
      assert.deepEqual(new Map([...actual.writes].sort()), new Map([...expected.writes].sort()));
      reexecuted = actual.stats!.aborts > 0 && actual.executions > txs.length;
    }
    assert.ok(reexecuted, 'tx 1 never ran concurrently with tx 0 in 5 attempts');
  });

  test('estimates: a transaction that reads a key its running predecessor declared waits for it instead of reading the old value', async () => {
    const txs = slowWriterThenReader();
    const base = new BigUint64Array(5);
    let suspended = false;
    for (let attempt = 0; attempt < 5 && !suspended; attempt++) {
      const expected = executeSequential(buildTables(txs, base));
      const actual = await pools[1]!.execute(buildTables(txs, base));
      assert.deepEqual(new Map([...actual.writes].sort()), new Map([...expected.writes].sort()));
      assert.equal(actual.stats!.aborts, 0);
      suspended = actual.stats!.suspensions > 0;
    }
    assert.ok(suspended, 'tx 1 never ran concurrently with tx 0 in 5 attempts');
  });
});

describe('sequential fallback', () => {
  test('cheap blocks (estimated work under minParallelWorkNs) run sequentially; costly ones go to Block-STM', async () => {
    const pool = new BlockStmPool(2, { sequentialBelow: 0, minParallelWorkNs: 1_000_000 });
    try {
      const cheap = toBlock(4, 1, Array.from({ length: 100 }, (_, i) => ({ kind: KIND_TRANSFER, from: i % 4, to: (i + 1) % 4, amount: 1n, nonceSkew: 0n })), [10n, 10n, 10n, 10n]);
      const cheapTables = buildTables(cheap.slots, cheap.base);
      assert.equal(pool.runsInParallel(cheapTables), false);
      assert.deepEqual([...(await pool.execute(cheapTables)).receipts], [...executeSequential(buildTables(cheap.slots, cheap.base)).receipts]);
      const costly = toBlock(4, 1, Array.from({ length: 100 }, (_, i) => ({ kind: KIND_CALL, from: i % 4, contract: 'work', key: 0, rounds: 10, gasLimit: 10_000, nonceSkew: 0n })), [0n, 0n, 0n, 0n]);
      assert.equal(pool.runsInParallel(buildTables(costly.slots, costly.base)), true);
    } finally {
      await pool.close();
    }
  });

  test('blocks below sequentialBelow run on the calling thread and give the same result', async () => {
    const pool = new BlockStmPool(2, { sequentialBelow: 50, minParallelWorkNs: 0 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(txArb(4, 1) as fc.Arbitrary<RandomTx>, { maxLength: 49 }),
          fc.array(fc.bigInt(0n, 1000n), { minLength: 4, maxLength: 4 }),
          async (txs, balances) => {
            const { slots, base } = toBlock(4, 1, txs, balances);
            const expected = executeSequential(buildTables(slots, base));
            const actual = await pool.execute(buildTables(slots, base));
            assert.equal(actual.workerExecutions, 0);
            assert.deepEqual([...actual.receipts], [...expected.receipts]);
            assert.deepEqual(new Map([...actual.writes].sort()), new Map([...expected.writes].sort()));
          },
        ),
        { numRuns: 30 },
      );
    } finally {
      await pool.close();
    }
  });
});

describe('receipts of rejected transactions', () => {
  test('bad nonce, insufficient balance, out of gas, contract error, preset rejections change nothing', async () => {
    const base = new BigUint64Array([100n, 0n, 5n, 0n, 0n]);
    const tx = (over: Partial<TxSlots>): TxSlots => ({
      kind: KIND_TRANSFER, preset: 0, senderNonce: 1, senderBalance: 0, recipientBalance: 2, nonce: 0n, amount: 1n,
      contract: -1, gasLimit: 0, sender: new Uint8Array(32), args: new Uint8Array(0), keySlots: [], ...over,
    });
    const work = contractId('work');
    const txs = [
      tx({ nonce: 7n }), // bad nonce
      tx({ amount: 101n }), // insufficient balance
      tx({ kind: KIND_CALL, contract: work, gasLimit: 5, args: new Uint8Array(new Uint32Array([50, 0]).buffer), keySlots: [4] }), // out of gas
      tx({ kind: KIND_CALL, contract: work, gasLimit: 99, args: new Uint8Array(3), keySlots: [4] }), // malformed args
      tx({ kind: KIND_SKIP, preset: Receipt.bad_signature }),
      tx({ amount: 40n }), // ok
    ];
    const { receipts, writes } = await pools[1]!.execute(buildTables(txs, base));
    assert.deepEqual([...receipts], [Receipt.bad_nonce, Receipt.insufficient_balance, Receipt.out_of_gas, Receipt.contract_error, Receipt.bad_signature, Receipt.ok]);
    assert.deepEqual(new Map([...writes].sort()), new Map([[0, 60n], [1, 1n], [2, 45n]]));
  });
});
