import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { executeSequential, type BlockOutcome } from '../sequential.js';
import { runWorker } from './engine.js';
import { CELL_WRITTEN, CTL_DONE, KIND_CALL, KIND_TRANSFER, type BlockTables } from './layout.js';

/** Rough single-thread cost of a transfer, and of a call per unit of its gas limit (H100 machine: ~4.4 ns a `work` round). */
const TRANSFER_NS = 1_000;
const CALL_BASE_NS = 500;
const CALL_NS_PER_GAS = 5;

/** Estimated sequential execution time of a block, from its kinds and gas limits (an upper bound for calls). */
export function estimateWorkNs(t: BlockTables): number {
  let ns = 0;
  for (let i = 0; i < t.n; i++) {
    if (t.kind[i] === KIND_TRANSFER) ns += TRANSFER_NS;
    else if (t.kind[i] === KIND_CALL) ns += CALL_BASE_NS + CALL_NS_PER_GAS * t.gasLimit[i]!;
  }
  return ns;
}

export interface BlockStmPoolOptions {
  /**
   * Blocks with fewer transactions than this run on the calling thread with the
   * sequential executor (same result, no hand-off to workers). Default 32; 0
   * always runs Block-STM.
   */
  sequentialBelow?: number;
  /**
   * Blocks whose estimated sequential work (`estimateWorkNs`) is below this run
   * sequentially too: handing 2,000 one-microsecond transfers to threads costs
   * more than it saves. Default 5 ms; 0 always runs Block-STM.
   */
  minParallelWorkNs?: number;
}

/** Worker threads that run Block-STM; one pool per chain, reused for every block. */
export class BlockStmPool {
  readonly threads: number;
  readonly sequentialBelow: number;
  readonly minParallelWorkNs: number;
  readonly #piscina: Piscina<BlockTables, number> | undefined;

  constructor(threads = availableParallelism(), options: BlockStmPoolOptions = {}) {
    if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be a positive integer, got ${threads}`);
    const { sequentialBelow = 32, minParallelWorkNs = 5_000_000 } = options;
    if (!Number.isInteger(sequentialBelow) || sequentialBelow < 0) throw new TypeError(`sequentialBelow must be an integer >= 0, got ${sequentialBelow}`);
    if (!(minParallelWorkNs >= 0)) throw new TypeError(`minParallelWorkNs must be a number >= 0, got ${minParallelWorkNs}`);
    this.threads = threads;
    this.sequentialBelow = sequentialBelow;
    this.minParallelWorkNs = minParallelWorkNs;
    // The calling thread takes part too, so threads - 1 workers.
    this.#piscina =
      threads > 1
        ? new Piscina({ filename: new URL('./worker.js', import.meta.url).href, minThreads: threads - 1, maxThreads: threads - 1, idleTimeout: 60_000 })
        : undefined;
  }

  /** Whether `execute` hands this block to Block-STM (else it runs sequentially on the calling thread). */
  runsInParallel(t: BlockTables): boolean {
    return t.n >= this.sequentialBelow && (this.minParallelWorkNs === 0 || estimateWorkNs(t) >= this.minParallelWorkNs);
  }

  /** Executes the block's transactions in parallel; the result equals `executeSequential`. */
  async execute(t: BlockTables): Promise<BlockOutcome> {
    if (!this.runsInParallel(t)) return executeSequential(t);
    const workers = this.#piscina ? Array.from({ length: this.threads - 1 }, () => this.#piscina!.run(t)) : [];
    // Let the workers start before the calling thread blocks in the loop.
    if (workers.length > 0) await new Promise((r) => setImmediate(r));
    const own = runWorker(t);
    const workerExecutions = (await Promise.all(workers)).reduce((a, b) => a + b, 0);
    if (Atomics.load(t.ctl, CTL_DONE) !== 1) throw new Error('Block-STM ended before the block was done');
    return { receipts: t.receipts.slice(0, t.n), writes: committedWrites(t), executions: own + workerExecutions, workerExecutions };
  }

  async close(): Promise<void> {
    await this.#piscina?.destroy();
  }
}

/** Per slot, the value of its highest writer: what sequential execution would leave. */
export function committedWrites(t: BlockTables): Map<number, bigint> {
  const writes = new Map<number, bigint>();
  for (let s = 0; s < t.slots; s++) {
    for (let p = t.slotWriterOffsets[s + 1]! - 1; p >= t.slotWriterOffsets[s]!; p--) {
      const cell = t.slotWriters[p]!;
      if (t.cellState[cell] === CELL_WRITTEN) {
        writes.set(s, t.cellValue[cell]!);
        break;
      }
    }
  }
  return writes;
}
