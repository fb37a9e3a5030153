import { ExecutorError, type DeviceChoice } from '@supervm/gpu-executor';
import { BlockStmPool } from './block-stm/parallel.js';
import { executePrepared, prepareBlock, receiptCodes, type BlockStats, type PreparedBlock, type StateDelta } from './hybrid.js';
import { balanceKey, nonceKey } from './keys.js';
import { type ReceiptStatus } from './receipts.js';
import { ChainState } from './state.js';
import { StateRootCache } from './state-root.js';
import { ChainStore, type BlockRecord, type CommitHook, type StateWrites } from './store.js';
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
  /** When the last block committed (performance.now()): a pipelined block's throughput counts from there. */
  #lastCommitAt = -Infinity;
  /** Blocks (and genesis) run one at a time, in call order: each starts from the state the previous one committed. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The verification of the last block submitted as encodings (see executeBlock). */
  #verifying: Promise<unknown> = Promise.resolve();

  private constructor(store: ChainStore, pool: BlockStmPool, device: DeviceChoice, state: ChainState, roots: StateRootCache, height: number, root: Uint8Array) {
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
    const { path = './data', threads, device = 'auto', sequentialBelow } = options;
    const store = new ChainStore(path, options.commitHook);
    const state = store.loadState();
    const height = store.height();
    const { cache, root } = await StateRootCache.build(state, device);
    const last = height >= 0 ? store.block(height) : undefined;
    if (last && !Buffer.from(last.stateRoot).equals(root)) {
      await store.close();
      throw new Error(`state at ${path} does not match block ${height}'s root: the store is corrupt`);
    }
    return new Chain(store, new BlockStmPool(threads, sequentialBelow === undefined ? {} : { sequentialBelow }), device, state, cache, height, root);
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

  block(height: number): BlockRecord | undefined {
    return this.#store.block(height);
  }

  /** Block 0: initial balances. Only on an empty chain. */
  async genesis(accounts: readonly { publicKey: Uint8Array; balance: bigint }[]): Promise<BlockResult> {
    return this.#serial(() => this.#genesis(accounts));
  }

  async #genesis(accounts: readonly { publicKey: Uint8Array; balance: bigint }[]): Promise<BlockResult> {
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
    let prepared: Promise<PreparedBlock>;
    if (isPrepared(block)) {
      prepared = Promise.resolve(block);
    } else {
      // One verification at a time: the pool verifies block k+1 while block k executes, and blocks
      // submitted together do not all verify at once (each would delay the one before).
      const verify = (): Promise<PreparedBlock> => this.verifyBlock(block);
      prepared = this.#verifying.then(verify, verify);
      this.#verifying = prepared.catch(() => undefined);
    }
    return this.#serial(async () => this.#execute(await prepared, options));
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job, job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #execute(prepared: PreparedBlock, options: ExecuteBlockOptions): Promise<BlockResult> {
    this.#assertOpen();
    if (this.#height < 0) throw new Error('the chain has no genesis block');
    const result = await executePrepared(prepared, {
      state: this.#state,
      pool: this.#pool,
      device: this.#device,
      roots: this.#roots,
      compareSequential: options.compareSequential === true,
    });
    // The chain's root cache shares its state's key ids, so the result always carries the delta.
    if (!result.delta) throw new Error('a chain block produced no state delta: this is a bug');
    return this.#persist(result.delta, result.stateRoot, result.applyRoot, result.txIds, result.receipts, prepared.startedAt, result.stats);
  }

  /** Stage 3's commit: the changes, the block record and the height in one LMDB transaction. */
  #persist(
    delta: StateDelta,
    root: Uint8Array,
    applyRoot: () => void,
    txIds: Uint8Array,
    receipts: ReceiptStatus[],
    t0: number,
    partial: Omit<BlockStats, 'commitMs' | 'totalMs' | 'intervalMs' | 'tps'>,
  ): BlockResult {
    const height = this.#height + 1;
    const tCommit = performance.now();
    this.#store.commit(this.#writes(delta), { height, stateRoot: root, txIds, receipts: receiptCodes(receipts) });
    const commitMs = performance.now() - tCommit;
    applyRoot();
    for (let k = 0; k < delta.ids.length; k++) this.#state.set(delta.ids[k]!, delta.values[k]!);
    this.#height = height;
    this.#root = root;
    const now = performance.now();
    const totalMs = now - t0;
    // Pipelined, a block was verified while the one before executed: its share of the time runs from that commit.
    const intervalMs = now - Math.max(t0, this.#lastCommitAt);
    this.#lastCommitAt = now;
    const txs = receipts.length;
    const stats: BlockStats = { ...partial, commitMs, totalMs, intervalMs, tps: txs === 0 ? 0 : txs / (intervalMs / 1000) };
    return { height, stateRoot: root, txIds, receipts, stats };
  }

  /** The delta as LMDB writes: keys straight from the state's key pool (in key order already). */
  #writes(delta: StateDelta): StateWrites {
    const pool = this.#state.pool;
    return {
      size: delta.ids.length,
      key: (k) => pool.bytes.subarray(pool.start(delta.ids[k]!), pool.end(delta.ids[k]!)),
      value: (k) => delta.values[k]!,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue; // let a block in flight finish its commit
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
  }
}

const isPrepared = (block: readonly Uint8Array[] | PreparedBlock): block is PreparedBlock => !Array.isArray(block);
