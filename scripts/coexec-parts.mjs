// Where co-execution of Ed25519 loses against cpu-pool + gpu: each part's finish
// time within split batches, at several GPU shares, with the CPU part leaving a
// core to the GPU's driving thread (as the scheduler does) and on every core
// (as it did before). Prints one JSON object.
// Usage: node scripts/coexec-parts.mjs [items] [rounds] [reverse]
import { HybridScheduler, ParallelCpuExecutor, Runtime, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { signedBatch } from './ed25519-batch.mjs';

const items = Number(process.argv[2] ?? 65536);
const rounds = Number(process.argv[3] ?? 9);
const input = shareColumns(signedBatch(items, { corruptEvery: 16 }));
const runtime = new Runtime();
await runtime.info();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gpu = new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool });
const pool = new ParallelCpuExecutor(kernel, { pool: runtime.pool });
const variants = { 'one core left': true, 'every core': false };

async function timeOf(fn, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

// An executor that records when its part of a split batch finished; `reserve` false drops the scheduler's thread cap.
function timed(inner, ends, reserve = true) {
  return {
    deviceKind: inner.deviceKind,
    backend: inner.backend,
    kernel: inner.kernel,
    threads: inner.threads,
    isAvailable: () => inner.isAvailable(),
    createOutput: (n) => inner.createOutput?.(n) ?? kernel.createOutput(n),
    execute: (i, o) => inner.execute(i, o),
    async executeInto(i, out, o) {
      const stats = await inner.executeInto(i, out, reserve ? o : { ...o, maxThreads: undefined });
      ends[inner.deviceKind] = performance.now();
      return stats;
    },
    close: async () => {},
  };
}

await timeOf(() => gpu.execute(input), 3);
const gpuMs = await timeOf(() => gpu.execute(input), rounds);
const poolMs = await timeOf(() => pool.execute(input), 2);
const report = { items, rounds, gpuMs, poolMs, sumRate: items / gpuMs + items / poolMs, runs: [] };
const equalShare = poolMs / (poolMs + gpuMs);
// A third argument `reverse` runs the part sizes in the other order (order effects).
const order = process.argv[4] === 'reverse' ? Object.entries(variants).reverse() : Object.entries(variants);
for (const [name, reserve] of order) {
  for (const share of [equalShare, 0.985, 0.99, 0.995]) {
    const ends = {};
    const strategy = { name: 'split', decide: () => ({ device: 'split', gpuShare: share, reason: 'fixed' }) };
    const scheduler = new HybridScheduler(timed(pool, ends, reserve), timed(gpu, ends), { strategy });
    const total = [];
    const cpuEnd = [];
    const gpuEnd = [];
    const uploadMs = [];
    for (let r = 0; r < rounds + 2; r++) {
      const t = performance.now();
      const { stats } = await scheduler.execute(input);
      if (r < 2) continue;
      total.push(performance.now() - t);
      cpuEnd.push(ends.cpu - t);
      gpuEnd.push(ends.gpu - t);
      uploadMs.push(stats.gpu?.uploadMs ?? NaN);
    }
    const ms = median(total);
    const round2 = (xs) => xs.map((x) => +x.toFixed(2));
    report.runs.push({ cpu: name, gpuShare: +share.toFixed(4), ms, cpuEndMs: median(cpuEnd), gpuEndMs: median(gpuEnd), efficiency: items / ms / report.sumRate, totalMs: round2(total), gpuUploadMs: round2(uploadMs) });
  }
}
console.log(JSON.stringify(report, null, 1));
await gpu.close();
await pool.close();
await runtime.close();
