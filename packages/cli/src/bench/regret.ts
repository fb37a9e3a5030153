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

/** Every order of `n` items (Heap's algorithm), as index lists. */
function permutations(n: number): number[][] {
  const a = Array.from({ length: n }, (_, i) => i);
  const out = [a.slice()];
  const c = new Array<number>(n).fill(0);
  for (let i = 1; i < n; ) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      out.push(a.slice());
      c[i]!++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
  return out;
}

/**
 * Runs every case once per round, `rounds` times, and gives each case's median
 * ms. Cases timed one after another, minutes apart, see the machine differently
 * (on the H100 VM the same GPU batch had a 6.1 ms median as its own case and
 * 4.4 ms inside `auto`, and one thread's SHA-256 10K ran 7.7 ms in one bench
 * and 14.9 ms in the next), which a ratio of separate medians charges to
 * whichever case ran at the bad moment. Rounds go through every order of the
 * cases in turn (up to 5 cases; more are rotated), so each follows each other
 * equally often: a case that always runs right after the same other one pays
 * for what that one leaves behind (on the H100, a GPU variant of
 * `auto-overhead.mjs` that always followed one running a quarter of its
 * batches on the pool read ~25 us slower than its peers).
 */
export async function mediansInTurns(
  cases: ReadonlyMap<string, () => Promise<unknown>>,
  rounds: number,
  beforeEach?: () => void,
  now: () => number = () => performance.now(),
): Promise<Record<string, number>> {
  if (cases.size === 0) throw new RangeError('mediansInTurns needs at least one case');
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be an integer >= 1, got ${rounds}`);
  const list = [...cases];
  const n = list.length;
  const orders = n <= 5 ? permutations(n) : list.map((_, r) => list.map((_, i) => (r + i) % n));
  const samples = new Map<string, number[]>(list.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const index of orders[r % orders.length]!) {
      const [name, fn] = list[index]!;
      beforeEach?.();
      const t = now();
      await fn();
      samples.get(name)!.push(now() - t);
    }
  }
  return Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]));
}

/**
 * Routing regret with every device measured under the same conditions: each
 * round runs every single-device case and `auto` once (see `mediansInTurns`).
 */
export async function interleavedRegret(
  devices: ReadonlyMap<string, () => Promise<unknown>>,
  auto: () => Promise<unknown>,
  rounds: number,
  beforeEach?: () => void,
  now: () => number = () => performance.now(),
): Promise<InterleavedRegret> {
  if (devices.size === 0) throw new RangeError('interleavedRegret needs at least one single-device case');
  if (devices.has('auto')) throw new RangeError('interleavedRegret: "auto" is the routed case, not a device');
  const medianMs = await mediansInTurns(new Map([...devices, ['auto', auto]]), rounds, beforeEach, now);
  let best = '';
  for (const name of devices.keys()) if (best === '' || medianMs[name]! < medianMs[best]!) best = name;
  return { rounds, medianMs, best, regret: medianMs['auto']! / medianMs[best]! };
}

/** Rounds every case may have, however long: a slow case gets up to this many within the budget. */
const BASE_ROUNDS = 25;
/** Cheap rounds go on until about this much time (within the budget, at most `max` rounds). */
const TURNS_TARGET_MS = 2_000;

/**
 * Rounds for `interleavedRegret` when one round costs `roundMs`: up to 25
 * within `budgetMs`, and for cheap rounds as many as fit in ~2 s, up to `max`.
 * 0 when fewer than `min` fit. 25 rounds of a 0.5 ms batch are 25 samples
 * against the 50 of its own row: on the H200 SHA-256 10K read 1.08-1.14 in
 * turns between sweeps.
 */
export function regretRounds(roundMs: number, budgetMs: number, min = 5, max = 200): number {
  if (!(roundMs > 0) || !Number.isFinite(roundMs)) return 0;
  const fit = Math.floor(budgetMs / roundMs);
  const cheap = Math.min(fit, Math.floor(TURNS_TARGET_MS / roundMs));
  const rounds = Math.min(max, Math.max(Math.min(BASE_ROUNDS, fit), cheap));
  return rounds >= min ? rounds : 0;
}
