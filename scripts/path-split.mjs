// Where a scheduled GPU batch spends its time, SHA-256 10K (64 B messages): the GPU
// executor is wrapped so each batch is cut into "pre" (caller to the executor's
// executeInto), "inner" (executeInto itself) and "post" (its return to the caller's
// await). Variants run in turns: the bare executor, a scheduler forced to the GPU,
// the cost model routing (reused decision), and the same with prom-client metrics hooks.
// With an older build's index.js, its scheduler, cost model and metrics drive the same
// wrapped executor too (before / after in one run).
// Run after `supervm calibrate` (the cost model loads its models). Prints one JSON object.
// Usage: node scripts/path-split.mjs [rounds] [old-build/dist/src/index.js]
import { CostModelStrategy, HybridScheduler, ModelStore, ThresholdStrategy, createMetrics } from '@supervm/gpu-executor';
import { sha256Setup } from './sha256-10k-setup.mjs';

const rounds = Number(process.argv[2] ?? 300);
const { kernel, input, runtime, gpu, cpu, adapter, loadStore: load } = await sha256Setup();

// The stamps of the batch in flight (one at a time).
let enter = 0;
let exit = 0;
const timed = {
  deviceKind: 'gpu',
  kernel,
  isAvailable: () => gpu.isAvailable(),
  createOutput: (items) => kernel.createOutput(items),
  async executeInto(inp, out, options) {
    enter = performance.now();
    try {
      return await gpu.executeInto(inp, out, options);
    } finally {
      exit = performance.now();
    }
  },
  async execute(inp, options) {
    const validated = kernel.validate(inp);
    const items = kernel.count(validated);
    const output = kernel.createOutput(items);
    const stats = await this.executeInto(validated, output, { ...options, start: 0, end: items });
    return { output, stats };
  },
  close: async () => {},
};
// Each cost model its own copy of the calibrated models: what one stores cannot change the other's refits.
const loadStore = (Store) => load(Store);
const metrics = createMetrics({ runtime, defaultMetrics: false });
const forced = new HybridScheduler(cpu, timed, { strategy: new ThresholdStrategy(1) });
const auto = new HybridScheduler(cpu, timed, { strategy: new CostModelStrategy(kernel, { store: loadStore(ModelStore) }) });
const autoMetrics = new HybridScheduler(cpu, timed, { strategy: new CostModelStrategy(kernel, { store: loadStore(ModelStore) }), onBatch: metrics.onBatch, onDecision: metrics.onDecision });
const variants = {
  'gpu.execute': () => timed.execute(input),
  forced: () => forced.execute(input, { device: 'gpu' }),
  'auto cost-model': () => auto.execute(input),
  'auto + metrics': () => autoMetrics.execute(input),
};
if (process.argv[3]) {
  const old = await import(new URL(process.argv[3], `file://${process.cwd()}/`).href);
  const oldMetrics = old.createMetrics({ runtime, defaultMetrics: false });
  const oldForced = new old.HybridScheduler(cpu, timed, { strategy: new old.ThresholdStrategy(1) });
  const oldAuto = new old.HybridScheduler(cpu, timed, { strategy: new old.CostModelStrategy(kernel, { store: loadStore(old.ModelStore) }), onBatch: oldMetrics.onBatch, onDecision: oldMetrics.onDecision });
  variants['old forced'] = () => oldForced.execute(input, { device: 'gpu' });
  variants['old auto + metrics'] = () => oldAuto.execute(input);
}
const names = Object.keys(variants);
const rows = Object.fromEntries(names.map((k) => [k, { total: [], pre: [], inner: [], post: [], routes: {} }]));
for (let r = 0; r < rounds + 10; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(r + i) % names.length];
    enter = exit = Number.NaN;
    const t0 = performance.now();
    const { stats } = await variants[name]();
    const t1 = performance.now();
    if (r < 10) continue;
    const row = rows[name];
    row.routes[stats.backend] = (row.routes[stats.backend] ?? 0) + 1;
    if (Number.isNaN(enter)) continue;
    row.total.push(t1 - t0);
    row.pre.push(enter - t0);
    row.inner.push(exit - enter);
    row.post.push(t1 - exit);
  }
}
const median = (xs) => (xs.length === 0 ? null : +[...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(4));
const us = (xs) => (xs.length === 0 ? null : +(median(xs) * 1000).toFixed(1));
console.log(
  JSON.stringify(
    {
      rounds,
      adapter: adapter ? `${adapter.vendor} ${adapter.backend}${adapter.software ? ' (software)' : ''}` : 'none',
      variants: names.map((name) => {
        const row = rows[name];
        return { name, totalMs: median(row.total), preUs: us(row.pre), innerMs: median(row.inner), postUs: us(row.post), gpuBatches: row.total.length, routes: row.routes };
      }),
    },
    null,
    1,
  ),
);
for (const s of [forced, auto, autoMetrics]) await s.close();
await gpu.close();
await runtime.close();
