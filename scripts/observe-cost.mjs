// What the cost model's observe costs a GPU batch, SHA-256 10K, every variant in turns:
// no observe at all (threshold), an empty observe handed over on setImmediate as the
// scheduler does, the cost model with and without refreshes, with observe dropped, and
// with observe called on the caller's path right after the result. Run after
// `supervm calibrate` (the cost models load its file). Prints one JSON object.
// Usage: node scripts/observe-cost.mjs [rounds]
import { CostModelStrategy, HybridScheduler, ThresholdStrategy } from '@supervm/gpu-executor';
import { medianRotated } from './rotated-rounds.mjs';
import { sha256Setup } from './sha256-10k-setup.mjs';

const rounds = Number(process.argv[2] ?? 1000);
const { n, kernel, input, runtime, gpu, cpu, loadStore } = await sha256Setup();
const store = () => loadStore();
const threshold = new ThresholdStrategy(1);
const scheduler = (strategy) => new HybridScheduler(cpu, gpu, { strategy });
const noRefresh = () => new CostModelStrategy(kernel, { store: store(), refreshEvery: 0 });
const dropped = noRefresh();
const onCaller = noRefresh();
const schedulers = {
  threshold: scheduler(threshold),
  'threshold + empty observe': scheduler({ name: 'empty', decide: (c) => threshold.decide(c), observe: () => {} }),
  'cost-model': scheduler(new CostModelStrategy(kernel, { store: store() })),
  'cost-model, no refresh': scheduler(noRefresh()),
  'cost-model, no refresh, observe dropped': scheduler({ name: 'dropped', decide: (c) => dropped.decide(c) }),
  'cost-model, no refresh, observe on the caller': scheduler({ name: 'caller', decide: (c) => onCaller.decide(c) }),
};
const variants = { 'gpu.execute': () => gpu.execute(input) };
for (const [name, s] of Object.entries(schedulers)) variants[name] = () => s.execute(input);
const callerPath = variants['cost-model, no refresh, observe on the caller'];
variants['cost-model, no refresh, observe on the caller'] = async () => {
  const result = await callerPath();
  const { stats } = result;
  onCaller.observe({ kernel: kernel.name, device: stats.device, items: n, work: kernel.work(input, 0, n), durationMs: stats.durationMs });
  return result;
};
// Where each variant's timed batches went (the warm-up rounds run first, uncounted).
let routes = {};
const counted = Object.fromEntries(
  Object.entries(variants).map(([name, run]) => [
    name,
    async () => {
      const result = await run();
      const tally = (routes[name] ??= {});
      tally[result.stats.backend] = (tally[result.stats.backend] ?? 0) + 1;
      return result;
    },
  ]),
);
await medianRotated(counted, 20, 0);
routes = {};
const medians = await medianRotated(counted, rounds, 0);
console.log(JSON.stringify({ rounds, variants: Object.keys(variants).map((name) => ({ name, medianMs: +medians[name].toFixed(4), routes: routes[name] })) }, null, 1));
for (const s of Object.values(schedulers)) await s.close();
await runtime.close();
