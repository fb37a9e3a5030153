// Where the fixed costs of a GPU batch go, on one machine, in one run:
//   tiny: a 16-element vector add round trip with timestamp queries on and off,
//         beside the raw Dawn primitives it is made of;
//   copy: the main thread's copy into mapped staging memory (what bounds upload),
//         whole or in slices, against a plain JS-to-JS copy of the same size;
//   ring: uploads through a ring of small reused staging buffers (their lines stay
//         in cache, so the copy does not read the destination from DRAM first)
//         against one staging buffer as large as the upload;
//   pack: Ed25519 host packing (SHA-512, mod L) in-thread and on the pool;
//   ed25519: 64K verifications on the GPU with pool packing, input in shared
//         memory or not, and co-executed with the CPU pool at fixed GPU shares.
// Prints one JSON object. Usage: node scripts/gpu-overheads.mjs [runs] [sections, default tiny,copy,ring,pack,ed25519]
import { GpuDeviceManager, HybridScheduler, ParallelCpuExecutor, WebGpuExecutor, WorkerPool, shareColumns } from '@supervm/gpu-executor';
import { ed25519Kernel, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { vectorAddWgsl } from '../packages/gpu-executor/dist/src/kernels/vector-add/vector-add.wgsl.js';
import { kernel as packKernel, packRange, RECORD_BYTES } from '../packages/gpu-executor/dist/src/kernels/ed25519/pack.js';
import { signedBatch } from './ed25519-batch.mjs';

const runs = Number(process.argv[2] ?? 7);
const sections = new Set((process.argv[3] ?? 'tiny,copy,ring,pack,ed25519').split(','));
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const summary = (ms) => ({ medianMs: +quantile(ms, 0.5).toFixed(4), p10Ms: +quantile(ms, 0.1).toFixed(4), p90Ms: +quantile(ms, 0.9).toFixed(4), runs: ms.length });
async function time(fn, n, warmup = 2) {
  for (let i = 0; i < warmup; i++) await fn();
  const ms = [];
  let last;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    last = await fn();
    ms.push(performance.now() - t);
  }
  return { ...summary(ms), last };
}
const report = { tiny: [], copy: [], ring: [], pack: [], ed25519: [] };

// --- tiny round trip
for (const timestamps of sections.has('tiny') ? [true, false] : []) {
  const devices = new GpuDeviceManager({ timestamps });
  const ctx = await devices.open();
  if (!ctx) throw new Error(`no GPU: ${devices.unavailableReason}`);
  const gpu = new WebGpuExecutor(vectorAddKernel, { devices });
  const tiny = { a: new Float32Array(16).fill(1), b: new Float32Array(16).fill(2) };
  const { last, ...t } = await time(() => gpu.execute(tiny), 300, 30);
  report.tiny.push({ what: 'vector add 16 through WebGpuExecutor', timestamps: ctx.adapter.timestampQuery, ...t, source: last.stats.gpu.source });
  const out = new Float32Array(16);
  report.tiny.push({ what: 'vector add 16, executeInto a reused output', timestamps: ctx.adapter.timestampQuery, ...(await time(() => gpu.executeInto(tiny, out, { start: 0, end: 16 }), 300, 30)), last: undefined });
  if (timestamps) {
    const { device } = ctx;
    // The floor under the executor: the same shader, buffers and bind group made once; per batch
    // only writeBuffer, one dispatch, the copy out and the map.
    {
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      const [a, b, params] = [device.createBuffer({ size: 64, usage }), device.createBuffer({ size: 64, usage }), device.createBuffer({ size: 16, usage })];
      const c = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const read = device.createBuffer({ size: 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(params, 0, Uint32Array.of(16, 0, 0, 0));
      const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: vectorAddWgsl }), entryPoint: 'main', constants: { WG: 64 } } });
      const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [a, b, c, params].map((buffer, binding) => ({ binding, resource: { buffer } })) });
      const sink = new Float32Array(16);
      report.tiny.push({
        what: 'raw: writeBuffer x2, dispatch, copy out, mapAsync READ, read, unmap',
        ...(await time(async () => {
          device.queue.writeBuffer(a, 0, tiny.a);
          device.queue.writeBuffer(b, 0, tiny.b);
          const e = device.createCommandEncoder();
          const pass = e.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, bindGroup);
          pass.dispatchWorkgroups(1);
          pass.end();
          e.copyBufferToBuffer(c, 0, read, 0, 64);
          device.queue.submit([e.finish()]);
          await read.mapAsync(GPUMapMode.READ);
          sink.set(new Float32Array(read.getMappedRange()));
          read.unmap();
        }, 300, 30)),
        last: undefined,
      });
      for (const buf of [a, b, c, params, read]) buf.destroy();
    }
    report.tiny.push({ what: 'empty submit + onSubmittedWorkDone', ...(await time(async () => { device.queue.submit([device.createCommandEncoder().finish()]); await device.queue.onSubmittedWorkDone(); }, 300, 30)), last: undefined });
    const src = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const dst = device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    report.tiny.push({
      what: 'copy 256 B + mapAsync READ + unmap',
      ...(await time(async () => {
        const e = device.createCommandEncoder();
        e.copyBufferToBuffer(src, 0, dst, 0, 256);
        device.queue.submit([e.finish()]);
        await dst.mapAsync(GPUMapMode.READ);
        dst.unmap();
      }, 300, 30)),
      last: undefined,
    });
    report.tiny.push({
      what: 'push/pop two error scopes around a submit',
      ...(await time(async () => {
        device.pushErrorScope('out-of-memory');
        device.pushErrorScope('validation');
        device.queue.submit([device.createCommandEncoder().finish()]);
        await Promise.all([device.popErrorScope(), device.popErrorScope()]);
      }, 300, 30)),
      last: undefined,
    });
  }
  await gpu.close();
  await devices.close();
}
for (const r of report.tiny) delete r.last;

// --- host copies into mapped staging memory: the bound on upload (#4), by size and way of copying.
// glibc's memcpy switches to non-temporal stores only above x86_non_temporal_threshold (3/4 of
// the L3 share, 181 MiB on the 2-core VM); GLIBC_TUNABLES can lower it, so the env is reported.
report.glibcTunables = process.env.GLIBC_TUNABLES ?? null;
if (sections.has('copy')) {
  const devices = new GpuDeviceManager({ timestamps: false });
  const { device } = await devices.open();
  const MiB = 2 ** 20;
  for (const mib of [4, 16, 64, 256]) {
    const bytes = mib * MiB;
    const host = new Uint8Array(bytes).fill(7);
    const slow = Buffer.allocUnsafeSlow(bytes).fill(7);
    const plainDst = new Uint8Array(bytes).fill(1);
    const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    staging.unmap();
    const gbps = (t) => +(bytes / (t.medianMs * 1e6)).toFixed(2);
    const intoMapped = (src, slice) => async () => {
      await staging.mapAsync(GPUMapMode.WRITE);
      const t = performance.now();
      const dst = new Uint8Array(staging.getMappedRange());
      if (slice === 0) dst.set(src);
      else for (let at = 0; at < bytes; at += slice) dst.set(src.subarray(at, Math.min(at + slice, bytes)), at);
      const ms = performance.now() - t;
      staging.unmap();
      return ms;
    };
    // Times only the copy (the map is outside), as the executor's pooled staging comes back mapped.
    const copyTime = async (fn) => {
      const ms = [];
      for (let i = 0; i < 11; i++) {
        const x = await fn();
        if (i > 1) ms.push(x);
      }
      return summary(ms);
    };
    const row = { mib };
    row.jsToJsGBps = gbps(await copyTime(async () => { const t = performance.now(); plainDst.set(host); return performance.now() - t; }));
    row.toMappedGBps = gbps(await copyTime(intoMapped(host, 0)));
    row.toMapped1MiBSlicesGBps = gbps(await copyTime(intoMapped(host, MiB)));
    row.toMapped8MiBSlicesGBps = gbps(await copyTime(intoMapped(host, 8 * MiB)));
    row.bufferSourceToMappedGBps = gbps(await copyTime(intoMapped(slow, 0)));
    report.copy.push(row);
    staging.destroy();
  }
  await devices.close();
}

// --- upload through a ring of small staging buffers: slice k is copied into buffer k % depth
// once that buffer's previous copy to the device is done (its re-map resolved), then sent.
if (sections.has('ring')) {
  const devices = new GpuDeviceManager({ timestamps: false });
  const { device } = await devices.open();
  const MiB = 2 ** 20;
  for (const mib of [16, 64, 256]) {
    const bytes = mib * MiB;
    const host = new Uint8Array(bytes).fill(7);
    const target = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const whole = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    const upload = async (slice, depth) => {
      if (slice === 0) {
        // One staging buffer, already mapped, as the executor uses now.
        const t = performance.now();
        new Uint8Array(whole.getMappedRange()).set(host);
        whole.unmap();
        const e = device.createCommandEncoder();
        e.copyBufferToBuffer(whole, 0, target, 0, bytes);
        device.queue.submit([e.finish()]);
        await device.queue.onSubmittedWorkDone();
        const ms = performance.now() - t;
        await whole.mapAsync(GPUMapMode.WRITE);
        return ms;
      }
      const ring = Array.from({ length: depth }, () => ({ buffer: device.createBuffer({ size: slice, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true }), ready: Promise.resolve() }));
      // Warm: one pass through the ring so every buffer has been written and re-mapped once.
      for (const r of ring) {
        new Uint8Array(r.buffer.getMappedRange()).fill(1);
        r.buffer.unmap();
        await r.buffer.mapAsync(GPUMapMode.WRITE);
      }
      const t = performance.now();
      for (let at = 0, k = 0; at < bytes; at += slice, k++) {
        const r = ring[k % depth];
        await r.ready;
        const len = Math.min(slice, bytes - at);
        new Uint8Array(r.buffer.getMappedRange(0, len)).set(host.subarray(at, at + len));
        r.buffer.unmap();
        const e = device.createCommandEncoder();
        e.copyBufferToBuffer(r.buffer, 0, target, at, len);
        device.queue.submit([e.finish()]);
        r.ready = r.buffer.mapAsync(GPUMapMode.WRITE);
      }
      await Promise.all(ring.map((r) => r.ready));
      const ms = performance.now() - t;
      for (const r of ring) r.buffer.destroy();
      return ms;
    };
    for (const [slice, depth] of [[0, 1], [MiB, 2], [MiB, 4], [2 * MiB, 4], [4 * MiB, 2], [4 * MiB, 4], [8 * MiB, 3], [16 * MiB, 2]]) {
      if (slice >= bytes) continue;
      const ms = [];
      for (let i = 0; i < runs + 1; i++) {
        const x = await upload(slice, depth);
        if (i > 0) ms.push(x);
      }
      const t = summary(ms);
      report.ring.push({ mib, sliceMiB: slice / MiB, depth, ...t, GBps: +(bytes / (t.medianMs * 1e6)).toFixed(2), bestGBps: +(bytes / (quantile(ms, 0) * 1e6)).toFixed(2) });
    }
    target.destroy();
    whole.destroy();
  }
  await devices.close();
}

if (!sections.has('pack') && !sections.has('ed25519')) {
  console.log(JSON.stringify(report, null, 1));
  process.exit(0);
}

// --- packing
const n = 65536;
const plain = signedBatch(n, { corruptEvery: 16 });
const shared = shareColumns(plain);
const records = new Uint8Array(new SharedArrayBuffer(n * RECORD_BYTES));
const pool = new WorkerPool();
const packer = new ParallelCpuExecutor(packKernel, { pool, minTaskNs: 250_000 });
{
  const t = await time(() => packRange(shared, records, 0, 0, n), 3, 1);
  report.pack.push({ what: 'in-thread packRange', items: n, ...t, last: undefined, nsPerItem: +((t.medianMs * 1e6) / n).toFixed(0) });
}
for (const items of [8192, 32768, 65536]) {
  for (const priority of ['high', 'normal']) {
    const t = await time(() => packer.executeInto(shared, records, { start: 0, end: items, priority }), runs);
    report.pack.push({ what: `pool pack (${pool.threads} threads, ${priority})`, items, ...t, last: undefined });
  }
}
for (const r of report.pack) delete r.last;

// --- Ed25519 64K on the GPU with pool packing, and co-executed
const devices = new GpuDeviceManager();
const gpu = new WebGpuExecutor(ed25519Kernel, { devices, hostPool: pool });
const cpu = new ParallelCpuExecutor(ed25519Kernel, { pool });
const row = (what, t, extra = {}) => {
  const { last, ...rest } = t;
  report.ed25519.push({ what, items: n, ...rest, perSecond: Math.round(n / (t.medianMs / 1000)), ...extra, gpu: last.stats.gpu, split: last.stats.split });
};
row('gpu, input in shared memory', await time(() => gpu.execute(shared), runs));
row('gpu, plain input (copied to shared memory per batch)', await time(() => gpu.execute(plain), runs));
const cpuOut = cpu.allocateOutput(n);
const cpuSmall = await time(() => cpu.executeInto(shared, cpuOut, { start: 0, end: 8192 }), 3, 1);
const cpuRate = 8192 / (cpuSmall.medianMs / 1000);
report.ed25519.push({ what: 'cpu pool, 8K', items: 8192, medianMs: cpuSmall.medianMs, perSecond: Math.round(cpuRate) });
const gpuRate = n / (report.ed25519[0].medianMs / 1000);
for (const gpuShare of [0.9, 0.95, gpuRate / (gpuRate + cpuRate)]) {
  const split = { name: 'split', decide: () => ({ device: 'split', gpuShare, reason: 'fixed' }) };
  const co = new HybridScheduler(new ParallelCpuExecutor(ed25519Kernel, { pool }), new WebGpuExecutor(ed25519Kernel, { devices, hostPool: pool }), { strategy: split });
  const t = await time(() => co.execute(shared), runs);
  row(`co-exec, gpu share ${gpuShare.toFixed(3)}`, t, { efficiency: +(n / (t.medianMs / 1000) / (gpuRate + cpuRate)).toFixed(3) });
  await co.close();
}
await gpu.close();
await cpu.close();
await pool.close();
await devices.close();
console.log(JSON.stringify(report, null, 1));
