/**
 * How far to shrink the slower device's part of a split batch below equal
 * finish, given how much the parts' times scatter.
 *
 * A split batch ends with its later part. Moving a unit of work from the GPU
 * to the CPU saves the GPU's time per unit at the cut (g) when the GPU part
 * is the later one and costs the CPU's (c) when the CPU part is, so the
 * expected finish is least where P(CPU part ends last) = g / (c + g): the
 * CPU's share of the two devices' throughput at the margin. Equal finish
 * (1/2) is right only for equal devices. On the H100, Ed25519 64K splits
 * ~98.5 % to the GPU: its ~1,000-item CPU part should end last in ~1.5 % of
 * batches; at equal finish it ended last in 14-30 of 51 (three machines),
 * for a gain of at most 1.5 %. Hedged, in one run in turns
 * (scripts/coexec-parts.mjs): last in 7 of 40 against 24, 0.931 of cpu-pool
 * + gpu throughput against 0.897.
 *
 * Each split's parts, observed over predicted, give d = ln(cpu ratio) -
 * ln(gpu ratio); with d taken as normal, spread sigma (from the median
 * absolute deviation, so a stalled batch does not widen it), the CPU part is
 * sized as if its time were multiplied by exp(z * sigma), z the standard
 * normal quantile of 1 - P.
 */

/** Splits remembered: enough for a spread, recent enough to follow a change of machine load. */
const WINDOW = 16;
/** Splits before the spread is trusted; until then the parts are split at equal finish. */
const MIN_SAMPLES = 6;
/** MAD to standard deviation for a normal distribution: 1 / Phi^-1(3/4). */
const MAD_TO_SIGMA = 1.482602218505602;
/** Most quantile hedged (P down to ~0.13 %): past it the normal tail says little about a real one. */
const MAX_Z = 3;

export class SplitSpread {
  readonly #d = new Float64Array(WINDOW);
  #count = 0;
  #sigma: number | undefined;

  /** A spread that has seen `values` (`values()` of another, oldest first): how a saved one comes back. */
  static restore(values: readonly number[]): SplitSpread {
    const spread = new SplitSpread();
    for (const d of values.slice(-WINDOW)) if (Number.isFinite(d)) spread.#push(d);
    return spread;
  }

  /** Records one split's parts, each as observed over predicted time (> 0). */
  add(cpuRatio: number, gpuRatio: number): void {
    if (!(cpuRatio > 0 && gpuRatio > 0 && Number.isFinite(cpuRatio) && Number.isFinite(gpuRatio))) return;
    this.#push(Math.log(cpuRatio / gpuRatio));
  }

  /** The window's ln(cpu ratio / gpu ratio), oldest first. */
  values(): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, this.#count - WINDOW); i < this.#count; i++) out.push(this.#d[i % WINDOW]!);
    return out;
  }

  #push(value: number): void {
    this.#d[this.#count % WINDOW] = value;
    this.#count++;
    const n = Math.min(this.#count, WINDOW);
    if (n < MIN_SAMPLES) return;
    const d = this.#d.slice(0, n).sort();
    const mid = middle(d);
    for (let i = 0; i < n; i++) d[i] = Math.abs(d[i]! - mid);
    this.#sigma = MAD_TO_SIGMA * middle(d.sort());
  }

  /** Standard deviation of d over the window (robust), or undefined before MIN_SAMPLES splits. */
  get sigma(): number | undefined {
    return this.#sigma;
  }

  /**
   * Factor on the CPU part's predicted time for a batch whose CPU share of the
   * two devices' throughput is `cpuShare`: above 1 when the CPU is the slower
   * device (its part shrinks), below 1 when it is the faster, 1 at equal
   * devices or before the spread is known.
   */
  cpuFactor(cpuShare: number): number {
    const sigma = this.sigma;
    if (sigma === undefined || sigma === 0 || !(cpuShare > 0 && cpuShare < 1)) return 1;
    const z = Math.min(MAX_Z, Math.max(-MAX_Z, probit(1 - cpuShare)));
    return Math.exp(z * sigma);
  }
}

/** Median of a sorted array. */
function middle(sorted: Float64Array): number {
  const n = sorted.length;
  const half = n >> 1;
  return n % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

// Inverse of the standard normal CDF: P. J. Acklam's rational approximation
// (relative error below 1.15e-9), with its coefficients and break points.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239] as const;
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] as const;
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;

/** z such that P(Z <= z) = p for a standard normal Z; p in (0, 1). */
export function probit(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probit needs p in (0, 1), got ${p}`);
  if (p < P_LOW) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - P_LOW) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}

function tail(q: number): number {
  return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
}
