// The worker pool's throughput with several batches in flight, against one
// thread's: a lone short batch pays the workers' wake-up and the tail of its
// last parts, which batches submitted side by side (a node verifying several
// blocks, a server with concurrent requests) can hide behind each other.
// For each batch and each number in flight k, rounds of k `execute` calls
// started together; rate = k * items / round time. Rounds take turns (rotated).
// With another build's index.js, its pool runs the same rounds too (before / after in one run).
// Usage: node scripts/pool-throughput.mjs [rounds] [in-flight list, default 1,2,4,8] [OTHER_DIST_INDEX_JS]
import { availableParallelism } from 'node:os';
import { CpuMapExecutor, ParallelCpuExecutor, WorkerPool, shareColumns } from '@supervm/gpu-executor';
import { sha256Kernel, ed25519Kernel } from '@supervm/gpu-executor/kernels';
import { medianRotatedBlocks } from './rotated-rounds.mjs';
import { signedBatch } from './ed25519-batch.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const rounds = Number(process.argv[2] ?? 9);
const inFlight = (process.argv[3] ?? '1,2,4,8').split(',').map(Number);
const threads = availableParallelism();
const pool = new WorkerPool({ threads });
const other = process.argv[4] ? await import(new URL(process.argv[4], `file://${process.cwd()}/`).href) : undefined;
const otherPool = other && new other.WorkerPool({ threads });
const out = { threads, rounds, inFlight, cases: [] };
for (const [kernel, n, make] of [
  [sha256Kernel, 1_000, () => sha256Batch(1_000)],
  [sha256Kernel, 10_000, () => sha256Batch(10_000)],
  [ed25519Kernel, 1_000, () => signedBatch(1_000, { corruptEvery: 16 })],
]) {
  // One input per batch in flight, so no two batches share a cache line of input.
  const inputs = Array.from({ length: Math.max(...inFlight) }, () => shareColumns(make()));
  const one = new CpuMapExecutor(kernel);
  const parallel = new ParallelCpuExecutor(kernel, { pool });
  const variants = { one: () => one.execute(inputs[0]) };
  for (const k of inFlight) variants[`pool x${k}`] = () => Promise.all(inputs.slice(0, k).map((input) => parallel.execute(input)));
  if (other) {
    const otherParallel = new other.ParallelCpuExecutor(kernel, { pool: otherPool });
    for (const k of inFlight) variants[`other x${k}`] = () => Promise.all(inputs.slice(0, k).map((input) => otherParallel.execute(input)));
  }
  const ms = await medianRotatedBlocks(variants, rounds, 1, 5);
  const oneRate = n / ms.one;
  const row = {
    kernel: kernel.name,
    items: n,
    oneMs: +ms.one.toFixed(3),
    // Efficiency: the pool's rate over (one thread's rate x threads).
    ...Object.fromEntries(
      (other ? ['pool', 'other'] : ['pool']).map((build) => [
        build,
        inFlight.map((k) => {
          const roundMs = ms[`${build} x${k}`];
          return { inFlight: k, roundMs: +roundMs.toFixed(3), efficiency: +((k * n) / roundMs / (oneRate * threads)).toFixed(3) };
        }),
      ]),
    ),
  };
  out.cases.push(row);
  console.error(JSON.stringify(row));
}
await pool.close();
await otherPool?.close();
console.log(JSON.stringify(out));
