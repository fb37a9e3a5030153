import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Order statistics over repeated timings (nearest rank: every reported figure is one real sample). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
export const p95 = (values: readonly number[]): number => quantile(values, 0.95);

export interface Timing<R> {
  medianMs: number;
  p95Ms: number;
  samples: number[];
  /** What the run at the median returned (its stats: GPU split, routing). */
  atMedian: R;
  /** What the last run returned (its output, for checking). */
  last: R;
}

/** Runs `fn` `warmup` times untimed, then `repeats` (>= 1) times timed, calling `beforeEach` (untimed) before every run. */
export async function measure<R>(fn: () => Promise<R>, repeats: number, warmup = 1, beforeEach?: () => void): Promise<Timing<R>> {
  if (!(repeats >= 1)) throw new RangeError(`repeats must be >= 1, got ${repeats}`);
  for (let i = 0; i < warmup; i++) {
    beforeEach?.();
    await fn();
  }
  const runs: { ms: number; result: R }[] = [];
  for (let i = 0; i < repeats; i++) {
    beforeEach?.();
    const t = performance.now();
    const result = await fn();
    runs.push({ ms: performance.now() - t, result });
  }
  const samples = runs.map((r) => r.ms);
  const medianMs = median(samples);
  return {
    medianMs,
    p95Ms: p95(samples),
    samples,
    atMedian: runs.find((r) => r.ms === medianMs)!.result,
    last: runs[runs.length - 1]!.result,
  };
}

/** How many runs a case gets within its time budget, from an estimate of one run. */
export type RunPlan = { skip: true } | { skip: false; warmup: number; repeats: number; reduced: boolean };

/** Most timed runs of one case, however cheap. */
export const MAX_REPEATS = 50;

/**
 * Warm-up plus `repeat` runs when they fit the budget, more (up to
 * `maxRepeats`, at most MAX_REPEATS) when runs are so short that `minSampleMs`
 * of timed runs needs them; fewer repeats (the probe then serves as warm-up) when only some fit;
 * a skip when not even one run fits.
 */
export function planRuns(estimateMs: number, repeat: number, budgetMs: number, minSampleMs = 0, maxRepeats = MAX_REPEATS): RunPlan {
  if (!Number.isFinite(estimateMs) || estimateMs <= 0) return { skip: false, warmup: 1, repeats: repeat, reduced: false };
  const fit = Math.floor(budgetMs / estimateMs);
  if (fit < 1) return { skip: true };
  const wanted = Math.max(repeat, Math.min(MAX_REPEATS, maxRepeats, Math.ceil(minSampleMs / estimateMs)));
  if (fit >= wanted + 1) return { skip: false, warmup: 1, repeats: wanted, reduced: false };
  if (fit >= repeat + 1) return { skip: false, warmup: 1, repeats: fit - 1, reduced: false };
  if (fit >= 3) return { skip: false, warmup: 1, repeats: fit - 1, reduced: true };
  return { skip: false, warmup: 0, repeats: Math.min(repeat, fit), reduced: fit < repeat };
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection, outside any timing: before every run, so each
 * starts from a collected heap. Without it, a batch's fresh output (64 MiB of
 * shared memory for 16 Mi f32) piles up until V8 collects it in the middle of
 * some later timed run, and a case's median depends on how many runs came before.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * Waits (up to `maxMs`) until this process is idle: under 10% of one core over
 * 100 ms, all threads counted. Before each case, so a GPU rasterizer, V8's
 * collector or workers still busy from the previous case do not share the
 * cores with it. Returns how long it waited.
 */
export async function settle(maxMs = 3000): Promise<number> {
  const start = performance.now();
  for (;;) {
    const before = process.cpuUsage();
    const t = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const used = process.cpuUsage(before);
    const busyMs = (used.user + used.system) / 1000;
    if (busyMs < 0.1 * (performance.now() - t) || performance.now() - start >= maxMs) return performance.now() - start;
  }
}
