/**
 * The cost model of one kernel on one device: time(w) = a * w^b + c (ms), where
 * w is the batch's work units. Fitted by least squares on relative error, so a
 * 50 µs batch counts as much as a 5 s one: for each exponent b on a grid the
 * model is linear in (a, c) and has a closed-form solution (a > 0, c >= 0);
 * the best b is refined by golden-section search, then samples whose relative
 * residual is far above the rest (a GC pause, a first batch that compiled a
 * pipeline) are dropped and the fit is repeated once.
 */

export interface PowerModel {
  /** ms per work unit^b. */
  a: number;
  /** Exponent: 1 is linear in work; below 1, economies of scale. */
  b: number;
  /** Fixed cost per batch, ms (dispatch, transfer setup, worker round trip). */
  c: number;
}

export interface FittedModel extends PowerModel {
  /** Samples the fit used (after outlier rejection). */
  samples: number;
  /** Root mean square of the relative residuals: 0.1 is ~10 % typical error. */
  rmsRelError: number;
}

export interface CostSample {
  work: number;
  ms: number;
}

export interface FitOptions {
  /**
   * Exponent range searched; default [0.25, 1.25]. No kernel here costs more
   * per item as batches grow, so b above 1 only fits a fixed cost that flattens
   * small batches, and extrapolates it as a curve that keeps steepening: the
   * H200's Ed25519 GPU samples up to 16K fitted b = 2.0 with the old bound of 2
   * and put 64K at ~5x its time.
   */
  bMin?: number;
  bMax?: number;
}

/** Smallest time a sample may claim, so relative errors stay finite. */
const MIN_MS = 1e-6;
/** Grid step of the exponent search; golden-section search then refines within one step. */
const B_STEP = 0.05;
/** Golden-section steps: the bracket (2 * B_STEP) shrinks by 0.618 each, to ~1e-6 after 24. */
const GOLDEN_STEPS = 24;

export function predict(model: PowerModel, work: number): number {
  return model.a * Math.pow(Math.max(work, 0), model.b) + model.c;
}

/** d time / d work at `work` (at least 1 unit: below 1 the curve's slope is no cost anyone pays): ms per work unit at the margin. */
export function marginal(model: PowerModel, work: number): number {
  return model.a * model.b * Math.pow(Math.max(work, 1), model.b - 1);
}

/** The model scaled by `k` (a * w^b + c, both terms): predicts k times the time. */
export function scaled<M extends PowerModel>(model: M, k: number): M {
  return k === 1 ? model : { ...model, a: model.a * k, c: model.c * k };
}

interface LinearFit {
  a: number;
  c: number;
  sse: number;
}

/**
 * Best (a, c) for a fixed b: minimizes sum(((a * x_i + c) / t_i - 1)^2) with a > 0, c >= 0.
 * `u` holds 1 / t_i; only the first `n` entries of `x` and `u` are read.
 */
function fitLinear(x: Float64Array, u: Float64Array, n: number): LinearFit {
  let sxx = 0;
  let sx = 0;
  let s1 = 0;
  let sxt = 0;
  let st = 0;
  for (let i = 0; i < n; i++) {
    const ui = u[i]!;
    const u2 = ui * ui;
    const xi = x[i]!;
    sxx += u2 * xi * xi;
    sx += u2 * xi;
    s1 += u2;
    sxt += ui * xi;
    st += ui;
  }
  const det = sxx * s1 - sx * sx;
  let a = det > 0 ? (sxt * s1 - sx * st) / det : 0;
  let c = det > 0 ? (sxx * st - sx * sxt) / det : 0;
  if (!(det > 0) || c < 0) {
    // No fixed cost: a alone.
    c = 0;
    a = sxx > 0 ? sxt / sxx : 0;
  }
  if (!(a > 0)) {
    // Time does not grow with work over these samples: a constant, a kept just positive.
    a = 1e-12;
    c = Math.max(0, (st - a * sx) / s1);
  }
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = (a * x[i]! + c) * u[i]! - 1;
    sse += r * r;
  }
  return { a, c, sse };
}

/**
 * Scratch columns of a fit, grown to the largest sample count seen. A fit runs
 * ~60 linear solves; allocating per solve was most of its cost (a refit of 256
 * samples took ~1 ms on the dev box, now ~0.15 ms: scripts/cost-model-overhead.mjs).
 */
let logW = new Float64Array(0);
let invT = new Float64Array(0);
let xb = new Float64Array(0);

function fitOnce(samples: readonly CostSample[], bMin: number, bMax: number): FittedModel {
  const n = samples.length;
  if (logW.length < n) {
    const size = Math.max(n, 2 * logW.length, 64);
    logW = new Float64Array(size);
    invT = new Float64Array(size);
    xb = new Float64Array(size);
  }
  // Work normalized by its geometric mean keeps w^b well scaled for any b; w^b = exp(b ln w).
  let logSum = 0;
  for (let i = 0; i < n; i++) {
    const s = samples[i]!;
    logSum += Math.log(Math.max(s.work, 1));
    invT[i] = 1 / Math.max(s.ms, MIN_MS);
  }
  const lw0 = logSum / n;
  for (let i = 0; i < n; i++) {
    const w = samples[i]!.work;
    logW[i] = w > 0 ? Math.log(w) - lw0 : -Infinity;
  }
  const at = (b: number): LinearFit => {
    for (let i = 0; i < n; i++) xb[i] = Math.exp(b * logW[i]!);
    return fitLinear(xb, invT, n);
  };

  let bestB = bMin;
  let best = at(bMin);
  const steps = Math.round((bMax - bMin) / B_STEP);
  for (let k = 1; k <= steps; k++) {
    const b = bMin + k * B_STEP;
    const fit = at(b);
    if (fit.sse < best.sse) {
      best = fit;
      bestB = b;
    }
  }
  // Golden-section search within one grid step either side, one new point per step.
  let lo = Math.max(bMin, bestB - B_STEP);
  let hi = Math.min(bMax, bestB + B_STEP);
  const g = (Math.sqrt(5) - 1) / 2;
  let m1 = hi - g * (hi - lo);
  let m2 = lo + g * (hi - lo);
  let f1 = at(m1).sse;
  let f2 = at(m2).sse;
  for (let i = 0; i < GOLDEN_STEPS; i++) {
    if (f1 <= f2) {
      hi = m2;
      m2 = m1;
      f2 = f1;
      m1 = hi - g * (hi - lo);
      f1 = at(m1).sse;
    } else {
      lo = m1;
      m1 = m2;
      f1 = f2;
      m2 = lo + g * (hi - lo);
      f2 = at(m2).sse;
    }
  }
  const refined = at((lo + hi) / 2);
  if (refined.sse < best.sse) {
    best = refined;
    bestB = (lo + hi) / 2;
  }
  return {
    a: best.a / Math.exp(bestB * lw0),
    b: bestB,
    c: best.c,
    samples: n,
    rmsRelError: Math.sqrt(best.sse / n),
  };
}

/**
 * Fits time(w) = a * w^b + c to the samples; undefined with fewer than 2 usable
 * samples. Deterministic: the same samples always give the same model.
 */
export function fitPowerModel(samples: readonly CostSample[], options: FitOptions = {}): FittedModel | undefined {
  const { bMin = 0.25, bMax = 1.25 } = options;
  const usable = samples.filter((s) => Number.isFinite(s.work) && s.work >= 0 && Number.isFinite(s.ms) && s.ms >= 0);
  if (usable.length < 2) return undefined;
  const first = fitOnce(usable, bMin, bMax);
  if (usable.length < 4) return first;
  // One round of outlier rejection on relative residuals.
  const residuals = usable.map((s) => Math.abs(predict(first, s.work) / Math.max(s.ms, MIN_MS) - 1));
  const sorted = [...residuals].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const cutoff = Math.max(0.25, 4 * median);
  const kept = usable.filter((_, i) => residuals[i]! <= cutoff);
  if (kept.length === usable.length || kept.length < 3 || kept.length < usable.length * 0.75) return first;
  return fitOnce(kept, bMin, bMax);
}

/**
 * Work where the second model becomes faster than the first, searched on
 * [lo, hi]: undefined when one is faster over the whole range.
 */
export function crossover(first: PowerModel, second: PowerModel, lo = 1, hi = 1e10): number | undefined {
  const diff = (w: number): number => predict(first, w) - predict(second, w);
  const steps = 400;
  const ratio = Math.pow(hi / lo, 1 / steps);
  let prevW = lo;
  let prev = diff(lo);
  for (let i = 1; i <= steps; i++) {
    const w = lo * Math.pow(ratio, i);
    const d = diff(w);
    if (prev <= 0 && d > 0) {
      // Bisect on the log scale.
      let a = prevW;
      let b = w;
      for (let k = 0; k < 60; k++) {
        const m = Math.sqrt(a * b);
        if (diff(m) > 0) b = m;
        else a = m;
      }
      return b;
    }
    prevW = w;
    prev = d;
  }
  return undefined;
}
