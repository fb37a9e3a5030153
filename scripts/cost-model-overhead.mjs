// The cost model's own price per routed batch: decide + observe on a steady
// stream of same-size batches whose times are noisy (lognormal, sigma 0.15,
// plus a 3x spike on 3 % of batches: GC and driver hiccups), from models
// filled the way `supervm calibrate` fills them. Pure CPU, no executors.
// With a second argument, the same loop on another build of the package
// (e.g. a copy of an older dist) for a before/after ratio in one run.
// Usage: node scripts/cost-model-overhead.mjs [batches] [other/dist/src/index.js]
import { cpuMs, gpuMs } from './h100-sha256-curves.mjs';

const batches = Number(process.argv[2] ?? 20_000);
const builds = [['this build', '@supervm/gpu-executor']];
if (process.argv[3]) builds.push(['other build', new URL(process.argv[3], `file://${process.cwd()}/`).href]);

// A seeded generator, so both builds see the same times.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function measure(spec) {
  const { CostModelStrategy, ModelStore } = await import(spec);
  const store = new ModelStore({ path: false });
  const s = new CostModelStrategy('sha256', { store });
  const r = rng(7);
  const noise = () => Math.exp(0.15 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())) * (r() < 0.03 ? 3 : 1);
  for (let e = 10; e <= 26; e++) for (let k = 0; k < 8; k++) {
    const w = 2 ** e;
    store.observe('sha256', 'cpu', w, cpuMs(w) * noise());
    store.observe('sha256', 'gpu', w, gpuMs(w) * noise());
  }
  const work = 10_000 * 64;
  const ctx = { kernel: 'sha256', items: 10_000, work, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
  const refitsBefore = store.refits;
  const routes = { cpu: 0, gpu: 0, split: 0 };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) {
    const d = s.decide(ctx);
    routes[d.device]++;
    const device = d.device === 'split' ? 'gpu' : d.device;
    s.observe({ kernel: 'sha256', device, items: ctx.items, work, durationMs: (device === 'cpu' ? cpuMs(work) : gpuMs(work)) * noise() });
  }
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / batches;
  return { usPerBatch: +us.toFixed(2), refits: store.refits - refitsBefore, routes };
}

const out = { batches, results: {} };
// Alternate builds twice so JIT warm-up and machine drift hit both alike.
for (let round = 0; round < 2; round++) for (const [name, spec] of builds) out.results[name] = await measure(spec);
if (builds.length === 2) out.ratio = +(out.results['other build'].usPerBatch / out.results['this build'].usPerBatch).toFixed(2);
console.log(JSON.stringify(out, null, 1));
