import { availableParallelism } from 'node:os';
import { BroadcastChannel, MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ExecutorError, abortError } from '../errors.js';
import type { Columns } from '../kernels/kernel.js';
import {
  CLAIM,
  CLOSING,
  DONE,
  FAILED,
  FIN,
  GEN,
  HIGH_ACTIVE,
  JOINED,
  MAX_PARTS,
  MAX_SEQ,
  MAX_THREADS,
  PARTS,
  PRIORITY,
  RUNNING_SEQ,
  RUNNING_SLOT,
  STOP,
  boardWords,
  claimPart,
  drainParts,
  finishParts,
  slotWord,
  workerWord,
  type JobMessage,
  type PartFailure,
  type WorkerInit,
} from './job-board.js';

/**
 * `high`: ahead of every `normal` job on a shared pool; a worker in a normal
 * job turns to it after its current part. For small, latency-bound batches
 * that something waits on (the GPU's host packing, a block's state root).
 */
export type TaskPriority = 'high' | 'normal';

export interface WorkerPoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  threads?: number;
  /** Jobs published at once; further submitters wait for one to finish. Default threads * 16. */
  maxQueue?: number;
  /**
   * Milliseconds a worker keeps polling for work after its last part before it
   * sleeps: a batch that follows within it finds the worker awake. Default 0.2
   * (on the H200, SHA-256 1K ran 0.22 ms with it and 0.31 ms without).
   */
  idleSpinMs?: number;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Default `normal`. */
  priority?: TaskPriority | undefined;
  /** Most threads that may work on the job at once, counting the calling thread when it joins. Default: all workers. */
  maxThreads?: number | undefined;
  /**
   * Runs parts on the calling thread too, synchronously as soon as the job is
   * published: the caller starts on the first part while the workers wake,
   * and sees the job finish without an event-loop turn. The job
   * then gets at most maxThreads - 1 workers, so no core is oversubscribed.
   * It blocks the caller's event loop for about the whole job: for short jobs
   * only (OpenMP's master thread works the same way).
   */
  joinOnCaller?: ((start: number, end: number) => void) | undefined;
}

/** A batch cut into parts that the workers claim one at a time. */
export interface PartsJob {
  /** Module whose `kernel` export runs the parts. */
  moduleUrl: string;
  /** Columns in shared memory. */
  columns: Columns;
  /** Shared output buffer holding `items` outputs from byte 0, written in place. */
  output: SharedArrayBuffer;
  items: number;
  /** Part p is items bounds[p] .. bounds[p + 1]: at least one part, at most 65535. */
  bounds: Uint32Array;
}

/** One range of a batch, run by one worker. */
export interface RangeTask extends Omit<PartsJob, 'bounds'> {
  start: number;
  end: number;
}

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

function positiveInteger(value: unknown, name: string): void {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
  }
}

let pools = 0;

/** Most milliseconds the calling thread spins for a job's last parts after it joined (joinOnCaller), before it waits on the event loop. */
const CALLER_SPIN_MS = 1;

/**
 * Worker threads shared by every kernel; workers load kernels on first use.
 * A job is published on a board in shared memory (job-board.ts) and one word
 * wakes every sleeping worker; the job's columns and output travel once,
 * through a BroadcastChannel the workers read synchronously. Workers claim a
 * job's parts themselves, high-priority jobs first.
 */
export class WorkerPool {
  readonly threads: number;
  readonly maxQueue: number;
  readonly #board: Int32Array;
  readonly #busy: Float64Array;
  readonly #channelName = `supervm-pool-${process.pid}-${++pools}`;
  readonly #channel: BroadcastChannel;
  readonly #idleSpinMs: number;
  readonly #workers: (Worker | undefined)[] = [];
  /** Per worker, the port its part failures come back on (read synchronously). */
  readonly #errorPorts: (MessagePort | undefined)[] = [];
  readonly #failures = new Map<number, PartFailure>();
  readonly #freeSlots: number[];
  readonly #slotWaiters: (() => void)[] = [];
  /** Jobs submitted and not settled: close() waits for them. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #exited: Promise<void>[] = [];
  readonly #startedAt = performance.now();
  #booting = 0;
  #ready: Promise<void> = Promise.resolve();
  #seq = 0;
  #published = 0;
  /** Keeps the process alive while jobs run (the workers are unreferenced, and waitAsync holds nothing). */
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    const { threads = availableParallelism() } = options;
    positiveInteger(threads, 'threads');
    const { maxQueue = threads * 16, idleSpinMs = 0.2 } = options;
    positiveInteger(maxQueue, 'maxQueue');
    if (!Number.isFinite(idleSpinMs) || idleSpinMs < 0) throw new TypeError(`idleSpinMs must be a finite number >= 0, got ${idleSpinMs}`);
    this.threads = threads;
    this.maxQueue = maxQueue;
    this.#idleSpinMs = idleSpinMs;
    this.#board = new Int32Array(new SharedArrayBuffer(4 * boardWords(threads, maxQueue)));
    this.#busy = new Float64Array(new SharedArrayBuffer(8 * threads));
    this.#freeSlots = Array.from({ length: maxQueue }, (_, s) => maxQueue - 1 - s);
    this.#channel = new BroadcastChannel(this.#channelName);
    for (let w = 0; w < threads; w++) this.#spawn(w);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Fraction of worker time spent running parts since the pool started. */
  get utilization(): number {
    const elapsed = performance.now() - this.#startedAt;
    let busy = 0;
    for (const ms of this.#busy) busy += ms;
    return elapsed > 0 ? Math.min(1, busy / (elapsed * this.threads)) : 0;
  }

  /** Jobs submitted and not finished (running or waiting for a slot). */
  get queueSize(): number {
    return this.#inFlight.size;
  }

  /** Runs one range on one worker; resolves with the number of items run. */
  async run(task: RangeTask, options: RunOptions = {}): Promise<number> {
    const { start, end, ...job } = task;
    await this.runParts({ ...job, bounds: Uint32Array.of(start, end) }, { ...options, maxThreads: 1 });
    return end - start;
  }

  /**
   * Runs every part of a job on the workers; resolves once all are done.
   * Rejects with ABORTED (after the parts already running finish: they write
   * the output) or KERNEL_FAILED (a part threw; no further part runs).
   */
  runParts(job: PartsJob, options: RunOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new ExecutorError('CLOSED', 'the worker pool is closed'));
    const parts = job.bounds.length - 1;
    if (parts < 1 || parts > MAX_PARTS) {
      return Promise.reject(new ExecutorError('INVALID_INPUT', `a job has 1 to ${MAX_PARTS} parts, got ${parts}`));
    }
    const running = this.#runParts(job, options);
    this.#inFlight.add(running);
    const forget = (): void => void this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #runParts(job: PartsJob, options: RunOptions): Promise<void> {
    const { signal, priority = 'normal', maxThreads = this.threads, joinOnCaller } = options;
    if (signal?.aborted) throw abortError(signal);
    if (this.#booting > 0) await this.#ready;
    const slot = this.#freeSlots.pop() ?? (await this.#waitForSlot());
    const board = this.#board;
    const at = (word: number): number => slotWord(this.threads, slot, word);
    const seq = (this.#seq % MAX_SEQ) + 1;
    this.#seq = seq;
    const high = priority === 'high';
    const parts = job.bounds.length - 1;
    // The calling thread counts against maxThreads when it joins.
    const workers = Math.max(joinOnCaller ? 0 : 1, maxThreads - (joinOnCaller ? 1 : 0));
    this.#channel.postMessage({ seq, slot, moduleUrl: job.moduleUrl, columns: job.columns, output: job.output, items: job.items, bounds: job.bounds } satisfies JobMessage);
    Atomics.store(board, at(PARTS), parts);
    Atomics.store(board, at(PRIORITY), high ? 1 : 0);
    Atomics.store(board, at(MAX_THREADS), workers);
    Atomics.store(board, at(DONE), 0);
    Atomics.store(board, at(STOP), 0);
    Atomics.store(board, at(FAILED), 0);
    Atomics.store(board, at(FIN), 0);
    Atomics.store(board, at(JOINED), seq << 16);
    if (high) Atomics.add(board, HIGH_ACTIVE, 1);
    // Claimable from here on.
    Atomics.store(board, at(CLAIM), seq << 16);
    this.#hold();
    if (workers > 0) {
      Atomics.add(board, GEN, 1);
      Atomics.notify(board, GEN);
    }
    const stop = (): void => {
      Atomics.store(board, at(STOP), 1);
      drainParts(board, at, seq);
    };
    try {
      if (joinOnCaller) this.#workOnCaller(joinOnCaller, job.bounds, at, seq, signal, stop);
      signal?.addEventListener('abort', stop, { once: true });
      if (joinOnCaller) {
        // Calls made right behind this one (batches started together, as by Promise.all)
        // publish and join their jobs before this one spins for its last parts: a job this
        // short would otherwise wait ~25-60 us more for the event loop to see it finish.
        await Promise.resolve();
        const until = performance.now() + CALLER_SPIN_MS;
        while (Atomics.load(board, at(FIN)) === 0 && performance.now() < until);
      }
      while (Atomics.load(board, at(FIN)) === 0) {
        const wait = waitAsync(board, at(FIN), 0);
        if (wait.async) await wait.value;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      if (high) Atomics.sub(board, HIGH_ACTIVE, 1);
      this.#release(slot);
    }
    if (Atomics.load(board, at(FAILED)) === 1) {
      const failure = this.#takeFailure(seq);
      throw new ExecutorError('KERNEL_FAILED', `a part failed: ${failure.message}`, { cause: failure });
    }
    if (signal?.aborted) throw abortError(signal);
  }

  /** The calling thread claims and runs parts like a worker (joinOnCaller) until none is left to claim. */
  #workOnCaller(
    run: (start: number, end: number) => void,
    bounds: Uint32Array,
    at: (word: number) => number,
    seq: number,
    signal: AbortSignal | undefined,
    stop: () => void,
  ): void {
    const board = this.#board;
    const parts = bounds.length - 1;
    while (Atomics.load(board, at(STOP)) === 0) {
      if (signal?.aborted) {
        stop();
        break;
      }
      const p = claimPart(board, at(CLAIM), seq, parts);
      if (p < 0) break;
      try {
        run(bounds[p]!, bounds[p + 1]!);
      } catch (err) {
        const e = err as Error | undefined;
        this.#failures.set(seq, { seq, message: e?.message ?? String(err), stack: e?.stack });
        Atomics.store(board, at(FAILED), 1);
        stop();
      }
      finishParts(board, at, 1);
    }
  }

  /**
   * Lets the jobs already submitted finish, then stops the workers.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    Atomics.store(this.#board, CLOSING, 1);
    Atomics.add(this.#board, GEN, 1);
    Atomics.notify(this.#board, GEN);
    await Promise.all(this.#exited);
    this.#channel.close();
    for (const port of this.#errorPorts) port?.close();
  }

  #spawn(index: number): void {
    const { port1, port2 } = new MessageChannel();
    const init: WorkerInit & { errors: MessagePort } = {
      board: this.#board,
      busy: this.#busy,
      index,
      threads: this.threads,
      slots: this.maxQueue,
      channel: this.#channelName,
      idleSpinMs: this.#idleSpinMs,
      errors: port2,
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init, transferList: [port2] });
    worker.unref();
    this.#workers[index] = worker;
    this.#errorPorts[index] = port1;
    this.#booting++;
    const ready = new Promise<void>((resolve) => {
      worker.once('message', resolve);
      worker.once('exit', resolve);
    }).then(() => void this.#booting--);
    this.#ready = Promise.all([this.#ready, ready]).then(() => {});
    let uncaught: Error | undefined;
    worker.on('error', (err) => (uncaught = err));
    // close() waits for the workers of the moment: a replacement's exit replaces a dead worker's.
    this.#exited[index] = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        if (Atomics.load(this.#board, CLOSING) === 0) this.#replace(index, code, uncaught);
        resolve();
      });
    });
  }

  /**
   * A worker died (its module threw, or it ran out of memory): the part it was
   * running fails its job, and a new worker takes its place.
   */
  #replace(index: number, code: number, uncaught: Error | undefined): void {
    const board = this.#board;
    const slot = Atomics.load(board, workerWord(index, RUNNING_SLOT)) - 1;
    if (slot >= 0) {
      const seq = Atomics.load(board, workerWord(index, RUNNING_SEQ));
      const at = (word: number): number => slotWord(this.threads, slot, word);
      this.#failures.set(seq, { seq, message: `a worker thread exited (code ${code}) while running a part${uncaught ? `: ${uncaught.message}` : ''}` });
      Atomics.store(board, at(FAILED), 1);
      Atomics.store(board, at(STOP), 1);
      drainParts(board, at, seq);
      finishParts(board, at, 1);
      Atomics.store(board, workerWord(index, RUNNING_SLOT), 0);
    }
    this.#errorPorts[index]?.close();
    this.#spawn(index);
  }

  #takeFailure(seq: number): PartFailure {
    for (const port of this.#errorPorts) {
      if (port === undefined) continue;
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const failure = m.message as PartFailure;
        this.#failures.set(failure.seq, failure);
      }
    }
    const failure = this.#failures.get(seq) ?? { seq, message: 'unknown failure' };
    this.#failures.delete(seq);
    return failure;
  }

  #waitForSlot(): Promise<number> {
    return new Promise<number>((resolve) => this.#slotWaiters.push(() => resolve(this.#freeSlots.pop()!)));
  }

  #hold(): void {
    if (this.#published++ === 0) this.#keepAlive = setInterval(() => {}, 1 << 30);
  }

  #release(slot: number): void {
    this.#freeSlots.push(slot);
    this.#slotWaiters.shift()?.();
    if (--this.#published === 0) clearInterval(this.#keepAlive);
  }
}
