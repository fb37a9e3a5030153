import { ExecutorError, type DeviceChoice } from '@supervm/gpu-executor';
import { BlockStmPool } from './block-stm/parallel.js';
import { executePrepared, prepareBlock, receiptCodes, releasePrepared, type BlockStats, type PreparedBlock, type StateDelta } from './hybrid.js';
import { balanceKey, nonceKey } from './keys.js';
import { type ReceiptStatus } from './receipts.js';
import { ChainState } from './state.js';
import { StateRootCache } from './state-root.js';
import { ChainStore, type BlockRecord, type CommitHook, type PackedWrites } from './store.js';
import { PUBLIC_KEY_BYTES } from './transaction.js';

export { transactionToTask, type BlockStats, type PreparedBlock, type TxTask } from './hybrid.js';

export interface ChainOptions {
  /** LMDB folder; default ./data. */
  path?: string;
  /** Threads for parallel execution; default: available parallelism. */
  threads?: number;
  /** Blocks below this many transactions execute sequentially (BlockStmPool's `sequentialBelow`, default 32). */
  sequentialBelow?: number;
  /** Where signatures are verified and hashes computed; default auto (the scheduler decides). */
  device?: DeviceChoice;
  /**
   * Where the state root's SHA-256 batches run; default: `device`. With
   * `gpu` verification, `cpu` here keeps the root's many small hashes off
   * the device that is verifying the next block (untested on a GPU).
   */
  rootDevice?: DeviceChoice;
  /**
   * Block-STM threads per block from its estimated work (BlockStmPool's
   * `workPerThreadNs`): one more thread per this many ns of sequential work,
   * up to `threads`, so cheap blocks leave the other cores (and this
   * thread's event loop) to the next block's verification. Default 50 ms;
   * 0 always uses every thread.
   */
  workPerThreadNs?: number;
  /**
   * Let block k's LMDB commit (on the store's commit thread) overlap block
   * k+1's execution; a block's result still resolves only once it is
   * committed. Default true; false waits for each commit before the next
   * block executes (the order and atomicity are the same either way).
   */
  overlapCommit?: boolean;
  /** Fault injection for crash tests: called inside the LMDB write transaction after each state entry it writes. */
  commitHook?: CommitHook;
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

const U64_MAX = 0xffffffffffffffffn;

/** A chain that a node embeds: state in memory and in LMDB, blocks executed through the hybrid scheduler. */
export class Chain {
  readonly #store: ChainStore;
  readonly #pool: BlockStmPool;
  readonly #device: DeviceChoice;
  readonly #state: ChainState;
  readonly #roots: StateRootCache;
  #height: number;
  #root: Uint8Array;
  #closed = false;
  readonly #overlapCommit: boolean;
  /** Records of blocks executed but not yet committed (block() serves them meanwhile). */
  readonly #pending = new Map<number, BlockRecord>();
  /** A failed commit: the state in memory is ahead of the store, so the chain takes no more blocks. */
  #failure: Error | undefined;
  /** When the last block committed (performance.now()): a pipelined block's throughput counts from there. */
  #lastCommitAt = -Infinity;
  /** Blocks (and genesis) run one at a time, in call order: each starts from the state the previous one committed. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The verification of the last block submitted as encodings (see executeBlock). */
  #verifying: Promise<unknown> = Promise.resolve();

  private constructor(store: ChainStore, pool: BlockStmPool, device: DeviceChoice, state: ChainState, roots: StateRootCache, height: number, root: Uint8Array, overlapCommit: boolean) {
    this.#overlapCommit = overlapCommit;
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
    const { path = './data', threads, device = 'auto', sequentialBelow, workPerThreadNs, overlapCommit = true } = options;
    const rootDevice = options.rootDevice ?? device;
    const store = new ChainStore(path, options.commitHook);
    const state = store.loadState();
    const height = store.height();
    const { cache, root } = await StateRootCache.build(state, rootDevice);
    const last = height >= 0 ? store.block(height) : undefined;
    if (last && !Buffer.from(last.stateRoot).equals(root)) {
      await store.close();
      throw new Error(`state at ${path} does not match block ${height}'s root: the store is corrupt`);
    }
    const pool = new BlockStmPool(threads, { ...(sequentialBelow === undefined ? {} : { sequentialBelow }), ...(workPerThreadNs === undefined ? {} : { workPerThreadNs }) });
    try {
      // Workers started and warmed up, so the first block does not pay for it.
      await pool.ready();
    } catch (err) {
      await Promise.allSettled([pool.close(), store.close()]);
      throw err;
    }
    return new Chain(store, pool, device, state, cache, height, root, overlapCommit);
  }

  /** Height of the last executed block: its commit may still be running (its executeBlock resolves once it is done). */
  get height(): number {
    return this.#height;
  }

  get stateRoot(): Uint8Array {
    return this.#root;
  }

  get threads(): number {
    return this.#pool.threads;
  }

  /** The current state (every key ever written, values u64). Read-only: change it only through blocks. */
  get state(): ReadonlyMap<string, bigint> {
    // The ChainState itself: a ReadonlyMap view over its columns.
    return this.#state;
  }

  balance(account: Uint8Array): bigint {
    const a = account.length === PUBLIC_KEY_BYTES ? this.#state.findAccount(account, 0) : -1;
    return a < 0 ? (this.#state.get(balanceKey(account)) ?? 0n) : this.#state.accountValue(a, false);
  }

  nonce(account: Uint8Array): bigint {
    const a = account.length === PUBLIC_KEY_BYTES ? this.#state.findAccount(account, 0) : -1;
    return a < 0 ? (this.#state.get(nonceKey(account)) ?? 0n) : this.#state.accountValue(a, true);
  }

  /** Block `height`'s record; blocks executed but still committing are served from memory. */
  block(height: number): BlockRecord | undefined {
    return this.#pending.get(height) ?? this.#store.block(height);
  }

  /** Block 0: initial balances. Only on an empty chain. */
  async genesis(accounts: readonly { publicKey: Uint8Array; balance: bigint }[]): Promise<BlockResult> {
    this.#assertOpen();
    return this.#committed(this.#serial(() => this.#genesis(accounts)));
  }

  async #genesis(accounts: readonly { publicKey: Uint8Array; balance: bigint }[]): Promise<Committing> {
    this.#assertHealthy();
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
    const t0 = performance.now();
    const ids = Int32Array.from(changes.keys(), (key) => this.#state.keyId(key));
    const values = BigUint64Array.from(changes.values());
    const next = await this.#roots.prepareIds(ids, values);
    const delta: StateDelta = { ids: Int32Array.from(next.keyOrder, (k) => ids[k]!), values: BigUint64Array.from(next.keyOrder, (k) => values[k]!) };
    const rootMs = performance.now() - t0;
    return this.#persist(delta, next.root, next.apply, new Uint8Array(0), [], t0, {
      txs: 0,
      verify: { device: 'cpu', backend: 'none', ms: 0, fellBack: false },
      hashMs: 0,
      layoutMs: 0,
      execute: { threads: this.#pool.threads, parallel: false, ms: 0, executions: 0 },
      rootMs,
    });
  }

  /**
   * Stage 1 of a block and its layout over slots, which need no state: start
   * it for block k+1 while block k executes and commits, then hand the result
   * to `executeBlock`. It is not queued behind blocks in flight; malformed
   * encodings reject it with INVALID_INPUT and the index.
   */
  async verifyBlock(encoded: readonly Uint8Array[]): Promise<PreparedBlock> {
    this.#assertOpen();
    return prepareBlock(encoded, this.#device);
  }

  /**
   * Verifies, executes and commits one block (`executeWithHybrid`'s three
   * stages). Given encodings, its verification starts as soon as the previous
   * block's verification is done, and only execution and commit wait for the
   * blocks before, so a block submitted without waiting for the one before is
   * verified while that one executes; given a prepared block (`verifyBlock`),
   * only execution and commit remain. Blocks execute and commit in call
   * order, each on the state the one before committed, so the results equal
   * running them one at a time.
   */
  async executeBlock(block: readonly Uint8Array[] | PreparedBlock, options: ExecuteBlockOptions = {}): Promise<BlockResult> {
    return this.executeWithHybrid(block, options);
  }

  async executeWithHybrid(block: readonly Uint8Array[] | PreparedBlock, options: ExecuteBlockOptions = {}): Promise<BlockResult> {
    // Checked on submission: close() lets every block submitted before it finish and commit.
    this.#assertOpen();
    let prepared: Promise<PreparedBlock>;
    // A block prepared here is this chain's alone: its buffers go back to the pool once it has executed.
    const owned = !isPrepared(block);
    if (isPrepared(block)) {
      prepared = Promise.resolve(block);
    } else {
      // One verification at a time: the pool verifies block k+1 while block k executes, and blocks
      // submitted together do not all verify at once (each would delay the one before).
      const verify = (): Promise<PreparedBlock> => prepareBlock(block, this.#device);
      prepared = this.#verifying.then(verify, verify);
      this.#verifying = prepared.catch(() => undefined);
    }
    return this.#committed(this.#serial(async () => this.#execute(await prepared, options, owned)));
  }

  /**
   * A block's result once it is committed. The serial queue moves on as soon
   * as the block is executed and applied in memory, so the next block runs
   * while this one commits (unless overlapCommit is false).
   */
  async #committed(executed: Promise<Committing>): Promise<BlockResult> {
    return (await executed).done;
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job, job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #execute(prepared: PreparedBlock, options: ExecuteBlockOptions, owned = false): Promise<Committing> {
    this.#assertHealthy();
    if (this.#height < 0) throw new Error('the chain has no genesis block');
    const result = await executePrepared(prepared, {
      state: this.#state,
      pool: this.#pool,
      device: this.#device,
      roots: this.#roots,
      compareSequential: options.compareSequential === true,
    });
    // Nothing reads the block's decoding, layout or tables any more (the result holds none of them).
    if (owned) releasePrepared(prepared);
    // The chain's root cache shares its state's key ids, so the result always carries the delta.
    if (!result.delta) throw new Error('a chain block produced no state delta: this is a bug');
    return this.#persist(result.delta, result.stateRoot, result.applyRoot, result.txIds, result.receipts, prepared.startedAt, result.stats, result.receiptCodes);
  }

  /**
   * Stage 3's commit: the block becomes the chain's state in memory at once
   * (the next block executes on it), and its changes, record and height go
   * to the store's commit thread as one LMDB transaction, after the blocks
   * before it. `done` resolves when that transaction has committed.
   */
  async #persist(
    delta: StateDelta,
    root: Uint8Array,
    applyRoot: () => void,
    txIds: Uint8Array,
    receipts: ReceiptStatus[],
    t0: number,
    partial: Omit<BlockStats, 'commitMs' | 'totalMs' | 'intervalMs' | 'tps'>,
    codes: Uint8Array = receiptCodes(receipts),
  ): Promise<Committing> {
    const height = this.#height + 1;
    const record: BlockRecord = { height, stateRoot: root, txIds, receipts: codes };
    const committing = this.#store.commitAsync(this.#packed(delta), record);
    applyRoot();
    for (let k = 0; k < delta.ids.length; k++) this.#state.set(delta.ids[k]!, delta.values[k]!);
    this.#height = height;
    this.#root = root;
    this.#pending.set(height, record);
    const done = committing.then(
      ({ ms: commitMs }) => {
        this.#pending.delete(height);
        const now = performance.now();
        const totalMs = now - t0;
        // Pipelined, a block was verified and executed while the one before committed: its share of the time runs from that commit.
        const intervalMs = now - Math.max(t0, this.#lastCommitAt);
        this.#lastCommitAt = now;
        const txs = receipts.length;
        const stats: BlockStats = { ...partial, commitMs, totalMs, intervalMs, tps: txs === 0 ? 0 : txs / (intervalMs / 1000) };
        return { height, stateRoot: root, txIds, receipts, stats };
      },
      (err: unknown) => {
        this.#pending.delete(height);
        this.#failure ??= err instanceof Error ? err : new Error(String(err));
        throw err;
      },
    );
    if (!this.#overlapCommit) await done.catch(() => undefined);
    return { done };
  }

  /** The delta as packed LMDB writes: keys in place in the state's key pool (shared memory, in key order already). */
  #packed(delta: StateDelta): PackedWrites {
    const pool = this.#state.pool;
    const n = delta.ids.length;
    const starts = new Uint32Array(n);
    const ends = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      starts[k] = pool.start(delta.ids[k]!);
      ends[k] = pool.end(delta.ids[k]!);
    }
    return { bytes: pool.bytes, starts, ends, values: delta.values };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Blocks submitted before close() still run: each is queued by now (verification first, then execution).
    await this.#verifying;
    await this.#queue;
    await this.#store.flush(); // and every executed block commits
    // Piscina's destroy waits for its workers' exit events, which keep nothing alive: with no other work
    // pending, the process would stop with close() unresolved (node:test: "event loop has already resolved").
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      await this.#pool.close();
      await this.#store.close();
    } finally {
      clearInterval(keepAlive);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ExecutorError('CLOSED', 'the chain is closed');
    this.#assertHealthy();
  }

  #assertHealthy(): void {
    if (this.#failure) throw new Error(`a commit failed; reopen the chain (it resumes from the last committed block): ${this.#failure.message}`);
  }
}

/** An executed block on its way to the store; wrapped so that awaiting the execution does not await the commit. */
interface Committing {
  done: Promise<BlockResult>;
}

const isPrepared = (block: readonly Uint8Array[] | PreparedBlock): block is PreparedBlock => !Array.isArray(block);
