import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { executeSequential, type BlockOutcome } from '../sequential.js';
import { runWorker } from './engine.js';
import { CELL_WRITTEN, CTL_DONE, type BlockTables } from './layout.js';

export interface BlockStmPoolOptions {
  /**
   * Blocks with fewer transactions than this run on the calling thread with the
   * sequential executor (same result, no hand-off to workers). Default 32; 0
   * always runs Block-STM.
   */
  sequentialBelow?: number;
}

/** Worker threads that run Block-STM; one pool per chain, reused for every block. */
export class BlockStmPool {
  readonly threads: number;
  readonly sequentialBelow: number;
  readonly #piscina: Piscina<BlockTables, number> | undefined;

  constructor(threads = availableParallelism(), options: BlockStmPoolOptions = {}) {
    if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be a positive integer, got ${threads}`);
    const { sequentialBelow = 32 } = options;
    if (!Number.isInteger(sequentialBelow) || sequentialBelow < 0) throw new TypeError(`sequentialBelow must be an integer >= 0, got ${sequentialBelow}`);
    this.threads = threads;
    this.sequentialBelow = sequentialBelow;
    // The calling thread takes part too, so threads - 1 workers.
    this.#piscina =
      threads > 1
        ? new Piscina({ filename: new URL('./worker.js', import.meta.url).href, minThreads: threads - 1, maxThreads: threads - 1, idleTimeout: 60_000 })
        : undefined;
  }

  /** Executes the block's transactions in parallel; the result equals `executeSequential`. */
  async execute(t: BlockTables): Promise<BlockOutcome> {
    if (t.n < this.sequentialBelow) return executeSequential(t);
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
