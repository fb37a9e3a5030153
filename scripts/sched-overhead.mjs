// What the HybridScheduler adds to a batch over calling an executor directly,
// in rounds that run every variant once (rotated), with inputs in shared memory
// as the bench has them. Prints one JSON object.
// Usage: node scripts/sched-overhead.mjs [rounds]
import { HybridScheduler, ParallelCpuExecutor, Runtime, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { signedBatch } from './ed25519-batch.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const rounds = Number(process.argv[2] ?? 100);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const vaddInput = (n) => ({ a: new Float32Array(n).fill(1.5), b: new Float32Array(n).fill(2.25) });

const runtime = new Runtime();
await runtime.info();
const report = { rounds, cases: [] };
for (const [kernel, input, n] of [
  [sha256Kernel, shareColumns(sha256Batch(10_000)), 10_000],
  [vectorAddKernel, shareColumns(vaddInput(1 << 20)), 1 << 20],
  [ed25519Kernel, shareColumns(signedBatch(1000, { corruptEvery: 16 })), 1000],
]) {
  const gpu = new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool });
  const cpu = new ParallelCpuExecutor(kernel, { pool: runtime.pool });
  const bare = new HybridScheduler(cpu, gpu);
  const auto = await runtime.scheduler(kernel);
  const sharedOut = () => cpu.allocateOutput(n);
  const variants = {
    'gpu.execute': () => gpu.execute(input),
    'gpu.executeInto plain output': () => gpu.executeInto(input, kernel.createOutput(n), { start: 0, end: n }),
    'gpu.executeInto shared output': () => gpu.executeInto(input, sharedOut(), { start: 0, end: n }),
    // The pieces #withFallback adds, one at a time: an abort signal, then a race with a deadline timer.
    'gpu.executeInto shared, signal': () => gpu.executeInto(input, sharedOut(), { start: 0, end: n, signal: new AbortController().signal }),
    'gpu.executeInto shared, deadline race': async () => {
      let timer;
      const deadline = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('deadline')), 30_000); });
      try {
        return await Promise.race([gpu.executeInto(input, sharedOut(), { start: 0, end: n }), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    'scheduler (no metrics) device gpu': () => bare.execute(input, { device: 'gpu' }),
    'runtime scheduler device gpu': () => auto.execute(input, { device: 'gpu' }),
    'pool.execute': () => cpu.execute(input),
    'runtime scheduler device cpu': () => auto.execute(input, { device: 'cpu' }),
    'runtime scheduler auto': () => auto.execute(input),
  };
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  const inner = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds + 5; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      const t = performance.now();
      const res = await variants[name]();
      const ms = performance.now() - t;
      if (r >= 5) {
        times[name].push(ms);
        if (res?.stats?.durationMs !== undefined) inner[name].push(res.stats.durationMs);
      }
    }
  }
  // decide + observe alone, on the runtime's strategy, at this size.
  const strategy = auto.strategy;
  const work = kernel.work?.(input, 0, n) ?? n;
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) strategy.decide({ kernel: kernel.name, items: n, work, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } });
  const decideUs = (performance.now() - t0);
  report.cases.push({
    kernel: kernel.name,
    items: n,
    decideUs: +decideUs.toFixed(2),
    variants: names.map((name) => ({ name, medianMs: +quantile(times[name], 0.5).toFixed(4), p10Ms: +quantile(times[name], 0.1).toFixed(4), statsMedianMs: inner[name].length ? +quantile(inner[name], 0.5).toFixed(4) : null })),
  });
  await bare.close();
}
await runtime.close();
console.log(JSON.stringify(report, null, 1));
