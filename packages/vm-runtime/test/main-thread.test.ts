import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { tableBuffers, tablesFromColumns, type BlockTables } from '../src/block-stm/layout.js';
import { applyVerdicts, decodeBlock, layoutBuffers, layoutDecoded, resolveLayout } from '../src/decoded-block.js';
import { giveShared, takeShared } from '../src/shared-buffers.js';
import { ChainState } from '../src/state.js';
import { encodeTransaction, type Transaction } from '../src/transaction.js';

const key = (i: number): Uint8Array => new Uint8Array(createHash('sha256').update(`main-thread-${i}`).digest());

/** Unsigned (zero-signature) transfers and `work` calls: layouts do not check signatures. */
function block(n: number, accounts: number, seed: number): Uint8Array[] {
  const keys = Array.from({ length: accounts }, (_, i) => key(i));
  let x = seed | 1;
  const random = (m: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % m;
  };
  return Array.from({ length: n }, (_, i) => {
    const sender = keys[random(accounts)]!;
    let tx: Transaction;
    if (i % 7 === 3) {
      const args = new Uint8Array(8);
      new DataView(args.buffer).setUint32(0, 2, true);
      new DataView(args.buffer).setUint32(4, random(50), true);
      tx = { sender, nonce: BigInt(i), payload: { kind: 'call', contract: 'work', gasLimit: 100, args }, signature: new Uint8Array(64) };
    } else {
      // Some pay themselves (two cells instead of three).
      const to = i % 11 === 0 ? sender : keys[random(accounts)]!;
      tx = { sender, nonce: BigInt(i), payload: { kind: 'transfer', to, amount: BigInt(random(1000)) }, signature: new Uint8Array(64) };
    }
    return encodeTransaction(tx);
  });
}

type Snapshot = Record<string, number[] | bigint[]>;

function snapshot(t: BlockTables, extra: Record<string, ArrayLike<number | bigint>>): Snapshot {
  const out: Snapshot = {};
  for (const [name, value] of Object.entries({ ...t, ...extra })) {
    if (ArrayBuffer.isView(value)) out[name] = Array.from(value as unknown as ArrayLike<number | bigint>) as number[] | bigint[];
  }
  return out;
}

/** Gives pooled buffers back full of junk, so columns that are not zeroed would show it. */
function dirty(buffers: ArrayBufferLike[]): void {
  for (const b of buffers) new Uint8Array(b).fill(0xab);
  giveShared(buffers);
}

describe('main-thread pipeline', () => {
  test('layouts and tables built over reused, dirty pool buffers equal fresh ones', () => {
    // Large enough for every per-transaction column to come from the pool (64 KiB and up).
    const encoded = block(20_000, 3_000, 7);
    const verdicts = new Uint8Array(encoded.length).fill(1);
    verdicts[5] = 0;
    const build = (): { snap: Snapshot; buffers: ArrayBufferLike[] } => {
      const layout = layoutDecoded(decodeBlock(encoded));
      applyVerdicts(layout.columns, verdicts);
      const base = new BigUint64Array(layout.columns.slots).map((_, s) => BigInt(s * 3));
      const tables = tablesFromColumns(layout.columns, base);
      const snap = snapshot(tables, { slotAccount: layout.slotAccount, slotIsNonce: layout.slotIsNonce, accountAt: layout.accountAt });
      return { snap, buffers: [...layoutBuffers(layout), ...tableBuffers(tables)] };
    };
    const first = build();
    // Junk in the pool: the block's own buffers and a spread of other sizes.
    const junk: ArrayBufferLike[] = [];
    for (let size = 64 << 10; size <= 4 << 20; size *= 2) junk.push(takeShared(size), takeShared(size + 4096));
    dirty([...first.buffers, ...junk]);
    const second = build();
    assert.deepEqual(second.snap, first.snap);
    // The reused block once more, after its buffers went back dirty again.
    dirty(second.buffers);
    assert.deepEqual(build().snap, first.snap);
  });

  test('ChainState.accounts interns like account, adding new keys and growing mid-batch', () => {
    const a = new ChainState();
    const b = new ChainState();
    // Past the initial 1024 accounts, so the tables grow during one call; repeats within the batch.
    const n = 3000;
    const bytes = new Uint8Array(32 * n + 3);
    const at = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      at[k] = 3 + 32 * k;
      bytes.set(key(k % 2500), at[k]!);
    }
    for (let k = 0; k < 500; k++) a.account(bytes, at[k * 2]!);
    for (let k = 0; k < 500; k++) b.account(bytes, at[k * 2]!);
    const ids = new Int32Array(n);
    a.accounts(bytes, at, ids);
    for (let k = 0; k < n; k++) assert.equal(ids[k], b.account(bytes, at[k]!), `key ${k}`);
    for (let k = 0; k < n; k++) assert.equal(a.findAccount(bytes, at[k]!), ids[k]);
  });

  test('account values as words match accountValue, and changedBy matches present and value', () => {
    const state = new ChainState();
    const accounts = 1500;
    for (let i = 0; i < accounts; i++) state.account(key(i), 0);
    // Values across the 64-bit range, some keys never written.
    for (let i = 0; i < accounts; i += 2) state.set(state.accountKey(i, false), (BigInt(i) << 40n) | 0xffffffffn);
    for (let i = 0; i < accounts; i += 3) state.set(state.accountKey(i, true), 2n ** 64n - 1n - BigInt(i));
    const out = new BigUint64Array(2 * accounts);
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < accounts; i++) {
      state.accountValueWords(i, false, words, 4 * i);
      state.accountValueWords(i, true, words, 4 * i + 2);
      assert.equal(out[2 * i], state.accountValue(i, false));
      assert.equal(out[2 * i + 1], state.accountValue(i, true));
    }
    const probe = new BigUint64Array([0n, 1n, 0xffffffffn, 2n ** 64n - 1n, (5n << 40n) | 0xffffffffn]);
    const probeWords = new Uint32Array(probe.buffer);
    for (let i = 0; i < accounts; i++) {
      for (const nonce of [false, true]) {
        const id = state.accountKey(i, nonce);
        for (let k = 0; k < probe.length; k++) {
          assert.equal(state.changedBy(id, probeWords, 2 * k), !state.present(id) || state.value(id) !== probe[k], `account ${i} nonce ${nonce} value ${probe[k]}`);
        }
      }
    }
  });

  test('resolveLayout reads base values as the state holds them', () => {
    const encoded = block(3000, 400, 11);
    const layout = layoutDecoded(decodeBlock(encoded));
    const state = new ChainState();
    const named = [...layout.keys];
    named.forEach((k, s) => {
      if (s % 4 !== 0) state.set(state.keyId(k), (BigInt(s) << 33n) + 7n);
    });
    const { base } = resolveLayout(layout, state, new BigUint64Array(layout.columns.slots).fill(99n));
    assert.deepEqual(Array.from(base), named.map((k) => state.get(k) ?? 0n));
  });
});
