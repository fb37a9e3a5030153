// Ed25519 on the GPU, both plans on the same batch in one process: k hashed on
// the host (records packed on the worker pool) against k hashed in the shader.
// Checks that the verdicts match. Prints one JSON line per plan.
// Usage: node scripts/ed25519-gpu-hash.mjs [items] [runs]
import { GpuDeviceManager, WebGpuExecutor, WorkerPool, shareColumns } from '@supervm/gpu-executor';
import { hostPackedKernel, kernel } from '../packages/gpu-executor/dist/src/kernels/ed25519/index.js';
import { signedBatch } from './ed25519-batch.mjs';

const n = Number(process.argv[2] ?? 65536);
const runs = Number(process.argv[3] ?? 9);
const input = shareColumns(signedBatch(n, { corruptEvery: 16 }));
const devices = new GpuDeviceManager();
const pool = new WorkerPool();
let want;
for (const [plan, k] of [['host-pack', hostPackedKernel], ['gpu-hash', kernel]]) {
  const gpu = new WebGpuExecutor(k, { devices, hostPool: pool });
  for (let i = 0; i < 2; i++) await gpu.execute(input);
  const samples = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    last = await gpu.execute(input);
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    samples.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  samples.sort((a, b) => a.ms - b.ms);
  const mid = samples[runs >> 1];
  want ??= Buffer.from(last.output);
  // process.cpuUsage counts every thread of the process: the pool's packing shows here.
  console.log(JSON.stringify({ plan, items: n, medianMs: +mid.ms.toFixed(2), p10Ms: +samples[Math.floor(runs / 10)].ms.toFixed(2), perSecond: Math.round(n / (mid.ms / 1000)), processCpuMs: +mid.cpuMs.toFixed(1), sameVerdicts: want.equals(Buffer.from(last.output)), gpu: last.stats.gpu }));
  await gpu.close();
}
await pool.close();
await devices.close();
