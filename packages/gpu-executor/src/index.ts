export { ExecutorError, isExecutorError, type ExecutorErrorCode } from './errors.js';
export type { Batch, DeviceChoice, DeviceKind, ExecResult, ExecStats, ExecuteOptions, Executor, GpuTimings, RangeOptions, Task, TaskResult } from './types.js';
export type { Columns, ColumnarKernel, CostHint, Kernel, TypedArray } from './kernels/kernel.js';
export type { GpuKernel } from './gpu/gpu-kernel.js';
export { CpuMapExecutor, mapKernel } from './cpu/cpu-map-executor.js';
export { ParallelCpuExecutor, type ParallelCpuExecutorOptions } from './cpu/parallel-cpu-executor.js';
export { WorkerPool, type RunOptions, type WorkerPoolOptions } from './cpu/worker-pool.js';
export type { PartsJob, RangeTask, TaskPriority } from './cpu/worker-pool.js';
export { createSharedOutput, shareColumns, toShared } from './cpu/shared-memory.js';
export { measureParallelScaling } from './cpu/parallel-scaling.js';
export { GpuDeviceManager, type GpuAdapterDescription, type GpuBackendChoice, type GpuContext } from './gpu/device.js';
export { BufferPool, type BufferPoolStats } from './gpu/buffer-pool.js';
export { PipelineCache } from './gpu/pipeline-cache.js';
export { UnavailableGpu } from './gpu/unavailable-gpu.js';
export { WebGpuExecutor, type WebGpuExecutorOptions } from './gpu/webgpu-executor.js';
export { measureGpu, type GpuMicroBench, type ResidentFigure, type TransferFigures } from './gpu/transfer-bench.js';
export { HybridScheduler, type ScheduleOptions, type SchedulableExecutor, type SchedulerOptions } from './scheduler/hybrid-scheduler.js';
export {
  ThresholdStrategy,
  type HybridStrategy,
  type RoutingContext,
  type RoutingDecision,
  type RoutingSample,
  type RoutingStrategy,
  type PartSample,
  type SplitSample,
} from './scheduler/strategy.js';
export {
  Runtime,
  closeRuntime,
  configureRuntime,
  getRuntime,
  sha256Batch,
  vectorAdd,
  verifyEd25519Batch,
  type CallOptions,
  type RuntimeInfo,
  type RuntimeOptions,
} from './runtime.js';
export { AdaptiveStrategy, type AdaptiveHistoryEntry, type AdaptiveStrategyOptions } from './scheduler/adaptive-strategy.js';
export { CostModelStrategy, splitShare, type CostModelStrategyOptions } from './scheduler/cost-model-strategy.js';
export { crossover, fitPowerModel, predict, type CostSample, type FitOptions, type FittedModel, type PowerModel } from './scheduler/cost-fit.js';
export {
  ModelStore,
  defaultModelPath,
  gpuFingerprint,
  machineFingerprint,
  type CostModelFile,
  type ModelStoreOptions,
  type ModelSummary,
  type SplitRecord,
} from './scheduler/model-store.js';
export {
  BATCH_DURATION_BUCKETS,
  BUILTIN_KERNELS,
  BUILTIN_STRATEGIES,
  ERROR_CODES,
  createMetrics,
  type ExecutorMetrics,
  type MetricsOptions,
  type MetricsSource,
} from './metrics/index.js';
