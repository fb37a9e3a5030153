import type { DeviceKind } from '../types.js';
import { validateHybridStrategy, type RoutingContext, type RoutingDecision, type RoutingSample, type RoutingStrategy } from './strategy.js';

export interface AdaptiveStrategyOptions {
  /** Batches remembered. Default 10 (the seed). */
  historySize?: number;
  /** Raise the threshold when the GPU's average latency exceeds this multiple of the CPU's. Default 1.2. */
  ratio?: number;
  /** Factor the threshold is raised by. Default 1.5. */
  growth?: number;
}

export interface AdaptiveHistoryEntry {
  batchSize: number;
  device: DeviceKind;
  durationMs: number;
}

/**
 * The seed's adaptive threshold (phase 13 report, "D. 自适应阈值调整"), kept as the
 * simple baseline: remember the last 10 batches (size, device, duration); after
 * each, if the GPU's average latency in that window is more than 1.2x the
 * CPU's, raise the threshold 1.5x. Routing is ThresholdStrategy's: the GPU for
 * batches of at least `gpuThreshold` items.
 *
 * As in the seed, the threshold only ever rises, and it compares raw batch
 * latencies, not per-item costs (the GPU, taking the larger batches, looks
 * slower than it is); `CostModelStrategy` is the one that models cost by size.
 * One guard the seed lacks: a threshold of 0 or 1 times 1.5 truncates to itself,
 * so the raise is always at least +1.
 */
export class AdaptiveStrategy implements RoutingStrategy {
  readonly name = 'adaptive';
  #gpuThreshold: number;
  readonly #history: AdaptiveHistoryEntry[] = [];
  readonly #historySize: number;
  readonly #ratio: number;
  readonly #growth: number;

  constructor(gpuThreshold: number, options: AdaptiveStrategyOptions = {}) {
    validateHybridStrategy({ gpuThreshold });
    const { historySize = 10, ratio = 1.2, growth = 1.5 } = options;
    if (!Number.isInteger(historySize) || historySize < 1) throw new TypeError(`historySize must be an integer >= 1, got ${historySize}`);
    if (!(ratio > 0) || !Number.isFinite(ratio)) throw new TypeError(`ratio must be a finite number > 0, got ${ratio}`);
    if (!(growth > 1) || !Number.isFinite(growth)) throw new TypeError(`growth must be a finite number > 1, got ${growth}`);
    this.#gpuThreshold = gpuThreshold;
    this.#historySize = historySize;
    this.#ratio = ratio;
    this.#growth = growth;
  }

  get gpuThreshold(): number {
    return this.#gpuThreshold;
  }

  /** The remembered batches, oldest first. */
  get history(): readonly AdaptiveHistoryEntry[] {
    return [...this.#history];
  }

  /** The seed's `adjust`: remember the batch, then raise the threshold if the GPU is slower on average. */
  adjust(batchSize: number, device: DeviceKind, durationMs: number): void {
    this.#history.push({ batchSize, device, durationMs });
    if (this.#history.length > this.#historySize) this.#history.shift();
    const gpuAvg = average(this.#history, 'gpu');
    const cpuAvg = average(this.#history, 'cpu');
    if (gpuAvg !== undefined && cpuAvg !== undefined && gpuAvg > cpuAvg * this.#ratio) {
      const raised = Math.floor(this.#gpuThreshold * this.#growth);
      this.#gpuThreshold = Math.min(Number.MAX_SAFE_INTEGER, Math.max(raised, this.#gpuThreshold + 1));
    }
  }

  observe(sample: RoutingSample): void {
    this.adjust(sample.items, sample.device, sample.durationMs);
  }

  decide({ items, gpuAvailable }: RoutingContext): RoutingDecision {
    if (!gpuAvailable) return { device: 'cpu', reason: 'gpu unavailable' };
    return items >= this.#gpuThreshold
      ? { device: 'gpu', reason: `items ${items} >= adaptive threshold ${this.#gpuThreshold}` }
      : { device: 'cpu', reason: `items ${items} < adaptive threshold ${this.#gpuThreshold}` };
  }
}

function average(history: readonly AdaptiveHistoryEntry[], device: DeviceKind): number | undefined {
  let sum = 0;
  let n = 0;
  for (const h of history) {
    if (h.device === device) {
      sum += h.durationMs;
      n++;
    }
  }
  return n === 0 ? undefined : sum / n;
}
