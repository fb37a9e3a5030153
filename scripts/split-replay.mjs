// Replays the H100's SHA-256 10K on CostModelStrategy alone, no executors: calibrate's
// curves (the GPU's 0.84 ms near 10K is stale: it runs ~0.55), a GPU with 8 % of batches
// 2x slow, and `forced` split batches first, as the bench's co-exec row runs them through the
// same strategy. Counts where auto then sends each batch. Seeded: both builds see the same times.
// Usage: node scripts/split-replay.mjs [seeds] [forced] [rounds] [other/dist/src/index.js]
const [seeds = 6, forced = 50, rounds = 300] = process.argv.slice(2, 5).map(Number);
const builds = [['this build', '@supervm/gpu-executor']];
if (process.argv[5]) builds.push(['other build', new URL(process.argv[5], `file://${process.cwd()}/`).href]);

const W = 576; // work units per 64 B message
const n = 10_000;
const cpuCurve = (w) => 8.334e-4 * w ** 0.559; // calibrate on the H100 (call A)
const gpuCurve = (w) => 1.824e-7 * w ** 0.93 + 0.4932;

function replay({ CostModelStrategy, ModelStore }, seed) {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const store = new ModelStore({ path: false });
  for (const items of [64, 256, 1024, 4096, 16384, 65536]) {
    for (let i = 0; i < 3; i++) {
      store.observe('sha256', 'cpu', items * W, cpuCurve(items * W) * (0.8 + 0.4 * rnd()));
      store.observe('sha256', 'gpu', items * W, gpuCurve(items * W) * (0.8 + 0.4 * rnd()));
    }
  }
  const strategy = new CostModelStrategy('sha256', { store });
  const spike = () => (rnd() < 0.08 ? 2 : 1);
  const gpuAlone = () => (0.52 + 0.05 * rnd()) * spike();
  const cpuPool = (items) => (0.4 + items * 0.000115) * (0.9 + 0.2 * rnd()) * spike();
  const routes = {};
  let totalMs = 0;
  for (let r = 0; r < forced + rounds; r++) {
    const ctx = { kernel: 'sha256', items: n, work: n * W, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    const bench = r < forced ? strategy.splitFor(ctx) : undefined;
    const d = bench ? { device: 'split', ...bench } : strategy.decide(ctx);
    if (d.device === 'split') {
      const gpuItems = Math.round(d.gpuShare * n);
      const gpuMs = gpuAlone() * 1.1;
      const cpuMs = cpuPool(n - gpuItems);
      const parts = { cpu: { items: n - gpuItems, work: (n - gpuItems) * W, durationMs: cpuMs }, gpu: { items: gpuItems, work: gpuItems * W, durationMs: gpuMs } };
      strategy.observeSplit({ kernel: 'sha256', items: n, work: n * W, gpuShare: d.gpuShare, durationMs: Math.max(cpuMs, gpuMs), predictedMs: d.predictedMs, parts, queued: { cpu: 0, gpu: 0 } });
      if (r >= forced) totalMs += Math.max(cpuMs, gpuMs);
    } else {
      const ms = d.device === 'gpu' ? gpuAlone() : cpuPool(n);
      strategy.observe({ kernel: 'sha256', device: d.device, items: n, work: n * W, durationMs: ms });
      if (r >= forced) totalMs += ms;
    }
    if (r >= forced) routes[d.device] = (routes[d.device] ?? 0) + 1;
  }
  return { seed, routes, meanMs: +(totalMs / rounds).toFixed(3) };
}

const results = {};
for (const [name, spec] of builds) {
  const mod = await import(spec);
  results[name] = Array.from({ length: seeds }, (_, i) => replay(mod, i + 1));
}
console.log(JSON.stringify({ forced, rounds, results }, null, 1));
