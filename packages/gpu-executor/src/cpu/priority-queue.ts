import { FixedQueue, Piscina, type TaskQueue } from 'piscina';

/**
 * `high`: ahead of every queued `normal` task on a shared pool. For small,
 * latency-bound batches that something waits on (the GPU's host packing, a
 * block's state root) and that would otherwise queue behind a large batch.
 */
export type TaskPriority = 'high' | 'normal';

type QueuedTask = Parameters<TaskQueue['push']>[0];

/** What a task object carries for the queue, under piscina's queue-options symbol (never posted to the worker). */
export interface QueueOptions {
  priority: TaskPriority;
}

export const QUEUE_OPTIONS: symbol = Piscina.queueOptionsSymbol;

const laneOf = (task: QueuedTask): TaskPriority =>
  ((task as unknown as Record<symbol, QueueOptions | null | undefined>)[QUEUE_OPTIONS]?.priority === 'high' ? 'high' : 'normal');

/**
 * Piscina task queue with two FIFO lanes: a worker that frees up takes the
 * oldest high task first. `highWaiting[0]` (shared with the workers) holds the
 * number of high tasks queued, so a normal task that claims parts stops after
 * its current one (it runs one at least) and frees its worker.
 */
export class PriorityTaskQueue implements TaskQueue {
  readonly #high = new FixedQueue();
  readonly #normal = new FixedQueue();
  readonly #highWaiting: Int32Array | undefined;

  constructor(highWaiting?: Int32Array) {
    this.#highWaiting = highWaiting;
  }

  get size(): number {
    return this.#high.size + this.#normal.size;
  }

  push(task: QueuedTask): void {
    this.#lane(task).push(task);
    this.#publish();
  }

  /** Piscina puts back a task no worker could take yet: it keeps its place at the head of its lane. */
  unshift(task: QueuedTask): void {
    this.#lane(task).unshift(task);
    this.#publish();
  }

  shift(): QueuedTask | null {
    const task = this.#high.shift() ?? this.#normal.shift();
    this.#publish();
    return task;
  }

  remove(task: QueuedTask): void {
    this.#lane(task).remove(task);
    this.#publish();
  }

  #publish(): void {
    if (this.#highWaiting !== undefined) Atomics.store(this.#highWaiting, 0, this.#high.size);
  }

  #lane(task: QueuedTask): FixedQueue {
    return laneOf(task) === 'high' ? this.#high : this.#normal;
  }
}
