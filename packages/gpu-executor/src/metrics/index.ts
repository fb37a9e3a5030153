import { Registry, collectDefaultMetrics } from 'prom-client';
import type { BufferPoolStats } from '../gpu/buffer-pool.js';
import type { DeviceKind, ExecStats } from '../types.js';
import { batchDurationHistogram } from './batch-duration.js';
import { fallbacksCounter } from './fallbacks.js';
import { gpuBufferBytesGauge, type BufferStatsSource } from './gpu-buffer-bytes.js';
import { BUILTIN_KERNELS, BUILTIN_STRATEGIES, OTHER, bounded, reasonCode } from './labels.js';
import { PendingObservations, type BatchRecord } from './pending.js';
import { routingDecisionsCounter } from './routing-decisions.js';
import { tasksCounter } from './tasks.js';
import { workerUtilizationGauge, type UtilizationSource } from './worker-utilization.js';

export { BATCH_DURATION_BUCKETS } from './batch-duration.js';
export { BUILTIN_KERNELS, BUILTIN_STRATEGIES, ERROR_CODES, OTHER, reasonCode } from './labels.js';

/** What the gauges read at scrape time: a Runtime fits (its pool and GPU device manager). */
export interface MetricsSource {
  readonly pool?: { readonly utilization: number } | undefined;
  readonly devices?: { readonly context?: { readonly buffers: { stats(): Pick<BufferPoolStats, 'heldBytes' | 'inUseBytes'> } } | undefined } | undefined;
}

export interface MetricsOptions {
  /** Registry to register on. Default: a new one of its own (never prom-client's global registry). */
  registry?: Registry;
  /** The runtime whose pool and GPU buffers the gauges read; can also be given later with `bind`. */
  runtime?: MetricsSource;
  /** Kernel names allowed as label values besides the built-in ones; others become `other`. */
  kernels?: readonly string[];
  /** Strategy names allowed besides the built-in ones. */
  strategies?: readonly string[];
  /** Register prom-client's process metrics (CPU, memory, event loop, GC) too. Default true. */
  defaultMetrics?: boolean;
}

/** Hooks for RuntimeOptions / SchedulerOptions plus the registry they write to. */
export interface ExecutorMetrics {
  readonly registry: Registry;
  /** Pass as `onBatch`: batch duration, tasks and fallbacks. */
  readonly onBatch: (stats: ExecStats) => void;
  /** Pass as `onDecision`: routing decisions. */
  readonly onDecision: (kernel: string, device: DeviceKind | 'split', strategy: string) => void;
  /** Points the gauges at a runtime (its worker pool and GPU buffer pool). */
  bind(runtime: MetricsSource | undefined): void;
  /** The Prometheus text exposition of the registry. */
  text(): Promise<string>;
  /** The content type of `text()`. */
  readonly contentType: string;
}

/**
 * Creates the executor's metrics on one registry:
 * `supervm_batch_duration_seconds`, `supervm_tasks_total`,
 * `supervm_fallbacks_total`, `supervm_routing_decisions_total`,
 * `supervm_gpu_buffer_bytes`, `supervm_worker_utilization` and, unless turned
 * off, prom-client's process defaults. Every label value is from a bounded set.
 */
export function createMetrics(options: MetricsOptions = {}): ExecutorMetrics {
  const registry = options.registry ?? new Registry();
  const kernels = new Set<string>([...BUILTIN_KERNELS, ...(options.kernels ?? [])]);
  const strategies = new Set<string>([...BUILTIN_STRATEGIES, ...(options.strategies ?? [])]);
  const devices = new Set<string>(['cpu', 'gpu', 'split']);
  let runtime = options.runtime;

  // Batches and decisions are held (a small copy on a bounded log) and recorded when a read collects: see PendingObservations.
  const flush = (): void => pending.flush();
  const duration = batchDurationHistogram(registry, flush);
  const tasks = tasksCounter(registry, flush);
  const fallbacks = fallbacksCounter(registry, flush);
  const decisions = routingDecisionsCounter(registry, flush);
  const bufferSource = (): BufferStatsSource | undefined => () => runtime?.devices?.context?.buffers.stats();
  const utilizationSource = (): UtilizationSource | undefined => () => runtime?.pool?.utilization;
  gpuBufferBytesGauge(registry, bufferSource);
  workerUtilizationGauge(registry, utilizationSource);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const recordBatch = (batch: BatchRecord): void => {
    const kernel = bounded(batch.kernel, kernels);
    const device = batch.split ? 'split' : bounded(batch.device, devices);
    duration.observe({ kernel, device }, Math.max(0, batch.durationMs) / 1000);
    if (batch.split && batch.fallbackReason === undefined) {
      if (batch.cpuPart > 0) tasks.inc({ kernel, device: 'cpu' }, batch.cpuPart);
      if (batch.gpuPart > 0) tasks.inc({ kernel, device: 'gpu' }, batch.gpuPart);
    } else if (batch.tasks > 0) {
      tasks.inc({ kernel, device: bounded(batch.device, devices) }, batch.tasks);
    }
    if (batch.fallbackReason !== undefined) fallbacks.inc({ kernel, reason: reasonCode(batch.fallbackReason) });
  };
  const recordDecision = (kernelName: string, device: string, strategy: string): void => {
    decisions.inc({ kernel: bounded(kernelName, kernels), device: bounded(device, devices), strategy: bounded(strategy, strategies) });
  };
  const pending = new PendingObservations(recordBatch, recordDecision);

  return {
    registry,
    onBatch: (stats) => pending.batch(stats),
    onDecision: (kernel, device, strategy) => pending.decision(kernel, device, strategy),
    bind(source) {
      runtime = source;
    },
    text: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
  };
}
