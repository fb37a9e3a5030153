import { ExecutorError, sha256Batch, verifyEd25519Batch, type DeviceChoice, type ExecStats, type Task } from '@supervm/gpu-executor';
import { BlockStmPool } from './block-stm/parallel.js';
import { KIND_CALL, KIND_SKIP, KIND_TRANSFER, buildTables, type TxSlots } from './block-stm/layout.js';
import { CONTRACTS, contractId } from './contracts/index.js';
import { balanceKey, contractKey, nonceKey } from './keys.js';
import { Receipt, receiptName, type ReceiptStatus } from './receipts.js';
import { executeSequential, type BlockOutcome } from './sequential.js';
import { StateRootCache } from './state-root.js';
import { ChainStore, type BlockRecord } from './store.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, decodeTransaction, type Transaction } from './transaction.js';

export interface ChainOptions {
  /** LMDB folder; default ./data. */
  path?: string;
  /** Threads for parallel execution; default: available parallelism. */
  threads?: number;
  /** Where signatures are verified and hashes computed; default auto (the scheduler decides). */
  device?: DeviceChoice;
}

export interface BlockStats {
  txs: number;
  verify: { device: ExecStats['device']; backend: string; ms: number; fellBack: boolean };
  hashMs: number;
  execute: { threads: number; ms: number; sequentialMs?: number; speedup?: number };
  rootMs: number;
  commitMs: number;
  totalMs: number;
  /** Transactions per second, end to end. */
  tps: number;
}

export interface BlockResult {
  height: number;
  stateRoot: Uint8Array;
  /** 32-byte ids, concatenated in block order. */
  txIds: Uint8Array;
  receipts: ReceiptStatus[];
  stats: BlockStats;
}

export interface ExecuteBlockOptions {
  /** Also run the sequential reference, report the speedup, and fail loudly if the results differ. */
  compareSequential?: boolean;
}

/** The seed's L0 bridge: a transaction as a scheduler task (id = its index in the block). */
export interface TxTask {
  encoded: Uint8Array;
  tx: Transaction;
}

export function transactionToTask(encoded: Uint8Array, index: number): Task<TxTask> {
  const tx = decodeTransaction(encoded, index);
  const estCost = tx.payload.kind === 'call' ? 1 + tx.payload.gasLimit / 1000 : 1;
  return { id: index, payload: { encoded, tx }, estCost };
}

const U64_MAX = 0xffffffffffffffffn;

/** A chain that a node embeds: state in memory and in LMDB, blocks executed through the hybrid scheduler. */
export class Chain {
  readonly #store: ChainStore;
  readonly #pool: BlockStmPool;
  readonly #device: DeviceChoice;
  readonly #state: Map<string, bigint>;
  readonly #roots: StateRootCache;
  #height: number;
  #root: Uint8Array;
  #closed = false;

  private constructor(store: ChainStore, pool: BlockStmPool, device: DeviceChoice, state: Map<string, bigint>, roots: StateRootCache, height: number, root: Uint8Array) {
    this.#store = store;
    this.#roots = roots;
    this.#pool = pool;
    this.#device = device;
    this.#state = state;
    this.#height = height;
    this.#root = root;
  }

  /** Opens (or creates) the chain at `path` and resumes from its last block, checking the state root. */
  static async open(options: ChainOptions = {}): Promise<Chain> {
    const { path = './data', threads, device = 'auto' } = options;
    const store = new ChainStore(path);
    const state = store.loadState();
    const height = store.height();
    const { cache, root } = await StateRootCache.build(state, device);
    const last = height >= 0 ? store.block(height) : undefined;
    if (last && !Buffer.from(last.stateRoot).equals(root)) {
      await store.close();
      throw new Error(`state at ${path} does not match block ${height}'s root: the store is corrupt`);
    }
    return new Chain(store, new BlockStmPool(threads), device, state, cache, height, root);
  }

  get height(): number {
    return this.#height;
  }

  get stateRoot(): Uint8Array {
    return this.#root;
  }

  get threads(): number {
    return this.#pool.threads;
  }

  balance(account: Uint8Array): bigint {
    return this.#state.get(balanceKey(account)) ?? 0n;
  }

  nonce(account: Uint8Array): bigint {
    return this.#state.get(nonceKey(account)) ?? 0n;
  }

  block(height: number): BlockRecord | undefined {
    return this.#store.block(height);
  }

  /** Block 0: initial balances. Only on an empty chain. */
  async genesis(accounts: readonly { publicKey: Uint8Array; balance: bigint }[]): Promise<BlockResult> {
    this.#assertOpen();
    if (this.#height >= 0) throw new Error('genesis needs an empty chain');
    let supply = 0n;
    const changes = new Map<string, bigint>();
    for (const { publicKey, balance } of accounts) {
      if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) throw new TypeError('genesis keys are 32 bytes');
      if (typeof balance !== 'bigint' || balance < 0n) throw new TypeError('genesis balances are non-negative bigints');
      supply += balance;
      changes.set(balanceKey(publicKey), balance);
    }
    if (supply > U64_MAX) throw new RangeError('total supply must fit in u64');
    return this.#commit(changes, new Uint8Array(0), [], performance.now(), undefined);
  }

  /** Verifies, executes and commits one block (`executeWithHybrid`'s three stages). */
  async executeBlock(encoded: readonly Uint8Array[], options: ExecuteBlockOptions = {}): Promise<BlockResult> {
    return this.executeWithHybrid(encoded, options);
  }

  async executeWithHybrid(encoded: readonly Uint8Array[], options: ExecuteBlockOptions = {}): Promise<BlockResult> {
    this.#assertOpen();
    if (this.#height < 0) throw new Error('the chain has no genesis block');
    const t0 = performance.now();
    const txs = encoded.map((bytes, i) => decodeTransaction(bytes, i));
    const n = txs.length;

    // Stage 1: ids and signatures, each one batch through the scheduler.
    const publicKeys = new Uint8Array(n * PUBLIC_KEY_BYTES);
    const signatures = new Uint8Array(n * SIGNATURE_BYTES);
    txs.forEach((tx, i) => {
      publicKeys.set(tx.sender, i * PUBLIC_KEY_BYTES);
      signatures.set(tx.signature, i * SIGNATURE_BYTES);
    });
    const tHash = performance.now();
    const hashing = sha256Batch([...encoded], { device: this.#device }).then((r) => ({ r, ms: performance.now() - tHash }));
    const tVerify = performance.now();
    const verifying = verifyEd25519Batch(
      { messages: encoded.map((e) => e.subarray(0, e.length - SIGNATURE_BYTES)), publicKeys, signatures },
      { device: this.#device },
    ).then((r) => ({ r, ms: performance.now() - tVerify }));
    const [hashed, verified] = await Promise.all([hashing, verifying]);

    // Stage 2: lay the block out over slots and execute it in parallel.
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
      if (verified.r.output[i] !== 1) return { ...record, kind: KIND_SKIP, preset: Receipt.bad_signature };
      if (p.kind === 'transfer') return { ...record, recipientBalance: slotOf(balanceKey(p.to)), amount: p.amount };
      const id = contractId(p.contract);
      if (id < 0) return { ...record, kind: KIND_SKIP, preset: Receipt.contract_error };
      const declared = CONTRACTS[id]!.keys(tx.sender, p.args).map((k) => slotOf(contractKey(p.contract, k)));
      return { ...record, kind: KIND_CALL, contract: id, gasLimit: p.gasLimit, args: p.args, keySlots: declared };
    });
    const base = BigUint64Array.from(keys, (k) => this.#state.get(k) ?? 0n);
    const tables = buildTables(records, base);
    let sequential: { outcome: BlockOutcome; ms: number } | undefined;
    if (options.compareSequential) {
      const ts = performance.now();
      sequential = { outcome: executeSequential(tables), ms: performance.now() - ts };
    }
    const tExec = performance.now();
    const outcome = await this.#pool.execute(tables);
    const execMs = performance.now() - tExec;
    if (sequential) assertSameOutcome(sequential.outcome, outcome);

    const changes = new Map<string, bigint>();
    for (const [slot, value] of outcome.writes) changes.set(keys[slot]!, value);
    const receipts = Array.from(outcome.receipts, (code) => receiptName(code));
    return this.#commit(changes, hashed.r.output, receipts, t0, {
      txs: n,
      verify: { device: verified.r.stats.device, backend: verified.r.stats.backend, ms: verified.ms, fellBack: verified.r.stats.fellBack === true },
      hashMs: hashed.ms,
      execute: {
        threads: this.#pool.threads,
        ms: execMs,
        ...(sequential ? { sequentialMs: sequential.ms, speedup: sequential.ms / execMs } : {}),
      },
    });
  }

  async #commit(
    changes: Map<string, bigint>,
    txIds: Uint8Array,
    receipts: ReceiptStatus[],
    t0: number,
    partial: Omit<BlockStats, 'rootMs' | 'commitMs' | 'totalMs' | 'tps'> | undefined,
  ): Promise<BlockResult> {
    const tRoot = performance.now();
    const { root, apply } = await this.#roots.prepare(this.#state, changes);
    const rootMs = performance.now() - tRoot;
    const height = this.#height + 1;
    const tCommit = performance.now();
    this.#store.commit(changes, { height, stateRoot: root, txIds, receipts: Uint8Array.from(receipts, (r) => Receipt[r]) });
    const commitMs = performance.now() - tCommit;
    apply();
    for (const [k, v] of changes) this.#state.set(k, v);
    this.#height = height;
    this.#root = root;
    const totalMs = performance.now() - t0;
    const txs = receipts.length;
    const stats: BlockStats = {
      txs,
      verify: partial?.verify ?? { device: 'cpu', backend: 'none', ms: 0, fellBack: false },
      hashMs: partial?.hashMs ?? 0,
      execute: partial?.execute ?? { threads: this.#pool.threads, ms: 0 },
      rootMs,
      commitMs,
      totalMs,
      tps: txs / (totalMs / 1000),
    };
    return { height, stateRoot: root, txIds, receipts, stats };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
    await this.#store.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ExecutorError('CLOSED', 'the chain is closed');
  }
}

function assertSameOutcome(a: BlockOutcome, b: BlockOutcome): void {
  const same =
    a.receipts.length === b.receipts.length &&
    a.receipts.every((r, i) => r === b.receipts[i]) &&
    a.writes.size === b.writes.size &&
    [...a.writes].every(([slot, v]) => b.writes.get(slot) === v);
  if (!same) throw new Error('parallel execution differs from sequential execution: this is a bug');
}
