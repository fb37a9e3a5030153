// What the HybridScheduler and its cost model add to a SHA-256 10K batch, measurable
// without a GPU: a stand-in GPU executor holds the calling thread for HOLD_MS (a GPU
// batch's host work and wait), the real worker pool runs CPU routes, and the models
// are seeded as `supervm calibrate` fills them on the H100 (GPU ~0.5 ms, pool ~0.7 ms).
// Every variant runs in turns (scripts share the bench's mediansInTurns); the report
// gives each median minus the hold. With an older build's index.js, its scheduler
// and cost model drive the same executors (before / after in one run).
// Usage: node scripts/sched-path.mjs [rounds] [old-build/dist/src/index.js]
import * as thisBuild from '@supervm/gpu-executor';
import { ParallelCpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { sha256Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { mediansInTurns } from '../packages/cli/dist/src/bench/regret.js';
import { sha256Batch } from './sha256-batch.mjs';
import { cpuMs, gpuMs } from './h100-sha256-curves.mjs';

const rounds = Number(process.argv[2] ?? 2000);
const HOLD_MS = 0.3;
const n = 10_000;
const input = shareColumns(sha256Batch(n));

function hold() {
  const until = performance.now() + HOLD_MS;
  while (performance.now() < until);
}
// A GPU executor in shape: validates like the real one (through the kernel), holds the thread, fills nothing.
const gpu = {
  deviceKind: 'gpu',
  backend: 'stand-in',
  kernel,
  isAvailable: () => true,
  createOutput: (items) => kernel.createOutput(items),
  async executeInto(_input, _output, { start, end }) {
    await null;
    hold();
    return { device: 'gpu', backend: 'stand-in', kernel: kernel.name, tasks: end - start, durationMs: HOLD_MS };
  },
  async execute(batch) {
    const validated = kernel.validate(batch);
    const items = kernel.count(validated);
    const output = kernel.createOutput(items);
    const stats = await gpu.executeInto(validated, output, { start: 0, end: items });
    return { output, stats };
  },
  close: async () => {},
};
const cpu = new ParallelCpuExecutor(kernel);

function seeded(build) {
  const store = new build.ModelStore({ path: false });
  for (let e = 10; e <= 26; e++) {
    for (let k = 0; k < 4; k++) {
      store.observe(kernel.name, 'cpu', 2 ** e, cpuMs(2 ** e));
      store.observe(kernel.name, 'gpu', 2 ** e, gpuMs(2 ** e));
    }
  }
  return store;
}

const cases = new Map([['stand-in gpu.execute', () => gpu.execute(input)]]);
const builds = [['', thisBuild]];
if (process.argv[3]) builds.push(['old ', await import(new URL(process.argv[3], `file://${process.cwd()}/`).href)]);
const routes = {};
for (const [prefix, build] of builds) {
  const forced = new build.HybridScheduler(cpu, gpu, { strategy: new build.ThresholdStrategy(1) });
  const auto = new build.HybridScheduler(cpu, gpu, { strategy: new build.CostModelStrategy(kernel, { store: seeded(build) }) });
  const seen = (routes[`${prefix}auto`] = {});
  cases.set(`${prefix}forced gpu`, () => forced.execute(input, { device: 'gpu' }));
  cases.set(`${prefix}auto`, async () => {
    const { stats } = await auto.execute(input);
    seen[stats.device] = (seen[stats.device] ?? 0) + 1;
  });
}
for (const fn of cases.values()) for (let i = 0; i < 50; i++) await fn();
for (const r of Object.values(routes)) for (const k of Object.keys(r)) delete r[k];
const ms = await mediansInTurns(cases, rounds);
const overUs = Object.fromEntries(Object.entries(ms).map(([name, m]) => [name, +((m - HOLD_MS) * 1000).toFixed(1)]));
console.log(JSON.stringify({ rounds, holdMs: HOLD_MS, usOverHold: overUs, routes }, null, 1));
await cpu.close();
