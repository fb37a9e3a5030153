// Do the machine's cores scale for throughput-bound code as they do for latency-bound code?
// Two loops of pure arithmetic, no memory traffic: "chain" is one dependent chain (a core
// runs it at the chain's latency, so a second thread on the same physical core fits in its
// gaps), "ilp" is eight independent chains (it fills a core's ports, so two threads sharing
// a physical core through SMT run each at ~half speed). Each runs on 1, 8 and all threads;
// speedup = threads x one thread's time / the run's wall time. Prints one JSON object.
// Usage: node scripts/smt-check.mjs [iterations, default 3e7]
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const iterations = Number(process.argv[2] ?? 3e7);
const LOOPS = {
  chain: `let x = 1; for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x = Math.imul(x, 0x9e3779b1) | 0; } return x;`,
  ilp: `let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
    for (let i = 0; i < n; i++) {
      a = (Math.imul(a, 0x9e3779b1) + (b >>> 3)) | 0; b = (Math.imul(b, 0x85ebca6b) ^ (c << 5)) | 0;
      c = (Math.imul(c, 0xc2b2ae35) + (d >>> 7)) | 0; d = (Math.imul(d, 0x27d4eb2f) ^ (e << 3)) | 0;
      e = (Math.imul(e, 0x165667b1) + (f >>> 5)) | 0; f = (Math.imul(f, 0x9e3779b1) ^ (g << 7)) | 0;
      g = (Math.imul(g, 0x85ebca6b) + (h >>> 3)) | 0; h = (Math.imul(h, 0xc2b2ae35) ^ (a << 5)) | 0;
    } return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;`,
};
const source = (body) => `
  const { parentPort } = require('node:worker_threads');
  const run = (n) => { ${body} };
  parentPort.on('message', (n) => { const t0 = performance.now(); const x = run(n); parentPort.postMessage([performance.now() - t0, x]); });`;
const all = availableParallelism();
const out = { threads: all, iterations, loops: {} };
for (const [name, body] of Object.entries(LOOPS)) {
  const workers = Array.from({ length: all }, () => new Worker(source(body), { eval: true }));
  const spin = (w, n) => new Promise((resolve, reject) => { w.once('message', ([ms]) => resolve(ms)); w.once('error', reject); w.postMessage(n); });
  await Promise.all(workers.map((w) => spin(w, 1e6)));
  const alone = await spin(workers[0], iterations);
  const speedups = {};
  for (const t of [...new Set([8, all])].filter((t) => t <= all)) {
    const t0 = performance.now();
    await Promise.all(workers.slice(0, t).map((w) => spin(w, iterations)));
    speedups[t] = +((t * alone) / (performance.now() - t0)).toFixed(2);
  }
  out.loops[name] = { aloneMs: +alone.toFixed(1), speedups };
  await Promise.all(workers.map((w) => w.terminate()));
}
console.log(JSON.stringify(out));
