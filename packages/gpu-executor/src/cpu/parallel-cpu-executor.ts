import { ExecutorError, abortError, throwIfAborted } from '../errors.js';
import type { Columns, Kernel, TypedArray } from '../kernels/kernel.js';
import { checkRange } from '../range.js';
import type { ExecResult, ExecStats, ExecuteOptions, Executor, RangeOptions } from '../types.js';
import { createSharedOutput, isShared, outputBytes, stageColumns } from './shared-memory.js';
import { sharedScratch } from './shared-scratch.js';
import type { TaskPriority } from './priority-queue.js';
import { NEXT_PART, PARTS_DONE, STOP, type PartClaims, type WorkerTask } from './worker.js';
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
}

/**
 * Parts per thread a batch is cut into, where its work allows: the last parts
 * of a batch finish unevenly, and the smaller they are the less the tail costs.
 * At four per thread with parts of at least 250 µs, SHA-256 10K on 16 threads
 * was cut into 20 parts (its whole estimate is 5 ms): 4 threads ran two while
 * 12 idled, and the pool reached 16-40 % of 16x one thread on the H100.
 */
const PARTS_PER_THREAD = 8;
/**
 * Least estimated work per part once a batch goes to the workers, ns. A part
 * costs a worker an atomic add and a kernel call: the hop to the worker is paid
 * once per thread, not per part (parts are claimed in shared memory).
 */
const MIN_PART_NS = 25_000;

/** Outputs from this size are allocated shared and written in place (see `createOutput`). */
const IN_PLACE_OUTPUT_BYTES = 1 << 20;

/**
 * Splits a batch into parts of about equal work that the pool's workers claim
 * from shared memory, one worker task per thread. Columns travel through
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
  #closed = false;

  constructor(kernel: Kernel<I, O>, options: ParallelCpuExecutorOptions = {}) {
    if (typeof kernel?.cpu !== 'function') throw new TypeError('ParallelCpuExecutor needs a kernel with cpu()');
    if (!kernel.moduleUrl) throw new TypeError(`kernel ${kernel.name} has no moduleUrl, so workers cannot load it`);
    const { minTaskNs = 250_000, maxTaskNs = 4_000_000 } = options;
    if (!Number.isFinite(minTaskNs) || minTaskNs < 0) throw new TypeError(`minTaskNs must be a finite number >= 0, got ${minTaskNs}`);
    if (!Number.isFinite(maxTaskNs) || maxTaskNs < minTaskNs) throw new TypeError(`maxTaskNs must be a finite number >= minTaskNs (${minTaskNs}), got ${maxTaskNs}`);
    this.kernel = kernel;
    this.#pool = options.pool ?? new WorkerPool(options.threads === undefined ? {} : { threads: options.threads });
    this.#ownsPool = options.pool === undefined;
    this.#minTaskNs = minTaskNs;
    this.#maxTaskNs = maxTaskNs;
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
    const validated = this.kernel.validate(input);
    const items = this.kernel.count(validated);
    const output = this.createOutput(items);
    const stats = await this.executeInto(validated, output, { ...options, start: 0, end: items });
    return { output, stats };
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
    const bounds = this.#split(input, start, end, threads);
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
      await this.#claimAll({ moduleUrl: this.kernel.moduleUrl, columns, output: target.buffer as SharedArrayBuffer, items, start, end }, bounds, threads, priority, signal);
      if (target !== output) {
        const w = this.kernel.outputWidth;
        (output as TypedArray).set((target as TypedArray).subarray(start * w, end * w) as never, start * w);
      }
    } finally {
      // No part is running now (after an abort or a failure every task was waited for). A task still
      // on its way finds no part to claim and reads or writes none of these buffers.
      for (const buffer of staged) sharedScratch.release(buffer);
    }
    return stats(Math.min(threads, bounds.length - 1));
  }

  /**
   * Runs the parts between `bounds`: one slot per thread (up to `threads`) keeps a claiming task
   * on the pool until no part is left. A task that gave its worker up to a
   * high-priority one (after at least one part) is queued again at once, behind
   * it; no slot waits for the others. The batch is over when every part is
   * done, even if a task is still on its way (a worker loading the kernel
   * module for the first time): it will find nothing to claim.
   */
  async #claimAll(task: Omit<WorkerTask, 'parts'>, bounds: number[], threads: number, priority: TaskPriority | undefined, signal: AbortSignal | undefined): Promise<void> {
    const parts = bounds.length - 1;
    const claims: PartClaims = { bounds: new Uint32Array(new SharedArrayBuffer(4 * bounds.length)), control: new Int32Array(new SharedArrayBuffer(12)) };
    claims.bounds.set(bounds);
    const { control } = claims;
    // Abort stops the claimers after their current part. Not piscina's abort, which would
    // terminate the worker (and reload every kernel module in its replacement).
    const stop = (): void => {
      Atomics.store(control, STOP, 1);
    };
    signal?.addEventListener('abort', stop, { once: true });
    let failure: { reason: unknown } | undefined;
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const slot = async (): Promise<void> => {
      while (Atomics.load(control, NEXT_PART) < parts && failure === undefined && !signal?.aborted) {
        try {
          await this.#pool.run({ ...task, parts: claims }, { priority });
        } catch (reason) {
          failure ??= { reason };
          Atomics.store(control, STOP, 1);
        }
        if (Atomics.load(control, PARTS_DONE) === parts) allDone();
      }
    };
    try {
      // After an abort or a failure, every task is waited for: a part still running writes the output.
      await Promise.race([done, Promise.all(Array.from({ length: Math.min(threads, parts) }, slot))]);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    if (signal?.aborted) throw abortError(signal);
    if (failure !== undefined) {
      const reason = failure.reason as Error | undefined;
      throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name} failed in a worker: ${reason?.message}`, { cause: reason });
    }
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
   * twice minTaskNs, else PARTS_PER_THREAD parts per thread so uneven items
   * even out, none under the part floor nor over maxTaskNs.
   */
  #split(input: I, start: number, end: number, threads: number): number[] {
    const work = (s: number, e: number): number => this.kernel.work?.(input, s, e) ?? e - s;
    const total = work(start, end);
    const nsPerUnit = this.kernel.cost.cpuNsPerItem * ((end - start) / Math.max(total, 1));
    const totalNs = total * nsPerUnit;
    const inline = totalNs < 2 * this.#minTaskNs;
    const byWork = Math.floor(totalNs / Math.max(Math.min(this.#minTaskNs, MIN_PART_NS), 1));
    const bounded = Math.ceil(totalNs / Math.max(this.#maxTaskNs, 1));
    const parts = inline ? 1 : Math.max(1, Math.min(Math.max(threads * PARTS_PER_THREAD, bounded), byWork, end - start));
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
    return bounds;
  }
}
