import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { closeRuntime } from '@supervm/gpu-executor';
import { BlockStmPool } from '../src/block-stm/parallel.js';
import { executePrepared, executeWithHybrid, prepareBlock, transactionToTask } from '../src/hybrid.js';
import { balanceKey } from '../src/keys.js';
import { executeReference } from '../src/reference.js';
import { stateRoot } from '../src/state-root.js';
import { decodeTransaction } from '../src/transaction.js';
import { SIGNERS, signBlock, txSpecArb, type TxSpec } from './helpers/blocks.js';

/**
 * The whole pipeline (decode, ids and signatures through the scheduler,
 * layout, Block-STM on 1 to 4 threads, state root) against the independent
 * reference executor (Map of keys, node:crypto signatures, one transaction
 * after another).
 */
const pools = [1, 2, 3, 4].map((threads) => new BlockStmPool(threads, { sequentialBelow: 0, minParallelWorkNs: 0, workPerThreadNs: 0 }));
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await closeRuntime();
});

const sortedEntries = (m: ReadonlyMap<string, bigint>): [string, bigint][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const totalBalance = (m: ReadonlyMap<string, bigint>): bigint => [...m].reduce((sum, [k, v]) => (k.startsWith('b/') ? sum + v : sum), 0n);

for (const [label, accounts, hotKeys] of [
  ['low contention', 32, 32],
  ['high contention', 3, 1],
] as const) {
  describe(`executeWithHybrid equals the reference executor (${label})`, () => {
    test('same receipts, same changes, same state root, on 1 to 4 threads, over consecutive blocks', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.bigInt(0n, 1000n), { minLength: accounts, maxLength: accounts }),
          fc.array(fc.array(txSpecArb(accounts, hotKeys), { maxLength: 60 }), { minLength: 1, maxLength: 3 }),
          fc.nat(3),
          async (balances, blocks: TxSpec[][], poolIndex) => {
            const state = new Map<string, bigint>(balances.map((b, a) => [balanceKey(SIGNERS[a]!.publicKey), b]));
            const nonces = new Array<bigint>(accounts).fill(0n);
            const supply = totalBalance(state);
            for (const specs of blocks) {
              const { encoded, expected } = signBlock(specs, nonces);
              const reference = executeReference(encoded.map((e, i) => decodeTransaction(e, i)), state);
              const result = await executeWithHybrid(encoded, { state, pool: pools[poolIndex]!, device: 'cpu' });
              assert.deepEqual(result.receipts, reference.receipts);
              assert.deepEqual(sortedEntries(result.changes), sortedEntries(reference.changes));
              // Faulted transactions are rejected with their reason, whatever else happens in the block.
              expected.forEach((reason, i) => reason && assert.equal(result.receipts[i], reason, `tx ${i}`));
              for (const [k, v] of reference.changes) state.set(k, v);
              assert.deepEqual(result.stateRoot, await stateRoot(state, 'cpu'));
              assert.equal(totalBalance(state), supply, 'transfers conserve the total balance');
              assert.equal(result.txIds.length, 32 * encoded.length);
            }
          },
        ),
        { numRuns: 80 },
      );
    });
  });
}

describe('prepared blocks', () => {
  test('one prepared block executed on two states gives each state its own result (the tables built ahead serve the first)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt(0n, 1000n), { minLength: 8, maxLength: 8 }),
        fc.array(fc.bigInt(0n, 1000n), { minLength: 8, maxLength: 8 }),
        fc.array(txSpecArb(8, 2), { minLength: 1, maxLength: 40 }),
        async (first, second, specs) => {
          const { encoded } = signBlock(specs, new Array<bigint>(8).fill(0n));
          const prepared = await prepareBlock(encoded, 'cpu');
          for (const balances of [first, second, first]) {
            const state = new Map<string, bigint>(balances.map((b, a) => [balanceKey(SIGNERS[a]!.publicKey), b]));
            const reference = executeReference(encoded.map((e, i) => decodeTransaction(e, i)), state);
            const result = await executePrepared(prepared, { state, pool: pools[2]!, device: 'cpu' });
            assert.deepEqual(result.receipts, reference.receipts);
            assert.deepEqual(sortedEntries(result.changes), sortedEntries(reference.changes));
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('rejections', () => {
  test('a block of only forged signatures and replayed nonces changes nothing', async () => {
    const signer = SIGNERS[0]!;
    const state = new Map([[balanceKey(signer.publicKey), 50n]]);
    const nonces = [0n];
    const specs: TxSpec[] = Array.from({ length: 40 }, (_, i) => ({
      from: 0, kind: 'transfer', to: 1, amount: 1n, key: i, rounds: i, gasLimit: 0, fault: i % 2 === 0 ? 'forge' : 'nonce-high',
    }));
    const { encoded } = signBlock(specs, nonces);
    const result = await executeWithHybrid(encoded, { state, pool: pools[1]!, device: 'cpu' });
    assert.deepEqual(result.receipts, specs.map((s) => (s.fault === 'forge' ? 'bad_signature' : 'bad_nonce')));
    assert.equal(result.changes.size, 0);
    assert.deepEqual(result.stateRoot, await stateRoot(state, 'cpu'));
  });

  test('a bad signature in the middle of a sender\'s sequence leaves its nonce unused for the next one', async () => {
    const nonces = [0n, 0n];
    const base = { to: 1, amount: 5n, key: 0, rounds: 0, gasLimit: 0 };
    const specs: TxSpec[] = [
      { ...base, from: 0, kind: 'transfer', fault: 'none' }, // nonce 0: ok
      { ...base, from: 0, kind: 'transfer', fault: 'forge' }, // nonce 1, forged: bad_signature
      { ...base, from: 0, kind: 'transfer', fault: 'none' }, // nonce 1 (the forged one did not take it): ok
      { ...base, from: 0, kind: 'transfer', fault: 'nonce-high' },
      { ...base, from: 0, kind: 'transfer', amount: 10_000n, fault: 'none' }, // nonce 2: insufficient balance
      { ...base, from: 0, kind: 'transfer', fault: 'none' }, // nonce 3, but the chain is at 2: bad_nonce
    ];
    const { encoded } = signBlock(specs, nonces);
    const state = new Map([[balanceKey(SIGNERS[0]!.publicKey), 100n]]);
    const result = await executeWithHybrid(encoded, { state, pool: pools[2]!, device: 'cpu' });
    assert.deepEqual(result.receipts, ['ok', 'bad_signature', 'ok', 'bad_nonce', 'insufficient_balance', 'bad_nonce']);
    assert.equal(result.changes.get(balanceKey(SIGNERS[0]!.publicKey)), 90n);
    assert.equal(result.changes.get(balanceKey(SIGNERS[1]!.publicKey)), 10n);
  });

  test('malformed encodings are INVALID_INPUT with the index, before any work', async () => {
    const { encoded } = signBlock([{ from: 0, kind: 'transfer', to: 1, amount: 1n, key: 0, rounds: 0, gasLimit: 0, fault: 'none' }], [0n]);
    const good = encoded[0]!;
    for (const bad of [good.subarray(0, good.length - 1), good.subarray(0, 41), new Uint8Array(0), Uint8Array.of(...good, 0)]) {
      await assert.rejects(executeWithHybrid([good, bad], { state: new Map(), pool: pools[0]!, device: 'cpu' }), { name: 'ExecutorError', code: 'INVALID_INPUT', index: 1 });
      assert.throws(() => transactionToTask(bad, 5), { code: 'INVALID_INPUT', index: 5 });
    }
  });
});
