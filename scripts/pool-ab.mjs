// The worker pool of this build against another build's (a copy of an older
// dist), on the same inputs in rotated rounds: one-thread time, each pool's
// time, efficiency (one-thread / pool / threads) and the ratio old / new.
// "apart" is this build with the calling thread kept out of short batches
// (callerJoinsUnderNs 0); SUPERVM_JOIN_NS sets this build's threshold.
// Each turn runs a variant 5 times back to back (medianRotatedBlocks).
// Usage: node scripts/pool-ab.mjs OTHER_DIST_INDEX_JS [rounds]
//   e.g. node scripts/pool-ab.mjs node_modules/.old-dist/dist/src/index.js 15
import { availableParallelism } from 'node:os';
import * as current from '@supervm/gpu-executor';
import { sha256Kernel, ed25519Kernel } from '@supervm/gpu-executor/kernels';
import { medianRotatedBlocks } from './rotated-rounds.mjs';
import { signedBatch } from './ed25519-batch.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const other = await import(new URL(process.argv[2], `file://${process.cwd()}/`).href);
const otherKernels = await import(new URL(process.argv[2].replace(/index\.js$/, 'kernels/index.js'), `file://${process.cwd()}/`).href);
const rounds = Number(process.argv[3] ?? 15);
const threads = availableParallelism();
const joinNs = process.env.SUPERVM_JOIN_NS === undefined ? undefined : Number(process.env.SUPERVM_JOIN_NS);

const builds = {
  this: { lib: current, kernels: { sha256: sha256Kernel, ed25519: ed25519Kernel } },
  other: { lib: other, kernels: { sha256: otherKernels.sha256Kernel, ed25519: otherKernels.ed25519Kernel } },
};
for (const b of Object.values(builds)) b.pool = new b.lib.WorkerPool({ threads });
const out = { threads, rounds, cases: [] };
for (const [name, n, make] of [
  ['sha256', 1_000, () => sha256Batch(1_000)],
  ['sha256', 10_000, () => sha256Batch(10_000)],
  ['sha256', 100_000, () => sha256Batch(100_000)],
  ['ed25519', 1_000, () => signedBatch(1_000, { corruptEvery: 16 })],
  ['ed25519', 8_192, () => signedBatch(8_192, { corruptEvery: 16 })],
]) {
  const input = current.shareColumns(make());
  const one = new current.CpuMapExecutor(builds.this.kernels[name]);
  const execs = Object.fromEntries(Object.entries(builds).map(([k, b]) => [k, new b.lib.ParallelCpuExecutor(b.kernels[name], { pool: b.pool, ...(k === 'this' && joinNs !== undefined ? { callerJoinsUnderNs: joinNs } : {}) })]));
  execs.apart = new current.ParallelCpuExecutor(builds.this.kernels[name], { pool: builds.this.pool, callerJoinsUnderNs: 0 });
  const variants = { one: () => one.execute(input), ...Object.fromEntries(Object.entries(execs).map(([k, e]) => [k, () => e.execute(input)])) };
  const reps = name === 'ed25519' && n > 2000 ? Math.max(3, rounds >> 2) : rounds;
  const ms = Object.fromEntries(Object.entries(await medianRotatedBlocks(variants, reps, 1, 5)).map(([k, v]) => [k, +v.toFixed(3)]));
  out.cases.push({
    kernel: name,
    items: n,
    ms,
    efficiency: Object.fromEntries(['this', 'apart', 'other'].map((k) => [k, +(ms.one / ms[k] / threads).toFixed(3)])),
    otherOverThis: +(ms.other / ms.this).toFixed(3),
    apartOverThis: +(ms.apart / ms.this).toFixed(3),
  });
  console.error(JSON.stringify(out.cases.at(-1)));
}
for (const b of Object.values(builds)) await b.pool.close();
console.log(JSON.stringify(out));
