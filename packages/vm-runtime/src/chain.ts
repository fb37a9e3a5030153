import { ExecutorError, type DeviceChoice } from '@supervm/gpu-executor';
import { BlockStmPool } from './block-stm/parallel.js';
import { executeWithHybrid, receiptCodes, type BlockStats } from './hybrid.js';
import { balanceKey, nonceKey } from './keys.js';
import { type ReceiptStatus } from './receipts.js';
import { StateRootCache } from './state-root.js';
import { ChainStore, type BlockRecord, type CommitHook } from './store.js';
import { PUBLIC_KEY_BYTES } from './transaction.js';

export { transactionToTask, type BlockStats, type TxTask } from './hybrid.js';

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
  readonly #state: Map<string, bigint>;
  readonly #roots: StateRootCache;
  #height: number;
  #root: Uint8Array;
  #closed = false;
  /** Blocks (and genesis) run one at a time, in call order: each starts from the state the previous one committed. */
  #queue: Promise<unknown> = Promise.resolve();

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
    return this.#state;
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
    return this.#commit(changes, new Uint8Array(0), [], performance.now());
  }

  /** Verifies, executes and commits one block (`executeWithHybrid`'s three stages). */
  async executeBlock(encoded: readonly Uint8Array[], options: ExecuteBlockOptions = {}): Promise<BlockResult> {
    return this.executeWithHybrid(encoded, options);
  }

  async executeWithHybrid(encoded: readonly Uint8Array[], options: ExecuteBlockOptions = {}): Promise<BlockResult> {
    return this.#serial(() => this.#execute(encoded, options));
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job, job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #execute(encoded: readonly Uint8Array[], options: ExecuteBlockOptions): Promise<BlockResult> {
    this.#assertOpen();
    if (this.#height < 0) throw new Error('the chain has no genesis block');
    const t0 = performance.now();
    const result = await executeWithHybrid(encoded, {
      state: this.#state,
      pool: this.#pool,
      device: this.#device,
      roots: this.#roots,
      compareSequential: options.compareSequential === true,
    });
    return this.#persist(result.changes, result.stateRoot, result.applyRoot, result.txIds, result.receipts, t0, result.stats);
  }

  async #commit(
    changes: Map<string, bigint>,
    txIds: Uint8Array,
    receipts: ReceiptStatus[],
    t0: number,
  ): Promise<BlockResult> {
    const tRoot = performance.now();
    const { root, apply } = await this.#roots.prepare(this.#state, changes);
    const rootMs = performance.now() - tRoot;
    return this.#persist(changes, root, apply, txIds, receipts, t0, {
      txs: receipts.length,
      verify: { device: 'cpu', backend: 'none', ms: 0, fellBack: false },
      hashMs: 0,
      layoutMs: 0,
      execute: { threads: this.#pool.threads, parallel: false, ms: 0, executions: 0 },
      rootMs,
    });
  }

  /** Stage 3's commit: the changes, the block record and the height in one LMDB transaction. */
  #persist(
    changes: Map<string, bigint>,
    root: Uint8Array,
    applyRoot: () => void,
    txIds: Uint8Array,
    receipts: ReceiptStatus[],
    t0: number,
    partial: Omit<BlockStats, 'commitMs' | 'totalMs' | 'tps'>,
  ): BlockResult {
    const height = this.#height + 1;
    const tCommit = performance.now();
    this.#store.commit(changes, { height, stateRoot: root, txIds, receipts: receiptCodes(receipts) });
    const commitMs = performance.now() - tCommit;
    applyRoot();
    for (const [k, v] of changes) this.#state.set(k, v);
    this.#height = height;
    this.#root = root;
    const totalMs = performance.now() - t0;
    const txs = receipts.length;
    const stats: BlockStats = { ...partial, commitMs, totalMs, tps: txs === 0 ? 0 : txs / (totalMs / 1000) };
    return { height, stateRoot: root, txIds, receipts, stats };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue; // let a block in flight finish its commit
    await this.#pool.close();
    await this.#store.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ExecutorError('CLOSED', 'the chain is closed');
  }
}
