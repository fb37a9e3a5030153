// Runs one way of executing SHA-256 10K (64 B messages) many times in a row, to
// profile what a path costs per batch (`node --cpu-prof scripts/batch-loop.mjs ...`):
// `gpu` calls the GPU executor, `forced` the runtime's scheduler with device gpu,
// `auto` the runtime's scheduler as routed. Prints the median ms of the last half.
// Usage: node scripts/batch-loop.mjs gpu|forced|auto [batches]
import { Runtime, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { sha256Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { sha256Batch } from './sha256-batch.mjs';

const [way = 'auto', count = '3000'] = process.argv.slice(2);
const n = 10_000;
const input = shareColumns(sha256Batch(n));
const runtime = new Runtime();
await runtime.info();
const gpu = new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool });
const scheduler = await runtime.scheduler(kernel);
const run = { gpu: () => gpu.execute(input), forced: () => scheduler.execute(input, { device: 'gpu' }), auto: () => scheduler.execute(input) }[way];
if (run === undefined) throw new TypeError(`way must be gpu, forced or auto, not ${way}`);
const ms = [];
for (let i = 0; i < Number(count); i++) {
  const t = performance.now();
  await run();
  ms.push(performance.now() - t);
}
const half = ms.slice(ms.length >> 1).sort((a, b) => a - b);
console.log(JSON.stringify({ way, batches: ms.length, medianMs: half[half.length >> 1] }));
await gpu.close();
await runtime.close();
