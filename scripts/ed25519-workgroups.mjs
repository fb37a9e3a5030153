// Ed25519 GPU throughput by workgroup size and items per dispatch on one batch,
// verdicts checked against the CPU kernel. Usage: node scripts/ed25519-workgroups.mjs [items]
import { GpuDeviceManager, ParallelCpuExecutor, WebGpuExecutor, WorkerPool } from '@supervm/gpu-executor';
import { ed25519Kernel } from '@supervm/gpu-executor/kernels';
import { signedBatch } from './ed25519-batch.mjs';

const n = Number(process.argv[2] ?? 65536);
const input = signedBatch(n, { corruptEvery: 16 });
const cpu = new ParallelCpuExecutor(ed25519Kernel);
const expected = (await cpu.execute(input)).output;
await cpu.close();
const devices = new GpuDeviceManager();
// Records are packed on the pool, as the runtime does.
const hostPool = new WorkerPool();
const rows = [];
const configs = [];
for (const wg of [64, 128, 256]) for (const chunk of [8192, 16384, 32768, 65536]) configs.push([wg, chunk]);
for (const [wg, chunk] of configs) {
  const chunkEnd = (_input, start, end) => Math.min(end, start + chunk);
  const kernel = { ...ed25519Kernel, name: `ed25519-verify-wg${wg}`, gpu: { ...ed25519Kernel.gpu, workgroupSize: wg, chunkEnd } };
  const gpu = new WebGpuExecutor(kernel, { devices, hostPool });
  await gpu.execute(input);
  const times = [];
  let out;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const res = await gpu.execute(input);
    times.push(performance.now() - t);
    out = res.output;
  }
  times.sort((a, b) => a - b);
  const ms = times[1];
  const row = { workgroupSize: wg, chunkItems: chunk, medianMs: +ms.toFixed(2), verifiesPerSecond: Math.round(n / (ms / 1000)), equalToCpu: Buffer.compare(Buffer.from(out), Buffer.from(expected)) === 0 };
  rows.push(row);
  console.error(JSON.stringify(row));
}
console.log(JSON.stringify({ items: n, rows }, null, 1));
await hostPool.close();
await devices.close();
