// What `auto` adds over a forced device on SHA-256 10K, bisected: the same GPU and
// pool executors behind schedulers whose strategies differ only in decide or observe.
// Run after `supervm calibrate` (the cost-model variants load its models). With an older
// build's index.js, its scheduler and cost model drive the same executors too (before / after).
// Prints one JSON object: per variant the median and mean ms (a refresh on the slower device moves
// the mean, not the median), and where its batches ran.
// Usage: [SPLITS=0.7,0.85] node scripts/auto-overhead.mjs [rounds] [old-build/dist/src/index.js]
import { CostModelStrategy, HybridScheduler, ThresholdStrategy } from '@supervm/gpu-executor';
import { sha256Setup } from './sha256-10k-setup.mjs';

const rounds = Number(process.argv[2] ?? 200);
const { n, kernel, input, runtime, gpu, cpu, loadStore } = await sha256Setup();
const store = () => loadStore();
const costModel = () => new CostModelStrategy(kernel, { store: store() });
// decide of the cost model, observe dropped; and the reverse.
const decideOnly = () => {
  const s = costModel();
  return { name: 'decide-only', decide: (c) => s.decide(c) };
};
const observeOnly = () => {
  const s = costModel();
  return { name: 'observe-only', decide: () => ({ device: 'gpu', reason: 'fixed' }), observe: (x) => s.observe(x) };
};
const schedulers = {
  threshold: new HybridScheduler(cpu, gpu, { strategy: new ThresholdStrategy(1) }),
  'cost-model': new HybridScheduler(cpu, gpu, { strategy: costModel() }),
  'decide-only': new HybridScheduler(cpu, gpu, { strategy: decideOnly() }),
  'observe-only': new HybridScheduler(cpu, gpu, { strategy: observeOnly() }),
};
// Co-execution at fixed GPU shares (SPLITS, comma-separated, e.g. 0.7,0.85): can a split beat the GPU alone at this size?
const splits = (process.env.SPLITS ?? '').split(',').filter(Boolean).map(Number);
for (const share of splits) {
  schedulers[`split ${share}`] = new HybridScheduler(cpu, gpu, { strategy: { name: 'fixed-split', decide: () => ({ device: 'split', gpuShare: share, reason: 'fixed' }) } });
}
const variants = { 'gpu.execute': () => gpu.execute(input), 'forced gpu': () => schedulers.threshold.execute(input, { device: 'gpu' }) };
for (const [name, s] of Object.entries(schedulers)) variants[`auto ${name}`] = () => s.execute(input);
// The same shares with the GPU part staged first and the calling thread joining the CPU part
// (the scheduler keeps it out): the driving thread is idle while the GPU computes.
for (const share of splits) {
  const cut = Math.round(n * (1 - share));
  variants[`gpu first, caller joins ${share}`] = async () => {
    const output = kernel.createOutput(n);
    const gpuPart = gpu.executeInto(input, output, { start: cut, end: n });
    await new Promise(setImmediate);
    const [cpuStats, gpuStats] = await Promise.all([cpu.executeInto(input, output, { start: 0, end: cut }), gpuPart]);
    return { output, stats: { ...gpuStats, backend: `${cpuStats.backend}+${gpuStats.backend}` } };
  };
}
if (process.argv[3]) {
  const old = await import(new URL(process.argv[3], `file://${process.cwd()}/`).href);
  const oldForced = new old.HybridScheduler(cpu, gpu, { strategy: new old.ThresholdStrategy(1) });
  const oldAuto = new old.HybridScheduler(cpu, gpu, { strategy: new old.CostModelStrategy(kernel, { store: store() }) });
  variants['old forced gpu'] = () => oldForced.execute(input, { device: 'gpu' });
  variants['old auto cost-model'] = () => oldAuto.execute(input);
}
const runtimeScheduler = await runtime.scheduler(kernel);
variants['runtime auto'] = () => runtimeScheduler.execute(input);
variants['runtime forced gpu'] = () => runtimeScheduler.execute(input, { device: 'gpu' });
const names = Object.keys(variants);
const times = Object.fromEntries(names.map((k) => [k, []]));
const inner = Object.fromEntries(names.map((k) => [k, []]));
const routes = Object.fromEntries(names.map((k) => [k, {}]));
for (let r = 0; r < rounds + 10; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(r + i) % names.length];
    const t = performance.now();
    const { stats } = await variants[name]();
    const ms = performance.now() - t;
    if (r < 10) continue;
    times[name].push(ms);
    inner[name].push(stats.durationMs);
    routes[name][stats.backend] = (routes[name][stats.backend] ?? 0) + 1;
  }
}
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
console.log(JSON.stringify({ rounds, variants: names.map((name) => ({ name, medianMs: +q(times[name], 0.5).toFixed(4), meanMs: +(times[name].reduce((a, b) => a + b, 0) / times[name].length).toFixed(4), p10Ms: +q(times[name], 0.1).toFixed(4), innerMedianMs: +q(inner[name], 0.5).toFixed(4), routes: routes[name] })) }, null, 1));
for (const s of Object.values(schedulers)) await s.close();
await runtime.close();
