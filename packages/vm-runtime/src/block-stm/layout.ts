/**
 * A block laid out in shared memory for Block-STM: transactions as columns,
 * and a multi-version store whose cells are known up front, because every
 * transaction's writable slots are declared (accounts from the encoding,
 * contract keys from the contract's `keys`). Workers read and write it with
 * Atomics; nothing is copied per transaction.
 */
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

export interface BlockTables {
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

type Ctor<T> = { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
const shared = <T>(C: Ctor<T>, length: number): T => new C(new SharedArrayBuffer(Math.max(1, length) * C.BYTES_PER_ELEMENT));

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

/** The slots a transaction may write, in a fixed order (its cells). */
export function writableSlots(tx: TxSlots): number[] {
  if (tx.kind === KIND_TRANSFER) {
    return tx.recipientBalance === tx.senderBalance ? [tx.senderBalance, tx.senderNonce] : [tx.senderBalance, tx.recipientBalance, tx.senderNonce];
  }
  if (tx.kind === KIND_CALL) return [...new Set([...tx.keySlots, tx.senderNonce])];
  return [];
}

export function buildTables(txs: readonly TxSlots[], base: BigUint64Array): BlockTables {
  const n = txs.length;
  const slots = base.length;
  let argsBytes = 0;
  let keyCount = 0;
  let cellCount = 0;
  const cellsOf = txs.map((tx) => writableSlots(tx));
  txs.forEach((tx, i) => {
    argsBytes += tx.args.length;
    keyCount += tx.keySlots.length;
    cellCount += cellsOf[i]!.length;
  });
  const t: BlockTables = {
    n,
    slots,
    kind: shared(Int32Array, n),
    preset: shared(Int32Array, n),
    senderNonce: shared(Int32Array, n),
    senderBalance: shared(Int32Array, n),
    recipientBalance: shared(Int32Array, n),
    nonce: shared(BigUint64Array, n),
    amount: shared(BigUint64Array, n),
    contract: shared(Int32Array, n),
    gasLimit: shared(Uint32Array, n),
    senders: shared(Uint8Array, 32 * n),
    argsOffsets: shared(Uint32Array, n + 1),
    args: shared(Uint8Array, argsBytes),
    keyOffsets: shared(Uint32Array, n + 1),
    keySlots: shared(Int32Array, keyCount),
    cellOffsets: shared(Uint32Array, n + 1),
    cellSlot: shared(Int32Array, cellCount),
    cellTx: shared(Int32Array, cellCount),
    cellState: shared(Int32Array, cellCount),
    cellInc: shared(Int32Array, cellCount),
    cellValue: shared(BigUint64Array, cellCount),
    slotWriterOffsets: shared(Uint32Array, slots + 1),
    slotWriters: shared(Int32Array, cellCount),
    base: shared(BigUint64Array, slots),
    readSlot: shared(Int32Array, cellCount),
    readTx: shared(Int32Array, cellCount),
    readInc: shared(Int32Array, cellCount),
    readLen: shared(Int32Array, n),
    status: shared(Int32Array, n),
    receipts: shared(Int32Array, n),
    ctl: shared(Int32Array, CTL_WORDS),
  };
  t.base.set(base);
  let args = 0;
  let keys = 0;
  let cells = 0;
  const writersPerSlot = new Uint32Array(slots + 1);
  txs.forEach((tx, i) => {
    t.kind[i] = tx.kind;
    t.preset[i] = tx.preset;
    t.senderNonce[i] = tx.senderNonce;
    t.senderBalance[i] = tx.senderBalance;
    t.recipientBalance[i] = tx.recipientBalance;
    t.nonce[i] = tx.nonce;
    t.amount[i] = tx.amount;
    t.contract[i] = tx.contract;
    t.gasLimit[i] = tx.gasLimit;
    t.senders.set(tx.sender, 32 * i);
    t.args.set(tx.args, args);
    args += tx.args.length;
    t.argsOffsets[i + 1] = args;
    t.keySlots.set(tx.keySlots, keys);
    keys += tx.keySlots.length;
    t.keyOffsets[i + 1] = keys;
    for (const slot of cellsOf[i]!) {
      t.cellSlot[cells] = slot;
      t.cellTx[cells] = i;
      writersPerSlot[slot + 1]!++;
      cells++;
    }
    t.cellOffsets[i + 1] = cells;
  });
  for (let s = 0; s < slots; s++) t.slotWriterOffsets[s + 1] = t.slotWriterOffsets[s]! + writersPerSlot[s + 1]!;
  // Cells are numbered in tx order, so appending per slot keeps each list sorted by tx.
  const fill = new Uint32Array(slots);
  for (let c = 0; c < cells; c++) {
    const s = t.cellSlot[c]!;
    t.slotWriters[t.slotWriterOffsets[s]! + fill[s]!++] = c;
  }
  return t;
}
