// Prototype: what a worker gang woken by one shared word (no message per
// batch) gains over the pool, with and without spinning after a batch.
// Usage: node scripts/gang-proto.mjs [rounds]. Prints one JSON object.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { CpuMapExecutor, ParallelCpuExecutor, WorkerPool, createSharedOutput, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel } from '@supervm/gpu-executor/kernels';
import { sha256Batch } from './sha256-batch.mjs';
import { signedBatch } from './ed25519-batch.mjs';

const rounds = Number(process.argv[2] ?? 100);
const threads = availableParallelism();
const GEN = 0, FIN = 48, slotNext = (g) => 64 + (g % 8) * 32, slotDone = (g) => 80 + (g % 8) * 32;

class Gang {
  constructor(spinMs) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (64 + 8 * 32)));
    this.ports = [];
    this.workers = [];
    this.gen = 0;
    this.ids = new Map();
    this.times = new Float64Array(new SharedArrayBuffer(8 * (1 + 4 * threads)));
    this.lag = []; this.lagMax = []; this.busy = []; this.rate = [];
    for (let w = 0; w < threads; w++) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      this.workers.push(new Worker(new URL('./gang-worker.mjs', import.meta.url), { workerData: { control: this.control, port: port2, spinMs, index: w, times: this.times }, transferList: [port2] }));
    }
  }
  async run(kernel, columns, output, bounds, post = false) {
    let id = this.ids.get(bounds);
    if (id === undefined || post) {
      id = (this.nextId = (this.nextId ?? 0) + 1);
      this.ids.set(bounds, id);
      const job = { id, moduleUrl: kernel.moduleUrl, columns, output: output.buffer, items: kernel.count(columns), bounds };
      for (const p of this.ports) p.postMessage(job);
    }
    const c = this.control;
    c[1] = id;
    c[2] = bounds.length - 1;
    const gen = ++this.gen;
    const start = performance.timeOrigin + performance.now();
    this.times[0] = start;
    Atomics.store(c, slotNext(gen), 0);
    Atomics.store(c, slotDone(gen), 0);
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    while (Atomics.load(c, FIN) !== gen) {
      const r = Atomics.waitAsync(c, FIN, Atomics.load(c, FIN));
      if (r.async) await r.value;
    }
    if (this.record) {
      const wall = performance.timeOrigin + performance.now() - start;
      let lag = 0, lagMax = 0, busy = 0, items = 0, n = 0;
      for (let w = 0; w < threads; w++) {
        const t = this.times.subarray(1 + 4 * w, 5 + 4 * w);
        if (t[0] === 0) { lagMax = Math.max(lagMax, wall); continue; }
        n++; lag += t[0] - start; lagMax = Math.max(lagMax, t[0] - start); busy += t[2]; items += t[3];
      }
      this.lag.push(n ? lag / n : wall); this.lagMax.push(lagMax); this.busy.push(busy / (threads * wall)); this.rate.push(busy / items);
    }
  }
  summary(inlineMsPerItem) {
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const out = { startLagMeanUs: +(med(this.lag) * 1e3).toFixed(1), startLagMaxUs: +(med(this.lagMax) * 1e3).toFixed(1), busyShare: +med(this.busy).toFixed(3), workerSpeed: +(inlineMsPerItem / med(this.rate)).toFixed(3) };
    this.lag = []; this.lagMax = []; this.busy = []; this.rate = [];
    return out;
  }
  async close() {
    Atomics.store(this.control, GEN, -1);
    Atomics.notify(this.control, GEN);
    await Promise.all(this.workers.map((w) => new Promise((r) => w.once('exit', r))));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Rotated rounds of `block` back-to-back batches per variant (as a bench row runs them), 3 ms apart so no gang still spins.
async function medianBlocks(variants, rounds, block) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds + 1; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      await sleep(3);
      for (let b = 0; b < block; b++) {
        const t0 = performance.now();
        await variants[name]();
        if (r > 0) times[name].push(performance.now() - t0);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(names.map((k) => [k, median(times[k])]));
}

const pool = new WorkerPool({ threads });
const gangs = { 'gang spin0': new Gang(0), 'gang spin0.2': new Gang(0.2) };
const report = { threads, rounds, cases: [] };
const cases = [
  { kernel: sha256Kernel, items: 1000, input: shareColumns(sha256Batch(1000)) },
  { kernel: sha256Kernel, items: 10_000, input: shareColumns(sha256Batch(10_000)) },
  { kernel: ed25519Kernel, items: 1000, input: shareColumns(signedBatch(1000)) },
  { kernel: sha256Kernel, items: 100_000, input: shareColumns(sha256Batch(100_000)) },
];
for (const { kernel, items, input } of cases) {
  const out = createSharedOutput(kernel, items);
  const parts = Math.min(items, threads * 8);
  const bounds = Uint32Array.from({ length: parts + 1 }, (_, p) => Math.round((p * items) / parts));
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) new CpuMapExecutor(kernel).executeInto(input, out, { start: 0, end: items });
  const inlineMs = (performance.now() - t0) / 3;
  const exec = new ParallelCpuExecutor(kernel, { pool, minTaskNs: 0 });
  const inline = new CpuMapExecutor(kernel);
  const variants = {
    inline: () => inline.executeInto(input, out, { start: 0, end: items }),
    pool: () => exec.executeInto(input, out, { start: 0, end: items }),
  };
  // Parts of ~40 us of one thread's work (per the inline time), against 8 per thread.
  const fineParts = Math.min(items, Math.max(parts, Math.ceil((inlineMs * 1e3) / 40)));
  const fine = Uint32Array.from({ length: fineParts + 1 }, (_, p) => Math.round((p * items) / fineParts));
  for (const [name, g] of Object.entries(gangs)) variants[name] = () => g.run(kernel, input, out, bounds);
  variants['gang spin0.2 fine'] = () => gangs['gang spin0.2'].run(kernel, input, out, fine);
  const fineGang = new Gang(0.2);
  fineGang.record = true;
  variants['gang spin0.2 fine rec'] = () => fineGang.run(kernel, input, out, fine);
  // Every variant computes the same output.
  const ref = new CpuMapExecutor(kernel);
  const want = (await ref.execute(input)).output;
  for (const [name, v] of Object.entries(variants)) {
    out.fill(0);
    await v();
    if (Buffer.compare(Buffer.from(out.buffer, out.byteOffset, out.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength)) !== 0) throw new Error(`${name} output differs`);
  }
  const medians = await medianBlocks(variants, items >= 100_000 ? Math.max(3, rounds / 20) : rounds / 5, 5);
  const row = { kernel: kernel.name, items, medianMs: {}, efficiency: {} };
  for (const [k, v] of Object.entries(medians)) {
    row.medianMs[k] = +v.toFixed(4);
    if (k !== 'inline') row.efficiency[k] = +(medians.inline / (v * threads)).toFixed(3);
  }
  row.fineParts = fineParts;
  row.timeline = fineGang.summary(medians.inline / items);
  await fineGang.close();
  report.cases.push(row);
  console.error(JSON.stringify(row));
}
for (const g of Object.values(gangs)) await g.close();
await pool.close();
console.log(JSON.stringify(report));
