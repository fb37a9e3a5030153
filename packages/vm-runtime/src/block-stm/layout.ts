/**
 * A block laid out in shared memory for Block-STM: transactions as columns,
 * and a multi-version store whose cells are known up front, because every
 * transaction's writable slots are declared (accounts from the encoding,
 * contract keys from the contract's `keys`). Workers read and write it with
 * Atomics; nothing is copied per transaction.
 */
import { giveShared, sharedArray } from '../shared-buffers.js';

export const KIND_SKIP = 0; // rejected before execution (receipt preset)
export const KIND_TRANSFER = 1;
export const KIND_CALL = 2;

export const CELL_EMPTY = 0;
export const CELL_WRITTEN = 1;
export const CELL_ESTIMATE = 2;

/**
 * Scheduler words in `ctl`, each on its own 64-byte cache line: every task
 * updates several of them atomically, and sharing one line would make all
 * threads queue on it.
 */
const LINE_WORDS = 16;
export const CTL_EXECUTION_IDX = 0;
export const CTL_VALIDATION_IDX = LINE_WORDS;
export const CTL_DECREASE_CNT = 2 * LINE_WORDS;
export const CTL_ACTIVE_TASKS = 3 * LINE_WORDS;
export const CTL_DONE = 4 * LINE_WORDS;
export const CTL_WORDS = 5 * LINE_WORDS;

/**
 * Per-transaction columns over slots: what decoding and interning fix before
 * execution. They are only read while the block executes, so tables built
 * over them share them instead of copying.
 */
export interface TxColumns {
  n: number;
  slots: number;
  kind: Int32Array;
  preset: Int32Array; // receipt for KIND_SKIP
  senderNonce: Int32Array;
  senderBalance: Int32Array;
  recipientBalance: Int32Array;
  nonce: BigUint64Array;
  amount: BigUint64Array;
  contract: Int32Array;
  gasLimit: Uint32Array;
  senders: Uint8Array;
  argsOffsets: Uint32Array;
  args: Uint8Array;
  keyOffsets: Uint32Array;
  keySlots: Int32Array;
}

export interface BlockTables extends TxColumns {
  /** Cells (potential writes) of tx i: cellOffsets[i] .. cellOffsets[i+1]; reads use the same bound. */
  cellOffsets: Uint32Array;
  cellSlot: Int32Array;
  cellTx: Int32Array;
  cellState: Int32Array;
  cellInc: Int32Array;
  cellValue: BigUint64Array;
  /** Cells writing slot s, by ascending tx: slotWriters[slotWriterOffsets[s] .. slotWriterOffsets[s+1]]. */
  slotWriterOffsets: Uint32Array;
  slotWriters: Int32Array;
  base: BigUint64Array;
  readSlot: Int32Array;
  readTx: Int32Array;
  readInc: Int32Array;
  readLen: Int32Array;
  /** (incarnation << 2) | status, one word so abort can compare-and-swap both. */
  status: Int32Array;
  receipts: Int32Array;
  ctl: Int32Array;
}

/**
 * Shared columns, reused from the buffer pool where a block gives them back
 * (see shared-buffers.ts); zeroed unless `zero` is false, for columns written
 * in full before anything reads them (zeroing shared memory is not free).
 */
const shared = <T>(C: Parameters<typeof sharedArray<T>>[0], length: number, zero = true): T => sharedArray(C, Math.max(1, length), zero);

export interface TxSlots {
  kind: number;
  preset: number;
  senderNonce: number;
  senderBalance: number;
  recipientBalance: number;
  nonce: bigint;
  amount: bigint;
  contract: number;
  gasLimit: number;
  sender: Uint8Array;
  args: Uint8Array;
  keySlots: number[];
}

/**
 * Per-transaction columns in shared memory for n transactions, `argsBytes` of
 * call arguments and `keyCount` declared contract keys. `preset`, `gasLimit`
 * and the given columns' replacements are zero, and the offsets start at 0;
 * every other column holds whatever a previous block left: the caller writes
 * it in full (kind, senderNonce, senderBalance, recipientBalance and contract
 * for every transaction, argsOffsets and keyOffsets from 1 to n, all of args
 * and keySlots).
 */
export function allocateTxColumns(n: number, slots: number, argsBytes: number, keyCount: number, given?: Pick<TxColumns, 'nonce' | 'amount' | 'senders'>): TxColumns {
  const c: TxColumns = {
    n,
    slots,
    kind: shared(Int32Array, n, false),
    preset: shared(Int32Array, n),
    senderNonce: shared(Int32Array, n, false),
    senderBalance: shared(Int32Array, n, false),
    recipientBalance: shared(Int32Array, n, false),
    // Columns the caller already has are not allocated only to be replaced.
    nonce: given?.nonce ?? shared(BigUint64Array, n),
    amount: given?.amount ?? shared(BigUint64Array, n),
    contract: shared(Int32Array, n, false),
    gasLimit: shared(Uint32Array, n),
    senders: given?.senders ?? shared(Uint8Array, 32 * n),
    argsOffsets: shared(Uint32Array, n + 1, false),
    args: shared(Uint8Array, argsBytes, false),
    keyOffsets: shared(Uint32Array, n + 1, false),
    keySlots: shared(Int32Array, keyCount, false),
  };
  c.argsOffsets[0] = 0;
  c.keyOffsets[0] = 0;
  return c;
}

/**
 * Writes tx i's cells (the slots it may write, in a fixed order) at `out[at..]`
 * and returns how many: a transfer writes both balances (one if it pays
 * itself) and the nonce, a call its declared keys (each once) and the nonce,
 * a rejected one nothing. `out` may be undefined to count only.
 */
function writeCells(t: TxColumns, i: number, out: Int32Array | undefined, at: number): number {
  const kind = t.kind[i];
  if (kind === KIND_TRANSFER) {
    const from = t.senderBalance[i]!;
    const to = t.recipientBalance[i]!;
    if (out) {
      out[at] = from;
      if (to !== from) out[at + 1] = to;
      out[at + (to === from ? 1 : 2)] = t.senderNonce[i]!;
    }
    return to === from ? 2 : 3;
  }
  if (kind !== KIND_CALL) return 0;
  const keysEnd = t.keyOffsets[i + 1]!;
  const nonce = t.senderNonce[i]!;
  let count = 0;
  let nonceDeclared = false;
  for (let k = t.keyOffsets[i]!; k < keysEnd; k++) {
    const slot = t.keySlots[k]!;
    // Declared lists are a handful of keys: a linear scan for repeats is cheapest.
    let repeat = false;
    for (let j = t.keyOffsets[i]!; j < k && !repeat; j++) repeat = t.keySlots[j] === slot;
    if (repeat) continue;
    if (slot === nonce) nonceDeclared = true;
    if (out) out[at + count] = slot;
    count++;
  }
  if (!nonceDeclared) {
    if (out) out[at + count] = nonce;
    count++;
  }
  return count;
}

/**
 * The tables of one execution over `columns` (shared, not copied) with `base`
 * the slots' values before the block: cells, per-slot writer lists, read logs
 * and scheduler words, all fresh.
 */
export function tablesFromColumns(columns: TxColumns, base: BigUint64Array): BlockTables {
  const { n, slots } = columns;
  if (base.length !== slots) throw new RangeError(`base has ${base.length} values for ${slots} slots`);
  // Not zeroed: cellOffsets, cellSlot, cellTx, slotWriters and base are written in full below.
  const cellOffsets = shared(Uint32Array, n + 1, false);
  cellOffsets[0] = 0;
  const { kind, senderBalance, recipientBalance } = columns;
  let cellCount = 0;
  for (let i = 0; i < n; i++) {
    // Transfers (nearly every transaction) inline: three cells, two when paying oneself.
    const cells = kind[i] === KIND_TRANSFER ? (senderBalance[i] === recipientBalance[i] ? 2 : 3) : writeCells(columns, i, undefined, 0);
    cellOffsets[i + 1] = cellCount += cells;
  }
  const t: BlockTables = {
    ...columns,
    cellOffsets,
    cellSlot: shared(Int32Array, cellCount, false),
    cellTx: shared(Int32Array, cellCount, false),
    cellState: shared(Int32Array, cellCount),
    cellInc: shared(Int32Array, cellCount),
    cellValue: shared(BigUint64Array, cellCount),
    slotWriterOffsets: shared(Uint32Array, slots + 1),
    slotWriters: shared(Int32Array, cellCount, false),
    base: shared(BigUint64Array, slots, false),
    readSlot: shared(Int32Array, cellCount),
    readTx: shared(Int32Array, cellCount),
    readInc: shared(Int32Array, cellCount),
    readLen: shared(Int32Array, n),
    status: shared(Int32Array, n),
    receipts: shared(Int32Array, n),
    ctl: shared(Int32Array, CTL_WORDS),
  };
  t.base.set(base);
  const { cellSlot, cellTx, slotWriterOffsets, slotWriters } = t;
  const writersPerSlot = slotWriterOffsets; // counts at s + 1 first, prefix sums below
  for (let i = 0; i < n; i++) {
    const at = cellOffsets[i]!;
    const end = at + writeCells(columns, i, cellSlot, at);
    for (let c = at; c < end; c++) {
      cellTx[c] = i;
      writersPerSlot[cellSlot[c]! + 1]!++;
    }
  }
  for (let s = 0; s < slots; s++) slotWriterOffsets[s + 1] = slotWriterOffsets[s]! + writersPerSlot[s + 1]!;
  // Cells are numbered in tx order, so appending per slot keeps each list sorted by tx.
  const fill = shared(Uint32Array, slots);
  for (let c = 0; c < cellCount; c++) {
    const s = cellSlot[c]!;
    slotWriters[slotWriterOffsets[s]! + fill[s]!++] = c;
  }
  giveShared([fill.buffer]);
  return t;
}

/** The buffers `tablesFromColumns` allocated for `t` (not its columns'), for `giveShared` once no run reads `t` any more. */
export function tableBuffers(t: BlockTables): ArrayBufferLike[] {
  return [t.cellOffsets, t.cellSlot, t.cellTx, t.cellState, t.cellInc, t.cellValue, t.slotWriterOffsets, t.slotWriters, t.base, t.readSlot, t.readTx, t.readInc, t.readLen, t.status, t.receipts, t.ctl].map((a) => a.buffer);
}

/** Tables from one record per transaction (tests and benchmarks build blocks this way). */
export function buildTables(txs: readonly TxSlots[], base: BigUint64Array): BlockTables {
  let argsBytes = 0;
  let keyCount = 0;
  for (const tx of txs) {
    argsBytes += tx.args.length;
    keyCount += tx.keySlots.length;
  }
  const c = allocateTxColumns(txs.length, base.length, argsBytes, keyCount);
  let args = 0;
  let keys = 0;
  txs.forEach((tx, i) => {
    c.kind[i] = tx.kind;
    c.preset[i] = tx.preset;
    c.senderNonce[i] = tx.senderNonce;
    c.senderBalance[i] = tx.senderBalance;
    c.recipientBalance[i] = tx.recipientBalance;
    c.nonce[i] = tx.nonce;
    c.amount[i] = tx.amount;
    c.contract[i] = tx.contract;
    c.gasLimit[i] = tx.gasLimit;
    c.senders.set(tx.sender, 32 * i);
    c.args.set(tx.args, args);
    c.argsOffsets[i + 1] = args += tx.args.length;
    c.keySlots.set(tx.keySlots, keys);
    c.keyOffsets[i + 1] = keys += tx.keySlots.length;
  });
  return tablesFromColumns(c, base);
}
