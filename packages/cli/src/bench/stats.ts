/** Order statistics over repeated timings (nearest-rank). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
export const p95 = (values: readonly number[]): number => quantile(values, 0.95);

export interface Timing {
  medianMs: number;
  p95Ms: number;
  samples: number[];
}

/** Runs `fn` `warmup` times untimed, then `repeats` times timed. */
export async function measure(fn: () => Promise<unknown>, repeats: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return { medianMs: median(samples), p95Ms: p95(samples), samples };
}
