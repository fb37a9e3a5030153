import { ExecutorError, isExecutorError, throwIfAborted } from '../errors.js';
import type { Kernel } from '../kernels/kernel.js';
import { rangeOptions } from '../range.js';
import type { DeviceChoice, DeviceKind, ExecResult, ExecStats, ExecuteOptions, Executor } from '../types.js';
import { checkCallerOutput } from './caller-output.js';
import { ThresholdStrategy, validateHybridStrategy, type HybridStrategy, type PartSample, type RoutingDecision, type RoutingSample, type RoutingStrategy, type SplitSample } from './strategy.js';

/** An executor the scheduler can drive: it knows its kernel, and may say which output it fills fastest. */
export interface SchedulableExecutor<I, O> extends Executor<I, O> {
  readonly kernel?: Kernel<I, O> | undefined;
  /** Worker threads (a pool), which co-execution leaves one of to the GPU's driving thread. */
  readonly threads?: number;
  createOutput?(items: number): O;
}

export interface SchedulerOptions {
  /** A routing strategy, or the seed's threshold settings. Default: threshold at the kernel's own hint. */
  strategy?: RoutingStrategy | Partial<HybridStrategy>;
  /** A GPU batch still running after this long is abandoned and re-run on the CPU. Default 60 s. */
  gpuTimeoutMs?: number;
  /**
   * Whether `auto` may choose the GPU. The runtime sets it false on software
   * adapters (Mesa llvmpipe): exact, so `device: 'gpu'` still runs there, but
   * slower than the CPU for real work. Default true.
   */
  autoGpu?: boolean;
  /** Called once per finished batch (metrics hook). */
  onBatch?: (stats: ExecStats) => void;
  /** Called once per routing decision. */
  onDecision?: (kernel: string, device: DeviceKind | 'split', strategy: string) => void;
}

const NO_OPTIONS: ExecuteOptions = Object.freeze({});
/** Finished batches waiting for the strategy at most (see #observeLater). */
const OBSERVE_BACKLOG = 4;
const FORCED_CPU: RoutingDecision = Object.freeze({ device: 'cpu', reason: 'forced' });
const FORCED_GPU: RoutingDecision = Object.freeze({ device: 'gpu', reason: 'forced' });

/** A GPU batch the watchdog fails with TIMEOUT at `deadline` (performance.now() ms). */
interface GpuWatch {
  deadline: number;
  controller: AbortController;
  fail: (reason: unknown) => void;
}

export interface ScheduleOptions<O = unknown> extends ExecuteOptions {
  /** Force a device; `auto` (default) lets the strategy choose. */
  device?: DeviceChoice;
  /**
   * Where the results go, instead of an output allocated per batch: the
   * kernel's output type with exactly `items * outputWidth` elements, sharing
   * no memory with the input, else INVALID_OPTION. Reused across batches it
   * saves the page faults of a fresh one: on the H100 machine, SHA-256 1M on
   * the GPU ran 21-24 ms into a reused output and 38-42 ms into fresh ones
   * (`scripts/output-reuse.mjs`). The pool writes a SharedArrayBuffer-backed
   * output in place, and copies into a plain one from its scratch. One output
   * serves one batch at a time; if the call rejects, its contents are
   * unspecified.
   */
  output?: O;
}

/**
 * An executor's stats completed with what the scheduler knows, copied field by field. An object
 * spread here took ~5 us of every batch on the 2-core VM (0.5 us this way): its call site sees
 * the stats of every executor, each of its own shape, and V8 copies those generically.
 */
export function routedStats(s: ExecStats, tasks: number, durationMs: number, strategy: string, reason: string): ExecStats {
  const stats: ExecStats = { device: s.device, backend: s.backend, kernel: s.kernel, tasks, durationMs, strategy, reason };
  if (s.fellBack !== undefined) stats.fellBack = s.fellBack;
  if (s.fallbackReason !== undefined) stats.fallbackReason = s.fallbackReason;
  if (s.split !== undefined) stats.split = s.split;
  if (s.threads !== undefined) stats.threads = s.threads;
  if (s.gpu !== undefined) stats.gpu = s.gpu;
  return stats;
}

/**
 * Routes each batch to the CPU or the GPU (or both), and never loses a batch:
 * a GPU that fails, is unavailable or hangs past the deadline has its items
 * re-run on the CPU, and the stats say so.
 */
export class HybridScheduler<I, O> {
  readonly strategy: RoutingStrategy;
  readonly kernel: Kernel<I, O>;
  readonly #cpu: SchedulableExecutor<I, O>;
  readonly #gpu: SchedulableExecutor<I, O> | undefined;
  readonly #gpuTimeoutMs: number;
  readonly #onBatch: ((stats: ExecStats) => void) | undefined;
  readonly #onDecision: SchedulerOptions['onDecision'];
  readonly #queued = { cpu: 0, gpu: 0 };
  readonly #autoGpu: boolean;
  /** The kernel's empty output: the type a caller's `output` must have. */
  readonly #emptyOutput: O;
  /** GPU batches in flight, oldest first, and the one timer that watches their deadlines. */
  readonly #gpuWatches = new Set<GpuWatch>();
  #watchdog: NodeJS.Timeout | undefined;
  /** Aborts the GPU runs of batches without a caller's signal; replaced after a deadline fires. */
  #gpuEpoch = new AbortController();
  #fallbacks = 0;
  #closed = false;
  /** Batches accepted and not settled yet: `close` lets them finish before it closes the executors. */
  #running = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  /** Finished batches the strategy has not seen yet (see #observeLater). */
  #observations: (RoutingSample | SplitSample)[] = [];

  constructor(cpu: SchedulableExecutor<I, O>, gpu?: SchedulableExecutor<I, O>, options: SchedulerOptions = {}) {
    if (cpu?.deviceKind !== 'cpu' || cpu.kernel === undefined) throw new TypeError('HybridScheduler needs a CPU executor with a kernel');
    if (gpu !== undefined && gpu.deviceKind !== 'gpu') throw new TypeError('the second executor must be a GPU executor');
    const { gpuTimeoutMs = 60_000, strategy } = options;
    if (!(gpuTimeoutMs > 0)) throw new TypeError(`gpuTimeoutMs must be > 0, got ${gpuTimeoutMs}`);
    this.kernel = cpu.kernel;
    this.#emptyOutput = cpu.kernel.createOutput(0);
    this.#cpu = cpu;
    this.#gpu = gpu;
    this.#gpuTimeoutMs = gpuTimeoutMs;
    this.#onBatch = options.onBatch;
    this.#onDecision = options.onDecision;
    this.#autoGpu = options.autoGpu ?? true;
    if (strategy !== undefined && 'decide' in strategy) {
      this.strategy = strategy;
    } else {
      validateHybridStrategy(strategy ?? {});
      this.strategy = new ThresholdStrategy(strategy?.gpuThreshold ?? this.kernel.cost.gpuThreshold);
    }
  }

  /** Batches whose GPU run failed and were re-run on the CPU. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  get gpuAvailable(): boolean {
    return this.#gpu?.isAvailable() ?? false;
  }

  /** The seed's name for `execute`. */
  schedule(input: I, options: ScheduleOptions<O> = {}): Promise<ExecResult<O>> {
    return this.execute(input, options);
  }

  async execute(input: I, options: ScheduleOptions<O> = {}): Promise<ExecResult<O>> {
    if (this.#closed) throw new ExecutorError('CLOSED', 'the scheduler is closed');
    this.#running++;
    try {
      const { signal, priority, device = 'auto' } = options;
      // What every part of this batch runs with (abort, pool priority).
      const run: ExecuteOptions = signal === undefined && priority === undefined ? NO_OPTIONS : { ...(signal ? { signal } : {}), ...(priority ? { priority } : {}) };
      if (device !== 'auto' && device !== 'cpu' && device !== 'gpu') {
        throw new ExecutorError('INVALID_OPTION', `device must be auto, cpu or gpu, not ${JSON.stringify(device)}`);
      }
      throwIfAborted(signal);
      const kernel = this.kernel;
      const validated = kernel.validate(input);
      const items = kernel.count(validated);
      const given = options.output === undefined ? undefined : checkCallerOutput(kernel, this.#emptyOutput, options.output, items, validated);
      const work = this.#work(validated, 0, items);
      const decision = this.#decide(device, items, work);
      this.#onDecision?.(kernel.name, decision.device, this.strategy.name);
      // The GPU unpacks into any output; the pool says which it fills fastest (shared and in place
      // when large, else plain through reused scratch: a fresh shared buffer costs page faults).
      const output = given ?? (decision.device === 'gpu' ? kernel.createOutput(items) : (this.#cpu.createOutput?.(items) ?? kernel.createOutput(items)));
      const t0 = performance.now();
      let stats: ExecStats;
      if (decision.device === 'split') {
        // What the strategy saw queued (nothing has moved since it decided): the parts wait behind it.
        const queued = this.#queuedNow();
        const { stats: joined, parts } = await this.#coExecute(validated, output, items, work, decision.gpuShare, run);
        stats = joined;
        if (!stats.fellBack && this.strategy.observeSplit !== undefined) {
          const durationMs = performance.now() - t0;
          this.#observeLater({ kernel: kernel.name, items, work, gpuShare: decision.gpuShare, durationMs, parts, queued, ...(decision.predictedMs === undefined ? {} : { predictedMs: decision.predictedMs }) });
        }
      } else if (decision.device === 'gpu') {
        stats = await this.#withFallback(validated, output, 0, items, run, work);
      } else {
        stats = await this.#run(this.#cpu, validated, output, 0, items, run, work);
      }
      stats = routedStats(stats, items, performance.now() - t0, this.strategy.name, decision.reason);
      if (!stats.fellBack && stats.split === undefined && this.strategy.observe !== undefined) {
        this.#observeLater({ kernel: kernel.name, device: stats.device, items, work, durationMs: stats.durationMs });
      }
      this.#onBatch?.(stats);
      return { output, stats };
    } finally {
      if (--this.#running === 0) this.#drained?.();
    }
  }

  /**
   * Refuses new batches, lets the accepted ones finish (a split's second part
   * may start after this call, a fallback after a deadline), then closes both
   * executors. Every call resolves when that is done.
   */
  close(): Promise<void> {
    this.#closed = true;
    return (this.#closing ??= this.#closeWhenDrained());
  }

  async #closeWhenDrained(): Promise<void> {
    if (this.#running > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#observePending();
    clearTimeout(this.#watchdog);
    await Promise.all([this.#cpu.close(), this.#gpu?.close()]);
  }

  /**
   * Hands a finished batch to the strategy after the caller has its result:
   * a model update is 10-20 us that a serial caller would otherwise wait for
   * before submitting its next batch (on the H100, `observe` alone added
   * ~20 us to a 0.33 ms SHA-256 10K batch), and the driving thread is idle
   * once that batch is on the GPU. The next decision may come first: the
   * models learn one batch late. Batches that never leave the microtask
   * queue (in-thread CPU runs awaited in a loop) never let the event loop
   * turn, so every OBSERVE_BACKLOG-th of them hands the backlog over on the
   * caller's path: memory stays bounded and the lag short. `close` hands
   * over what is left.
   */
  #observeLater(sample: RoutingSample | SplitSample): void {
    const backlog = this.#observations.push(sample);
    if (backlog >= OBSERVE_BACKLOG) this.#observePending();
    else if (backlog === 1) setImmediate(this.#observePending);
  }

  readonly #observePending = (): void => {
    const samples = this.#observations;
    if (samples.length === 0) return;
    this.#observations = [];
    for (const sample of samples) {
      try {
        if ('gpuShare' in sample) this.strategy.observeSplit?.(sample);
        else this.strategy.observe?.(sample);
      } catch (err) {
        // Off the caller's path there is no batch left to fail; a strategy that throws is a bug to report, not a crash.
        process.emitWarning(`routing strategy ${this.strategy.name} threw in observe: ${(err as Error).message}`, 'SuperVMWarning');
      }
    }
  };

  /** A snapshot of the work queued on each device (the live counts keep moving). */
  #queuedNow(): { cpu: number; gpu: number } {
    return { cpu: this.#queued.cpu, gpu: this.#queued.gpu };
  }

  /** Work units of [start, end): what the strategy weighs and the queues count (`kernel.work`, else items). */
  #work(input: I, start: number, end: number): number {
    return this.kernel.work?.(input, start, end) ?? end - start;
  }

  #decide(device: DeviceChoice, items: number, work: number): RoutingDecision {
    const gpuAvailable = this.gpuAvailable;
    if (device === 'cpu') return FORCED_CPU;
    if (device === 'gpu') {
      if (!gpuAvailable) throw new ExecutorError('BACKEND_UNAVAILABLE', 'device "gpu" was requested but no GPU is available');
      return FORCED_GPU;
    }
    if (!this.#autoGpu) return { device: 'cpu', reason: 'auto routing excludes this GPU' };
    const decision = this.strategy.decide({ kernel: this.kernel.name, items, work, gpuAvailable, queued: this.#queuedNow() });
    if (decision.device !== 'cpu' && !gpuAvailable) return { device: 'cpu', reason: 'gpu unavailable' };
    return decision;
  }

  async #run(
    executor: SchedulableExecutor<I, O>,
    input: I,
    output: O,
    start: number,
    end: number,
    options: ExecuteOptions & { maxThreads?: number },
    work = this.#work(input, start, end),
  ): Promise<ExecStats> {
    const kind = executor.deviceKind;
    this.#queued[kind] += work;
    try {
      return await executor.executeInto(input, output, rangeOptions(options, start, end));
    } finally {
      this.#queued[kind] -= work;
    }
  }

  /**
   * Runs [start, end) on the GPU; on failure or past the deadline, on the CPU.
   * Per batch this costs a promise and a watchdog entry: GPU batches without a
   * caller's signal share one abort controller, and one timer watches every
   * deadline (an AbortController, a timer and a race per batch were ~60 us of
   * a 0.5-0.6 ms SHA-256 10K batch on the H200).
   */
  async #withFallback(input: I, output: O, start: number, end: number, options: ExecuteOptions, work?: number): Promise<ExecStats> {
    const gpu = this.#gpu!;
    const { signal } = options;
    // The caller's signal, when given, also aborts this batch's GPU run; then it needs its own controller.
    let own: AbortController | undefined;
    let onAbort: (() => void) | undefined;
    if (signal !== undefined) {
      own = new AbortController();
      const controller = own;
      onAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const watch: GpuWatch = { deadline: performance.now() + this.#gpuTimeoutMs, controller: own ?? this.#gpuEpoch, fail: () => {} };
    try {
      return await new Promise<ExecStats>((resolve, reject) => {
        watch.fail = reject;
        this.#watch(watch);
        // The executor called here, not through #run: one async frame fewer per batch. Its work
        // stays queued until its run settles, even after the watchdog gave the batch to the CPU.
        const queued = work ?? this.#work(input, start, end);
        const running = gpu.executeInto(input, output, rangeOptions(options, start, end, watch.controller.signal));
        this.#queued.gpu += queued;
        running.then(
          (stats) => {
            this.#queued.gpu -= queued;
            resolve(stats);
          },
          (err: unknown) => {
            this.#queued.gpu -= queued;
            reject(err);
          },
        );
      });
    } catch (err) {
      // ABORTED without the caller's abort is this scheduler's deadline (on this batch or a sibling on the same GPU).
      if (signal?.aborted || isExecutorError(err, 'INVALID_INPUT')) throw err;
      this.#fallbacks++;
      const reason = isExecutorError(err, 'ABORTED') ? 'TIMEOUT' : isExecutorError(err) ? err.code : 'KERNEL_FAILED';
      const stats = await this.#run(this.#cpu, input, output, start, end, options, work);
      return { ...stats, fellBack: true, fallbackReason: `${reason}: ${(err as Error).message}` };
    } finally {
      this.#gpuWatches.delete(watch);
      // Without batches in flight the timer must not hold the process (it fires later, harmlessly).
      if (this.#gpuWatches.size === 0) this.#watchdog?.unref();
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
    }
  }

  /** Adds a GPU batch to the watchdog: the timer is armed, and holds the process while batches wait on it. */
  #watch(watch: GpuWatch): void {
    this.#gpuWatches.add(watch);
    if (this.#watchdog === undefined) this.#armWatchdog(watch.deadline);
    else if (this.#gpuWatches.size === 1) this.#watchdog.ref();
  }

  /**
   * Every deadline is start + gpuTimeoutMs, so the oldest batch in flight is
   * the next to expire. A batch past it is failed with TIMEOUT and its GPU run
   * aborted; a shared controller is replaced, so later batches get a fresh one.
   */
  #armWatchdog(at: number): void {
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      const now = performance.now();
      for (const watch of this.#gpuWatches) {
        if (watch.deadline > now) {
          this.#armWatchdog(watch.deadline);
          return;
        }
        this.#gpuWatches.delete(watch);
        if (watch.controller === this.#gpuEpoch) this.#gpuEpoch = new AbortController();
        const timeout = new ExecutorError('TIMEOUT', `GPU batch exceeded ${this.#gpuTimeoutMs} ms`);
        watch.controller.abort(timeout);
        watch.fail(timeout);
      }
    }, Math.max(0, at - performance.now()));
  }

  /**
   * Splits the batch so both devices finish together; a failed part is re-run
   * on the other device. The CPU part leaves one pool thread's core to the main
   * thread and the driver, which feed the GPU (StarPU dedicates a core to each
   * GPU for the same reason): with a worker on every core, Ed25519 64K on the
   * H200 finished its GPU part ~1.2 ms (10 %) later than the GPU alone.
   * The larger part starts first; the smaller waits a macrotask, until the
   * larger's host work is done: a late start costs the batch that part's
   * device's rate, the lower one. With the GPU part first its chunks are
   * staged and submitted before any worker starts: on the H100, Ed25519 64K
   * split by hand at 99 % to the GPU ran 10.91 ms with the CPU part first and
   * 10.61 ms with the GPU part first, against 10.85 ms for the GPU alone
   * (`coexec-parts.mjs`). The CPU part's own start is synchronous up to its
   * dispatch to the workers, so a GPU part after it needs no wait.
   * Each part's start and end from the batch's start are reported with the
   * stats, so a strategy can see which part held the batch up, and how long
   * the second part waited for the first.
   */
  async #coExecute(input: I, output: O, items: number, work: number, gpuShare: number, options: ExecuteOptions): Promise<{ stats: ExecStats; parts: NonNullable<SplitSample['parts']> }> {
    const cut = Math.min(items, Math.max(0, Math.round(items * (1 - gpuShare))));
    const threads = this.#cpu.threads;
    const cpuOptions = threads !== undefined && threads > 1 ? { ...options, maxThreads: threads - 1 } : options;
    const cpuWork = this.#work(input, 0, cut);
    const parts = { cpu: { items: cut, work: cpuWork, durationMs: 0, startMs: 0 }, gpu: { items: items - cut, work: work - cpuWork, durationMs: 0, startMs: 0 } };
    const t0 = performance.now();
    const timed = (part: PartSample, run: () => Promise<ExecStats>): Promise<ExecStats> => {
      part.startMs = performance.now() - t0;
      return run().then((stats) => {
        part.durationMs = performance.now() - t0;
        return stats;
      });
    };
    const runCpu = () => timed(parts.cpu, () => this.#run(this.#cpu, input, output, 0, cut, cpuOptions, cpuWork));
    const runGpu = () => timed(parts.gpu, () => this.#withFallback(input, output, cut, items, options, parts.gpu.work));
    let cpuRun: Promise<ExecStats>;
    let gpuRun: Promise<ExecStats>;
    if (gpuShare >= 0.5) {
      gpuRun = runGpu();
      gpuRun.catch(() => {}); // settled below: a GPU part failing while the CPU part waits is no unhandled rejection
      await new Promise(setImmediate);
      cpuRun = runCpu();
    } else {
      cpuRun = runCpu();
      gpuRun = runGpu();
    }
    const [cpuPart, gpuPart] = await Promise.allSettled([cpuRun, gpuRun]);
    if (gpuPart.status === 'rejected') throw gpuPart.reason;
    let cpuStats: ExecStats;
    let fellBack = gpuPart.value.fellBack === true;
    let fallbackReason = gpuPart.value.fallbackReason;
    if (cpuPart.status === 'rejected') {
      if (options.signal?.aborted || isExecutorError(cpuPart.reason, 'INVALID_INPUT')) throw cpuPart.reason;
      // The CPU part failed: let the GPU (or, failing that, the CPU again) take it.
      cpuStats = await this.#withFallback(input, output, 0, cut, options);
      fellBack = true;
      fallbackReason = `cpu part: ${(cpuPart.reason as Error).message}`;
    } else {
      cpuStats = cpuPart.value;
    }
    const gpuStats = gpuPart.value;
    const stats: ExecStats = {
      device: gpuStats.fellBack ? 'cpu' : 'gpu',
      backend: `co-exec(${cpuStats.backend}+${gpuStats.backend})`,
      kernel: this.kernel.name,
      tasks: items,
      durationMs: 0,
      split: { cpu: cut, gpu: items - cut, cpuMs: parts.cpu.durationMs, gpuMs: parts.gpu.durationMs },
      ...(gpuStats.gpu ? { gpu: gpuStats.gpu } : {}),
      ...(fellBack ? { fellBack, fallbackReason } : {}),
    };
    return { stats, parts };
  }
}
