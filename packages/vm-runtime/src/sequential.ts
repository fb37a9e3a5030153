import type { RunStats } from './block-stm/engine.js';
import type { BlockTables } from './block-stm/layout.js';
import { runTransaction } from './semantics.js';

export interface BlockOutcome {
  receipts: Int32Array;
  /** Final value of every slot the block wrote. */
  writes: Map<number, bigint>;
  /**
   * The same as columns in slot order, when the executor has them (Block-STM):
   * the runtime reads these, so no Map entry per write is built on its
   * thread unless `writes` is read.
   */
  written?: WriteColumns;
  /** Executions run (parallel: including re-executions), and how many of them on worker threads. */
  executions: number;
  workerExecutions: number;
  /** Block-STM's figures (absent when the block ran sequentially). */
  stats?: RunStats;
}

export interface WriteColumns {
  slots: Int32Array;
  values: BigUint64Array;
}

/** A write map as columns (in the map's order). */
export function writeColumns(writes: ReadonlyMap<number, bigint>): WriteColumns {
  const slots = new Int32Array(writes.size);
  const values = new BigUint64Array(writes.size);
  let k = 0;
  for (const [slot, value] of writes) {
    slots[k] = slot;
    values[k++] = value;
  }
  return { slots, values };
}

/** The reference: one transaction after another, in block order. Plain and obviously correct. */
export function executeSequential(t: BlockTables): BlockOutcome {
  const writes = new Map<number, bigint>();
  const receipts = new Int32Array(t.n);
  for (let i = 0; i < t.n; i++) {
    const outcome = runTransaction(t, i, (slot) => writes.get(slot) ?? t.base[slot]!);
    receipts[i] = outcome.code;
    for (const [slot, value] of outcome.writes) writes.set(slot, value);
  }
  return { receipts, writes, executions: t.n, workerExecutions: 0 };
}
