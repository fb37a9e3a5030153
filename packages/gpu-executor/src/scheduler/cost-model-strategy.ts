import type { CostHint } from '../kernels/kernel.js';
import type { DeviceKind } from '../types.js';
import { marginal, predict, scaled, type FittedModel, type PowerModel } from './cost-fit.js';
import { ModelStore, bucketOf } from './model-store.js';
import { SplitSpread } from './split-hedge.js';
import type { RoutingContext, RoutingDecision, RoutingSample, SplitSample, RoutingStrategy } from './strategy.js';

export interface CostModelStrategyOptions {
  /** Where models live (shared by the strategies of every kernel). Default: an in-memory store. */
  store?: ModelStore;
  /**
   * Smallest batch (items) worth sending to an untried device to measure it.
   * Default: 1/16 of the kernel's `gpuThreshold` hint (at least 1).
   */
  minExploreItems?: number;
  /** Split a batch only when its predicted finish is below this fraction of the best single device. Default 0.9. */
  splitGain?: number;
  /** Fewest items a batch must have to be split. Default 2. */
  minSplitItems?: number;
  /**
   * At most this many model-based decisions apart (or what `refreshBudget`
   * allows, if longer), run the batch on the device that lost if its prediction
   * is within `refreshWithin` of the winner's, so a model that is never chosen
   * still gets fresh samples. 0 disables. Default 32.
   */
  refreshEvery?: number;
  /**
   * Decisions before the first refresh (at most `refreshEvery`). The gap doubles
   * after each refresh that ran as its model predicted, up to `refreshEvery`
   * (or the `refreshBudget` gap), and comes back to this one after a refresh
   * that beat the winner: a stale model is caught within a few batches, a right
   * one costs one batch in `refreshEvery` or fewer. Default 4.
   */
  refreshFirst?: number;
  /** Default 3 (the loser predicted at most 3x the winner). */
  refreshWithin?: number;
  /**
   * Most time, as a fraction of the winner's, that refreshes may add once the
   * loser keeps running as predicted: a refresh of a device predicted r times
   * the winner costs r - 1 winner batches, so the gap may grow past
   * `refreshEvery` to (r - 1) / refreshBudget decisions. On the H100 the pool
   * ran SHA-256 10K at 2.3-2.7x the GPU's time: refreshed every 32 batches,
   * that is ~1.5 / 32 = ~4.5 % of the GPU's time. Default 0.02.
   */
  refreshBudget?: number;
  /**
   * With both models trusted, a batch at least `minExploreItems` long runs once
   * on a device that has no sample within 4x of its work, if that device's
   * prediction is within this factor of the best. Default 4.
   */
  exploreWithin?: number;
}

type Finish = { device: DeviceKind; ms: number };

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(2);
}

/**
 * Batches of one size after a decision by the models that reuse it without
 * predicting again, while the store's fits and buckets stay as they are and
 * nothing is queued. On the H200, decide was ~28 us of a 0.5 ms SHA-256 10K
 * batch in place (6 us in a tight loop: in place, its data is out of cache).
 * A refit ends the reuse, and so does a batch of the chosen device that ran
 * outside MEMO_TOLERANCE of its prediction: a drift is followed as soon as
 * without the reuse. The on-time batches of a reuse are not stored but the
 * last: `observe` with the store update was ~11 us of such a batch on the
 * H200, and a bucket that keeps its last few samples learns nothing from
 * eight alike (a slow drift within the tolerance still reaches it, one
 * sample per reuse).
 */
const MEMO_USES = 8;
const MEMO_TOLERANCE = 1.25;

interface Memo {
  kernel: string;
  bucket: number;
  revision: number;
  uses: number;
  decision: { device: DeviceKind; reason: string };
  other: DeviceKind;
  bestMs: number;
  otherMs: number;
  predicted: string;
}

/**
 * Routes by predicted finish time. Per kernel and device, a model
 * time(w) = a * w^b + c is fitted from observed batches (see `fitPowerModel`);
 * a batch goes to the device that would finish it first, counting the work
 * already queued on each, or is split between both so they finish together
 * when that beats the best single device by 10 %.
 *
 * Until both models are trusted (samples in 3 power-of-two buckets of work),
 * batches of at least `minExploreItems` go to a device that has no sample of
 * that size yet (exploration); with a few samples on both, the nearest sample
 * scaled linearly predicts; with none, the kernel's threshold hint decides.
 */
export class CostModelStrategy implements RoutingStrategy {
  readonly name = 'cost-model';
  readonly kernel: string;
  readonly store: ModelStore;
  readonly #hint: CostHint | undefined;
  readonly #minExploreItems: number;
  readonly #splitGain: number;
  readonly #minSplitItems: number;
  readonly #refreshEvery: number;
  readonly #refreshWithin: number;
  readonly #exploreWithin: number;
  readonly #refreshFirst: number;
  /** Model-based decisions between refreshes now (`refreshFirst` doubling up to `refreshEvery`), and left until the next. */
  #refreshGap: number;
  #untilRefresh: number;
  /**
   * The device a refresh just sent a batch to, and its predicted time over the
   * time it displaced: its sample says whether the gap grows (up to what
   * `refreshBudget` allows at that cost) or starts over.
   */
  #refreshing: { device: DeviceKind; cost: number } | undefined;
  readonly #refreshBudget: number;
  /**
   * A device that lost on its model but then ran a batch faster than the
   * winner's prediction (a refresh or an exploration): the next batch of that
   * size runs it again. A bucket's correction is the median of its last three
   * batches, so one good run cannot move it and, with refreshes 32 batches
   * apart, a stale median used to keep the slower device for 60+ batches
   * (the H100's SHA-256 10K went 31 times to the pool at 2.4x the GPU's time).
   * Two runs that agree move it; one that does not ends the check.
   */
  #confirm: { device: DeviceKind; bucket: number } | undefined;
  /**
   * Observed over predicted time of each device's part of split batches, never
   * below 1 (see #addPartRatio): the median of the last three ratios (starts
   * at 1), so one hiccup cannot move it and two agreeing batches do (with a
   * moving average, the H100's SHA-256 10K co-exec row swung from 98 % to
   * 0.6 % to the GPU). The models predict
   * each device alone; run together they share host memory bandwidth and
   * cores (on the H100 machine vector add ran 2-4x slower split than
   * predicted), and a small CPU part runs slower per item than the curve says
   * (Ed25519 64K at 98.2 % to the H100: its 1.2K-item CPU part held the batch
   * to 18.2 ms, the GPU alone ran it in 11.4). Splits are solved with the
   * models scaled by these, so the cut moves until both parts finish
   * together, and splitting stops where it does not pay.
   */
  #partRatios = { cpu: [1, 1, 1], gpu: [1, 1, 1] };
  /**
   * When each device's last three parts started, in ms after their batch: the
   * part started second waits for the first's host work (the GPU's staging:
   * ~2-4 ms of Ed25519 64K on the H100). A wait, added to the device's queue
   * in the split solver, not a slower device: as a factor on the CPU's curve
   * it grew the CPU's fixed cost with it, and the models stopped splitting.
   */
  #partStarts = { cpu: [0, 0, 0], gpu: [0, 0, 0] };
  /** How the two parts' ratios scatter against each other: the slower device's part is sized below equal finish by it. */
  #spread = new SplitSpread();
  /**
   * The store's split records as last read (`splitsRevision`): the factors, starts and spread are
   * saved with the models, so a restarted process splits as the last one learned to.
   */
  #splitsSeen = -1;
  /** The last decision by the models, reused for the next batches of its bucket (see MEMO_USES). */
  #memo: Memo | undefined;

  constructor(kernel: string | { name: string; cost?: CostHint }, options: CostModelStrategyOptions = {}) {
    this.kernel = typeof kernel === 'string' ? kernel : kernel.name;
    this.#hint = typeof kernel === 'string' ? undefined : kernel.cost;
    this.store = options.store ?? new ModelStore({ path: false });
    const {
      minExploreItems = Math.max(1, Math.floor((this.#hint?.gpuThreshold ?? 16) / 16)),
      splitGain = 0.9,
      minSplitItems = 2,
      refreshEvery = 32,
      refreshFirst = Math.min(4, refreshEvery),
      refreshWithin = 3,
      refreshBudget = 0.02,
      exploreWithin = 4,
    } = options;
    if (!Number.isInteger(minExploreItems) || minExploreItems < 0) throw new TypeError(`minExploreItems must be an integer >= 0, got ${minExploreItems}`);
    if (!(splitGain > 0 && splitGain <= 1)) throw new TypeError(`splitGain must be in (0, 1], got ${splitGain}`);
    if (!Number.isInteger(minSplitItems) || minSplitItems < 2) throw new TypeError(`minSplitItems must be an integer >= 2, got ${minSplitItems}`);
    if (!Number.isInteger(refreshEvery) || refreshEvery < 0) throw new TypeError(`refreshEvery must be an integer >= 0, got ${refreshEvery}`);
    if (refreshEvery > 0 && (!Number.isInteger(refreshFirst) || refreshFirst < 1 || refreshFirst > refreshEvery)) {
      throw new TypeError(`refreshFirst must be an integer in [1, refreshEvery = ${refreshEvery}], got ${refreshFirst}`);
    }
    if (!(refreshWithin >= 1)) throw new TypeError(`refreshWithin must be >= 1, got ${refreshWithin}`);
    if (!(refreshBudget > 0 && refreshBudget <= 1)) throw new TypeError(`refreshBudget must be in (0, 1], got ${refreshBudget}`);
    this.#minExploreItems = minExploreItems;
    this.#splitGain = splitGain;
    this.#minSplitItems = minSplitItems;
    this.#refreshEvery = refreshEvery;
    this.#refreshFirst = refreshFirst;
    this.#refreshGap = refreshFirst;
    this.#untilRefresh = refreshFirst;
    this.#refreshWithin = refreshWithin;
    this.#refreshBudget = refreshBudget;
    if (!(exploreWithin >= 1)) throw new TypeError(`exploreWithin must be >= 1, got ${exploreWithin}`);
    this.#exploreWithin = exploreWithin;
  }

  /** The trusted model of a device, if any. */
  model(device: DeviceKind, kernel = this.kernel): FittedModel | undefined {
    return this.store.model(kernel, device);
  }

  /** Predicted ms of `work` on `device` (trusted model only). */
  predict(device: DeviceKind, work: number, kernel = this.kernel): number | undefined {
    return this.store.predict(kernel, device, work);
  }

  observe(sample: RoutingSample): void {
    const memo = this.#memo;
    if (memo !== undefined && sample.device === memo.decision.device && sample.kernel === memo.kernel && bucketOf(sample.work) === memo.bucket) {
      const ratio = sample.durationMs / memo.bestMs;
      // On time: the device the models rank first ran as predicted, so there is no surprise to check.
      // Nor much to learn: of the batches that reused the decision, only the last is stored (see MEMO_USES).
      if (ratio <= MEMO_TOLERANCE && ratio >= 1 / MEMO_TOLERANCE) {
        if (memo.uses === 0 || memo.uses >= MEMO_USES) this.store.observe(sample.kernel, sample.device, sample.work, sample.durationMs);
        return;
      }
      this.#memo = undefined;
    }
    this.store.observe(sample.kernel, sample.device, sample.work, sample.durationMs);
    if (sample.kernel !== this.kernel) return;
    const surprise = this.#checkSurprise(sample);
    const refreshing = this.#refreshing;
    if (refreshing?.device === sample.device) {
      this.#refreshing = undefined;
      const longest = Math.max(this.#refreshEvery, Math.ceil((refreshing.cost - 1) / this.#refreshBudget));
      this.#refreshGap = surprise ? this.#refreshFirst : Math.min(2 * this.#refreshGap, longest);
      this.#untilRefresh = this.#refreshGap;
    }
  }

  /** With `sample` in its bucket: is its device still ranked second though this batch beat the first's prediction? */
  #checkSurprise({ kernel, device, work, durationMs }: RoutingSample): boolean {
    const mine = this.store.predict(kernel, device, work);
    const theirs = this.store.predict(kernel, device === 'cpu' ? 'gpu' : 'cpu', work);
    if (mine === undefined || theirs === undefined || !(mine > theirs && durationMs < theirs)) return false;
    this.#confirm = { device, bucket: bucketOf(work) };
    return true;
  }

  observeSplit(sample: SplitSample): void {
    if (sample.kernel !== this.kernel) return;
    this.#syncSplits();
    if (sample.parts !== undefined) {
      // Each part against its device's model near the part's own work, as #solveSplit predicts it, after
      // the work queued ahead of it: a wait behind other batches is not the part running slow.
      const ratios = { cpu: 0, gpu: 0 };
      for (const device of ['cpu', 'gpu'] as const) {
        const part = sample.parts[device];
        const predicted = part.items > 0 ? this.store.predict(sample.kernel, device, part.work) : undefined;
        const queued = sample.queued?.[device] ?? 0;
        // The wait as the solver predicted it: the device's model near the whole batch's work, over the queue.
        const local = queued > 0 ? this.store.localModel(sample.kernel, device, sample.work) : undefined;
        const wait = local === undefined ? 0 : waitOn(local, queued);
        if (predicted === undefined || !(predicted > 0)) continue;
        const startMs = Math.max(0, part.startMs ?? 0);
        const ranMs = part.durationMs - startMs;
        const ratio = ranMs / (wait + predicted);
        // Beside the other device a part runs no faster than alone, so a part quicker than its model is a
        // sample of the device (an upper bound on its time alone), not a split that pays.
        if (ratio < 1 && queued === 0) this.store.observe(sample.kernel, device, part.work, ranMs);
        pushLast(this.#partStarts[device], startMs);
        this.#addPartRatio(device, ratio);
        ratios[device] = ratio;
      }
      this.#spread.add(ratios.cpu, ratios.gpu);
    } else if (sample.predictedMs !== undefined && sample.predictedMs > 0) {
      // Only the whole batch is known: its ratio to the (already scaled) prediction, on both parts.
      const ratio = sample.durationMs / sample.predictedMs;
      for (const device of ['cpu', 'gpu'] as const) this.#addPartRatio(device, this.#partFactor(device) * ratio);
    }
    this.store.setSplitRecord(this.kernel, { partRatios: this.#partRatios, partStarts: this.#partStarts, spread: this.#spread.values() });
  }

  /** Takes this machine's split record from the store when it was replaced (a load, another GPU); none: start over. */
  #syncSplits(): void {
    const revision = this.store.splitsRevision;
    if (revision === this.#splitsSeen) return;
    this.#splitsSeen = revision;
    const saved = this.store.splitRecord(this.kernel);
    const ratios = (xs: readonly number[] = []): number[] => lastThree(xs, 1).map(boundedRatio);
    const starts = (xs: readonly number[] = []): number[] => lastThree(xs, 0).map((t) => Math.max(t, 0));
    this.#partRatios = { cpu: ratios(saved?.partRatios.cpu), gpu: ratios(saved?.partRatios.gpu) };
    this.#partStarts = { cpu: starts(saved?.partStarts.cpu), gpu: starts(saved?.partStarts.gpu) };
    this.#spread = SplitSpread.restore(saved?.spread ?? []);
  }

  #addPartRatio(device: DeviceKind, ratio: number): void {
    // At least 1: running together only adds contention, and a factor below 1 let a split beat a device's
    // stale model (the H100's SHA-256 10K: a GPU model 1.5x too slow, parts at x0.76, and auto split 75 %
    // of its batches at 1.4x the GPU's time). At most 16: one stalled batch cannot turn a model into nonsense.
    pushLast(this.#partRatios[device], boundedRatio(ratio));
  }

  /** The median of the device's last three part ratios. */
  #partFactor(device: DeviceKind): number {
    return median3(this.#partRatios[device]);
  }

  /**
   * How much slower each device's part of split batches ran than its model predicted (1 = as predicted),
   * and how much the two scatter against each other (`sigma` of ln(cpu ratio / gpu ratio); undefined
   * before a few splits), which sizes the slower device's part below equal finish.
   */
  get splitFactors(): { readonly cpu: number; readonly gpu: number; readonly sigma: number | undefined; readonly startMs: { readonly cpu: number; readonly gpu: number } } {
    this.#syncSplits();
    return { cpu: this.#partFactor('cpu'), gpu: this.#partFactor('gpu'), sigma: this.#spread.sigma, startMs: { cpu: median3(this.#partStarts.cpu), gpu: median3(this.#partStarts.gpu) } };
  }

  /**
   * The co-execution split the models give for this batch, whether or not it
   * beats a single device (a caller that wants co-execution anyway: the
   * bench's co-exec row). Undefined without trusted models of both devices, or
   * when one device alone finishes first even with the whole batch.
   */
  splitFor(ctx: RoutingContext): { gpuShare: number; predictedMs: number } | undefined {
    const cpu = this.store.localModel(ctx.kernel, 'cpu', ctx.work);
    const gpu = this.store.localModel(ctx.kernel, 'gpu', ctx.work);
    if (cpu === undefined || gpu === undefined || !(ctx.work > 0)) return undefined;
    const split = this.#solveSplit(ctx.kernel, ctx.work, cpu, gpu, waitOn(cpu, ctx.queued.cpu), waitOn(gpu, ctx.queued.gpu));
    return split && { gpuShare: split.gpuShare, predictedMs: split.finishMs };
  }

  /**
   * The split at which both parts finish together, each model scaled by how its device's parts
   * ran so far. Solved first with the models corrected near the whole batch's work and, if that
   * finishes under `withinMs` (most routing decisions are not splits, and this runs in each),
   * again with each corrected near its part's own work: the pool's per-item time on a 1K part
   * is not its time on 64K.
   */
  #solveSplit(kernel: string, work: number, cpu: PowerModel, gpu: PowerModel, waitCpu: number, waitGpu: number, withinMs = Infinity): ReturnType<typeof splitShare> {
    this.#syncSplits();
    const first = this.#scaledSplit(cpu, gpu, work, waitCpu, waitGpu);
    if (first === undefined || !(first.finishMs < withinMs)) return undefined;
    const cpuPart = this.store.localModel(kernel, 'cpu', (1 - first.gpuShare) * work);
    const gpuPart = this.store.localModel(kernel, 'gpu', first.gpuShare * work);
    return cpuPart && gpuPart && this.#scaledSplit(cpuPart, gpuPart, work, waitCpu, waitGpu);
  }

  #scaledSplit(cpu: PowerModel, gpu: PowerModel, work: number, queuedCpu: number, queuedGpu: number): ReturnType<typeof splitShare> {
    const waitCpu = queuedCpu + median3(this.#partStarts.cpu);
    const waitGpu = queuedGpu + median3(this.#partStarts.gpu);
    const cpuFactor = this.#partFactor('cpu');
    const cpuScaled = scaled(cpu, cpuFactor);
    const gpuScaled = scaled(gpu, this.#partFactor('gpu'));
    const even = splitShare(cpuScaled, gpuScaled, work, waitCpu, waitGpu);
    if (even === undefined || !this.#spread.sigma) return even;
    // The CPU's share of the two devices' throughput at the cut (per unit of work moved across it) sets
    // how often its part may end last (split-hedge.ts); a fixed cost is paid either way.
    const cpuPerUnit = marginal(cpuScaled, (1 - even.gpuShare) * work);
    const gpuPerUnit = marginal(gpuScaled, even.gpuShare * work);
    const hedge = this.#spread.cpuFactor(gpuPerUnit / (cpuPerUnit + gpuPerUnit));
    return hedge === 1 ? even : splitShare(scaled(cpu, cpuFactor * hedge), gpuScaled, work, waitCpu, waitGpu);
  }

  /** Loads the store's file (see `ModelStore.load`). */
  load(): boolean {
    return this.store.load();
  }

  /** Saves the store's file; never throws (see `ModelStore.save`). */
  save(): Promise<boolean> {
    return this.store.save();
  }

  decide(ctx: RoutingContext): RoutingDecision {
    if (!ctx.gpuAvailable) return { device: 'cpu', reason: 'gpu unavailable' };
    const kernel = ctx.kernel;
    const memo = this.#memo;
    if (
      memo !== undefined &&
      memo.uses < MEMO_USES &&
      memo.kernel === kernel &&
      memo.revision === this.store.revision &&
      ctx.queued.cpu === 0 &&
      ctx.queued.gpu === 0 &&
      this.#confirm === undefined &&
      memo.bucket === bucketOf(ctx.work)
    ) {
      memo.uses++;
      if (!this.#refreshDue(memo.other, memo.otherMs, memo.bestMs)) return memo.decision;
      this.#memo = undefined;
      return { device: memo.other, reason: `refresh the ${memo.other} model: ${memo.predicted}` };
    }
    this.#memo = undefined;
    // Trusted models corrected near this batch's work; undefined while a device's model is not trusted.
    const cpu = this.store.localModel(kernel, 'cpu', ctx.work);
    const gpu = this.store.localModel(kernel, 'gpu', ctx.work);
    if (cpu !== undefined && gpu !== undefined) {
      const confirm = this.#confirm;
      if (confirm !== undefined && confirm.bucket === bucketOf(ctx.work)) {
        // One batch per surprise: if it beats the prediction too, its sample asks for the next.
        this.#confirm = undefined;
        return { device: confirm.device, reason: `confirm: the last ${confirm.device} batch of this size beat the ${confirm.device === 'cpu' ? 'gpu' : 'cpu'} prediction` };
      }
      // A curve extrapolated far past its samples can be far off (the H100's vector add 16M, fitted up to
      // 2M: the pool predicted 10x its real time, so the GPU, 6x slower, kept the batch). A device with
      // no sample within 4x of this work and a prediction within `exploreWithin` of the best runs it once.
      if (ctx.items >= this.#minExploreItems && ctx.items > 0) {
        const finish = { cpu: predict(cpu, ctx.work), gpu: predict(gpu, ctx.work) };
        const best = Math.min(finish.cpu, finish.gpu);
        for (const d of ['cpu', 'gpu'] as const) {
          if (finish[d] > best && finish[d] <= this.#exploreWithin * best && !this.store.hasNear(kernel, d, ctx.work, 2)) {
            return { device: d, reason: `explore: no ${d} sample within 4x of work ${ctx.work}, predicted ${ms(finish[d])} ms against ${ms(best)} ms` };
          }
        }
      }
      return this.#byModels(ctx, cpu, gpu);
    }

    // Exploration: measure an untrusted device at a size it has not run yet.
    if (ctx.items >= this.#minExploreItems && ctx.items > 0) {
      const candidates = (['gpu', 'cpu'] as const).filter(
        (d) => (d === 'cpu' ? cpu : gpu) === undefined && !this.store.hasBucket(kernel, d, ctx.work),
      );
      candidates.sort((x, y) => this.store.samples(kernel, x).length - this.store.samples(kernel, y).length);
      const pick = candidates[0];
      if (pick !== undefined) return { device: pick, reason: `explore: no ${pick} sample near work ${ctx.work} yet` };
    }

    // A few samples on both: the nearest sample (or a trusted model) scaled linearly.
    const cpuEst = this.#estimate(kernel, 'cpu', ctx.work, ctx.queued.cpu);
    const gpuEst = this.#estimate(kernel, 'gpu', ctx.work, ctx.queued.gpu);
    if (cpuEst !== undefined && gpuEst !== undefined) {
      const best: Finish = gpuEst < cpuEst ? { device: 'gpu', ms: gpuEst } : { device: 'cpu', ms: cpuEst };
      return { device: best.device, reason: `nearest samples: cpu ${ms(cpuEst)} ms, gpu ${ms(gpuEst)} ms` };
    }

    // Nothing measured: the kernel's own hint.
    const threshold = this.#hint?.gpuThreshold;
    if (threshold !== undefined && ctx.items >= threshold) return { device: 'gpu', reason: `prior: items ${ctx.items} >= hint ${threshold}` };
    return { device: 'cpu', reason: threshold === undefined ? 'prior: cpu' : `prior: items ${ctx.items} < hint ${threshold}` };
  }

  /** A rough finish time from a trusted model, else the nearest sample scaled linearly. */
  #estimate(kernel: string, device: DeviceKind, work: number, queued: number): number | undefined {
    const model = this.store.model(kernel, device);
    if (model !== undefined) return waitOn(model, queued) + predict(model, work);
    const s = this.store.nearest(kernel, device, work);
    if (s === undefined) return undefined;
    const perUnit = s.ms / Math.max(s.work, 1);
    return perUnit * (Math.max(queued, 0) + Math.max(work, 1));
  }

  /** `cpu` and `gpu` are the models corrected near this batch's work (`ModelStore.localModel`). */
  #byModels(ctx: RoutingContext, cpu: FittedModel, gpu: FittedModel): RoutingDecision {
    const { work, items } = ctx;
    const waitCpu = waitOn(cpu, ctx.queued.cpu);
    const waitGpu = waitOn(gpu, ctx.queued.gpu);
    const finishCpu = waitCpu + predict(cpu, work);
    const finishGpu = waitGpu + predict(gpu, work);
    const best: Finish = finishGpu < finishCpu ? { device: 'gpu', ms: finishGpu } : { device: 'cpu', ms: finishCpu };
    const other: Finish = best.device === 'gpu' ? { device: 'cpu', ms: finishCpu } : { device: 'gpu', ms: finishGpu };
    const predicted = `cpu ${ms(finishCpu)} ms, gpu ${ms(finishGpu)} ms`;

    if (items >= this.#minSplitItems && work > 0) {
      const split = this.#solveSplit(ctx.kernel, work, cpu, gpu, waitCpu, waitGpu, this.#splitGain * best.ms);
      if (split !== undefined && split.finishMs < this.#splitGain * best.ms) {
        // The split may only beat a curve extrapolated past the best device's samples: on the H200 a GPU
        // curve fitted up to Ed25519 16K predicted 64K at ~5x its time, and auto split five batches (63 ms)
        // that the GPU alone ran in 14. One batch on that device alone measures it first.
        if (!this.store.hasNear(ctx.kernel, best.device, work, 1)) {
          return { device: best.device, reason: `explore: no ${best.device} sample within 2x of work ${work} to weigh a split against (${predicted})` };
        }
        // Splits give that device no whole batches, so its model could stay as slow as it last was and keep
        // the splits going: a batch alone now and then (the refresh gap) measures what they are weighed against.
        if (this.#refreshDue(best.device, best.ms, split.finishMs)) {
          return { device: best.device, reason: `refresh the ${best.device} model against the split (${ms(split.finishMs)} ms): ${predicted}` };
        }
        return {
          device: 'split',
          gpuShare: split.gpuShare,
          predictedMs: split.finishMs,
          reason: `split ${(split.gpuShare * 100).toFixed(1)} % to gpu: ${ms(split.finishMs)} ms (parts as observed: cpu x${this.#partFactor('cpu').toFixed(2)}, gpu x${this.#partFactor('gpu').toFixed(2)}, spread ${(this.#spread.sigma ?? 0).toFixed(2)}) vs ${predicted}`,
        };
      }
    }
    if (this.#refreshDue(other.device, other.ms, best.ms)) return { device: other.device, reason: `refresh the ${other.device} model: ${predicted}` };
    const decision = { device: best.device, reason: `earliest finish: ${predicted}` };
    if (ctx.queued.cpu === 0 && ctx.queued.gpu === 0) {
      this.#memo = { kernel: ctx.kernel, bucket: bucketOf(work), revision: this.store.revision, uses: 0, decision, other: other.device, bestMs: best.ms, otherMs: other.ms, predicted };
    }
    return decision;
  }

  /**
   * Counts a decision by the models; once the gap has passed, runs the `other` device when it is
   * predicted within `refreshWithin` of the best (otherwise waits another gap).
   */
  #refreshDue(other: DeviceKind, otherMs: number, bestMs: number): boolean {
    if (this.#refreshEvery === 0 || --this.#untilRefresh > 0) return false;
    this.#untilRefresh = this.#refreshGap;
    if (!(otherMs <= this.#refreshWithin * bestMs)) return false;
    this.#refreshing = { device: other, cost: otherMs / bestMs };
    return true;
  }
}

/** A part ratio as the factors keep it: within [1, 16] (see #addPartRatio). */
function boundedRatio(ratio: number): number {
  return Math.min(Math.max(ratio, 1), 16);
}

/** Replaces the oldest of a fixed-length window with `value`. */
function pushLast(window: number[], value: number): void {
  window.shift();
  window.push(value);
}

/** The last three of `values`, the oldest missing ones `fill`. */
function lastThree(values: readonly number[], fill: number): number[] {
  const out = values.slice(-3);
  while (out.length < 3) out.unshift(fill);
  return out;
}

/** The median of a window of three. */
function median3([x = 0, y = 0, z = 0]: readonly number[]): number {
  return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
}

/** Predicted ms of the work already queued on a device (none: 0). */
function waitOn(model: PowerModel, queued: number): number {
  return queued > 0 ? predict(model, queued) : 0;
}

/**
 * The GPU share of a batch at which both devices, each with its queue, finish
 * together, solved by regula falsi (fixed costs and queues move it away from
 * GPU throughput / (CPU + GPU throughput) at this size, also returned). Undefined
 * when one device alone finishes first even with the whole batch.
 */
export function splitShare(
  cpu: PowerModel,
  gpu: PowerModel,
  work: number,
  waitCpu = 0,
  waitGpu = 0,
): { gpuShare: number; finishMs: number; throughputShare: number } | undefined {
  const tc = (w: number): number => waitCpu + predict(cpu, w);
  const tg = (w: number): number => waitGpu + predict(gpu, w);
  const throughputCpu = work / predict(cpu, work);
  const throughputGpu = work / predict(gpu, work);
  const throughputShare = throughputGpu / (throughputCpu + throughputGpu);
  // f(s) > 0: the CPU part finishes later; f decreases in s.
  const f = (s: number): number => tc((1 - s) * work) - tg(s * work);
  if (f(0) <= 0 || f(1) >= 0) return undefined;
  // Regula falsi, Illinois variant: exact in one step for linear models, a handful of steps otherwise.
  // This runs in every routing decision; 40 halvings (80 predictions) were half the cost model's time.
  let lo = 0;
  let hi = 1;
  let fLo = f(0);
  let fHi = f(1);
  let side = 0;
  let s = throughputShare;
  for (let i = 0; i < 64; i++) {
    const next = (lo * fHi - hi * fLo) / (fHi - fLo);
    if (!(next > lo && next < hi)) break;
    const converged = Math.abs(next - s) < 1e-13;
    s = next;
    const fs = f(s);
    if (fs === 0 || converged) break;
    if (fs > 0) {
      lo = s;
      fLo = fs;
      if (side === 1) fHi /= 2;
      side = 1;
    } else {
      hi = s;
      fHi = fs;
      if (side === -1) fLo /= 2;
      side = -1;
    }
  }
  return { gpuShare: s, finishMs: Math.max(tc((1 - s) * work), tg(s * work)), throughputShare };
}
