// One kernel and size on the GPU alone and through the runtime's scheduler (auto and forced),
// timed in blocks (each way n times in a row, as the bench's rows) and in turns (each way once
// per round, as its in-turns regret). Run after `supervm calibrate`. Prints one JSON object.
// Usage: node scripts/block-vs-turns.mjs [ed25519|sha256] [items] [runs]
import { Runtime, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel } from '@supervm/gpu-executor/kernels';
import { signedBatch } from './ed25519-batch.mjs';
import { sha256Batch } from './sha256-batch.mjs';

const [name = 'ed25519', itemsArg = '1000', runsArg = '100'] = process.argv.slice(2);
const items = Number(itemsArg);
const runs = Number(runsArg);
const kernel = name === 'sha256' ? sha256Kernel : ed25519Kernel;
const input =
  name === 'sha256'
    ? shareColumns(sha256Batch(items))
    : shareColumns(signedBatch(items));
const runtime = new Runtime();
await runtime.info();
const gpu = new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool });
const scheduler = await runtime.scheduler(kernel);
const ways = { gpu: () => gpu.execute(input), auto: () => scheduler.execute(input), forced: () => scheduler.execute(input, { device: 'gpu' }) };
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const median = (xs) => +[...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(4);
for (const fn of Object.values(ways)) for (let i = 0; i < 20; i++) await fn();
const blocks = {};
for (const [way, fn] of Object.entries(ways)) {
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push(await time(fn));
  blocks[way] = median(ms);
}
const turns = Object.fromEntries(Object.keys(ways).map((w) => [w, []]));
const names = Object.keys(ways);
for (let r = 0; r < runs; r++) for (let i = 0; i < names.length; i++) {
  const way = names[(r + i) % names.length];
  turns[way].push(await time(ways[way]));
}
console.log(JSON.stringify({ kernel: kernel.name, items, runs, blocksMs: blocks, turnsMs: Object.fromEntries(Object.entries(turns).map(([w, ms]) => [w, median(ms)])) }));
await gpu.close();
await runtime.close();
