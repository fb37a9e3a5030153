import { ExecutorError, invalidInput, throwIfAborted } from '../errors.js';
import type { Kernel } from '../kernels/kernel.js';
import { checkRange, executeWhole } from '../range.js';
import type { Batch, ExecResult, ExecStats, ExecuteOptions, Executor, RangeOptions, TaskResult } from '../types.js';

/** Items between abort checks: small enough to stop promptly, large enough to cost nothing. */
const ABORT_CHECK_ITEMS = 1 << 14;

/**
 * Runs a kernel on the calling thread. The reference every other backend is
 * compared with, and the fastest choice for batches too small to ship to workers.
 */
export class CpuMapExecutor<I, O> implements Executor<I, O> {
  readonly deviceKind = 'cpu' as const;
  readonly backend = 'cpu-inline';
  readonly kernel: Kernel<I, O>;
  #closed = false;

  constructor(kernel: Kernel<I, O>) {
    if (typeof kernel?.cpu !== 'function' || typeof kernel.validate !== 'function') {
      throw new TypeError('CpuMapExecutor needs a kernel with validate() and cpu()');
    }
    this.kernel = kernel;
  }

  /** The seed's form: any function over task payloads, run in task order. */
  static fromFunction<T, R>(fn: (payload: T) => R, name = 'map'): CpuMapExecutor<Batch<T>, TaskResult<R>[]> {
    return new CpuMapExecutor(mapKernel(fn, name));
  }

  isAvailable(): boolean {
    return !this.#closed;
  }

  async execute(input: I, options: ExecuteOptions = {}): Promise<ExecResult<O>> {
    this.#assertOpen();
    return executeWhole(this, input, options);
  }

  async executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats> {
    this.#assertOpen();
    const { start, end, signal } = options;
    checkRange(start, end, this.kernel.count(input));
    const t0 = performance.now();
    for (let s = start; s < end; s += ABORT_CHECK_ITEMS) {
      throwIfAborted(signal);
      const e = Math.min(end, s + ABORT_CHECK_ITEMS);
      try {
        this.kernel.cpu(input, output, s, e);
      } catch (err) {
        throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name} failed on the CPU: ${(err as Error).message}`, { cause: err });
      }
    }
    return { device: 'cpu', backend: this.backend, kernel: this.kernel.name, tasks: end - start, durationMs: performance.now() - t0, threads: 1 };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ExecutorError('CLOSED', 'the executor is closed');
  }
}

/** Wraps a plain function as a kernel over the seed's Task/Batch objects. */
export function mapKernel<T, R>(fn: (payload: T) => R, name = 'map'): Kernel<Batch<T>, TaskResult<R>[]> {
  if (typeof fn !== 'function') throw new TypeError('mapKernel needs a function');
  return {
    name,
    moduleUrl: '',
    outputWidth: 1,
    cost: { cpuNsPerItem: 100, gpuBytesPerItem: 0, gpuThreshold: Number.MAX_SAFE_INTEGER },
    validate(input: unknown): Batch<T> {
      const tasks = (input as Batch<T> | null)?.tasks;
      if (!Array.isArray(tasks)) throw invalidInput('a batch must be {tasks: Task[]}');
      tasks.forEach((task: unknown, i) => {
        const t = task as { id?: unknown; estCost?: unknown } | null;
        if (typeof t !== 'object' || t === null || !('payload' in t)) throw invalidInput('a task must be {id, payload}', i);
        if (typeof t.id !== 'number' || !Number.isFinite(t.id)) throw invalidInput('task id must be a finite number', i);
        if (t.estCost !== undefined && (typeof t.estCost !== 'number' || !Number.isFinite(t.estCost) || t.estCost < 0)) {
          throw invalidInput(`estCost must be a finite number >= 0, got ${String(t.estCost)}`, i);
        }
      });
      return input as Batch<T>;
    },
    count: (input) => input.tasks.length,
    createOutput: (items) => new Array<TaskResult<R>>(items),
    work(input, start, end) {
      let sum = 0;
      for (let i = start; i < end; i++) sum += input.tasks[i]!.estCost ?? 1;
      return sum;
    },
    cpu(input, output, start, end) {
      for (let i = start; i < end; i++) {
        const task = input.tasks[i]!;
        output[i] = { id: task.id, output: fn(task.payload) };
      }
    },
  };
}
