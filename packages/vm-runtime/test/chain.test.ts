import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain } from '../src/chain.js';
import { encodeTransaction, signTransaction } from '../src/transaction.js';
import { createAccounts, generateBlock } from '../src/workload.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'supervm-chain-'));
  dirs.push(d);
  return d;
};
after(async () => {
  await closeRuntime();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
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
