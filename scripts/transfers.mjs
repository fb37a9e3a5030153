// The GPU's fixed costs and transfer rates as `measureGpu` takes them (the figures of
// issue #4): upload / download by size, the tiny-batch round trip, vector add on
// resident buffers. Run it with and without GLIBC_TUNABLES to see what glibc's
// copy into mapped staging memory costs. Prints one JSON object.
// Usage: node scripts/transfers.mjs [MiB sizes, default 4,8,64,128,256] [repeats, default 7]
import { GpuDeviceManager, measureGpu } from '@supervm/gpu-executor';

const sizes = (process.argv[2] ?? '4,8,64,128,256').split(',').map((m) => Number(m) << 20);
const repeats = Number(process.argv[3] ?? 7);
const devices = new GpuDeviceManager();
const micro = await measureGpu(devices, { transferBytes: sizes, residentElements: [1 << 20, 1 << 24], repeats });
console.log(JSON.stringify({ glibcTunables: process.env.GLIBC_TUNABLES ?? null, ...micro }, null, 1));
await devices.close();
