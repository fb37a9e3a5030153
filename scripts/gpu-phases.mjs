// Where a GPU batch's time goes, per kernel, with the executor's own stats
// (timestamp-query compute where the adapter has it), plus the scheduler's
// routing of the same batches. Prints one JSON object.
// Usage: node scripts/gpu-phases.mjs [repeats]
import { GpuDeviceManager, Runtime, WebGpuExecutor, WorkerPool, measureGpu } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { signedBatch } from './ed25519-batch.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const repeats = Number(process.argv[2] ?? 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const vaddInput = (n) => ({ a: new Float32Array(n).fill(1.5), b: new Float32Array(n).fill(2.25) });

const cases = [
  ['vector-add', vectorAddKernel, vaddInput, [1 << 20, 1 << 24]],
  ['sha256', sha256Kernel, sha256Batch, [10_000, 1_000_000]],
  ['ed25519-verify', ed25519Kernel, (n) => signedBatch(n), [1024, 65536]],
];
const devices = new GpuDeviceManager();
const pool = new WorkerPool();
const report = { micro: await measureGpu(devices, { transferBytes: [4 << 20, 64 << 20, 256 << 20], residentElements: [1 << 24] }), phases: [] };
for (const [name, kernel, make, sizes] of cases) {
  // Kernels with a host pack run both ways, alternating, so the ratio comes from one run.
  const variants = kernel.gpu.hostPack
    ? [['in-thread pack', new WebGpuExecutor(kernel, { devices })], ['pool pack', new WebGpuExecutor(kernel, { devices, hostPool: pool })]]
    : [['', new WebGpuExecutor(kernel, { devices })]];
  for (const n of sizes) {
    const input = make(n);
    const runs = variants.map(() => []);
    for (const [, gpu] of variants) await gpu.execute(input);
    for (let r = 0; r < repeats; r++) {
      for (const [v, [, gpu]] of variants.entries()) runs[v].push((await gpu.execute(input)).stats);
    }
    for (const [v, [variant]] of variants.entries()) {
      const at = runs[v].find((s) => s.durationMs === median(runs[v].map((s) => s.durationMs)));
      report.phases.push({ kernel: name, variant, items: n, medianMs: at.durationMs, itemsPerSecond: n / (at.durationMs / 1000), ...at.gpu });
    }
  }
  for (const [, gpu] of variants) await gpu.close();
}
await pool.close();
await devices.close();

// The scheduler's choice on the seed's sizes: where each run went and how long it took, next to the GPU alone.
const runtime = new Runtime();
report.routing = [];
for (const [name, kernel, make, sizes] of cases) {
  const scheduler = await runtime.scheduler(kernel);
  const input = make(sizes[0]);
  for (const device of ['gpu', 'cpu', 'auto']) {
    const runs = [];
    for (let r = 0; r < 3 * repeats; r++) {
      const t = performance.now();
      const { stats } = await scheduler.execute(input, { device });
      runs.push({ ms: performance.now() - t, backend: stats.backend });
    }
    const routes = {};
    for (const r of runs) routes[r.backend] = (routes[r.backend] ?? 0) + 1;
    report.routing.push({ kernel: name, items: sizes[0], device, medianMs: median(runs.map((r) => r.ms)), routes });
  }
}
await runtime.close();
console.log(JSON.stringify(report, null, 1));
