// Does a second WebGpuExecutor of the same kernel on the same device slow the first? SHA-256 10K:
// executor A alone, then A and B in turns, then A, a scheduler forced to A, and the runtime's
// scheduler (its own executor) in turns. Medians in ms. Usage: node scripts/two-executors.mjs [rounds]
import { HybridScheduler, ParallelCpuExecutor, Runtime, ThresholdStrategy, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { sha256Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { medianRotated } from './rotated-rounds.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const rounds = Number(process.argv[2] ?? 500);
const input = shareColumns(sha256Batch(10_000));
const runtime = new Runtime();
await runtime.info();
const make = () => new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool });
const a = make();
const b = make();
const forcedA = new HybridScheduler(new ParallelCpuExecutor(kernel, { pool: runtime.pool }), a, { strategy: new ThresholdStrategy(1) });
const rt = await runtime.scheduler(kernel);
async function turns(variants) {
  const medians = await medianRotated(variants, rounds, 20);
  return Object.fromEntries(Object.entries(medians).map(([k, ms]) => [k, +ms.toFixed(4)]));
}
const out = {
  alone: await turns({ A: () => a.execute(input) }),
  'A and B': await turns({ A: () => a.execute(input), B: () => b.execute(input) }),
  mixed: await turns({ A: () => a.execute(input), 'forced A': () => forcedA.execute(input, { device: 'gpu' }), 'runtime forced': () => rt.execute(input, { device: 'gpu' }), 'runtime auto': () => rt.execute(input) }),
};
console.log(JSON.stringify(out));
await runtime.close();
