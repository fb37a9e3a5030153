import { median } from './stats.js';

/** What `interleavedRegret` measured: medians per case over the same rounds. */
export interface InterleavedRegret {
  /** Rounds run; each ran every case once. */
  rounds: number;
  /** Median ms per case name (`auto` included). */
  medianMs: Record<string, number>;
  /** The single-device case with the lowest median. */
  best: string;
  /** `auto`'s median over `best`'s. */
  regret: number;
}

/**
 * Routing regret with every device measured under the same conditions: each
 * round runs every single-device case and `auto` once, in an order rotated
 * from round to round. Cases timed one after another, minutes apart, saw the
 * machine differently (on the H100 VM the same GPU batch had a 6.1 ms median
 * as its own case and 4.4 ms inside `auto`), which the ratio of separate
 * medians charges to the router.
 */
export async function interleavedRegret(
  devices: ReadonlyMap<string, () => Promise<unknown>>,
  auto: () => Promise<unknown>,
  rounds: number,
  beforeEach?: () => void,
  now: () => number = () => performance.now(),
): Promise<InterleavedRegret> {
  if (devices.size === 0) throw new RangeError('interleavedRegret needs at least one single-device case');
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be an integer >= 1, got ${rounds}`);
  const cases = [...devices, ['auto', auto] as const];
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const [name, fn] = cases[(r + i) % cases.length]!;
      beforeEach?.();
      const t = now();
      await fn();
      samples.get(name)!.push(now() - t);
    }
  }
  const medianMs = Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]));
  let best = '';
  for (const name of devices.keys()) if (best === '' || medianMs[name]! < medianMs[best]!) best = name;
  return { rounds, medianMs, best, regret: medianMs['auto']! / medianMs[best]! };
}

/** Rounds that fit `budgetMs` when one round costs `roundMs`, capped at `max`; 0 when fewer than `min` fit. */
export function regretRounds(roundMs: number, budgetMs: number, min = 5, max = 25): number {
  if (!(roundMs > 0) || !Number.isFinite(roundMs)) return 0;
  const fit = Math.min(max, Math.floor(budgetMs / roundMs));
  return fit >= min ? fit : 0;
}
