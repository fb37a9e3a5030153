import { ExecutorError, throwIfAborted } from '../errors.js';
import type { Columns, Kernel, TypedArray } from '../kernels/kernel.js';
import { checkRange, executeWhole } from '../range.js';
import type { ExecResult, ExecStats, ExecuteOptions, Executor, RangeOptions } from '../types.js';
import { createSharedOutput, isShared, outputBytes, stageColumns } from './shared-memory.js';
import { sharedScratch } from './shared-scratch.js';
import { MAX_PARTS } from './job-board.js';
import { WorkerPool } from './worker-pool.js';

export interface ParallelCpuExecutorOptions {
  /** A pool shared with other executors; by default the executor creates (and closes) its own. */
  pool?: WorkerPool;
  /** Threads of the executor's own pool (ignored with `pool`). */
  threads?: number;
  /**
   * Least estimated work worth a worker hop, ns: a batch under twice this runs
   * in-thread, and no part is smaller than this or MIN_PART_NS, whichever is
   * less. Default 250 µs.
   */
  minTaskNs?: number;
  /**
   * Most estimated work per part, ns. Workers stop between parts to let
   * high-priority work on a shared pool (a state root) in, and short parts even
   * out the tail of a batch. Default 4 ms.
   */
  maxTaskNs?: number;
  /**
   * A batch estimated to finish within this many ns on the pool is joined by
   * the calling thread (`joinOnCaller`), which then blocks its event loop
   * for about that long, as an in-thread batch would. Never when a call sets
   * `maxThreads`. 0: never. Default 1 ms.
   */
  callerJoinsUnderNs?: number;
}

/**
 * Least parts per thread a batch is cut into, where its work allows: the last
 * parts of a batch finish unevenly, and the smaller they are the less the tail
 * costs.
 */
const PARTS_PER_THREAD = 8;
/**
 * Estimated work per part the split aims at, ns, when that gives more parts
 * than PARTS_PER_THREAD: a part costs a worker one compare-exchange, so parts
 * this short cost little and leave a short tail. On the H200, parts of ~40 us
 * ran Ed25519 1K at 85-89 % of 16x one thread against 80-85 % with 8 parts per
 * thread (parts of 1.6 ms).
 */
const TARGET_PART_NS = 40_000;
/** Least estimated work per part once a batch goes to the workers, ns. */
const MIN_PART_NS = 25_000;

/** Outputs from this size are allocated shared and written in place (see `createOutput`). */
const IN_PLACE_OUTPUT_BYTES = 1 << 20;

/**
 * Splits a batch into parts of about equal work, published as one job that the
 * pool's workers claim part by part from shared memory. Columns travel through
 * SharedArrayBuffer and workers write the shared output in place. Batches too
 * small to pay for a worker hop run in-thread.
 */
export class ParallelCpuExecutor<I extends Columns, O extends TypedArray> implements Executor<I, O> {
  readonly deviceKind = 'cpu' as const;
  readonly backend = 'cpu-pool';
  readonly kernel: Kernel<I, O>;
  readonly #pool: WorkerPool;
  readonly #ownsPool: boolean;
  readonly #minTaskNs: number;
  readonly #maxTaskNs: number;
  readonly #callerJoinsUnderNs: number;
  #closed = false;

  constructor(kernel: Kernel<I, O>, options: ParallelCpuExecutorOptions = {}) {
    if (typeof kernel?.cpu !== 'function') throw new TypeError('ParallelCpuExecutor needs a kernel with cpu()');
    if (!kernel.moduleUrl) throw new TypeError(`kernel ${kernel.name} has no moduleUrl, so workers cannot load it`);
    const { minTaskNs = 250_000, maxTaskNs = 4_000_000, callerJoinsUnderNs = 1_000_000 } = options;
    if (!Number.isFinite(minTaskNs) || minTaskNs < 0) throw new TypeError(`minTaskNs must be a finite number >= 0, got ${minTaskNs}`);
    if (!Number.isFinite(maxTaskNs) || maxTaskNs < minTaskNs) throw new TypeError(`maxTaskNs must be a finite number >= minTaskNs (${minTaskNs}), got ${maxTaskNs}`);
    if (!Number.isFinite(callerJoinsUnderNs) || callerJoinsUnderNs < 0) throw new TypeError(`callerJoinsUnderNs must be a finite number >= 0, got ${callerJoinsUnderNs}`);
    this.kernel = kernel;
    this.#pool = options.pool ?? new WorkerPool(options.threads === undefined ? {} : { threads: options.threads });
    this.#ownsPool = options.pool === undefined;
    this.#minTaskNs = minTaskNs;
    this.#maxTaskNs = maxTaskNs;
    this.#callerJoinsUnderNs = callerJoinsUnderNs;
  }

  get threads(): number {
    return this.#pool.threads;
  }

  isAvailable(): boolean {
    return !this.#closed && !this.#pool.closed;
  }

  /** An output in shared memory, which workers fill in place: `executeInto` it and no bytes are copied out. */
  allocateOutput(items: number): O {
    return createSharedOutput(this.kernel, items);
  }

  /**
   * The output this executor fills fastest. From 1 MiB, a shared one written
   * in place: the workers fault its fresh pages in side by side, where a plain
   * one would be faulted in by one thread during the copy out (vector add 16M
   * on the H100: 12.4 ms in place, 46.9 ms copied). Below, a plain one, filled
   * from reused scratch: a fresh shared buffer costs more than the copy.
   */
  createOutput(items: number): O {
    return outputBytes(this.kernel, items) >= IN_PLACE_OUTPUT_BYTES ? this.allocateOutput(items) : this.kernel.createOutput(items);
  }

  async execute(input: I, options: ExecuteOptions = {}): Promise<ExecResult<O>> {
    this.#assertOpen();
    return executeWhole(this, input, options, (items) => this.createOutput(items));
  }

  async executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats> {
    this.#assertOpen();
    const { start, end, signal, priority, maxThreads = this.#pool.threads } = options;
    const items = this.kernel.count(input);
    checkRange(start, end, items);
    if (!Number.isInteger(maxThreads) || maxThreads < 1) {
      throw new ExecutorError('INVALID_OPTION', `maxThreads must be a positive integer, got ${String(maxThreads)}`);
    }
    const threads = Math.min(maxThreads, this.#pool.threads);
    throwIfAborted(signal);
    const t0 = performance.now();
    const { bounds, totalNs } = this.#split(input, start, end, threads);
    const stats = (threads: number): ExecStats => ({
      device: 'cpu',
      backend: this.backend,
      kernel: this.kernel.name,
      tasks: end - start,
      durationMs: performance.now() - t0,
      threads,
    });
    if (bounds.length <= 2) {
      this.#runInline(input, output, start, end);
      return stats(1);
    }

    // Columns and output that are not in shared memory are staged in reused scratch buffers.
    const staged: SharedArrayBuffer[] = [];
    const acquire = (bytes: number): SharedArrayBuffer => {
      const buffer = sharedScratch.acquire(bytes);
      staged.push(buffer);
      return buffer;
    };
    try {
      const columns = stageColumns(input, acquire);
      const target = isShared(output) ? output : this.kernel.createOutput(items, acquire(outputBytes(this.kernel, items)));
      const job = { moduleUrl: this.kernel.moduleUrl, columns, output: target.buffer as SharedArrayBuffer, items, bounds: Uint32Array.from(bounds) };
      // A short batch: this thread starts on it while the workers wake, and sees it end without an event-loop turn.
      // Not when the caller limits threads: it keeps the rest for other work (co-execution, for the thread that feeds the GPU).
      const joinOnCaller = options.maxThreads === undefined && threads > 1 && totalNs / threads < this.#callerJoinsUnderNs ? (s: number, e: number) => this.kernel.cpu(input, target, s, e) : undefined;
      try {
        await this.#pool.runParts(job, { signal, priority, maxThreads: threads, joinOnCaller });
      } catch (err) {
        if ((err as ExecutorError).code !== 'KERNEL_FAILED') throw err;
        const cause = (err as ExecutorError).cause as { message?: string } | undefined;
        throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name} failed on the pool: ${cause?.message}`, { cause });
      }
      if (target !== output) {
        const w = this.kernel.outputWidth;
        (output as TypedArray).set((target as TypedArray).subarray(start * w, end * w) as never, start * w);
      }
    } finally {
      // No part is running now: the pool settles a job only after its running parts finish.
      for (const buffer of staged) sharedScratch.release(buffer);
    }
    return stats(Math.min(threads, bounds.length - 1));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.close();
  }

  #assertOpen(): void {
    if (this.#closed || this.#pool.closed) throw new ExecutorError('CLOSED', 'the executor is closed');
  }

  #runInline(input: I, output: O, start: number, end: number): void {
    try {
      this.kernel.cpu(input, output, start, end);
    } catch (err) {
      throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name} failed on the CPU: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Range boundaries of about equal work: one part when the batch is under
   * twice minTaskNs, else parts of about TARGET_PART_NS and at least
   * PARTS_PER_THREAD per thread so uneven items even out, none under the part
   * floor nor over maxTaskNs.
   */
  #split(input: I, start: number, end: number, threads: number): { bounds: number[]; totalNs: number } {
    const work = (s: number, e: number): number => this.kernel.work?.(input, s, e) ?? e - s;
    const total = work(start, end);
    const nsPerUnit = this.kernel.cost.cpuNsPerItem * ((end - start) / Math.max(total, 1));
    const totalNs = total * nsPerUnit;
    const inline = totalNs < 2 * this.#minTaskNs;
    const byWork = Math.floor(totalNs / Math.max(Math.min(this.#minTaskNs, MIN_PART_NS), 1));
    const bounded = Math.ceil(totalNs / Math.max(this.#maxTaskNs, 1));
    const wanted = Math.max(threads * PARTS_PER_THREAD, Math.ceil(totalNs / TARGET_PART_NS), bounded);
    const parts = inline ? 1 : Math.max(1, Math.min(wanted, byWork, end - start, MAX_PARTS));
    const bounds = [start];
    for (let p = 1; p < parts; p++) {
      const goal = (total * p) / parts;
      // Smallest x with work(start, x) >= goal; work is monotonic in x.
      let lo = bounds[bounds.length - 1]! + 1;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (work(start, mid) >= goal) hi = mid;
        else lo = mid + 1;
      }
      if (lo < end) bounds.push(lo);
    }
    bounds.push(end);
    return { bounds, totalNs };
  }
}
