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
import { KIND_CALL, KIND_SKIP, KIND_TRANSFER, buildTables, type BlockTables, type TxSlots } from './block-stm/layout.js';
import { CONTRACTS, contractId } from './contracts/index.js';
import { balanceKey, contractKey, nonceKey } from './keys.js';
import { Receipt, receiptName, type ReceiptStatus } from './receipts.js';
import { executeSequential, type BlockOutcome } from './sequential.js';
import { StateRootCache, stateRoot } from './state-root.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, decodeTransaction, type Transaction } from './transaction.js';

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
  totalMs: number;
  /** Transactions per second, end to end. */
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

/** Stage 1: ids and signature verdicts, each one batch through the scheduler (run concurrently). */
export async function verifyBlock(
  encoded: readonly Uint8Array[],
  txs: readonly Transaction[],
  device: DeviceChoice,
): Promise<{ txIds: Uint8Array; verdicts: Uint8Array; verify: BlockStats['verify']; hashMs: number }> {
  const n = txs.length;
  if (n === 0) return { txIds: new Uint8Array(0), verdicts: new Uint8Array(0), verify: { device: 'cpu', backend: 'none', ms: 0, fellBack: false }, hashMs: 0 };
  const publicKeys = new Uint8Array(n * PUBLIC_KEY_BYTES);
  const signatures = new Uint8Array(n * SIGNATURE_BYTES);
  txs.forEach((tx, i) => {
    publicKeys.set(tx.sender, i * PUBLIC_KEY_BYTES);
    signatures.set(tx.signature, i * SIGNATURE_BYTES);
  });
  const t0 = performance.now();
  const hashing = sha256Batch([...encoded], { device }).then((r) => ({ r, ms: performance.now() - t0 }));
  const verifying = verifyEd25519Batch(
    { messages: encoded.map((e) => e.subarray(0, e.length - SIGNATURE_BYTES)), publicKeys, signatures },
    { device },
  ).then((r) => ({ r, ms: performance.now() - t0 }));
  const [hashed, verified] = await Promise.all([hashing, verifying]);
  const s = verified.r.stats;
  return {
    txIds: hashed.r.output,
    verdicts: verified.r.output,
    verify: { device: s.device, backend: s.backend, ms: verified.ms, fellBack: s.fellBack === true },
    hashMs: hashed.ms,
  };
}

/**
 * Stage 2's input: every key a transaction may touch is interned to a dense
 * slot (accounts from the encoding, contract keys from the contract's
 * `keys(sender, args)`), and the block becomes shared tables over them.
 * `keys[slot]` names each slot.
 */
export function layoutBlock(txs: readonly Transaction[], verdicts: Uint8Array, state: ReadonlyMap<string, bigint>): { tables: BlockTables; keys: string[] } {
  const slots = new Map<string, number>();
  const keys: string[] = [];
  const slotOf = (key: string): number => {
    let slot = slots.get(key);
    if (slot === undefined) {
      slots.set(key, (slot = keys.length));
      keys.push(key);
    }
    return slot;
  };
  const records: TxSlots[] = txs.map((tx, i) => {
    const p = tx.payload;
    const record: TxSlots = {
      kind: KIND_TRANSFER,
      preset: Receipt.ok,
      senderNonce: slotOf(nonceKey(tx.sender)),
      senderBalance: slotOf(balanceKey(tx.sender)),
      recipientBalance: -1,
      nonce: tx.nonce,
      amount: 0n,
      contract: -1,
      gasLimit: 0,
      sender: tx.sender,
      args: new Uint8Array(0),
      keySlots: [],
    };
    if (verdicts[i] !== 1) return { ...record, kind: KIND_SKIP, preset: Receipt.bad_signature };
    if (p.kind === 'transfer') return { ...record, recipientBalance: slotOf(balanceKey(p.to)), amount: p.amount };
    const id = contractId(p.contract);
    let declared: string[] | undefined;
    try {
      declared = id < 0 ? undefined : CONTRACTS[id]!.keys(tx.sender, p.args);
    } catch {
      declared = undefined;
    }
    // An unknown contract (or one that cannot name its keys) still has its nonce checked first:
    // contract -1 makes the semantics answer contract_error after the nonce.
    if (declared === undefined) return { ...record, kind: KIND_CALL, contract: -1 };
    const keySlots = declared.map((k) => slotOf(contractKey(p.contract, k)));
    return { ...record, kind: KIND_CALL, contract: id, gasLimit: p.gasLimit, args: p.args, keySlots };
  });
  const base = BigUint64Array.from(keys, (k) => state.get(k) ?? 0n);
  return { tables: buildTables(records, base), keys };
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

export interface HybridResult {
  receipts: ReceiptStatus[];
  /** 32-byte ids, concatenated in block order. */
  txIds: Uint8Array;
  /** Final value of every key the block wrote. */
  changes: Map<string, bigint>;
  stateRoot: Uint8Array;
  /** Makes `stateRoot` the root cache's current one (no-op without `roots`); call once the block is committed. */
  applyRoot: () => void;
  stats: Omit<BlockStats, 'commitMs' | 'totalMs' | 'tps'>;
}

/**
 * Verifies and executes one block of encoded transactions on top of `state`,
 * without persisting anything. Malformed encodings throw INVALID_INPUT (with
 * the transaction's index) before any work; every other problem is a receipt.
 */
export async function executeWithHybrid(block: readonly Uint8Array[], options: HybridOptions): Promise<HybridResult> {
  const { state, device = 'auto' } = options;
  const tLayout = performance.now();
  const txs = block.map((bytes, i) => decodeTransaction(bytes, i));
  let layoutMs = performance.now() - tLayout;

  // Stage 1.
  const stage1 = await verifyBlock(block, txs, device);

  // Stage 2.
  const tTables = performance.now();
  const { tables, keys } = layoutBlock(txs, stage1.verdicts, state);
  layoutMs += performance.now() - tTables;
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
  const changes = new Map<string, bigint>();
  for (const [slot, value] of outcome.writes) changes.set(keys[slot]!, value);
  const tRoot = performance.now();
  let root: Uint8Array;
  let applyRoot = (): void => {};
  if (options.roots) {
    const prepared = await options.roots.prepare(state, changes);
    root = prepared.root;
    applyRoot = prepared.apply;
  } else {
    const next = new Map(state);
    for (const [k, v] of changes) next.set(k, v);
    root = await stateRoot(next, device);
  }
  const rootMs = performance.now() - tRoot;

  return {
    receipts: Array.from(outcome.receipts, (code) => receiptName(code)),
    txIds: stage1.txIds,
    changes,
    stateRoot: root,
    applyRoot,
    stats: {
      txs: txs.length,
      verify: stage1.verify,
      hashMs: stage1.hashMs,
      layoutMs,
      execute: {
        threads: pool.threads,
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
