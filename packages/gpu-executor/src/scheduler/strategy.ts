import type { DeviceKind } from '../types.js';

export interface RoutingContext {
  kernel: string;
  items: number;
  /** Work units of the batch (`kernel.work`, else items). */
  work: number;
  gpuAvailable: boolean;
  /** Work units already running or queued on each device. */
  queued: { cpu: number; gpu: number };
}

export type RoutingDecision =
  | { device: DeviceKind; reason: string }
  /** Co-execution: the last `gpuShare` of the items go to the GPU, the rest to the CPU. */
  | { device: 'split'; gpuShare: number; reason: string; /** The strategy's predicted finish, reported back by `observeSplit`. */ predictedMs?: number };

export interface RoutingSample {
  kernel: string;
  device: DeviceKind;
  items: number;
  work: number;
  durationMs: number;
}

/** One device's part of a split batch: its items, work units, and ms from the batch's start to the part's end. */
export interface PartSample {
  items: number;
  work: number;
  /** From the batch's start to this part's end. */
  durationMs: number;
  /** From the batch's start to this part's start: the part started second waits for the first's host work. */
  startMs?: number;
}

/** A co-executed batch as it turned out: both devices at once, sharing host memory and cores. */
export interface SplitSample {
  kernel: string;
  items: number;
  work: number;
  gpuShare: number;
  durationMs: number;
  predictedMs?: number;
  /** Each part on its own (the scheduler reports them): which one held the batch up, and by how much. */
  parts?: { cpu: PartSample; gpu: PartSample };
  /** Work units already queued on each device when the batch was split: its parts waited behind them. */
  queued?: { cpu: number; gpu: number };
}

/** Chooses a device per batch; may learn from what batches cost. */
export interface RoutingStrategy {
  readonly name: string;
  decide(context: RoutingContext): RoutingDecision;
  /** A single-device batch that finished. */
  observe?(sample: RoutingSample): void;
  /** A split batch that finished (its parts ran under contention, so they are not single-device samples). */
  observeSplit?(sample: SplitSample): void;
}

/** The seed's fixed strategy. */
export interface HybridStrategy {
  /** Batches of at least this many items try the GPU. */
  gpuThreshold: number;
  /** Worker threads of the CPU pool. */
  maxCpuParallelism: number;
}

export function validateHybridStrategy(options: Partial<HybridStrategy>): void {
  const { gpuThreshold, maxCpuParallelism } = options;
  if (gpuThreshold !== undefined && (!Number.isInteger(gpuThreshold) || gpuThreshold < 0)) {
    throw new TypeError(`gpuThreshold must be an integer >= 0, got ${String(gpuThreshold)}`);
  }
  if (maxCpuParallelism !== undefined && (!Number.isInteger(maxCpuParallelism) || maxCpuParallelism < 1)) {
    throw new TypeError(`maxCpuParallelism must be an integer >= 1, got ${String(maxCpuParallelism)}`);
  }
}

/** GPU when it is available and the batch has at least `gpuThreshold` items, else CPU. */
export class ThresholdStrategy implements RoutingStrategy {
  readonly name = 'threshold';
  readonly gpuThreshold: number;

  constructor(gpuThreshold: number) {
    validateHybridStrategy({ gpuThreshold });
    this.gpuThreshold = gpuThreshold;
  }

  decide({ items, gpuAvailable }: RoutingContext): RoutingDecision {
    if (!gpuAvailable) return { device: 'cpu', reason: 'gpu unavailable' };
    return items >= this.gpuThreshold
      ? { device: 'gpu', reason: `items ${items} >= threshold ${this.gpuThreshold}` }
      : { device: 'cpu', reason: `items ${items} < threshold ${this.gpuThreshold}` };
  }
}
