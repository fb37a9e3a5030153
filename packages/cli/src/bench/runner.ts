import { loadavg } from 'node:os';
import {
  CostModelStrategy,
  CpuMapExecutor,
  HybridScheduler,
  ParallelCpuExecutor,
  Runtime,
  WebGpuExecutor,
  measureGpu,
  measureParallelScaling,
  type ExecStats,
  type RoutingStrategy,
  type TypedArray,
} from '@supervm/gpu-executor';
import { benchMachine, describeGpu } from './environment.js';
import { PeerPool, type BenchKernel } from './kernels.js';
import { BENCH_SCHEMA_VERSION, DEVICE_CASES, type BenchReport, type BenchRow } from './schema.js';
import { fmtMs, fmtPct } from './format.js';
import { interleavedRegret, mediansInTurns, regretRounds } from './regret.js';
import { collectGarbage, measure, median, planRuns, settle } from './stats.js';

export type GpuMode = 'auto' | 'off' | 'required';

export interface BenchOptions {
  kernels: readonly BenchKernel[];
  /** Sizes for every kernel; default: each kernel's own (quick: the seed's only). */
  sizes?: readonly number[];
  repeat: number;
  warmup?: number;
  quick: boolean;
  /** `off`: CPU only; `required`: fail when no adapter is found. */
  gpu: GpuMode;
  /** Most wall time one case may take (warm-up and repeats); cases estimated over it run fewer repeats or are skipped. */
  budgetMs: number;
  /** Short cases repeat until their timed runs add up to this (at most 50 runs); default 0. */
  minSampleMs?: number;
  command: string;
  onProgress?: (done: number, total: number, label: string) => void;
}

/** What one run of a case returns: its output (checked against cpu-1t) and, for executors, its stats. */
interface RunResult {
  output: TypedArray;
  stats?: ExecStats;
}

/** A case over either the full workload or the small probe workload. */
type CaseFn = (which: 'probe' | 'full') => Promise<RunResult>;

/**
 * Output bytes the extra short-case repeats may allocate per case. Worker
 * threads keep each batch's shared output alive until they collect garbage
 * themselves, so a process that runs hundreds of 64 MiB batches grows by
 * gigabytes; on a VM, pages never touched before then fault to the host and
 * the same batch gets several times slower (docs/BENCHMARKS.md). `--repeat`
 * runs are not capped.
 */
const OUTPUT_BYTES_PER_CASE = 512 * 2 ** 20;

/**
 * A run after one of at least this many ms starts after a full collection, so
 * one run's garbage is not collected inside the next. Shorter runs follow each
 * other as batches do in use, after one collection before the case: a full
 * collection before every one made each a cold start (code, objects and the
 * output's pages out of cache), and code that touches more state paid more.
 * On the H200, SHA-256 10K on the GPU took 0.78 ms a run that way in the
 * bench and 0.46 ms back to back (scripts/path-split.mjs, same machine).
 */
const COLLECT_EACH_RUN_MS = 10;

const bytesOf = (a: TypedArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function sameBytes(a: TypedArray, b: TypedArray): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(bytesOf(a), bytesOf(b)) === 0;
}
const seconds = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);

/** Runs every case for every kernel and size in one process, so rows compare like with like. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const warmup = options.warmup ?? 1;
  const loadAtStart = loadavg()[0]!;
  const runtime = new Runtime(options.gpu === 'off' ? { gpu: false } : {});
  const peerPool = new PeerPool();
  try {
    const info = await runtime.info();
    if (options.gpu === 'required' && !info.gpu.available) throw new Error(`--gpu: no GPU adapter (${info.gpu.reason})`);
    const adapter = info.gpu.available ? info.gpu.adapter : undefined;
    const plan = options.kernels.flatMap((bk) => (options.sizes ?? (options.quick ? bk.quickSizes : bk.defaultSizes)).map((size) => ({ bk, size })));
    const total = plan.reduce((sum, { bk }) => sum + DEVICE_CASES.length + bk.peers.length, 0);
    let done = 0;
    const rows: BenchRow[] = [];
    const oneThreadRate = new Map<string, { rate: number; size: number }>();
    // The ceiling of any speedup on this machine right now, beside pool efficiency (a VM's moves).
    const scalingAtStart = runtime.pool.threads > 1 ? await measureParallelScaling(runtime.pool.threads) : undefined;
    // The GPU's fixed costs (#4), before any batch has filled host or device memory. A software
    // adapter copies and computes on the CPU: a small sample there shows the section works.
    let gpuTransfers: BenchReport['gpuTransfers'];
    if (adapter !== undefined && runtime.devices !== undefined && options.kernels.some((bk) => bk.kernel.name === 'vector-add')) {
      options.onProgress?.(0, total, 'gpu transfers');
      const micro = adapter.software
        ? await measureGpu(runtime.devices, { transferBytes: [1 << 20], residentElements: [1 << 16], repeats: 2, tinyRuns: 20 })
        : await measureGpu(runtime.devices, { transferBytes: options.quick ? [4 << 20, 64 << 20] : [4 << 20, 64 << 20, 256 << 20], residentElements: [1 << 20, 1 << 24], repeats: 7 });
      if (micro) gpuTransfers = { transfers: micro.transfers, tinyRoundTripUs: micro.tinyRoundTripUs, resident: micro.resident };
    }

    for (const { bk, size } of plan) {
      const label = `${bk.name} ${size}`;
      const progress = (what: string): void => options.onProgress?.(done, total, `${label}: ${what}`);
      progress('building input');
      const workload = bk.build(size);
      const input = bk.input(workload);
      const small = size > bk.probeSize;
      // Extra repeats allocate a fresh output each: keep them under OUTPUT_BYTES_PER_CASE (see there).
      const outputBytes = size * bk.kernel.outputWidth * (bk.kernel.createOutput(0) as TypedArray).BYTES_PER_ELEMENT;
      const maxRepeatsByMemory = Math.max(1, Math.floor(OUTPUT_BYTES_PER_CASE / Math.max(outputBytes, 1)));
      const probeWorkload = small ? bk.build(bk.probeSize) : workload;
      const probeInput = small ? bk.input(probeWorkload) : input;
      const group: BenchRow[] = [];
      let reference: TypedArray | undefined;
      /** The last timed run (stats and output) of the case timed last. */
      const latest: { run?: RunResult | undefined } = {};
      // A function, so TypeScript does not keep the narrowing from before a case ran.
      const latestRun = (): RunResult | undefined => latest.run;

      const base = (name: string): Pick<BenchRow, 'kernel' | 'size' | 'case'> => ({ kernel: bk.name, size, case: name });
      const skipped = (name: string, note: string, extra: Partial<BenchRow> = {}): BenchRow => {
        const row: BenchRow = { ...base(name), ...extra, device: 'none', medianMs: null, p95Ms: null, samples: 0, throughput: null, speedup: null, note };
        group.push(row);
        return row;
      };

      /**
       * Probes the case (a cold call, then a warm one) on a small batch to
       * estimate a full run, plans warm-up and repeats within the budget, and
       * times it. `estimateMs` replaces the probe where the cost is known.
       */
      const timeCase = async (name: string, fn: CaseFn, row: Partial<BenchRow> & { device: BenchRow['device'] }, over = 'over budget', estimateMs?: number): Promise<BenchRow | undefined> => {
        progress(name);
        try {
          let estimate = estimateMs;
          if (estimate === undefined) {
            await fn('probe');
            // The faster of two timed probes when they are small: one hiccup (a collection, a
            // worker still waking) scaled up to the full size would skip a case that fits.
            let probeMs = Number.POSITIVE_INFINITY;
            for (let p = 0; p < (small ? 2 : 1); p++) {
              const t = performance.now();
              await fn('probe');
              probeMs = Math.min(probeMs, performance.now() - t);
            }
            estimate = (probeMs * size) / (small ? bk.probeSize : size);
          }
          let runs = planRuns(estimate, options.repeat, options.budgetMs, options.minSampleMs ?? 0, maxRepeatsByMemory);
          if (runs.skip) {
            skipped(name, `skipped: ${over} (about ${seconds(estimate)} a run, budget ${seconds(options.budgetMs)} a case)`, row);
            return undefined;
          }
          // Without a separate probe batch the probe runs were full-size warm-ups already.
          let warmupRuns = small ? Math.min(runs.warmup, warmup) : 0;
          if (small && estimateMs === undefined && (runs.reduced || runs.warmup === 0)) {
            // A probe scaled up linearly overstates a device whose time grows slower than the
            // batch (a GPU still filling its lanes at the probe size). Before cutting repeats,
            // time one full run, which is the warm-up, and plan the rest from it.
            await settle();
            collectGarbage();
            const t = performance.now();
            await fn('full');
            const fullMs = performance.now() - t;
            estimate = fullMs;
            const replanned = planRuns(fullMs, options.repeat, Math.max(options.budgetMs - fullMs, 0), options.minSampleMs ?? 0, maxRepeatsByMemory);
            runs = replanned.skip ? { skip: false, warmup: 0, repeats: 1, reduced: true } : replanned;
            warmupRuns = 0;
          }
          await settle();
          collectGarbage();
          // Whether a run starts after a collection follows the run before it: an estimate is a
          // planning bound (auto's is its slower device), and a GC'd start is a cold one.
          let lastMs = estimate;
          const timedRun = async (): Promise<RunResult> => {
            const t0 = performance.now();
            const result = await fn('full');
            lastMs = performance.now() - t0;
            return result;
          };
          const t = await measure(timedRun, runs.repeats, warmupRuns, () => {
            if (lastMs >= COLLECT_EACH_RUN_MS) collectGarbage();
          });
          const stats = t.atMedian.stats;
          latest.run = t.last;
          const throughput = size / (t.medianMs / 1000);
          const full: BenchRow = {
            ...base(name),
            ...row,
            medianMs: t.medianMs,
            p95Ms: t.p95Ms,
            samples: t.samples.length,
            throughput,
            ...(bk.bytesPerItem ? { bytesPerSecond: throughput * bk.bytesPerItem } : {}),
            speedup: null,
            ...(stats?.gpu ? { gpuTimings: stats.gpu } : {}),
          };
          if (stats) {
            full.backend = stats.backend;
            if (stats.threads !== undefined) full.threads = stats.threads;
            if (stats.fellBack) {
              full.device = 'cpu';
              full.note = `fell back to the CPU: ${stats.fallbackReason ?? ''}`;
            }
          }
          if (reference !== undefined) full.verified = sameBytes(t.last.output, reference);
          if (runs.reduced) full.note = [full.note, `${runs.repeats} repeat${runs.repeats > 1 ? 's' : ''} (time budget)`].filter(Boolean).join('; ');
          group.push(full);
          return full;
        } catch (err) {
          skipped(name, `failed: ${message(err)}`, row);
          return undefined;
        } finally {
          done++;
          options.onProgress?.(done, total, `${label}: ${name} done`);
        }
      };
      const executorCase = (executor: { execute(input: never): Promise<{ output: unknown; stats: ExecStats }> }): CaseFn => async (which) => {
        const r = await executor.execute((which === 'probe' ? probeInput : input) as never);
        return { output: r.output as TypedArray, stats: r.stats };
      };

      // Single thread: the baseline of every speedup and the reference output.
      latest.run = undefined;
      const singleExecutor = new CpuMapExecutor(bk.kernel);
      const single = await timeCase('cpu-1t', executorCase(singleExecutor), { device: 'cpu' });
      const singleRun = latestRun();
      if (single && singleRun) {
        reference = singleRun.output;
        single.verified = true;
      }

      // Peers: what users would call instead, over the same inputs. They run before the
      // pool and the GPU, whose workers and rasterizer threads would otherwise still hold
      // memory or cores while these single-thread loops are timed; rows are reordered below.
      for (const factory of bk.peers) {
        let peer;
        let probePeer;
        try {
          peer = await factory.create(workload as never, peerPool);
          probePeer = small ? await factory.create(probeWorkload as never, peerPool) : peer;
        } catch (err) {
          skipped(factory.name, `failed: ${message(err)}`);
          done++;
          continue;
        }
        if (!peer || !probePeer) {
          skipped(factory.name, `skipped: ${factory.name} is not installed`);
          done++;
          continue;
        }
        const p = peer;
        const pp = probePeer;
        await timeCase(factory.name, async (which) => ({ output: await (which === 'probe' ? pp : p).run() }), { device: 'cpu', backend: peer.backend, threads: peer.threads });
      }

      const poolExecutor = new ParallelCpuExecutor(bk.kernel as never, { pool: runtime.pool });
      const pool = await timeCase('cpu-pool', executorCase(poolExecutor), { device: 'cpu' });
      // One thread and the pool in turns (#5's efficiency), so both see the same machine: on the H100 VM
      // one thread's SHA-256 10K ran 7.7 ms in one bench and 14.9 ms in the next, minutes apart.
      let poolTurns: { rounds: number; oneThreadMs: number; poolMs: number } | undefined;
      const turnRounds = single?.medianMs && pool?.medianMs ? regretRounds(single.medianMs + pool.medianMs, options.budgetMs) : 0;
      if (turnRounds > 0) {
        progress('cpu-pool: in turns with cpu-1t');
        await settle();
        collectGarbage();
        const each = (single!.medianMs! + pool!.medianMs!) / 2 >= COLLECT_EACH_RUN_MS ? collectGarbage : undefined;
        const cases = new Map([
          ['cpu-1t', () => singleExecutor.execute(input as never)],
          ['cpu-pool', () => poolExecutor.execute(input as never)],
        ]);
        const medianMs = await mediansInTurns(cases, turnRounds, each);
        poolTurns = { rounds: turnRounds, oneThreadMs: medianMs['cpu-1t']!, poolMs: medianMs['cpu-pool']! };
      }

      // The GPU alone, also on a software adapter (marked, and within the budget).
      const software = adapter?.software === true;
      let gpuRow: BenchRow | undefined;
      let gpuRate: { rate: number; basis: 'measured' | 'probe' } | undefined;
      let gpuExecutor: { execute(input: never): Promise<unknown>; close(): Promise<void> } | undefined;
      if (adapter === undefined || runtime.devices === undefined) {
        skipped('gpu', `skipped: no GPU (${info.gpu.available ? '' : info.gpu.reason})`);
        done++;
      } else if (bk.kernel.gpu === undefined) {
        skipped('gpu', `skipped: ${bk.name} has no GPU program yet`);
        done++;
      } else {
        const gpu = new WebGpuExecutor(bk.kernel as never, { devices: runtime.devices, hostPool: runtime.pool });
        gpuExecutor = gpu;
        let probeRate: number | undefined;
        const fn: CaseFn = async (which) => {
          const t = performance.now();
          const r = await executorCase(gpu)(which);
          if (which === 'probe') probeRate = (small ? bk.probeSize : size) / ((performance.now() - t) / 1000);
          return r;
        };
        const extra = software ? { software: true, note: 'software adapter: exact results, computed on the CPU cores' } : {};
        // A hardware GPU's small probe is mostly fixed cost: scaled up linearly, Ed25519 64K on the H200
        // read ~12 s a run (it takes ~20 ms) and the row was skipped. A calibrated model plans it instead.
        const calibrated = software ? undefined : modelPredict((await runtime.scheduler(bk.kernel)).strategy, 'gpu', bk.kernel.name, bk.kernel.work?.(input as never, 0, size) ?? size);
        gpuRow = await timeCase('gpu', fn, { device: 'gpu', ...extra }, software ? 'over budget on software adapter' : 'over budget', calibrated);
        if (gpuRow?.throughput) gpuRate = { rate: gpuRow.throughput, basis: 'measured' };
        else if (probeRate !== undefined) gpuRate = { rate: probeRate, basis: 'probe' };
      }

      // The scheduler's own choice, with the runtime's default strategy.
      const scheduler = await runtime.scheduler(bk.kernel);
      const autoEstimate = software || !gpuRow ? (pool?.medianMs ?? undefined) : Math.max(pool?.medianMs ?? 0, gpuRow.medianMs ?? 0);
      latest.run = undefined;
      // Where every full-size run went (warm-up included) and what it took: a learning strategy may explore, so one route can hide others.
      const routes = new Map<string, number[]>();
      const reasons = new Map<string, number>();
      const autoCase: CaseFn = async (which) => {
        const t = performance.now();
        const r = await executorCase(scheduler)(which);
        if (which === 'full' && r.stats) {
          const list = routes.get(r.stats.backend) ?? [];
          list.push(performance.now() - t);
          routes.set(r.stats.backend, list);
          const why = (r.stats.reason ?? 'unknown').split(':')[0]!;
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
        }
        return r;
      };
      const auto = await timeCase('auto', autoCase, { device: 'cpu' }, 'over budget', autoEstimate);
      const routed = latestRun()?.stats;
      if (auto && routed) {
        auto.device = routed.split ? 'mixed' : routed.device;
        const why = software && routed.device === 'cpu' ? ' (auto leaves software adapters alone)' : '';
        const runs = routes.size > 1 ? ` (runs: ${[...routes].map(([backend, ms]) => `${backend} ${ms.length} at ${fmtMs(median(ms))} ms`).join(', ')})` : '';
        const because = [...reasons].map(([reason, n]) => `${reason} ${n}`).join(', ');
        auto.note = [`routed to ${routed.backend} by ${routed.strategy ?? 'the strategy'}${why}${runs}`, `decisions: ${because}`, auto.note].filter(Boolean).join('; ');
        const candidates = [single, pool, gpuRow].filter((r): r is BenchRow => r?.medianMs !== undefined && r.medianMs !== null);
        const best = Math.min(...candidates.map((r) => r.medianMs!));
        auto.regret = Number.isFinite(best) ? auto.medianMs! / best : null;

        // The same regret with the devices and auto run in turns (see interleavedRegret). A device
        // more than 2x off the best is left out: it cannot be the best, and its rounds cost most.
        const fns = new Map<string, () => Promise<unknown>>();
        const near = candidates.filter((r) => r.medianMs! <= 2 * best);
        for (const r of near) {
          const executor = r.case === 'cpu-1t' ? singleExecutor : r.case === 'cpu-pool' ? poolExecutor : gpuExecutor;
          if (executor !== undefined) fns.set(r.case, () => executor.execute(input as never));
        }
        const roundMs = near.reduce((sum, r) => sum + r.medianMs!, auto.medianMs!);
        const rounds = regretRounds(roundMs, options.budgetMs);
        if (fns.size > 0 && rounds > 0) {
          progress('auto: interleaved regret');
          await settle();
          const turnRoutes: Record<string, number> = {};
          const inTurn = async (): Promise<void> => {
            const { stats } = await scheduler.execute(input as never);
            turnRoutes[stats.backend] = (turnRoutes[stats.backend] ?? 0) + 1;
          };
          collectGarbage();
          const each = roundMs / (fns.size + 1) >= COLLECT_EACH_RUN_MS ? collectGarbage : undefined;
          auto.interleaved = { ...(await interleavedRegret(fns, inTurn, rounds, each)), routes: turnRoutes };
        }
      }
      await poolExecutor.close();

      // Co-execution: a split so both devices finish together.
      const cpuRate = pool?.throughput ?? undefined;
      if (gpuRate && cpuRate && runtime.devices && bk.kernel.gpu) {
        // With the cost model, each batch is split as auto would split it (`splitFor`: each device's
        // model near its part's work, scaled by how the parts of earlier splits ran), so the cut follows
        // what the parts took; without it, from the throughputs just measured. A GPU that packs on the
        // pool takes workers from the CPU part: the CPU's rate beside it is what the packing leaves.
        const costModel = scheduler.strategy instanceof CostModelStrategy ? scheduler.strategy : undefined;
        const hostBusy = bk.kernel.gpu.hostPack && gpuRow?.gpuTimings && gpuRow.medianMs ? Math.min(0.95, gpuRow.gpuTimings.uploadMs / gpuRow.medianMs) : 0;
        const throughputShare = gpuRate.rate / (gpuRate.rate + cpuRate * (1 - hostBusy));
        const shares: number[] = [];
        const parts: { cpuMs: number; gpuMs: number }[] = [];
        let byModels = 0;
        // Batches the trusted models would not split: one device alone finishes first even with all of it.
        let noSplit = 0;
        const split: RoutingStrategy = {
          name: 'split',
          decide: (ctx) => {
            const models = costModel?.splitFor(ctx);
            if (models) byModels++;
            else if (costModel?.model('cpu') !== undefined && costModel.model('gpu') !== undefined) noSplit++;
            const gpuShare = models?.gpuShare ?? throughputShare;
            shares.push(gpuShare);
            return { device: 'split', gpuShare, reason: models ? 'bench: equal finish by the cost models' : 'bench: equal finish by throughputs', ...(models ? { predictedMs: models.predictedMs } : {}) };
          },
          observeSplit: (sample) => {
            if (sample.parts) parts.push({ cpuMs: sample.parts.cpu.durationMs, gpuMs: sample.parts.gpu.durationMs });
            costModel?.observeSplit(sample);
          },
        };
        const coScheduler = new HybridScheduler(new ParallelCpuExecutor(bk.kernel as never, { pool: runtime.pool }), new WebGpuExecutor(bk.kernel, { devices: runtime.devices, hostPool: runtime.pool }), { strategy: split });
        const row = await timeCase('co-exec', executorCase(coScheduler as never), { device: 'mixed' }, 'over budget', (1.5 * 1000 * size) / (gpuRate.rate + cpuRate));
        // The scheduler hands each batch's parts to the strategy once the event loop turns.
        await new Promise((resolve) => setImmediate(resolve));
        if (row) {
          const gpuShare = shares.length > 0 ? median(shares) : throughputShare;
          const efficiency = row.throughput! / (gpuRate.rate + cpuRate);
          row.coexec = { gpuShare, efficiency, basis: gpuRate.basis };
          if (parts.length > 0) {
            row.coexec.parts = { cpuMs: median(parts.map((p) => p.cpuMs)), gpuMs: median(parts.map((p) => p.gpuMs)), cpuLast: parts.filter((p) => p.cpuMs > p.gpuMs).length, batches: parts.length };
          }
          // The GPU alone and co-execution in turns, so both see the same GPU clocks (the pool's rate is steadier).
          const rounds = gpuExecutor && gpuRow?.medianMs ? regretRounds(gpuRow.medianMs + row.medianMs!, options.budgetMs) : 0;
          if (gpuExecutor && rounds > 0) {
            progress('co-exec: in turns with the gpu');
            await settle();
            const turns = await mediansInTurns(new Map([['gpu', () => gpuExecutor.execute(input as never)], ['co-exec', () => coScheduler.execute(input as never)]]), rounds);
            row.coexec.inTurns = { rounds, gpuMs: turns['gpu']!, coexecMs: turns['co-exec']!, efficiency: size / turns['co-exec']! / (size / turns['gpu']! + cpuRate / 1000) };
          }
          const byThroughputs = shares.length - byModels;
          const why = noSplit === byThroughputs ? 'the cost models give no split' : noSplit === 0 ? 'no trusted cost models' : `no trusted cost models, or no split by them in ${noSplit}`;
          const basis = costModel === undefined ? ' (throughputs)' : byThroughputs === 0 ? ' (cost models, by part times)' : ` (throughputs${byModels > 0 ? ` in ${byThroughputs} of ${shares.length} batches` : ''}: ${why})`;
          const range = shares.length > 1 && Math.max(...shares) - Math.min(...shares) > 0.0005 ? `, ${pct(Math.min(...shares))}-${pct(Math.max(...shares))}` : '';
          // The parts' scatter, by which the cost models size the slower device's part below equal finish.
          const factors = byModels > 0 ? costModel?.splitFactors : undefined;
          const hedge = factors?.sigma === undefined ? '' : `, hedged by a part scatter of ${factors.sigma.toFixed(3)}`;
          // The part started second waits for the first's host work; the models count it as a wait.
          const late = factors === undefined ? undefined : factors.startMs.cpu >= factors.startMs.gpu ? (['cpu', factors.startMs.cpu] as const) : (['gpu', factors.startMs.gpu] as const);
          const start = late === undefined ? '' : `, the ${late[0]} part starting ${late[1].toFixed(2)} ms in`;
          const share = `gpu share ${pct(gpuShare)}${range}${basis}${hedge}${start}${gpuRate.basis === 'probe' ? ', gpu rate from the probe' : ''}${hostBusy > 0 ? ` (pool ${fmtPct(hostBusy)} busy packing for the GPU)` : ''}`;
          const inTurns = row.coexec.inTurns ? ` (${row.coexec.inTurns.efficiency.toFixed(2)} in turns)` : '';
          row.note = [share, `${efficiency.toFixed(2)}${inTurns} of cpu-pool + gpu throughput`, software ? 'the software GPU shares the CPU cores' : '', row.note].filter(Boolean).join('; ');
        }
        await coScheduler.close();
      } else {
        skipped('co-exec', `skipped: needs both a cpu-pool and a GPU rate${adapter ? '' : ' (no GPU)'}`);
        done++;
      }
      await gpuExecutor?.close();

      const baseline = single?.medianMs;
      for (const row of group) if (baseline && row.medianMs) row.speedup = baseline / row.medianMs;
      // Pool efficiency (#5): the pool's rate over one thread's times the pool's threads. Per-item
      // cost does not depend on the batch, so a size whose cpu-1t was over budget uses another's.
      if (single?.throughput) oneThreadRate.set(bk.name, { rate: single.throughput, size });
      const oneThread = oneThreadRate.get(bk.name);
      if (pool?.throughput && oneThread) {
        const value = pool.throughput / (oneThread.rate * runtime.pool.threads);
        pool.poolEfficiency = { value, threads: runtime.pool.threads, oneThreadSize: oneThread.size };
        const basis = oneThread.size === size ? '' : ` (cpu-1t of ${oneThread.size})`;
        let turns = '';
        if (poolTurns) {
          const inTurns = poolTurns.oneThreadMs / (poolTurns.poolMs * runtime.pool.threads);
          pool.poolEfficiency.inTurns = { ...poolTurns, value: inTurns };
          turns = ` (${fmtPct(inTurns)} in turns)`;
        }
        pool.note = [`${fmtPct(value)} of ${runtime.pool.threads} x cpu-1t${basis}${turns}`, pool.note].filter(Boolean).join('; ');
      }
      const order = (r: BenchRow): number => {
        const i = (DEVICE_CASES as readonly string[]).indexOf(r.case);
        return i >= 0 ? i : DEVICE_CASES.length + bk.peers.findIndex((p) => p.name === r.case);
      };
      rows.push(...group.sort((x, y) => order(x) - order(y)));
    }

    return {
      schemaVersion: BENCH_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      command: options.command,
      machine: benchMachine(),
      gpu: describeGpu(info.gpu),
      repeat: options.repeat,
      warmup,
      budgetMs: options.budgetMs,
      minSampleMs: options.minSampleMs ?? 0,
      quick: options.quick,
      load: { start: loadAtStart, end: loadavg()[0]! },
      ...(scalingAtStart === undefined ? {} : { parallelScaling: { threads: runtime.pool.threads, start: scalingAtStart, end: await measureParallelScaling(runtime.pool.threads) } }),
      ...(gpuTransfers ? { gpuTransfers } : {}),
      rows,
    };
  } finally {
    await peerPool.close();
    await runtime.close();
  }
}

/** A trusted cost model's predicted ms for `work` on `device`, if the strategy has one. */
function modelPredict(strategy: RoutingStrategy, device: 'cpu' | 'gpu', kernel: string, work: number): number | undefined {
  return strategy instanceof CostModelStrategy ? strategy.predict(device, work, kernel) : undefined;
}

/** A GPU share as a percentage, with a decimal where the share is near 0 or 1. */
function pct(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 || share > 0.9 ? 1 : 0)}%`;
}
