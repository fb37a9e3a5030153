import type { TaskPriority } from './cpu/worker-pool.js';

export type DeviceKind = 'cpu' | 'gpu';

/** Where a call may run: `auto` lets the scheduler choose. */
export type DeviceChoice = 'auto' | DeviceKind;

/** The seed's object form of a batch; a convenience layer over the columnar kernels. */
export interface Task<T> {
  id: number;
  payload: T;
  /** Relative cost hint; must be a finite number >= 0 when given. */
  estCost?: number;
}

export interface Batch<T> {
  tasks: readonly Task<T>[];
}

export interface TaskResult<R> {
  id: number;
  output: R;
}

/** Host/device split of one GPU batch. */
export interface GpuTimings {
  uploadMs: number;
  computeMs: number;
  downloadMs: number;
  bytesUploaded: number;
  bytesDownloaded: number;
  /** `timestamp` when the adapter's timestamp queries measured compute, else `host`. */
  source: 'timestamp' | 'host';
  /** How many dispatch chunks the batch was split into (binding-size limits). */
  chunks: number;
}

export interface ExecStats {
  device: DeviceKind;
  /** Concrete backend: `cpu-inline`, `cpu-pool`, `webgpu:vulkan`, `webgpu:opengles`, `co-exec`, ... */
  backend: string;
  kernel: string;
  tasks: number;
  durationMs: number;
  /** True when the GPU failed and the batch was re-run on the CPU. */
  fellBack?: boolean;
  fallbackReason?: string;
  /**
   * Items run on each device when a batch was split between them, and each
   * part's ms from the batch's start to its end (which part held it up).
   */
  split?: { cpu: number; gpu: number; cpuMs?: number; gpuMs?: number };
  /** Worker threads used (cpu-pool). */
  threads?: number;
  gpu?: GpuTimings;
  /** The strategy that routed the batch (scheduler only). */
  strategy?: string;
  /** Why the strategy routed it there, in words (scheduler only), e.g. `earliest finish: cpu 2.61 ms, gpu 4.40 ms`. */
  reason?: string;
}

export interface ExecResult<O> {
  output: O;
  stats: ExecStats;
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  /**
   * On a worker pool shared with other work: `high` puts this batch's tasks
   * ahead of queued `normal` ones. For small batches something waits on.
   * Default `normal`; executors without a queue ignore it.
   */
  priority?: TaskPriority;
}

export interface RangeOptions extends ExecuteOptions {
  /** First item to run (inclusive). */
  start: number;
  /** Last item to run (exclusive). */
  end: number;
  /**
   * Most pool threads this range may occupy at once (a worker pool only; others
   * ignore it). Co-execution leaves a core to the thread that drives the GPU.
   * Set, it also keeps the calling thread out of the range's parts (see
   * `ParallelCpuExecutorOptions.callerJoinsUnderNs`). Default: every thread of
   * the pool.
   */
  maxThreads?: number;
}

/**
 * One device's way of running a batch. `execute` validates, allocates the output
 * and runs every item; `executeInto` runs the items [start, end) of an already
 * validated input into a caller-owned output, which is what splitting a batch
 * between devices (co-execution) and chunking need.
 */
export interface Executor<I, O> {
  readonly deviceKind: DeviceKind;
  /** Backend name reported in stats. */
  readonly backend: string;
  isAvailable(): boolean;
  execute(input: I, options?: ExecuteOptions): Promise<ExecResult<O>>;
  executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats>;
  close(): Promise<void>;
}
