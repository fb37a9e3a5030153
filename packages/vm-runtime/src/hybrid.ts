/**
 * The path of one block through the runtime (`executeWithHybrid`):
 *   stage 1: every transaction's id (sha256Batch) and every signature
 *            (verifyEd25519Batch) as one batch each through the hybrid scheduler;
 *   stage 2: the verified transactions laid out over interned slots in shared
 *            memory and executed by Block-STM (BlockStmPool), or sequentially
 *            for tiny blocks;
 *   stage 3: the changed keys and the SHA-256 Merkle state root.
 * Persisting the result is the caller's (Chain's) business.
 */
import { sha256Batch, verifyEd25519Batch, type DeviceChoice, type ExecStats, type Task } from '@supervm/gpu-executor';
import { BlockStmPool } from './block-stm/parallel.js';
import { tableBuffers, tablesFromColumns, type BlockTables } from './block-stm/layout.js';
import { applyVerdicts, baseValues, decodeBlock, decodeBlockAsync, layoutBuffers, layoutDecoded, layoutDecodedAsync, resolveLayout, slotKeyId, type BlockLayout, type DecodedBlock } from './decoded-block.js';
import { Receipt, receiptName, type ReceiptStatus } from './receipts.js';
import { giveShared, sharedArray, wordsOf } from './shared-buffers.js';
import { executeSequential, writeColumns, type BlockOutcome } from './sequential.js';
import { ChainState } from './state.js';
import { StateRootCache, stateRoot } from './state-root.js';
import { decodeTransaction, encodeTransaction, type Transaction } from './transaction.js';

export interface BlockStats {
  txs: number;
  verify: { device: ExecStats['device']; backend: string; ms: number; fellBack: boolean };
  hashMs: number;
  /** Decoding and laying the block out in shared memory. */
  layoutMs: number;
  execute: {
    threads: number;
    /** false when the block was too small for threads (see BlockStmPool.runsInParallel) and ran on the calling thread. */
    parallel: boolean;
    ms: number;
    /** Incarnations run, re-executions included (>= the number of executed transactions). */
    executions: number;
    sequentialMs?: number;
    speedup?: number;
  };
  rootMs: number;
  commitMs: number;
  /** From the start of verification to the end of the commit. */
  totalMs: number;
  /**
   * The time this block added: from the later of its start and the previous
   * block's commit to its own commit. Equals totalMs when blocks run one at a
   * time; less when the block was verified while the one before executed.
   */
  intervalMs: number;
  /** Transactions per second, end to end: txs / intervalMs. */
  tps: number;
}

/** A transaction as a scheduler task (id = its index in the block), decoded; estCost grows with its gas limit. */
export interface TxTask {
  encoded: Uint8Array;
  tx: Transaction;
}

export function transactionToTask(encoded: Uint8Array, index: number): Task<TxTask> {
  const tx = decodeTransaction(encoded, index);
  const estCost = tx.payload.kind === 'call' ? 1 + tx.payload.gasLimit / 1000 : 1;
  return { id: index, payload: { encoded, tx }, estCost };
}

type Stage1 = { txIds: Uint8Array; verdicts: Uint8Array; verify: BlockStats['verify']; hashMs: number };

/** Stage 1 over a decoded block: the ids and the signature verdicts, one batch each through the scheduler, run concurrently. */
async function verifyDecoded(d: DecodedBlock, device: DeviceChoice): Promise<Stage1> {
  if (d.n === 0) return { txIds: new Uint8Array(0), verdicts: new Uint8Array(0), verify: { device: 'cpu', backend: 'none', ms: 0, fellBack: false }, hashMs: 0 };
  const t0 = performance.now();
  const hashing = sha256Batch(d.encodings, { device }).then((r) => ({ r, ms: performance.now() - t0 }));
  const verifying = verifyEd25519Batch({ messages: d.messages, publicKeys: d.publicKeys, signatures: d.signatures }, { device }).then((r) => ({
    r,
    ms: performance.now() - t0,
  }));
  const [hashed, verified] = await Promise.all([hashing, verifying]);
  const s = verified.r.stats;
  return {
    txIds: hashed.r.output,
    verdicts: verified.r.output,
    verify: { device: s.device, backend: s.backend, ms: verified.ms, fellBack: s.fellBack === true },
    hashMs: hashed.ms,
  };
}

/** Stage 1: ids and signature verdicts, each one batch through the scheduler (run concurrently). `txs` are `encoded` decoded. */
export async function verifyBlock(encoded: readonly Uint8Array[], _txs: readonly Transaction[], device: DeviceChoice): Promise<Stage1> {
  return verifyDecoded(decodeBlock(encoded), device);
}

/**
 * Stage 2's input: every key a transaction may touch is interned to a dense
 * slot (accounts from the encoding, contract keys from the contract's
 * `keys(sender, args)`), and the block becomes shared tables over them.
 * `keys[slot]` names each slot.
 */
export function layoutBlock(txs: readonly Transaction[], verdicts: Uint8Array, state: ReadonlyMap<string, bigint>): { tables: BlockTables; keys: string[] } {
  const layout = layoutDecoded(decodeBlock(txs.map((tx) => encodeTransaction(tx))));
  applyVerdicts(layout.columns, verdicts);
  const keys = [...layout.keys];
  return { tables: tablesFromColumns(layout.columns, baseValues(keys, state)), keys };
}

/**
 * A block through stage 1 and laid out over slots: everything about it that
 * does not depend on the state, so it can be prepared while the block before
 * it executes (`prepareBlock`, `Chain.verifyBlock`) and executed later
 * (`executePrepared`, `Chain.executeBlock`), as often as needed.
 */
export interface PreparedBlock {
  readonly txs: number;
  /** 32-byte ids, concatenated in block order. */
  readonly txIds: Uint8Array;
  /** 1 where the signature is valid. */
  readonly verdicts: Uint8Array;
  readonly layout: BlockLayout;
  readonly verify: BlockStats['verify'];
  readonly hashMs: number;
  /** Decoding and interning (on the calling thread, while the pool verifies). */
  readonly layoutMs: number;
  /** performance.now() when preparation began. */
  readonly startedAt: number;
}

/**
 * Stage 1 and the state-independent part of stage 2: decodes the block
 * (INVALID_INPUT with the index on a malformed transaction, before any work),
 * starts the ids and signatures on the scheduler and lays the block out over
 * slots meanwhile on this thread.
 */
export async function prepareBlock(block: readonly Uint8Array[], device: DeviceChoice = 'auto'): Promise<PreparedBlock> {
  const startedAt = performance.now();
  const decoded = await decodeBlockAsync(block);
  let layoutMs = performance.now() - startedAt;
  const verifying = verifyDecoded(decoded, device);
  verifying.catch(() => undefined); // awaited below; this only keeps a failure during the layout from counting as unhandled
  // Let the batches reach the worker pool before this thread is busy with the layout.
  await new Promise((resolve) => setImmediate(resolve));
  const tLayout = performance.now();
  const layout = await layoutDecodedAsync(decoded);
  layoutMs += performance.now() - tLayout;
  const stage1 = await verifying;
  const tTables = performance.now();
  applyVerdicts(layout.columns, stage1.verdicts);
  // The tables depend on the state only through their base values, filled in by executePrepared: built here,
  // they overlap the block before instead of adding to the serial part of the pipeline.
  const tables = tablesFromColumns(layout.columns, new BigUint64Array(layout.columns.slots));
  layoutMs += performance.now() - tTables;
  const prepared: PreparedBlock = { txs: decoded.n, txIds: stage1.txIds, verdicts: stage1.verdicts, layout, verify: stage1.verify, hashMs: stage1.hashMs, layoutMs, startedAt };
  preparedTables.set(prepared, tables);
  preparedBuffers.set(prepared, [...layoutBuffers(layout), ...tableBuffers(tables)]);
  return prepared;
}

/** Tables built by prepareBlock, taken by the first executePrepared of the block (later ones build their own). */
const preparedTables = new WeakMap<PreparedBlock, BlockTables>();
/** The shared buffers behind a prepared block's decoding, layout and tables (see `releasePrepared`). */
const preparedBuffers = new WeakMap<PreparedBlock, ArrayBufferLike[]>();

/**
 * Hands a prepared block's buffers back to the pool (shared-buffers.ts), so
 * the next block reuses memory whose pages are already in, instead of
 * faulting in fresh ones on this thread. Only for a caller that owns the
 * block and is done with it: no executePrepared of it running or to come,
 * and nothing read from its layout afterwards (Chain, for blocks it prepared
 * itself, once executed). The result of an execution does not refer to them.
 */
export function releasePrepared(prepared: PreparedBlock): void {
  const buffers = preparedBuffers.get(prepared);
  preparedBuffers.delete(prepared);
  preparedTables.delete(prepared);
  if (buffers) giveShared(buffers);
}

export interface HybridOptions {
  /** State before the block (missing keys read as 0). */
  state: ReadonlyMap<string, bigint>;
  /** Execution pool; without one a temporary pool of `threads` threads is created and closed. */
  pool?: BlockStmPool;
  threads?: number;
  /** Where ids and signatures are computed; default auto (the scheduler decides). */
  device?: DeviceChoice;
  /** Also run the sequential executor on the same tables, report the speedup, and throw if the results differ. */
  compareSequential?: boolean;
  /** Incremental state root (Chain's); without it the root is computed from scratch over state + changes. */
  roots?: StateRootCache;
}

/**
 * A block's effect on a ChainState by key id: every key whose value changed or
 * that is new, in key order.
 */
export interface StateDelta {
  ids: Int32Array;
  values: BigUint64Array;
}

export interface HybridResult {
  receipts: ReceiptStatus[];
  /** The same receipts as codes, one byte each (as a block record stores them). */
  receiptCodes: Uint8Array;
  /** 32-byte ids, concatenated in block order. */
  txIds: Uint8Array;
  /** Final value of every key the block wrote (built on first use when the state is a ChainState). */
  changes: Map<string, bigint>;
  /** With a ChainState and its root cache: the changes that matter, by key id, in key order. */
  delta?: StateDelta;
  stateRoot: Uint8Array;
  /** Makes `stateRoot` the root cache's current one (no-op without `roots`); call once the block is committed. */
  applyRoot: () => void;
  stats: Omit<BlockStats, 'commitMs' | 'totalMs' | 'intervalMs' | 'tps'>;
}

/**
 * Verifies and executes one block of encoded transactions on top of `state`,
 * without persisting anything. Malformed encodings throw INVALID_INPUT (with
 * the transaction's index) before any work; every other problem is a receipt.
 */
export async function executeWithHybrid(block: readonly Uint8Array[], options: HybridOptions): Promise<HybridResult> {
  return executePrepared(await prepareBlock(block, options.device), options);
}

/** Stages 2 and 3 of a prepared block on top of `options.state`: `executeWithHybrid` after `prepareBlock`. */
export async function executePrepared(prepared: PreparedBlock, options: HybridOptions): Promise<HybridResult> {
  const { state, device = 'auto', roots } = options;
  const { layout } = prepared;
  const { columns } = layout;
  // A ChainState is read and updated by key id; any other map by key string.
  const columnar = state instanceof ChainState && roots?.sharesKeysWith(state) === true ? state : undefined;

  // Stage 2.
  const tTables = performance.now();
  const built = preparedTables.get(prepared);
  preparedTables.delete(prepared);
  // Base values straight into the prepared tables when there are some (no array of them to copy).
  const resolved = columnar ? resolveLayout(layout, columnar, built?.base) : undefined;
  const base = resolved ? resolved.base : baseValues(layout.keys, state);
  let tables: BlockTables;
  if (built) {
    if (base !== built.base) built.base.set(base);
    tables = built;
  } else {
    tables = tablesFromColumns(columns, base);
  }
  const layoutMs = prepared.layoutMs + performance.now() - tTables;
  let sequential: { outcome: BlockOutcome; ms: number } | undefined;
  if (options.compareSequential) {
    const ts = performance.now();
    sequential = { outcome: executeSequential(tables), ms: performance.now() - ts };
  }
  const pool = options.pool ?? new BlockStmPool(options.threads);
  let outcome: BlockOutcome;
  let execMs: number;
  try {
    const tExec = performance.now();
    outcome = await pool.execute(tables);
    execMs = performance.now() - tExec;
  } finally {
    if (!options.pool) await pool.close();
  }
  if (sequential) assertSameOutcome(sequential.outcome, outcome);

  // Stage 3.
  let changes: Map<string, bigint> | undefined;
  const changesOf = (): Map<string, bigint> => {
    if (!changes) {
      const keys = layout.keys;
      changes = new Map();
      for (const [slot, value] of outcome.writes) changes.set(keys[slot]!, value);
    }
    return changes;
  };
  const tRoot = performance.now();
  let root: Uint8Array;
  let applyRoot = (): void => {};
  let delta: StateDelta | undefined;
  if (columnar && resolved && roots) {
    // Columns from Block-STM; a block run sequentially has its small map.
    const written = outcome.written ?? writeColumns(outcome.writes);
    // Scratch from the pool, handed back once the delta is copied out of it.
    const ids = sharedArray(Int32Array, written.slots.length, false);
    const values = sharedArray(BigUint64Array, written.slots.length, false);
    // Values compared and copied as 32-bit word pairs: reading one as a bigint allocates it.
    const writtenWords = wordsOf(written.values);
    const valueWords = wordsOf(values);
    let m = 0;
    for (let k = 0; k < written.slots.length; k++) {
      const id = slotKeyId(layout, resolved.accountIds, columnar, written.slots[k]!);
      if (columnar.changedBy(id, writtenWords, 2 * k)) {
        ids[m] = id;
        valueWords[2 * m] = writtenWords[2 * k]!;
        valueWords[2 * m + 1] = writtenWords[2 * k + 1]!;
        m++;
      }
    }
    const next = await roots.prepareIds(ids.subarray(0, m), values.subarray(0, m));
    delta = { ids: new Int32Array(m), values: new BigUint64Array(m) };
    const deltaWords = wordsOf(delta.values);
    for (let k = 0; k < m; k++) {
      const from = next.keyOrder[k]!;
      delta.ids[k] = ids[from]!;
      deltaWords[2 * k] = valueWords[2 * from]!;
      deltaWords[2 * k + 1] = valueWords[2 * from + 1]!;
    }
    giveShared([ids.buffer, values.buffer, resolved.accountIds.buffer]);
    root = next.root;
    applyRoot = next.apply;
  } else if (roots) {
    const next = await roots.prepare(state, changesOf());
    root = next.root;
    applyRoot = next.apply;
  } else {
    const next = new Map(state);
    for (const [k, v] of changesOf()) next.set(k, v);
    root = await stateRoot(next, device);
  }
  const rootMs = performance.now() - tRoot;

  const receipts = new Array<ReceiptStatus>(outcome.receipts.length);
  for (let i = 0; i < receipts.length; i++) receipts[i] = receiptName(outcome.receipts[i]!);
  return {
    receipts,
    // Straight from the executor's codes: no lookup by name per transaction.
    receiptCodes: new Uint8Array(outcome.receipts),
    txIds: prepared.txIds,
    get changes(): Map<string, bigint> {
      return changesOf();
    },
    ...(delta ? { delta } : {}),
    stateRoot: root,
    applyRoot,
    stats: {
      txs: prepared.txs,
      verify: prepared.verify,
      hashMs: prepared.hashMs,
      layoutMs,
      execute: {
        // The threads this block ran on (cheap blocks get fewer than the pool has: BlockStmPool.threadsFor).
        threads: pool.threadsFor(tables),
        parallel: pool.runsInParallel(tables),
        ms: execMs,
        executions: outcome.executions,
        // A block that ran sequentially has no speedup to report: both timings would time the same executor.
        ...(sequential ? { sequentialMs: sequential.ms, ...(pool.runsInParallel(tables) ? { speedup: sequential.ms / execMs } : {}) } : {}),
      },
      rootMs,
    },
  };
}

function assertSameOutcome(a: BlockOutcome, b: BlockOutcome): void {
  const same =
    a.receipts.length === b.receipts.length &&
    a.receipts.every((r, i) => r === b.receipts[i]) &&
    a.writes.size === b.writes.size &&
    [...a.writes].every(([slot, v]) => b.writes.get(slot) === v);
  if (!same) throw new Error('parallel execution differs from sequential execution: this is a bug');
}

/** Receipt codes as stored (one byte each). */
export const receiptCodes = (receipts: readonly ReceiptStatus[]): Uint8Array => Uint8Array.from(receipts, (r) => Receipt[r]);
