// The GPU's fixed costs and transfer rates as `measureGpu` takes them (the figures of
// issue #4): upload / download by size, the tiny-batch round trip, vector add on
// resident buffers. Run it with and without GLIBC_TUNABLES to see what glibc's
// copy into mapped staging memory costs. Prints one JSON object.
// "tiny" in place of the sizes measures the round trip alone (no transfers, no resident runs).
// Usage: node scripts/transfers.mjs [MiB sizes, default 4,8,64,128,256 | tiny] [repeats, default 7]
import { GpuDeviceManager, WebGpuExecutor, measureGpu } from '@supervm/gpu-executor';
import { vectorAddKernel } from '@supervm/gpu-executor/kernels';

const tinyOnly = process.argv[2] === 'tiny';
const sizes = tinyOnly ? [] : (process.argv[2] ?? '4,8,64,128,256').split(',').map((m) => Number(m) << 20);
const repeats = Number(process.argv[3] ?? 7);
const devices = new GpuDeviceManager();
const micro = await measureGpu(devices, { transferBytes: sizes, residentElements: tinyOnly ? [] : [1 << 20, 1 << 24], repeats });
// The tiny round trip of a fresh executor by blocks of 50 batches: how long it takes to settle.
const fresh = new WebGpuExecutor(vectorAddKernel, { devices });
const tiny = { a: new Float32Array(16), b: new Float32Array(16) };
const tinyBlocksUs = [];
for (let block = 0; block < 10; block++) {
  const us = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await fresh.execute(tiny);
    us.push((performance.now() - t) * 1000);
  }
  tinyBlocksUs.push(+us.sort((x, y) => x - y)[25].toFixed(1));
}
console.log(JSON.stringify({ glibcTunables: process.env.GLIBC_TUNABLES ?? null, tinyBlocksUs, ...micro }, null, 1));
await devices.close();
