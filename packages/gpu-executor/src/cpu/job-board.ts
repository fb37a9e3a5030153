/**
 * The worker pool's job board: words in shared memory through which the main
 * thread publishes batches and the workers claim their parts. A batch wakes
 * every sleeping worker through one word (GEN), instead of one message per
 * thread: 16 piscina tasks cost the main thread ~0.3 ms per batch on the H200,
 * and SHA-256 10K ran at 47 % of 16x one thread against 76 % this way.
 *
 * Layout (Int32 words): a header line, one line per worker, one line per job
 * slot; lines are 64 bytes so that words written by different threads do not
 * share a cache line.
 */

export const LINE_WORDS = 16;

// Header words.
/** Raised by the main thread whenever a job is published (or the pool closes); sleeping workers wait on it. */
export const GEN = 0;
/** 1 once the pool closes: workers leave their loop. */
export const CLOSING = 1;
/** High-priority jobs published and not finished: a worker in a normal job looks for them after each part. */
export const HIGH_ACTIVE = 2;

// Worker line words.
/** Slot index + 1 of the part the worker is running, 0 between parts (read when a worker dies). */
export const RUNNING_SLOT = 0;
/** Sequence number of the job whose part it is running. */
export const RUNNING_SEQ = 1;

// Slot words.
/** (seq << 16) | next part to claim: a claim is a compare-exchange that also checks the job's seq, so a worker that lags behind can never claim a part of the slot's next job. */
export const CLAIM = 0;
/** Parts finished (run, or skipped after a stop): the job is over when this reaches PARTS. */
export const DONE = 1;
export const PARTS = 2;
/** 1 for `high`. */
export const PRIORITY = 3;
/** Most workers that may join the job (the `maxThreads` option). */
export const MAX_THREADS = 4;
/** (seq << 16) | workers joined so far. */
export const JOINED = 5;
/** 1 once the job was aborted or a part failed: no part is run any more. */
export const STOP = 6;
/** 1 once a part failed; its error is on the failing worker's port. */
export const FAILED = 7;
/** 0 until DONE reaches PARTS; the main thread waits on it. */
export const FIN = 8;

/** Parts in one job: the claim word keeps the next part in 16 bits. */
export const MAX_PARTS = 0xffff;
/** Job sequence numbers cycle through 1..MAX_SEQ (15 bits, so a claim word stays positive). */
export const MAX_SEQ = 0x7fff;

export const headerWord = (word: number): number => word;
export const workerWord = (worker: number, word: number): number => (1 + worker) * LINE_WORDS + word;
export const slotWord = (threads: number, slot: number, word: number): number => (1 + threads + slot) * LINE_WORDS + word;
export const boardWords = (threads: number, slots: number): number => (1 + threads + slots) * LINE_WORDS;

/** What the main thread broadcasts for each job, before the job becomes claimable. */
export interface JobMessage {
  seq: number;
  slot: number;
  moduleUrl: string;
  columns: Record<string, ArrayBufferView>;
  /** Shared output buffer holding `items` outputs from byte 0. */
  output: SharedArrayBuffer;
  items: number;
  /** Part p is items bounds[p] .. bounds[p + 1]. */
  bounds: Uint32Array;
}

/** What a worker posts on its port when a part fails. */
export interface PartFailure {
  seq: number;
  message: string;
  stack?: string | undefined;
}

/** What worker.js gets at start. */
export interface WorkerInit {
  board: Int32Array;
  /** Per worker: milliseconds spent running parts (for utilization). */
  busy: Float64Array;
  index: number;
  threads: number;
  slots: number;
  /** BroadcastChannel name the job messages come on. */
  channel: string;
  /** Milliseconds a worker keeps polling after its last part before it sleeps. */
  idleSpinMs: number;
}

/**
 * Claims the next part of job `seq` in a slot: its index, or -1 when none is
 * left or the slot holds another job by now.
 */
export function claimPart(board: Int32Array, at: number, seq: number, parts: number): number {
  for (;;) {
    const word = Atomics.load(board, at);
    const next = word & 0xffff;
    if (word >>> 16 !== seq || next >= parts) return -1;
    if (Atomics.compareExchange(board, at, word, word + 1) === word) return next;
  }
}

/**
 * Claims every part left of job `seq` without running it and counts them done:
 * after an abort or a failure, the job is over once the parts already running
 * finish. Returns true when this made DONE reach PARTS.
 */
export function drainParts(board: Int32Array, slotAt: (word: number) => number, seq: number): boolean {
  const parts = Atomics.load(board, slotAt(PARTS));
  for (;;) {
    const word = Atomics.load(board, slotAt(CLAIM));
    const next = word & 0xffff;
    if (word >>> 16 !== seq || next >= parts) return false;
    if (Atomics.compareExchange(board, slotAt(CLAIM), word, (seq << 16) | parts) === word) return finishParts(board, slotAt, parts - next);
  }
}

/** Counts `count` parts done; the one that completes the job raises FIN and wakes the main thread. */
export function finishParts(board: Int32Array, slotAt: (word: number) => number, count: number): boolean {
  const parts = Atomics.load(board, slotAt(PARTS));
  if (Atomics.add(board, slotAt(DONE), count) + count !== parts) return false;
  Atomics.store(board, slotAt(FIN), 1);
  Atomics.notify(board, slotAt(FIN));
  return true;
}
