// Where the worker pool's efficiency goes: for each CPU kernel and size, one
// thread in-process against (1) raw worker threads, each running one equal
// static slice of the batch (no pool, no queue: the kernel's own scaling on
// this machine) and (2) the ParallelCpuExecutor at several thread counts and
// task sizes. Workers time their own slices, so per-thread slowdown under load
// (clocks, memory) is told apart from idle time (dispatch, tail).
// Inputs live in shared memory, as the bench has them. Prints one JSON object.
// Usage: node scripts/pool-scaling.mjs [repeats]
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CpuMapExecutor, ParallelCpuExecutor, WorkerPool, createSharedOutput, measureParallelScaling, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { signedBatch } from './ed25519-batch.mjs';

const repeats = Number(process.argv[2] ?? 5);
const threads = availableParallelism();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A raw worker: imports the kernel module once, runs [start, end) on request and reports its own time.
const RAW = `
  const { parentPort } = require('node:worker_threads');
  const kernels = new Map();
  parentPort.on('message', async ({ moduleUrl, columns, output, items, start, end }) => {
    if (!kernels.has(moduleUrl)) kernels.set(moduleUrl, (await import(moduleUrl)).kernel);
    const kernel = kernels.get(moduleUrl);
    const t0 = performance.now();
    kernel.cpu(columns, kernel.createOutput(items, output), start, end);
    parentPort.postMessage(performance.now() - t0);
  });`;

const cases = [
  ['sha256', sha256Kernel, () => ({ data: new Uint8Array(64 << 20).fill(3), offsets: Uint32Array.from({ length: (1 << 20) + 1 }, (_, i) => i * 64) })],
  ['sha256', sha256Kernel, () => ({ data: new Uint8Array(10_000 * 64).fill(3), offsets: Uint32Array.from({ length: 10_001 }, (_, i) => i * 64) })],
  ['ed25519-verify', ed25519Kernel, () => signedBatch(1000, { corruptEvery: 16 })],
  ['ed25519-verify', ed25519Kernel, () => signedBatch(8192, { corruptEvery: 16 })],
  ['vector-add', vectorAddKernel, () => ({ a: new Float32Array(1 << 24).fill(1.5), b: new Float32Array(1 << 24).fill(2.25) })],
];

const report = { threads, repeats, scalingStart: await measureParallelScaling(threads), cases: [] };
const raw = Array.from({ length: threads }, () => new Worker(RAW, { eval: true }));
const rawRun = (w, task) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); w.postMessage(task); });

for (const [name, kernel, make] of cases) {
  const input = shareColumns(make());
  const items = kernel.count(input);
  const one = new CpuMapExecutor(kernel);
  const time = async (f) => {
    await f();
    const xs = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await f();
      xs.push(performance.now() - t0);
    }
    return median(xs);
  };
  const oneMs = await time(() => one.execute(input));
  // Raw static slices: wall time of the batch, and each worker's own time for its slice.
  const output = createSharedOutput(kernel, items);
  const rawWall = [];
  const rawSlice = [];
  for (let r = 0; r <= repeats; r++) {
    const t0 = performance.now();
    const own = await Promise.all(raw.map((w, k) => rawRun(w, { moduleUrl: kernel.moduleUrl, columns: input, output: output.buffer, items, start: Math.floor((k * items) / threads), end: Math.floor(((k + 1) * items) / threads) })));
    if (r > 0) {
      rawWall.push(performance.now() - t0);
      rawSlice.push(median(own));
    }
  }
  const row = { kernel: name, items, oneMs, raw: { wallMs: median(rawWall), sliceMedianMs: median(rawSlice), efficiency: oneMs / median(rawWall) / threads, perThreadSpeed: oneMs / threads / median(rawSlice) }, pool: [] };
  for (const [t, maxTaskNs] of [[threads, 4e6], [threads, 1e6], [threads, 16e6], [Math.max(1, threads >> 1), 4e6], [Math.max(1, threads >> 2), 4e6]]) {
    const pool = new WorkerPool({ threads: t });
    const exec = new ParallelCpuExecutor(kernel, { pool, maxTaskNs });
    // A fresh pool's workers start and load the kernel module on their first task: one slice of the
    // batch per worker first, so it is timed on warm workers (as a long-lived pool's are).
    const slice = (k) => ({ moduleUrl: kernel.moduleUrl, columns: input, output: output.buffer, items, start: Math.floor((k * items) / t), end: Math.floor(((k + 1) * items) / t) });
    await Promise.all(Array.from({ length: t }, (_, k) => pool.run(slice(k))));
    const ms = await time(() => exec.execute(input));
    row.pool.push({ threads: t, maxTaskNs, ms, efficiency: oneMs / ms / t });
    await exec.close();
    await pool.close();
  }
  report.cases.push(row);
  console.error(JSON.stringify(row));
}
await Promise.all(raw.map((w) => w.terminate()));
report.scalingEnd = await measureParallelScaling(threads);
console.log(JSON.stringify(report));
