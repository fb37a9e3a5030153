import { Worker } from 'node:worker_threads';

/** A pure-arithmetic loop (xorshift and a multiply): no memory traffic, no shared state. */
const SPIN = `
  const { parentPort } = require('node:worker_threads');
  parentPort.on('message', (n) => {
    let x = 1;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x = Math.imul(x, 0x9e3779b1) | 0; }
    parentPort.postMessage([performance.now() - t0, x]);
  });`;

/**
 * How many times one thread's throughput `threads` threads of plain arithmetic
 * reach right now: the ceiling of any parallel speedup on this machine. On a
 * VM it moves with the host's load and clocks (9.7x to 16.2x for 16 threads
 * on the lent H100 machine, whose 16 vCPUs are whole cores), so pool
 * efficiency is only comparable across runs next to it.
 */
export async function measureParallelScaling(threads: number, iterations = 5e7): Promise<number> {
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be an integer >= 1, got ${threads}`);
  if (!(iterations >= 1)) throw new TypeError(`iterations must be >= 1, got ${iterations}`);
  const workers = Array.from({ length: threads }, () => new Worker(SPIN, { eval: true }));
  const spin = (w: Worker, n: number): Promise<number> =>
    new Promise((resolve, reject) => {
      w.once('message', ([ms]: [number, number]) => resolve(ms));
      w.once('error', reject);
      w.postMessage(n);
    });
  try {
    await Promise.all(workers.map((w) => spin(w, Math.min(1e6, iterations)))); // warm-up: JIT and thread start
    const alone = await spin(workers[0]!, iterations);
    const t0 = performance.now();
    await Promise.all(workers.map((w) => spin(w, iterations)));
    return (threads * alone) / (performance.now() - t0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
