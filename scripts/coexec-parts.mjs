// Where co-execution of Ed25519 loses against cpu-pool + gpu: split batches at
// fixed GPU shares with the CPU part capped at several worker counts, every case
// in turns with the GPU alone (so all see the same clocks), and each part's
// finish time. Answers: how much later does the GPU part finish beside N busy
// workers, and which CPU part ends last. Prints one JSON object.
// With OLD=<other build's dist/src/index.js>: the fixed shares also through that build's scheduler (at the
// first cap), and, after `supervm calibrate`, two more cases split by the cost models of this
// build and of the other (as the bench's co-exec row splits), for a before / after in one run.
// Usage: [OLD=...] node scripts/coexec-parts.mjs [items] [rounds] [shares, e.g. 0.985,0.99,0.995] [caps, e.g. 15,14,12,8]
import * as thisBuild from '@supervm/gpu-executor';
import { HybridScheduler, ParallelCpuExecutor, Runtime, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { mediansInTurns } from '../packages/cli/dist/src/bench/regret.js';
import { signedBatch } from './ed25519-batch.mjs';

const items = Number(process.argv[2] ?? 65536);
const rounds = Number(process.argv[3] ?? 30);
const shares = (process.argv[4] ?? '0.99,0.995').split(',').map(Number);
const runtime = new Runtime();
await runtime.info();
const threads = runtime.pool.threads;
const caps = (process.argv[5] ?? `${threads - 1},${threads >> 1}`).split(',').map(Number);
const input = shareColumns(signedBatch(items, { corruptEvery: 16 }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gpu = new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool });
const pool = new ParallelCpuExecutor(kernel, { pool: runtime.pool });

// An executor that records when its part of a split batch ended, and runs the CPU part on `cap` workers.
function timed(inner, ends, cap) {
  return {
    deviceKind: inner.deviceKind,
    backend: inner.backend,
    kernel: inner.kernel,
    threads: inner.threads,
    isAvailable: () => inner.isAvailable(),
    createOutput: (n) => inner.createOutput?.(n) ?? kernel.createOutput(n),
    execute: (i, o) => inner.execute(i, o),
    async executeInto(i, out, o) {
      const stats = await inner.executeInto(i, out, cap === undefined ? o : { ...o, maxThreads: cap });
      ends[inner.deviceKind] = performance.now();
      if (stats.gpu) ends.timings = stats.gpu;
      return stats;
    },
    close: async () => {},
  };
}

const partEnds = new Map();
const cases = new Map();
// Registers a case: `run` does one batch and gives the GPU's timings and, for a split, when each part ended.
function addCase(name, run) {
  const log = { cpu: [], gpu: [], upload: [], compute: [] };
  partEnds.set(name, log);
  cases.set(name, async () => {
    const t = performance.now();
    const { timings, cpuEnd, gpuEnd } = await run();
    if (cpuEnd !== undefined) {
      log.cpu.push(cpuEnd - t);
      log.gpu.push(gpuEnd - t);
    }
    log.upload.push(timings.uploadMs);
    log.compute.push(timings.computeMs);
  });
}
addCase('gpu', async () => ({ timings: (await gpu.execute(input)).stats.gpu }));
// One split run by hand, without the scheduler: which part starts first, and does the CPU part
// starting only once the GPU's chunks are staged (a macrotask later) spare the GPU part's host work?
function manualCase(share, gpuFirst) {
  const cut = Math.round(items * (1 - share));
  addCase(`by hand, ${gpuFirst ? 'gpu first, cpu a macrotask later' : 'cpu first'}, gpu ${share}`, async () => {
    const output = kernel.createOutput(items);
    let cpuEnd = 0;
    let gpuEnd = 0;
    const runCpu = () => pool.executeInto(input, output, { start: 0, end: cut, maxThreads: threads - 1 }).then(() => (cpuEnd = performance.now()));
    const runGpu = () => gpu.executeInto(input, output, { start: cut, end: items }).then((stats) => ((gpuEnd = performance.now()), stats));
    let g;
    let c;
    if (gpuFirst) {
      g = runGpu();
      await new Promise(setImmediate);
      c = runCpu();
    } else {
      c = runCpu();
      g = runGpu();
    }
    const [, stats] = await Promise.all([c, g]);
    return { timings: stats.gpu, cpuEnd, gpuEnd };
  });
}
// One batch through a scheduler whose executors record when their parts ended (`timed`).
function schedulerCase(name, scheduler, ends) {
  addCase(name, async () => {
    await scheduler.execute(input);
    return { timings: ends.timings, cpuEnd: ends.cpu, gpuEnd: ends.gpu };
  });
}
const oldBuild = process.env.OLD ? await import(new URL(process.env.OLD, `file://${process.cwd()}/`).href) : undefined;
// Fixed shares through the scheduler, each cap; the older build's scheduler (its part order) at the first cap.
for (const [cap, Scheduler, label] of [...caps.map((cap) => [cap, HybridScheduler, '']), ...(oldBuild ? [[caps[0], oldBuild.HybridScheduler, ', old build']] : [])]) {
  for (const share of shares) {
    const ends = {};
    const strategy = { name: 'split', decide: () => ({ device: 'split', gpuShare: share, reason: 'fixed' }) };
    schedulerCase(`${cap} workers, gpu ${share}${label}`, new Scheduler(timed(pool, ends, cap), timed(gpu, ends), { strategy }), ends);
  }
}
for (const share of shares) {
  manualCase(share, false);
  manualCase(share, true);
}
// The bench's co-exec split: each batch cut where the build's cost models (calibrated, then fed each split's parts) put it.
const builds = [['this build', thisBuild]];
if (oldBuild) builds.push(['old build', oldBuild]);
const modelShares = {};
for (const [label, build] of builds) {
  const store = new build.ModelStore();
  store.load();
  if (runtime.devices?.context?.adapter) store.setGpu(runtime.devices.context.adapter);
  const model = new build.CostModelStrategy(kernel, { store });
  const name = `cost-model split, ${label}`;
  const ends = {};
  modelShares[name] = [];
  const strategy = {
    name: 'split',
    decide: (ctx) => {
      const gpuShare = model.splitFor(ctx)?.gpuShare ?? 0.99;
      modelShares[name].push(gpuShare);
      return { device: 'split', gpuShare, reason: 'bench' };
    },
    observeSplit: (sample) => model.observeSplit(sample),
  };
  schedulerCase(name, new build.HybridScheduler(timed(pool, ends), timed(gpu, ends), { strategy }), ends);
}
// Warm every path (JIT, pipelines, the pool's kernels) before timing.
for (const fn of cases.values()) await fn();
for (const log of partEnds.values()) for (const xs of Object.values(log)) xs.length = 0;
const ms = await mediansInTurns(cases, rounds);
const gpuMs = ms['gpu'];
const poolRuns = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await pool.execute(input);
  poolRuns.push(performance.now() - t);
}
const poolMs = median(poolRuns);
const sumRate = items / gpuMs + items / poolMs;
const report = { items, rounds, threads, gpuMs, poolMs, sumRate, runs: [] };
const round3 = (x) => (x === undefined ? undefined : +x.toFixed(3));
for (const [name, log] of partEnds) {
  const cpuLast = log.cpu.filter((c, i) => c > log.gpu[i]).length;
  report.runs.push({
    case: name,
    gpuUploadMs: round3(median(log.upload)),
    gpuComputeMs: round3(median(log.compute)),
    ms: ms[name],
    overGpu: +(ms[name] / gpuMs).toFixed(4),
    efficiency: +(items / ms[name] / sumRate).toFixed(4),
    ...(log.cpu.length > 0
      ? { cpuEndMs: round3(median(log.cpu)), gpuEndMs: round3(median(log.gpu)), gpuPartOverGpu: +(median(log.gpu) / gpuMs).toFixed(4), cpuLast: `${cpuLast} of ${log.cpu.length}` }
      : {}),
    ...(modelShares[name] ? { gpuShare: +median(modelShares[name]).toFixed(4), shares: `${Math.min(...modelShares[name]).toFixed(4)}-${Math.max(...modelShares[name]).toFixed(4)}` } : {}),
  });
}
console.log(JSON.stringify(report, null, 1));
await gpu.close();
await pool.close();
await runtime.close();
