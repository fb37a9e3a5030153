/**
 * Block-STM (Gelashvili et al., "Block-STM: Scaling Blockchain Execution by
 * Turning Ordering Curse to a Performance Blessing", PPoPP 2023), over the
 * shared tables of layout.ts. Every thread runs `runWorker` until the block is
 * done; they coordinate only through Atomics on shared memory. Transactions
 * execute optimistically against a multi-version store, record what they
 * read, and are validated; an invalid one is aborted (its writes become
 * ESTIMATE marks) and re-executed. The committed result equals executing the
 * block sequentially, whatever the timing.
 *
 * One simplification: a transaction that reads an ESTIMATE waits briefly for
 * the writer, then goes back to the ready queue, instead of the paper's
 * dependency lists; the bounded wait keeps it deadlock-free.
 */
import { runTransaction } from '../semantics.js';
import {
  CELL_EMPTY,
  CELL_ESTIMATE,
  CELL_WRITTEN,
  CTL_ACTIVE_TASKS,
  CTL_DECREASE_CNT,
  CTL_DONE,
  CTL_EXECUTION_IDX,
  CTL_VALIDATION_IDX,
  type BlockTables,
} from './layout.js';

const READY = 0;
const EXECUTING = 1;
const EXECUTED = 2;
const ABORTING = 3;
const BASE_VERSION = -1;
/** How long a transaction waits for the writer it depends on before it yields its turn. */
const DEPENDENCY_WAIT_MS = 1;

const word = (incarnation: number, status: number): number => (incarnation << 2) | status;

/** Thrown inside `runTransaction` when a read hits an ESTIMATE of transaction `blocker`. */
class Dependency {
  constructor(readonly blocker: number) {}
}

interface Version {
  value: bigint;
  tx: number;
  inc: number;
}

/** Latest value of `slot` written by a transaction below `txIdx`, with its version. */
function mvRead(t: BlockTables, slot: number, txIdx: number): Version | Dependency {
  const lo = t.slotWriterOffsets[slot]!;
  let hi = t.slotWriterOffsets[slot + 1]!;
  // Writers are sorted by tx: skip those at or above txIdx.
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (t.cellTx[t.slotWriters[mid]!]! < txIdx) a = mid + 1;
    else b = mid;
  }
  hi = a;
  for (let p = hi - 1; p >= lo; p--) {
    const cell = t.slotWriters[p]!;
    for (;;) {
      const state = Atomics.load(t.cellState, cell);
      if (state === CELL_EMPTY) break;
      if (state === CELL_ESTIMATE) return new Dependency(t.cellTx[cell]!);
      // Seqlock read: the version must be the same before and after the value.
      const inc = Atomics.load(t.cellInc, cell);
      const value = Atomics.load(t.cellValue, cell);
      if (Atomics.load(t.cellState, cell) === CELL_WRITTEN && Atomics.load(t.cellInc, cell) === inc) {
        return { value, tx: t.cellTx[cell]!, inc };
      }
    }
  }
  return { value: t.base[slot]!, tx: BASE_VERSION, inc: 0 };
}

function decrease(t: BlockTables, index: number, target: number): void {
  for (;;) {
    const current = Atomics.load(t.ctl, index);
    if (current <= target) break;
    if (Atomics.compareExchange(t.ctl, index, current, target) === current) break;
  }
  Atomics.add(t.ctl, CTL_DECREASE_CNT, 1);
}

function checkDone(t: BlockTables): void {
  const observed = Atomics.load(t.ctl, CTL_DECREASE_CNT);
  if (
    Math.min(Atomics.load(t.ctl, CTL_EXECUTION_IDX), Atomics.load(t.ctl, CTL_VALIDATION_IDX)) >= t.n &&
    Atomics.load(t.ctl, CTL_ACTIVE_TASKS) === 0 &&
    observed === Atomics.load(t.ctl, CTL_DECREASE_CNT)
  ) {
    Atomics.store(t.ctl, CTL_DONE, 1);
  }
}

/** READY(inc) -> EXECUTING(inc); the incarnation to run, or -1. */
function tryIncarnate(t: BlockTables, idx: number): number {
  if (idx < t.n) {
    const s = Atomics.load(t.status, idx);
    if ((s & 3) === READY && Atomics.compareExchange(t.status, idx, s, word(s >> 2, EXECUTING)) === s) return s >> 2;
  }
  Atomics.sub(t.ctl, CTL_ACTIVE_TASKS, 1);
  return -1;
}

/** Executes one incarnation; returns a validation task index to run next, or -1. */
function execute(t: BlockTables, idx: number, inc: number): number {
  const readsAt = t.cellOffsets[idx]!;
  let outcome;
  for (;;) {
    let reads = 0;
    try {
      outcome = runTransaction(t, idx, (slot) => {
        const v = mvRead(t, slot, idx);
        if (v instanceof Dependency) throw v;
        t.readSlot[readsAt + reads] = slot;
        t.readTx[readsAt + reads] = v.tx;
        t.readInc[readsAt + reads] = v.inc;
        reads++;
        return v.value;
      });
      t.readLen[idx] = reads;
      break;
    } catch (err) {
      if (!(err instanceof Dependency)) throw err;
      const blocker = err.blocker;
      const s = Atomics.load(t.status, blocker);
      // Worth waiting only while another thread is running the blocker (its notify ends the wait);
      // a blocker that nobody runs yet would only stall this thread.
      if ((s & 3) === EXECUTING) Atomics.wait(t.status, blocker, s, DEPENDENCY_WAIT_MS);
      if ((Atomics.load(t.status, blocker) & 3) !== EXECUTED) {
        // Still not written: give this incarnation back and let the blocker run first.
        Atomics.store(t.status, idx, word(inc, READY));
        Atomics.notify(t.status, idx); // whoever waits on this one: it is not coming soon
        decrease(t, CTL_EXECUTION_IDX, idx);
        Atomics.sub(t.ctl, CTL_ACTIVE_TASKS, 1);
        return -1;
      }
    }
  }
  // Publish the write set: value and incarnation first, then the state that makes them visible.
  let wroteNew = false;
  for (let c = t.cellOffsets[idx]!; c < t.cellOffsets[idx + 1]!; c++) {
    const write = outcome.writes.find((w) => w[0] === t.cellSlot[c]);
    const before = Atomics.load(t.cellState, c);
    if (write) {
      Atomics.store(t.cellValue, c, write[1]);
      Atomics.store(t.cellInc, c, inc);
      Atomics.store(t.cellState, c, CELL_WRITTEN);
      if (before === CELL_EMPTY) wroteNew = true;
    } else {
      Atomics.store(t.cellState, c, CELL_EMPTY);
    }
  }
  t.receipts[idx] = outcome.code;
  Atomics.store(t.status, idx, word(inc, EXECUTED));
  Atomics.notify(t.status, idx);
  if (Atomics.load(t.ctl, CTL_VALIDATION_IDX) > idx) {
    if (wroteNew) decrease(t, CTL_VALIDATION_IDX, idx);
    else return idx;
  }
  Atomics.sub(t.ctl, CTL_ACTIVE_TASKS, 1);
  return -1;
}

/** Validates one incarnation; returns an execution task index (its re-incarnation) or -1. */
function validate(t: BlockTables, idx: number, inc: number): number {
  const at = t.cellOffsets[idx]!;
  const n = t.readLen[idx]!;
  let valid = true;
  for (let r = 0; r < n && valid; r++) {
    const v = mvRead(t, t.readSlot[at + r]!, idx);
    valid = !(v instanceof Dependency) && v.tx === t.readTx[at + r] && v.inc === t.readInc[at + r];
  }
  if (!valid) {
    const executed = word(inc, EXECUTED);
    if (Atomics.compareExchange(t.status, idx, executed, word(inc, ABORTING)) === executed) {
      for (let c = at; c < t.cellOffsets[idx + 1]!; c++) {
        if (Atomics.load(t.cellState, c) === CELL_WRITTEN) Atomics.store(t.cellState, c, CELL_ESTIMATE);
      }
      Atomics.store(t.status, idx, word(inc + 1, READY));
      decrease(t, CTL_VALIDATION_IDX, idx + 1);
      if (Atomics.load(t.ctl, CTL_EXECUTION_IDX) > idx) {
        const next = tryIncarnate(t, idx);
        if (next >= 0) return idx;
        return -1; // tryIncarnate released the active task
      }
    }
  }
  Atomics.sub(t.ctl, CTL_ACTIVE_TASKS, 1);
  return -1;
}

/**
 * One thread's share of the block: runs tasks until every transaction is
 * executed and validated. Returns the incarnations this thread executed.
 */
export function runWorker(t: BlockTables): number {
  let executions = 0;
  let executeNext = -1;
  let validateNext = -1;
  while (Atomics.load(t.ctl, CTL_DONE) === 0) {
    if (executeNext >= 0) {
      const inc = Atomics.load(t.status, executeNext) >> 2;
      const idx = executeNext;
      executeNext = -1;
      executions++;
      validateNext = execute(t, idx, inc);
      continue;
    }
    if (validateNext >= 0) {
      const idx = validateNext;
      validateNext = -1;
      executeNext = validate(t, idx, Atomics.load(t.status, idx) >> 2);
      continue;
    }
    if (Atomics.load(t.ctl, CTL_VALIDATION_IDX) < Atomics.load(t.ctl, CTL_EXECUTION_IDX)) {
      if (Atomics.load(t.ctl, CTL_VALIDATION_IDX) >= t.n) {
        checkDone(t);
        continue;
      }
      Atomics.add(t.ctl, CTL_ACTIVE_TASKS, 1);
      const idx = Atomics.add(t.ctl, CTL_VALIDATION_IDX, 1);
      if (idx < t.n && (Atomics.load(t.status, idx) & 3) === EXECUTED) validateNext = idx;
      else Atomics.sub(t.ctl, CTL_ACTIVE_TASKS, 1);
    } else {
      if (Atomics.load(t.ctl, CTL_EXECUTION_IDX) >= t.n) {
        checkDone(t);
        continue;
      }
      Atomics.add(t.ctl, CTL_ACTIVE_TASKS, 1);
      const idx = Atomics.add(t.ctl, CTL_EXECUTION_IDX, 1);
      if (tryIncarnate(t, idx) >= 0) executeNext = idx;
    }
  }
  return executions;
}
