// What a fresh output costs a large batch: each kernel and device through the
// shared runtime's scheduler, with a new output per batch (the default) against
// one reused output, plain and shared, all in turns (`mediansInTurns`). A fresh
// output's pages are faulted in as the batch writes them.
// Prints one JSON object: per kernel, size and device, each case's median ms
// and its ratio to the fresh output's.
// Usage: node scripts/output-reuse.mjs [rounds] [devices, e.g. cpu,gpu]
import { closeRuntime, createSharedOutput, getRuntime } from '@supervm/gpu-executor';
import { sha256Kernel, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { mediansInTurns } from '../packages/cli/dist/src/bench/regret.js';

const rounds = Number(process.argv[2] ?? 15);
const runtime = getRuntime();
const info = await runtime.info();
// A software adapter (Mesa llvmpipe) is exact but no measure of a GPU: the CPU only, unless named.
const devices = (process.argv[3] ?? (info.gpu.available && !info.gpu.adapter?.software ? 'cpu,gpu' : 'cpu')).split(',');

function sha256Input(n) {
  const data = new Uint8Array(n * 64);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = i * 64;
  return sha256Kernel.validate({ data, offsets });
}

function vectorAddInput(n) {
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = i * 0.5;
    b[i] = 1 / (i + 1);
  }
  return vectorAddKernel.validate({ a, b });
}

const results = [];
for (const [kernel, n, input] of [
  [sha256Kernel, 1 << 20, sha256Input(1 << 20)],
  [vectorAddKernel, 1 << 24, vectorAddInput(1 << 24)],
]) {
  const scheduler = await runtime.scheduler(kernel);
  for (const device of devices) {
    const plain = kernel.createOutput(n);
    const shared = createSharedOutput(kernel, n);
    const want = Buffer.from((await scheduler.execute(input, { device })).output.buffer, 0, plain.byteLength);
    const cases = new Map([
      ['fresh', () => scheduler.execute(input, { device })],
      ['reused plain', () => scheduler.execute(input, { device, output: plain })],
      ['reused shared', () => scheduler.execute(input, { device, output: shared })],
    ]);
    for (const run of cases.values()) await run(); // warm-up, and every case's output checked once
    for (const output of [plain, shared]) if (!want.equals(Buffer.from(output.buffer, 0, output.byteLength))) throw new Error(`${kernel.name} ${device}: a reused output differs`);
    const medians = await mediansInTurns(cases, rounds);
    results.push({ kernel: kernel.name, items: n, outputBytes: plain.byteLength, device, medians, overFresh: Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, +(v / medians.fresh).toFixed(3)])) });
    console.error(kernel.name, n, device, JSON.stringify(medians));
  }
}
console.log(JSON.stringify({ rounds, machine: { cpus: info.cpu.threads, gpu: info.gpu.adapter?.device ?? info.gpu.reason ?? null }, results }, null, 1));
await closeRuntime();
