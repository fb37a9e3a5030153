import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain } from '../src/chain.js';
import { executeWithHybrid } from '../src/hybrid.js';
import { balanceKey, nonceKey } from '../src/keys.js';
import { ChainState } from '../src/state.js';
import { StateRootCache, stateRoot } from '../src/state-root.js';
import { encodeTransaction, signTransaction } from '../src/transaction.js';
import { createAccounts, generateBlock } from '../src/workload.js';
import { SIGNERS, signBlock, txSpecArb, type TxSpec } from './helpers/blocks.js';
import { tempDirs } from './helpers/temp-dirs.js';

const dirs = tempDirs('supervm-chain-');
const tempDir = dirs.make;
after(async () => {
  await closeRuntime();
  dirs.removeAll();
});

describe('Chain', () => {
  test('blocks execute, reject with the right reasons, and equal the sequential reference', async () => {
    const chain = await Chain.open({ path: tempDir(), threads: 2, device: 'cpu' });
    try {
      const [alice, bob] = createAccounts(2);
      await chain.genesis([{ publicKey: alice!.publicKey, balance: 100n }, { publicKey: bob!.publicKey, balance: 0n }]);
      const transfer = (amount: bigint, nonce: bigint) =>
        encodeTransaction(signTransaction({ sender: alice!.publicKey, nonce, payload: { kind: 'transfer', to: bob!.publicKey, amount } }, alice!));
      const forged = transfer(1n, 0n);
      forged[forged.length - 1]! ^= 1;
      const call = (contract: string, gasLimit: number, nonce: bigint) =>
        encodeTransaction(signTransaction({ sender: alice!.publicKey, nonce, payload: { kind: 'call', contract, gasLimit, args: Uint8Array.of(1) } }, alice!));
      const result = await chain.executeBlock(
        [forged, transfer(30n, 0n), transfer(5n, 0n), transfer(500n, 1n), call('counter', 5, 1n), call('nope', 100, 1n), call('counter', 100, 1n)],
        { compareSequential: true },
      );
      assert.deepEqual(result.receipts, ['bad_signature', 'ok', 'bad_nonce', 'insufficient_balance', 'out_of_gas', 'contract_error', 'ok']);
      assert.equal(chain.balance(alice!.publicKey), 70n);
      assert.equal(chain.balance(bob!.publicKey), 30n);
      assert.equal(chain.nonce(alice!.publicKey), 2n);
      assert.equal(result.height, 1);
      assert.equal(result.txIds.length, 7 * 32);
      assert.equal(result.stats.verify.device, 'cpu');
    } finally {
      await chain.close();
    }
  });

  test('reopening resumes from the last block, with the same root, and continues', async () => {
    const path = tempDir();
    const accounts = createAccounts(50);
    let chain = await Chain.open({ path, threads: 2, device: 'cpu' });
    await chain.genesis(accounts.map((a) => ({ publicKey: a.publicKey, balance: 1000n })));
    await chain.executeBlock(generateBlock(accounts, { txs: 200, conflict: 0.2, work: 0 }), { compareSequential: true });
    const root = chain.stateRoot;
    await chain.close();
    chain = await Chain.open({ path, threads: 1, device: 'cpu' });
    try {
      assert.equal(chain.height, 1);
      assert.deepEqual(chain.stateRoot, root);
      const next = await chain.executeBlock(generateBlock(accounts, { txs: 100, conflict: 0.5, work: 50 }, 200), { compareSequential: true });
      assert.equal(next.height, 2);
      assert.ok(next.receipts.every((r) => r === 'ok'));
      assert.ok(Buffer.from(chain.block(2)!.stateRoot).equals(next.stateRoot));
    } finally {
      await chain.close();
    }
  });

  test('blocks submitted without waiting run one after another, in call order', async () => {
    const chain = await Chain.open({ path: tempDir(), threads: 2, device: 'cpu' });
    try {
      const accounts = createAccounts(20);
      await chain.genesis(accounts.map((a) => ({ publicKey: a.publicKey, balance: 1000n })));
      const first = generateBlock(accounts, { txs: 60, conflict: 0.3, work: 0 }, 0);
      const second = generateBlock(accounts, { txs: 60, conflict: 0.3, work: 0 }, 60); // nonces continue the first
      const [a, b] = await Promise.all([chain.executeBlock(first), chain.executeBlock(second)]);
      assert.equal(a.height, 1);
      assert.equal(b.height, 2);
      assert.ok([...a.receipts, ...b.receipts].every((r) => r === 'ok'));
      assert.equal(chain.nonce(accounts[0]!.publicKey), 6n);
    } finally {
      await chain.close();
    }
  });

  test('malformed transactions reject the block call with INVALID_INPUT and the index', async () => {
    const chain = await Chain.open({ path: tempDir(), threads: 1, device: 'cpu' });
    try {
      const accounts = createAccounts(2);
      await chain.genesis(accounts.map((a) => ({ publicKey: a.publicKey, balance: 10n })));
      const good = generateBlock(accounts, { txs: 2, conflict: 0, work: 0 });
      await assert.rejects(chain.executeBlock([good[0]!, good[1]!.subarray(0, 50)]), { code: 'INVALID_INPUT', index: 1 });
      assert.equal(chain.height, 0);
    } finally {
      await chain.close();
    }
  });
});

describe('state root', () => {
  test('the cached root after each block equals the root of the whole state computed from scratch', async () => {
    const { StateRootCache, stateRoot } = await import('../src/state-root.js');
    const state = new Map<string, bigint>([['b/01', 5n], ['n/01', 0n]]);
    const { cache, root } = await StateRootCache.build(state, 'cpu');
    assert.deepEqual(root, await stateRoot(state, 'cpu'));
    for (const changes of [
      new Map([['b/01', 4n], ['b/00', 1n]]),
      new Map([['c/x/1', 9n], ['a', 1n], ['zz', 2n], ['b/01', 4n]]),
      new Map<string, bigint>(),
      new Map([['b/00', 0n]]),
    ]) {
      const next = await cache.prepare(state, changes);
      next.apply();
      for (const [k, v] of changes) state.set(k, v);
      assert.deepEqual(next.root, await stateRoot(state, 'cpu'));
    }
  });
});

describe('columnar state', () => {
  // Account-shaped keys (canonical and not), contract keys and arbitrary strings, surrogates included.
  const keyArb = fc.oneof(
    fc.nat(5).map((i) => balanceKey(SIGNERS[i]!.publicKey)),
    fc.nat(5).map((i) => nonceKey(SIGNERS[i]!.publicKey)),
    fc.nat(5).map((i) => balanceKey(SIGNERS[i]!.publicKey).toUpperCase()),
    fc.nat(5).map((i) => `b/${Buffer.from(SIGNERS[i]!.publicKey).toString('hex').slice(2)}`),
    fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => `c/x/${s}`),
    fc.string({ unit: 'binary', maxLength: 4 }),
  );

  test('a ChainState reads like the Map it was written as', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, fc.bigInt(0n, (1n << 64n) - 1n)), { maxLength: 60 }), (entries) => {
        const state = new ChainState();
        const map = new Map<string, bigint>();
        for (const [k, v] of entries) {
          state.set(state.keyId(k), v);
          map.set(k, v);
        }
        assert.equal(state.size, map.size);
        assert.deepEqual([...state].sort(), [...map].sort());
        for (const [k] of entries) {
          assert.equal(state.get(k), map.get(k));
          assert.equal(state.has(k), true);
        }
        assert.equal(state.get('b/never'), undefined);
      }),
      { numRuns: 200 },
    );
  });

  test('a root cache over a ChainState equals the root from scratch, with pool-sized batches and added keys', async () => {
    const state = new ChainState();
    const write = (key: string, value: bigint): [number, bigint] => [state.keyId(key), value];
    // 6,000 accounts: their leaves and lower levels are hashed in batches large enough for the worker pool.
    const accounts = Array.from({ length: 3000 }, () => randomBytes(32));
    for (const a of accounts) state.set(...write(balanceKey(a), 7n));
    const { cache, root } = await StateRootCache.build(state, 'cpu');
    assert.deepEqual(Buffer.from(root), Buffer.from(await stateRoot(new Map(state), 'cpu')));
    const blocks: [number, bigint][][] = [
      accounts.map((a, i) => write(nonceKey(a), BigInt(i))), // adds 3,000 keys
      accounts.slice(0, 5000).map((a, i) => write(balanceKey(a), BigInt(i % 5))), // rewrites most leaves
      accounts.slice(0, 40).map((a) => write(balanceKey(a), 99n)), // few changes: changed paths only
      [write('c/counter/x', 1n), write(`c/x/\u{1f600}`, 2n), write('c/x/\uffff', 3n)], // JS order is not byte order here
    ];
    for (const block of blocks) {
      const changed = block.filter(([id, v]) => !state.present(id) || state.value(id) !== v);
      const next = await cache.prepareIds(Int32Array.from(changed, ([id]) => id), BigUint64Array.from(changed, ([, v]) => v));
      next.apply();
      for (const [id, v] of changed) state.set(id, v);
      assert.deepEqual(Buffer.from(next.root), Buffer.from(await stateRoot(new Map(state), 'cpu')));
      // keyOrder lists the changes in key order.
      const keys = Array.from(next.keyOrder, (k) => state.pool.string(changed[k]![0]));
      assert.deepEqual(keys, [...keys].sort());
    }
  });

  test('a chain (columnar state) equals executeWithHybrid over a plain Map, block after block', async () => {
    const ACCOUNTS = 6;
    const genesis = SIGNERS.slice(0, ACCOUNTS).map((s, a) => ({ publicKey: s.publicKey, balance: BigInt(50 * a) }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(txSpecArb(ACCOUNTS, 2), { maxLength: 40 }), { minLength: 1, maxLength: 3 }), async (specs: TxSpec[][]) => {
        const nonces = new Array<bigint>(ACCOUNTS).fill(0n);
        const blocks = specs.map((s) => signBlock(s, nonces).encoded);
        const chain = await Chain.open({ path: tempDir(), threads: 2, device: 'cpu', sequentialBelow: 0 });
        try {
          await chain.genesis(genesis);
          const map = new Map(genesis.map((g) => [balanceKey(g.publicKey), g.balance]));
          for (const block of blocks) {
            const result = await chain.executeBlock(block);
            const plain = await executeWithHybrid(block, { state: map, threads: 1, device: 'cpu' });
            for (const [k, v] of plain.changes) map.set(k, v);
            assert.deepEqual(result.receipts, plain.receipts);
            assert.deepEqual(Buffer.from(result.stateRoot), Buffer.from(plain.stateRoot));
            assert.deepEqual([...chain.state].sort(), [...map].sort());
          }
        } finally {
          await chain.close();
        }
      }),
      { numRuns: 10 },
    );
  });
});
