import { Registry, collectDefaultMetrics } from 'prom-client';
import type { BufferPoolStats } from '../gpu/buffer-pool.js';
import type { DeviceKind, ExecStats } from '../types.js';
import { batchDurationHistogram } from './batch-duration.js';
import { fallbacksCounter } from './fallbacks.js';
import { gpuBufferBytesGauge, type BufferStatsSource } from './gpu-buffer-bytes.js';
import { BUILTIN_KERNELS, BUILTIN_STRATEGIES, OTHER, bounded, reasonCode } from './labels.js';
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

  const duration = batchDurationHistogram(registry);
  const tasks = tasksCounter(registry);
  const fallbacks = fallbacksCounter(registry);
  const decisions = routingDecisionsCounter(registry);
  const bufferSource = (): BufferStatsSource | undefined => () => runtime?.devices?.context?.buffers.stats();
  const utilizationSource = (): UtilizationSource | undefined => () => runtime?.pool?.utilization;
  gpuBufferBytesGauge(registry, bufferSource);
  workerUtilizationGauge(registry, utilizationSource);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const onBatch = (stats: ExecStats): void => {
    const kernel = bounded(stats.kernel, kernels);
    const device = stats.split !== undefined ? 'split' : bounded(stats.device, devices);
    duration.observe({ kernel, device }, Math.max(0, stats.durationMs) / 1000);
    if (stats.split !== undefined && !stats.fellBack) {
      if (stats.split.cpu > 0) tasks.inc({ kernel, device: 'cpu' }, stats.split.cpu);
      if (stats.split.gpu > 0) tasks.inc({ kernel, device: 'gpu' }, stats.split.gpu);
    } else if (stats.tasks > 0) {
      tasks.inc({ kernel, device: bounded(stats.device, devices) }, stats.tasks);
    }
    if (stats.fellBack) fallbacks.inc({ kernel, reason: reasonCode(stats.fallbackReason) });
  };

  const onDecision = (kernelName: string, device: DeviceKind | 'split', strategy: string): void => {
    decisions.inc({ kernel: bounded(kernelName, kernels), device: bounded(device, devices), strategy: bounded(strategy, strategies) });
  };

  return {
    registry,
    onBatch,
    onDecision,
    bind(source) {
      runtime = source;
    },
    text: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
  };
}
