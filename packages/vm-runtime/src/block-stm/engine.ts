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
 * Two things differ from the paper, both because every transaction's write
 * cells are declared up front:
 *  - cells start as ESTIMATE ("declared, not written yet") instead of absent,
 *    so a read never slips past a lower writer that has not run. A first
 *    incarnation therefore never "writes a new location", and finishing it
 *    does not send validation back to it: without this, with T threads every
 *    transaction triggered a wave of ~T re-validations, each a handful of
 *    atomic operations on the scheduler's shared lines.
 *  - a read that hits an ESTIMATE suspends the transaction on the writer's
 *    dependency list (lock-free, in shared memory); the writer resumes it
 *    when it finishes. Nobody blocks in Atomics.wait for a dependency.
 * With exact declared write sets every read then sees its final value, so
 * validation never fails in practice; it stays as the safety net, and the
 * `optimistic` mode of prepareTables keeps the paper's behaviour reachable.
 *
 * Scalability: the words every thread updates (the two indices, the decrease
 * count, the done flag) sit on separate lines; the active-task count is one
 * flag per thread on its own line; per-transaction state is spread so that
 * neighbours do not share lines (BlockRun).
 */
import { runTransaction } from '../semantics.js';
import { CELL_EMPTY, CELL_ESTIMATE, CELL_WRITTEN, CTL_DECREASE_CNT, CTL_DONE, CTL_EXECUTION_IDX, CTL_VALIDATION_IDX, type BlockTables } from './layout.js';

const READY = 0;
const EXECUTING = 1;
const EXECUTED = 2;
/** Being aborted by a validation, or suspended on a dependency until its writer resumes it. */
const ABORTING = 3;
const BASE_VERSION = -1;

/** Int32 words per 64-byte cache line: words written by different threads live on different lines. */
const LINE = 16;
/** sched[ABORT] = 1 once a thread failed: the others stop instead of waiting for its task forever. */
const ABORT = 0;
/**
 * sched[(1 + thread) * LINE]: 1 while that thread may hold a task (the paper's
 * active-task count, split per thread so that no line is written by all).
 */
const activeWord = (thread: number): number => (1 + thread) * LINE;
/** sched[napWord]: threads napping in the idle branch, so that a decrease notifies only when someone sleeps. */
const napWord = (run: BlockRun): number => (1 + run.threads) * LINE;

/** Per-thread figures in `stats`, one line (8 doubles) per thread. */
const STAT_EXECUTIONS = 0;
const STAT_VALIDATIONS = 1;
const STAT_ABORTS = 2;
const STAT_SUSPENSIONS = 3;
/** performance.timeOrigin + performance.now() (ms) at entry, when the thread last ran out of tasks, and at exit. */
const STAT_ENTER = 4;
const STAT_LAST_BUSY = 5;
const STAT_EXIT = 6;
const STAT_WORDS = 8;

/**
 * Per-transaction words, a 32-byte record each: status ((incarnation << 2) |
 * state), reads logged, and the dependency list (head: 0 open and empty,
 * DEPS_CLOSED once the transaction executed, j + 1 a list starting at tx j;
 * next: the link of a suspended tx). Records of neighbouring transactions,
 * which run at the same time on different threads, go to different cache
 * lines: tx i and tx i + ceil(n / 2) share one.
 */
const STATUS = 0;
const READ_LEN = 1;
const DEP_HEAD = 2;
const DEP_NEXT = 3;
const RECORD_SHIFT = 3;
const DEPS_CLOSED = -1;

/**
 * Idle loops before a thread without work naps, and the nap: with as many
 * threads as cores, idle threads that keep spinning take the core of one
 * that was preempted while it holds the block's last tasks. A nap ends early
 * when the block is done or new work appears (a decrease notifies nappers).
 */
const IDLE_SPINS = 256;
const NAP_MS = 0.25;

/**
 * Memory of one Block-STM run besides the tables, shared by its threads and
 * laid out against false sharing: per-thread lines, and the per-transaction
 * records (status, read count, dependency list) instead of the tables'
 * packed status and readLen columns, which neighbouring transactions, run by
 * different threads at once, would write on the same lines.
 */
export interface BlockRun {
  threads: number;
  sched: Int32Array;
  /** Transaction records (see STATUS), and half their count (rounded up): tx i's is at rec(run, i). */
  tx: Int32Array;
  half: number;
  stats: Float64Array;
}

/** Word offset of tx i's record. */
const rec = (run: BlockRun, i: number): number => ((((i % run.half) << 1) | ((i / run.half) | 0)) << RECORD_SHIFT);

const shared = (length: number): Int32Array => new Int32Array(new SharedArrayBuffer(Math.max(1, length) * 4));

export function allocateRun(n: number, threads: number): BlockRun {
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be a positive integer, got ${threads}`);
  return {
    threads,
    sched: shared((2 + threads) * LINE),
    tx: shared(2 * Math.max(1, Math.ceil(n / 2)) << RECORD_SHIFT),
    half: Math.max(1, Math.ceil(n / 2)),
    stats: new Float64Array(new SharedArrayBuffer(threads * STAT_WORDS * 8)),
  };
}

/**
 * Puts the tables into the start state of a run (on one thread, before any
 * runWorker; transactions start READY at incarnation 0 in a fresh BlockRun):
 * the scheduler words zero, and every declared cell an ESTIMATE, or with
 * `optimistic` empty as in the paper (reads then run past writers that have
 * not executed, and validation catches them: more re-execution, kept to test
 * those paths). Running the same tables again repeats the execution.
 */
export function prepareTables(t: BlockTables, optimistic = false): void {
  t.ctl.fill(0);
  t.cellState.fill(optimistic ? CELL_EMPTY : CELL_ESTIMATE);
}

export interface RunStats {
  /** Incarnations started (a suspended one counts: its work up to the dependency is lost). */
  executions: number;
  /** Executions by threads other than thread 0 (the caller's). */
  workerExecutions: number;
  validations: number;
  /** Validations that failed and aborted an incarnation. */
  aborts: number;
  /** Executions suspended on a dependency (a read of an ESTIMATE). */
  suspensions: number;
  /** From `startedAt` until the last thread entered the loop, ms. */
  startMs: number;
  /** Mean time threads spent without a task between their last task and the end of the block, ms. */
  tailMs: number;
}

/** Sums the per-thread figures of a finished run; `startedAt` in performance.timeOrigin + performance.now() ms. */
export function runStats(run: BlockRun, startedAt: number): RunStats {
  const s = run.stats;
  const out: RunStats = { executions: 0, workerExecutions: 0, validations: 0, aborts: 0, suspensions: 0, startMs: 0, tailMs: 0 };
  let end = 0;
  for (let th = 0; th < run.threads; th++) end = Math.max(end, s[th * STAT_WORDS + STAT_EXIT]!);
  for (let th = 0; th < run.threads; th++) {
    const at = th * STAT_WORDS;
    out.executions += s[at + STAT_EXECUTIONS]!;
    if (th > 0) out.workerExecutions += s[at + STAT_EXECUTIONS]!;
    out.validations += s[at + STAT_VALIDATIONS]!;
    out.aborts += s[at + STAT_ABORTS]!;
    out.suspensions += s[at + STAT_SUSPENSIONS]!;
    out.startMs = Math.max(out.startMs, s[at + STAT_ENTER]! - startedAt);
    out.tailMs += (end - s[at + STAT_LAST_BUSY]!) / run.threads;
  }
  return out;
}

const word = (incarnation: number, status: number): number => (incarnation << 2) | status;
const now = (): number => performance.timeOrigin + performance.now();

/** Thrown through `runTransaction` when a read hits an ESTIMATE; the blocker is in `blocker`. */
const DEPENDENCY = Symbol('dependency');
let blocker = -1;

// Result of the last successful mvRead (fields instead of an object per read).
let readValue = 0n;
let readTx = 0;
let readInc = 0;

/**
 * Latest value of `slot` written by a transaction below `txIdx`, into
 * readValue/readTx/readInc; returns -1, or the transaction whose ESTIMATE
 * stands in the way.
 */
function mvRead(t: BlockTables, slot: number, txIdx: number): number {
  const lo = t.slotWriterOffsets[slot]!;
  // Writers are sorted by tx: skip those at or above txIdx.
  let a = lo;
  let b = t.slotWriterOffsets[slot + 1]!;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (t.cellTx[t.slotWriters[mid]!]! < txIdx) a = mid + 1;
    else b = mid;
  }
  for (let p = a - 1; p >= lo; p--) {
    const cell = t.slotWriters[p]!;
    for (;;) {
      const state = Atomics.load(t.cellState, cell);
      if (state === CELL_EMPTY) break;
      if (state === CELL_ESTIMATE) return t.cellTx[cell]!;
      // Seqlock read: the version must be the same before and after the value.
      const inc = Atomics.load(t.cellInc, cell);
      const value = Atomics.load(t.cellValue, cell);
      if (Atomics.load(t.cellState, cell) === CELL_WRITTEN && Atomics.load(t.cellInc, cell) === inc) {
        readValue = value;
        readTx = t.cellTx[cell]!;
        readInc = inc;
        return -1;
      }
    }
  }
  readValue = t.base[slot]!;
  readTx = BASE_VERSION;
  readInc = 0;
  return -1;
}

// The execution in progress on this thread, for `recordedRead` (one closure per thread, not per execution).
let current: BlockTables | undefined;
let currentIdx = 0;
let currentAt = 0;
let currentReads = 0;

function recordedRead(slot: number): bigint {
  const t = current!;
  const found = mvRead(t, slot, currentIdx);
  if (found >= 0) {
    blocker = found;
    throw DEPENDENCY;
  }
  const at = currentAt + currentReads++;
  t.readSlot[at] = slot;
  t.readTx[at] = readTx;
  t.readInc[at] = readInc;
  return readValue;
}

/** Lowers ctl[index] to at most `target` and counts the decrease (done detection needs to see it); wakes nappers for the work. */
function decrease(t: BlockTables, run: BlockRun, index: number, target: number): void {
  for (;;) {
    const current = Atomics.load(t.ctl, index);
    if (current <= target) break;
    if (Atomics.compareExchange(t.ctl, index, current, target) === current) break;
  }
  Atomics.add(t.ctl, CTL_DECREASE_CNT, 1);
  if (Atomics.load(run.sched, napWord(run)) > 0) Atomics.notify(t.ctl, CTL_DONE);
}

/**
 * Done when both indices passed the end, no thread holds a task, and no
 * decrease happened meanwhile (the paper's check, with the active count read
 * from the per-thread flags).
 */
function checkDone(t: BlockTables, run: BlockRun): boolean {
  const observed = Atomics.load(t.ctl, CTL_DECREASE_CNT);
  if (Math.min(Atomics.load(t.ctl, CTL_EXECUTION_IDX), Atomics.load(t.ctl, CTL_VALIDATION_IDX)) < t.n) return false;
  for (let th = 0; th < run.threads; th++) if (Atomics.load(run.sched, activeWord(th)) !== 0) return false;
  if (observed !== Atomics.load(t.ctl, CTL_DECREASE_CNT)) return false;
  Atomics.store(t.ctl, CTL_DONE, 1);
  Atomics.notify(t.ctl, CTL_DONE); // threads napping for lack of work
  return true;
}

/** READY(inc) -> EXECUTING(inc); the incarnation to run, or -1. */
function tryIncarnate(t: BlockTables, run: BlockRun, idx: number): number {
  if (idx >= t.n) return -1;
  const at = rec(run, idx) + STATUS;
  const s = Atomics.load(run.tx, at);
  if ((s & 3) === READY && Atomics.compareExchange(run.tx, at, s, word(s >> 2, EXECUTING)) === s) return s >> 2;
  return -1;
}

/**
 * Suspends `idx` (incarnation `inc`) on the dependency list of `on`; false if
 * `on` finished executing meanwhile (then the read is simply retried).
 */
function addDependency(run: BlockRun, idx: number, inc: number, on: number): boolean {
  const mine = rec(run, idx);
  const list = rec(run, on) + DEP_HEAD;
  // Suspended before it is listed, so the writer's resume always finds it suspended.
  Atomics.store(run.tx, mine + STATUS, word(inc, ABORTING));
  for (;;) {
    const head = Atomics.load(run.tx, list);
    if (head === DEPS_CLOSED) {
      Atomics.store(run.tx, mine + STATUS, word(inc, EXECUTING));
      return false;
    }
    Atomics.store(run.tx, mine + DEP_NEXT, head);
    if (Atomics.compareExchange(run.tx, list, head, idx + 1) === head) return true;
  }
}

/** Closes tx idx's dependency list and makes every transaction on it ready again. */
function resumeDependents(t: BlockTables, run: BlockRun, idx: number): void {
  let head = Atomics.exchange(run.tx, rec(run, idx) + DEP_HEAD, DEPS_CLOSED);
  if (head <= 0) return;
  let lowest = t.n;
  while (head > 0) {
    const j = head - 1;
    const at = rec(run, j);
    // Read the link first: once ready, j may be suspended again and relinked.
    head = Atomics.load(run.tx, at + DEP_NEXT);
    Atomics.store(run.tx, at + STATUS, word(Atomics.load(run.tx, at + STATUS) >> 2, READY));
    if (j < lowest) lowest = j;
  }
  decrease(t, run, CTL_EXECUTION_IDX, lowest);
}

/** execute: suspended on a dependency. validate: aborted, and another thread will run the re-execution. */
const SUSPENDED = -2;
const ABORTED_ELSEWHERE = -3;

/** Executes one incarnation; returns a validation task for it (its index), -1, or SUSPENDED. */
function execute(t: BlockTables, run: BlockRun, idx: number, inc: number): number {
  let outcome;
  for (;;) {
    current = t;
    currentIdx = idx;
    currentAt = t.cellOffsets[idx]!;
    currentReads = 0;
    try {
      outcome = runTransaction(t, idx, recordedRead);
      break;
    } catch (err) {
      if (err !== DEPENDENCY) throw err;
      if (addDependency(run, idx, inc, blocker)) return SUSPENDED;
    }
  }
  const record = rec(run, idx);
  run.tx[record + READ_LEN] = currentReads;
  // Publish the write set: value and incarnation first, then the state that makes them visible.
  let wroteNew = false;
  const writes = outcome.writes;
  for (let c = t.cellOffsets[idx]!; c < t.cellOffsets[idx + 1]!; c++) {
    const slot = t.cellSlot[c]!;
    let w = 0;
    while (w < writes.length && writes[w]![0] !== slot) w++;
    if (w < writes.length) {
      // A cell that was EMPTY (the previous incarnation did not write it) may have been read past.
      if (Atomics.load(t.cellState, c) === CELL_EMPTY) wroteNew = true;
      Atomics.store(t.cellValue, c, writes[w]![1]);
      Atomics.store(t.cellInc, c, inc);
      Atomics.store(t.cellState, c, CELL_WRITTEN);
    } else {
      Atomics.store(t.cellState, c, CELL_EMPTY);
    }
  }
  t.receipts[idx] = outcome.code;
  Atomics.store(run.tx, record + STATUS, word(inc, EXECUTED));
  resumeDependents(t, run, idx);
  if (Atomics.load(t.ctl, CTL_VALIDATION_IDX) > idx) {
    if (!wroteNew) return idx;
    decrease(t, run, CTL_VALIDATION_IDX, idx);
  }
  return -1;
}

/** Validates incarnation `inc` of `idx`; on failure aborts it and returns its re-execution (the index) if this thread may run it, else -1. */
function validate(t: BlockTables, run: BlockRun, idx: number, inc: number): number {
  const at = t.cellOffsets[idx]!;
  const record = rec(run, idx);
  const n = run.tx[record + READ_LEN]!;
  let valid = true;
  for (let r = 0; r < n && valid; r++) {
    valid = mvRead(t, t.readSlot[at + r]!, idx) < 0 && readTx === t.readTx[at + r] && readInc === t.readInc[at + r];
  }
  if (valid) return -1;
  const executed = word(inc, EXECUTED);
  // Only the current incarnation can be aborted; a stale validation changes nothing.
  if (Atomics.compareExchange(run.tx, record + STATUS, executed, word(inc, ABORTING)) !== executed) return -1;
  // Reopen the dependency list before the ESTIMATE marks send readers to it.
  Atomics.store(run.tx, record + DEP_HEAD, 0);
  for (let c = at; c < t.cellOffsets[idx + 1]!; c++) {
    if (Atomics.load(t.cellState, c) === CELL_WRITTEN) Atomics.store(t.cellState, c, CELL_ESTIMATE);
  }
  Atomics.store(run.tx, record + STATUS, word(inc + 1, READY));
  decrease(t, run, CTL_VALIDATION_IDX, idx + 1);
  if (Atomics.load(t.ctl, CTL_EXECUTION_IDX) > idx && tryIncarnate(t, run, idx) >= 0) return idx;
  return ABORTED_ELSEWHERE;
}

/**
 * Thread `thread`'s share of the run (0 to run.threads - 1, each exactly
 * once): takes tasks until every transaction is executed and validated.
 * Figures go to run.stats.
 */
export function runWorker(t: BlockTables, run: BlockRun, thread: number): void {
  if (!(thread >= 0 && thread < run.threads)) throw new RangeError(`thread ${thread} of ${run.threads}`);
  const active = activeWord(thread);
  const stats = run.stats;
  const at = thread * STAT_WORDS;
  stats[at + STAT_ENTER] = now();
  let executions = 0;
  let validations = 0;
  let aborts = 0;
  let suspensions = 0;
  let lastBusy = stats[at + STAT_ENTER]!;
  // This thread's active flag as last stored. It stays set from a fetch through the tasks that follow and
  // further fetches, and is cleared only once both indices are past the end: a set flag only delays the
  // done check, and clearing and setting it around every task would cost two atomic stores a task.
  let claimed = false;
  let idle = 0;
  let executeNext = -1;
  let validateNext = -1;
  let validateInc = 0;
  try {
    for (;;) {
      if (executeNext >= 0) {
        const idx = executeNext;
        const inc = Atomics.load(run.tx, rec(run, idx) + STATUS) >> 2;
        executeNext = -1;
        executions++;
        const next = execute(t, run, idx, inc);
        if (next === SUSPENDED) suspensions++;
        else if (next >= 0) {
          validateNext = next;
          validateInc = inc;
        }
        continue;
      }
      if (validateNext >= 0) {
        const idx = validateNext;
        validateNext = -1;
        validations++;
        const next = validate(t, run, idx, validateInc);
        if (next !== -1) aborts++;
        if (next >= 0) executeNext = next;
        continue;
      }
      if (Atomics.load(t.ctl, CTL_DONE) !== 0 || Atomics.load(run.sched, ABORT) !== 0) break;
      const v = Atomics.load(t.ctl, CTL_VALIDATION_IDX);
      const e = Atomics.load(t.ctl, CTL_EXECUTION_IDX);
      if (Math.min(v, e) >= t.n) {
        if (claimed) {
          Atomics.store(run.sched, active, 0);
          claimed = false;
          lastBusy = now();
        }
        if (!checkDone(t, run) && ++idle % IDLE_SPINS === 0) {
          // A notify between the add and the wait is lost, which only costs that nap; done cannot be missed (wait checks it).
          Atomics.add(run.sched, napWord(run), 1);
          Atomics.wait(t.ctl, CTL_DONE, 0, NAP_MS);
          Atomics.sub(run.sched, napWord(run), 1);
        }
        continue;
      }
      idle = 0;
      if (!claimed) {
        Atomics.store(run.sched, active, 1);
        claimed = true;
      }
      // A fetch that finds nothing still advanced its index, so the loop reaches the branch above.
      if (v < e) {
        const idx = Atomics.add(t.ctl, CTL_VALIDATION_IDX, 1);
        const s = idx < t.n ? Atomics.load(run.tx, rec(run, idx) + STATUS) : READY;
        if ((s & 3) === EXECUTED) {
          validateNext = idx;
          validateInc = s >> 2;
        }
      } else {
        const idx = Atomics.add(t.ctl, CTL_EXECUTION_IDX, 1);
        if (tryIncarnate(t, run, idx) >= 0) executeNext = idx;
      }
    }
  } catch (err) {
    Atomics.store(run.sched, ABORT, 1);
    Atomics.notify(t.ctl, CTL_DONE);
    throw err;
  } finally {
    stats[at + STAT_EXECUTIONS] = executions;
    stats[at + STAT_VALIDATIONS] = validations;
    stats[at + STAT_ABORTS] = aborts;
    stats[at + STAT_SUSPENSIONS] = suspensions;
    stats[at + STAT_LAST_BUSY] = lastBusy;
    stats[at + STAT_EXIT] = now();
  }
}

/**
 * A run's share for thread `thread`: Block-STM, or on a run of one thread
 * plain execution in block order (`runSingle`).
 */
export function runThread(t: BlockTables, run: BlockRun, thread: number): void {
  if (run.threads === 1) runSingle(t, run);
  else runWorker(t, run, thread);
}

/**
 * A run on one thread, executed in block order: with no other thread to
 * write a cell, multi-version reads, read logs and validation have nothing to
 * catch, and cost more than the transactions themselves (transfers). Reads
 * come from a private copy of the base values updated after each transaction;
 * each transaction's writes are published to its cells as Block-STM leaves
 * them, so the committed writes, receipts and stats read the same.
 */
export function runSingle(t: BlockTables, run: BlockRun): void {
  if (run.threads !== 1) throw new RangeError(`runSingle needs a run of 1 thread, got ${run.threads}`);
  const stats = run.stats;
  stats[STAT_ENTER] = now();
  // slice() copies into unshared memory: plain loads, no atomics.
  const values = t.base.slice();
  const read = (slot: number): bigint => values[slot]!;
  let executions = 0;
  try {
    for (let i = 0; i < t.n; i++) {
      executions++;
      const outcome = runTransaction(t, i, read);
      const writes = outcome.writes;
      for (let c = t.cellOffsets[i]!; c < t.cellOffsets[i + 1]!; c++) {
        const slot = t.cellSlot[c]!;
        let w = 0;
        while (w < writes.length && writes[w]![0] !== slot) w++;
        if (w < writes.length) {
          const value = writes[w]![1];
          values[slot] = value;
          t.cellValue[c] = value;
          t.cellState[c] = CELL_WRITTEN;
        } else {
          t.cellState[c] = CELL_EMPTY;
        }
      }
      t.receipts[i] = outcome.code;
    }
    Atomics.store(t.ctl, CTL_DONE, 1);
  } finally {
    stats[STAT_EXECUTIONS] = executions;
    stats[STAT_LAST_BUSY] = stats[STAT_EXIT] = now();
  }
}
