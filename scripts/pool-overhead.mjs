// The worker pool's fixed cost per batch: SHA-256 batches too small to matter
// (64 B messages) spread over 1..N threads (minTaskNs 0), against the same
// batch in-thread, and a bare piscina round trip. Medians of rotated rounds.
// Prints one JSON object. Usage: node scripts/pool-overhead.mjs [rounds]
import { availableParallelism } from 'node:os';
import { CpuMapExecutor, ParallelCpuExecutor, WorkerPool, shareColumns } from '@supervm/gpu-executor';
import { sha256Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { medianRotated } from './rotated-rounds.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const rounds = Number(process.argv[2] ?? 200);
const max = availableParallelism();
const shaInput = (n) => shareColumns(sha256Batch(n));
const threadCounts = [...new Set([1, 2, 4, 8, max])].filter((t) => t <= max);
const pools = Object.fromEntries(threadCounts.map((t) => [t, new WorkerPool({ threads: t })]));
const report = { threads: max, rounds, cases: [] };
for (const items of [64, 1024, 10_000]) {
  const input = shaInput(items);
  const variants = { inline: () => new CpuMapExecutor(kernel).execute(input) };
  for (const t of threadCounts) {
    const exec = new ParallelCpuExecutor(kernel, { pool: pools[t], minTaskNs: 0 });
    variants[`pool ${t}t`] = () => exec.execute(input);
  }
  const medians = await medianRotated(variants, rounds, 10);
  report.cases.push({ kernel: 'sha256', items, medianMs: Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, +v.toFixed(4)])) });
  console.error(JSON.stringify(report.cases.at(-1)));
}
for (const p of Object.values(pools)) await p.close();
console.log(JSON.stringify(report));
