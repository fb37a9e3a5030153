import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain, type BlockResult } from '../src/chain.js';
import { giveShared, sharedArray, takeShared } from '../src/shared-buffers.js';
import { stateRoot } from '../src/state-root.js';
import { createAccounts, generateBlock } from '../src/workload.js';
import { tempDirs } from './helpers/temp-dirs.js';

const dirs = tempDirs('supervm-buffers-');
after(async () => {
  await closeRuntime();
  dirs.removeAll();
});

describe('shared buffer pool', () => {
  test('a buffer given back is handed out again, zeroed over the length asked for', () => {
    const a = sharedArray(Uint8Array, 100_000);
    a.fill(7);
    giveShared([a.buffer]);
    const b = takeShared(99_999);
    assert.equal(b, a.buffer);
    assert.ok(new Uint8Array(b, 0, 99_999).every((x) => x === 0));
    // Not handed out twice.
    assert.notEqual(takeShared(99_999), b);
  });

  test('blocks whose buffers are reused give the same results as blocks that keep their own', async () => {
    // Blocks large enough for pooled buffers (decoding, slot maps, the root's leaves and messages).
    const accounts = createAccounts(3000);
    const blocks: Uint8Array[][] = [];
    for (let h = 1; h <= 4; h++) blocks.push(generateBlock(accounts, { txs: 1500, conflict: 0.05, work: h % 2 === 0 ? 3 : 0, seed: h }, h * 1500));
    const open = async (): Promise<Chain> => {
      const chain = await Chain.open({ path: dirs.make(), threads: 2, device: 'cpu', sequentialBelow: 0, workPerThreadNs: 0 });
      await chain.genesis(accounts.map((a) => ({ publicKey: a.publicKey, balance: 1_000_000n })));
      return chain;
    };
    const [pooled, own] = await Promise.all([open(), open()]);
    const summary = (r: BlockResult) => ({ height: r.height, root: Buffer.from(r.stateRoot).toString('hex'), ids: Buffer.from(r.txIds).toString('hex'), receipts: r.receipts });
    try {
      // Encodings, submitted together: the chain prepares them and hands their buffers back once executed.
      const reused = await Promise.all(blocks.map((b) => pooled.executeBlock(b)));
      // Prepared by the caller: the chain never hands those buffers back.
      const kept: BlockResult[] = [];
      for (const b of blocks) kept.push(await own.executeBlock(await own.verifyBlock(b)));
      assert.deepEqual(reused.map(summary), kept.map(summary));
      assert.ok(reused.some((r) => r.receipts.some((s) => s === 'ok')));
      assert.deepEqual(Buffer.from(await stateRoot(new Map(pooled.state), 'cpu')), Buffer.from(pooled.stateRoot));
    } finally {
      await Promise.all([pooled.close(), own.close()]);
    }
  });
});
