import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { PriorityTaskQueue, QUEUE_OPTIONS, type QueueOptions, type TaskPriority } from './priority-queue.js';
import type { WorkerTask } from './worker.js';

export interface WorkerPoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  threads?: number;
  /** Tasks that may wait for a worker; past it, submitters wait for the queue to drain. Default threads * 16. */
  maxQueue?: number;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** `high` runs ahead of every queued `normal` task (see TaskPriority). Default `normal`. */
  priority?: TaskPriority | undefined;
}

function positiveInteger(value: unknown, name: string): void {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
  }
}

/**
 * One worker-thread pool shared by every kernel (piscina); workers load kernels
 * on first use. Its queue has a high-priority lane, so a small batch something
 * waits on does not queue behind a large one.
 */
export class WorkerPool {
  readonly threads: number;
  readonly maxQueue: number;
  readonly #piscina: Piscina<WorkerTask, number>;
  /** High-priority tasks queued, shared with the workers (see PriorityTaskQueue). */
  readonly #highWaiting = new Int32Array(new SharedArrayBuffer(4));
  /** Tasks submitted and not settled: close() waits for them. */
  readonly #inFlight = new Set<Promise<number>>();
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    const { threads = availableParallelism() } = options;
    positiveInteger(threads, 'threads');
    const { maxQueue = threads * 16 } = options;
    positiveInteger(maxQueue, 'maxQueue');
    this.threads = threads;
    this.maxQueue = maxQueue;
    this.#piscina = new Piscina<WorkerTask, number>({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      maxQueue,
      concurrentTasksPerWorker: 1,
      taskQueue: new PriorityTaskQueue(this.#highWaiting),
      idleTimeout: 30_000,
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Fraction of worker time spent running tasks since start (piscina's measure). */
  get utilization(): number {
    return this.#piscina.utilization;
  }

  get queueSize(): number {
    return this.#piscina.queueSize;
  }

  /**
   * Runs one task; waits (backpressure) instead of failing when the queue is
   * full. A normal task that claims parts gives its worker up to queued
   * high-priority tasks after a part.
   */
  async run(task: WorkerTask, options: RunOptions = {}): Promise<number> {
    const { signal, priority = 'normal' } = options;
    while (this.#piscina.queueSize >= this.maxQueue) await once(this.#piscina, 'drain', signal ? { signal } : {});
    // The queue reads the lane from the task object; symbol keys are not posted to the worker.
    const queued =
      priority === 'high' ? { ...task, [QUEUE_OPTIONS]: { priority } satisfies QueueOptions } : task.parts ? { ...task, yieldWhile: this.#highWaiting } : task;
    const running = this.#piscina.run(queued, signal ? { signal } : {});
    this.#inFlight.add(running);
    try {
      return await running;
    } finally {
      this.#inFlight.delete(running);
    }
  }

  /**
   * Lets the tasks already submitted finish, then stops the workers. A batch
   * can be over while one of its claiming tasks is still on its way to a
   * worker (it finds nothing to claim); destroyed under it, piscina would
   * throw on its late reply.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    await this.#piscina.destroy();
  }
}
