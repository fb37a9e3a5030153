import { setMaxListeners } from 'node:events';
import { ExecutorError, abortError, throwIfAborted } from '../errors.js';
import type { Columns, Kernel, TypedArray } from '../kernels/kernel.js';
import { checkRange } from '../range.js';
import type { ExecResult, ExecStats, ExecuteOptions, Executor, RangeOptions } from '../types.js';
import { createSharedOutput, isShared, shareColumns } from './shared-memory.js';
import { WorkerPool } from './worker-pool.js';

export interface ParallelCpuExecutorOptions {
  /** A pool shared with other executors; by default the executor creates (and closes) its own. */
  pool?: WorkerPool;
  /** Threads of the executor's own pool (ignored with `pool`). */
  threads?: number;
  /** Least estimated work per worker task, ns: below it a worker round trip costs more than it saves. Default 250 µs. */
  minTaskNs?: number;
  /**
   * Most estimated work per worker task, ns. Short tasks let other work on a
   * shared pool (high-priority packing, a state root) in soon, and even out the
   * tail of a batch. Default 4 ms.
   */
  maxTaskNs?: number;
}

/**
 * Splits a batch into ranges of about equal work and runs them on a worker
 * pool. Columns travel through SharedArrayBuffer and workers write the shared
 * output in place. Batches too small to pay for a worker hop run in-thread.
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

  /** An output in shared memory, which workers fill in place. */
  allocateOutput(items: number): O {
    return createSharedOutput(this.kernel, items);
  }

  async execute(input: I, options: ExecuteOptions = {}): Promise<ExecResult<O>> {
    this.#assertOpen();
    const validated = this.kernel.validate(input);
    const items = this.kernel.count(validated);
    const output = this.allocateOutput(items);
    const stats = await this.executeInto(validated, output, { ...options, start: 0, end: items });
    return { output, stats };
  }

  async executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats> {
    this.#assertOpen();
    const { start, end, signal, priority } = options;
    const items = this.kernel.count(input);
    checkRange(start, end, items);
    throwIfAborted(signal);
    const t0 = performance.now();
    const bounds = this.#split(input, start, end);
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

    const columns = shareColumns(input);
    const target = isShared(output) ? output : createSharedOutput(this.kernel, items);
    // At most two parts per thread queued at a time: every worker has its next part ready, and
    // work queued by others (the GPU's packing during co-execution) waits two rounds, not the whole batch.
    const parts = bounds.length - 1;
    const window = Math.min(parts, 2 * this.#pool.threads);
    // Each queued task listens for abort: one inner signal, allowed that many listeners, follows the caller's.
    const inner = signal && new AbortController();
    const forward = (): void => inner?.abort(signal?.reason);
    if (inner) {
      setMaxListeners(window + 1, inner.signal);
      signal?.addEventListener('abort', forward, { once: true });
    }
    let next = 0;
    let failure: { reason: unknown } | undefined;
    const feed = async (): Promise<void> => {
      while (next < parts && failure === undefined) {
        const p = next++;
        try {
          await this.#pool.run(
            { moduleUrl: this.kernel.moduleUrl, columns, output: target.buffer as SharedArrayBuffer, items, start: bounds[p]!, end: bounds[p + 1]! },
            { signal: inner?.signal, priority },
          );
        } catch (reason) {
          failure ??= { reason };
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: window }, feed));
    } finally {
      signal?.removeEventListener('abort', forward);
    }
    if (failure !== undefined) {
      if (signal?.aborted) throw abortError(signal);
      const reason = failure.reason as Error | undefined;
      throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name} failed in a worker: ${reason?.message}`, { cause: reason });
    }
    if (target !== output) {
      const w = this.kernel.outputWidth;
      (output as TypedArray).set((target as TypedArray).subarray(start * w, end * w) as never, start * w);
    }
    return stats(Math.min(this.#pool.threads, bounds.length - 1));
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

  /** Range boundaries of about equal work: a few parts per thread so uneven items even out, none over maxTaskNs. */
  #split(input: I, start: number, end: number): number[] {
    const work = (s: number, e: number): number => this.kernel.work?.(input, s, e) ?? e - s;
    const total = work(start, end);
    const nsPerUnit = this.kernel.cost.cpuNsPerItem * ((end - start) / Math.max(total, 1));
    const totalNs = total * nsPerUnit;
    const byWork = Math.floor(totalNs / Math.max(this.#minTaskNs, 1));
    const bounded = Math.ceil(totalNs / Math.max(this.#maxTaskNs, 1));
    const parts = Math.max(1, Math.min(Math.max(this.#pool.threads * 4, bounded), byWork, end - start));
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
