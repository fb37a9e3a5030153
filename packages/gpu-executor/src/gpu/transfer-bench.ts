/**
 * Device-level figures the scheduler's choices rest on: host->device and
 * device->host bandwidth through the same reused staging buffers the executor
 * uses, the round trip of a tiny batch, and vector add on data already resident
 * on the GPU (what the kernel costs without transfers). Used by `supervm bench`.
 */
import { kernel as vectorAdd } from '../kernels/vector-add/index.js';
import { vectorAddWgsl } from '../kernels/vector-add/vector-add.wgsl.js';
import type { GpuContext } from './device.js';
import { WebGpuExecutor } from './webgpu-executor.js';
import type { GpuDeviceManager } from './device.js';

/**
 * One transfer size, end to end and by phase (medians, GB/s). "Host copy" is
 * the main thread's memcpy into or out of mapped staging memory; "DMA" is the
 * device's copy between a staging buffer and a device buffer, with the map.
 */
export interface TransferFigures {
  bytes: number;
  /** Copy into an already mapped staging buffer, unmap, copy to the device, wait: the executor's steady state (it re-maps staging in the background). */
  uploadGBps: number;
  uploadHostCopyGBps: number;
  uploadDmaGBps: number;
  /** The same bytes in four pieces through four staging buffers: each piece's DMA overlaps the next piece's host copy. */
  uploadPipelinedGBps: number;
  /** Copy to a MAP_READ buffer, map, copy out into a host array that was touched before (no page faults). */
  downloadGBps: number;
  /** Copy to a MAP_READ buffer and map, without reading it (the figure in shared/gpu/README.md). */
  downloadDmaGBps: number;
  downloadHostCopyGBps: number;
}

export interface ResidentFigure {
  elements: number;
  /** Median time of one dispatch over resident buffers. */
  dispatchUs: number;
  /** Bytes read and written (12 per element) per second. */
  effectiveGBps: number;
}

export interface GpuMicroBench {
  adapter: GpuContext['adapter'];
  transfers: TransferFigures[];
  tinyRoundTripUs: number;
  resident: ResidentFigure[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const gbps = (bytes: number, ms: number): number => bytes / (ms * 1e6);
const PIPELINE_PIECES = 4;
const TINY_WARMUP = 100;
const TINY_RUNS = 300;

async function measureTransfer(ctx: GpuContext, bytes: number, repeats: number): Promise<TransferFigures> {
  const { device } = ctx;
  const host = new Uint8Array(bytes).fill(7);
  const piece = Math.ceil(bytes / PIPELINE_PIECES / 4) * 4;
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
  const pieces = Array.from({ length: PIPELINE_PIECES }, () =>
    device.createBuffer({ size: piece, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true }),
  );
  const target = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const sink = new Uint8Array(bytes).fill(1);
  const t = { up: [] as number[], upCopy: [] as number[], upDma: [] as number[], upPiped: [] as number[], down: [] as number[], downDma: [] as number[], downCopy: [] as number[] };
  try {
    for (let r = 0; r < repeats + 1; r++) {
      const keep = r > 0;
      // Upload, one staging buffer, already mapped (as the executor's pool hands it out).
      const t0 = performance.now();
      new Uint8Array(staging.getMappedRange()).set(host);
      staging.unmap();
      const t1 = performance.now();
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(staging, 0, target, 0, bytes);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      const t2 = performance.now();
      if (keep) {
        t.up.push(t2 - t0);
        t.upCopy.push(t1 - t0);
        t.upDma.push(t2 - t1);
      }
      await staging.mapAsync(GPUMapMode.WRITE);

      // Upload in pieces: submit each piece's copy as soon as it is staged.
      const t3 = performance.now();
      for (let p = 0; p < PIPELINE_PIECES; p++) {
        const from = p * piece;
        const len = Math.min(piece, bytes - from);
        if (len <= 0) break;
        const buf = pieces[p]!;
        new Uint8Array(buf.getMappedRange(0, piece)).set(host.subarray(from, from + len));
        buf.unmap();
        const e = device.createCommandEncoder();
        e.copyBufferToBuffer(buf, 0, target, from, len);
        device.queue.submit([e.finish()]);
      }
      await device.queue.onSubmittedWorkDone();
      if (keep) t.upPiped.push(performance.now() - t3);
      await Promise.all(pieces.map((b) => b.mapAsync(GPUMapMode.WRITE)));

      // Download: DMA and map, then the copy out.
      const t4 = performance.now();
      const enc2 = device.createCommandEncoder();
      enc2.copyBufferToBuffer(target, 0, readback, 0, bytes);
      device.queue.submit([enc2.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const t5 = performance.now();
      sink.set(new Uint8Array(readback.getMappedRange()));
      const t6 = performance.now();
      readback.unmap();
      if (keep) {
        t.down.push(t6 - t4);
        t.downDma.push(t5 - t4);
        t.downCopy.push(t6 - t5);
      }
    }
  } finally {
    for (const b of [staging, ...pieces, target, readback]) b.destroy();
  }
  return {
    bytes,
    uploadGBps: gbps(bytes, median(t.up)),
    uploadHostCopyGBps: gbps(bytes, median(t.upCopy)),
    uploadDmaGBps: gbps(bytes, median(t.upDma)),
    uploadPipelinedGBps: gbps(bytes, median(t.upPiped)),
    downloadGBps: gbps(bytes, median(t.down)),
    downloadDmaGBps: gbps(bytes, median(t.downDma)),
    downloadHostCopyGBps: gbps(bytes, median(t.downCopy)),
  };
}

async function measureResident(ctx: GpuContext, elements: number, dispatches: number): Promise<ResidentFigure> {
  const { device } = ctx;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const bytes = elements * 4;
  const a = device.createBuffer({ size: bytes, usage });
  const b = device.createBuffer({ size: bytes, usage });
  const c = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE });
  const params = device.createBuffer({ size: 16, usage });
  device.queue.writeBuffer(params, 0, Uint32Array.of(elements, 0, 0, 0));
  const wg = Math.min(256, ctx.limits.maxComputeWorkgroupSizeX, ctx.limits.maxComputeInvocationsPerWorkgroup);
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: vectorAddWgsl }), entryPoint: 'main', constants: { WG: wg } },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [a, b, c, params].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = Math.ceil(vectorAdd.gpu!.invocations(elements) / wg);
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const times: number[] = [];
  try {
    for (let r = 0; r < 4; r++) {
      const enc = device.createCommandEncoder();
      for (let i = 0; i < dispatches; i++) {
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(Math.min(groups, maxDim), Math.ceil(groups / maxDim));
        pass.end();
      }
      const t = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      if (r > 0) times.push((performance.now() - t) / dispatches);
    }
  } finally {
    for (const buf of [a, b, c, params]) buf.destroy();
  }
  const dispatchMs = median(times);
  return { elements, dispatchUs: dispatchMs * 1000, effectiveGBps: (12 * elements) / (dispatchMs * 1e6) };
}

/** Runs the whole micro-benchmark on the manager's device; undefined when there is no GPU. */
export async function measureGpu(
  devices: GpuDeviceManager,
  options: { transferBytes?: number[]; residentElements?: number[]; repeats?: number; tinyRuns?: number } = {},
): Promise<GpuMicroBench | undefined> {
  const ctx = await devices.open();
  if (!ctx) return undefined;
  const { transferBytes = [4 << 20, 64 << 20], residentElements = [1 << 20, 1 << 24], repeats = 5, tinyRuns = TINY_RUNS } = options;
  const transfers: TransferFigures[] = [];
  for (const bytes of transferBytes) transfers.push(await measureTransfer(ctx, bytes, repeats));
  const executor = new WebGpuExecutor(vectorAdd, { devices });
  const tiny = { a: new Float32Array(16), b: new Float32Array(16) };
  const rt: number[] = [];
  // A fresh executor's first ~100 batches ran up to 25 % slower on the H200 (docs/BENCHMARKS.md, eighth session).
  for (let i = 0; i < TINY_WARMUP + tinyRuns; i++) {
    const t = performance.now();
    await executor.execute(tiny);
    if (i >= TINY_WARMUP) rt.push(performance.now() - t);
  }
  const resident: ResidentFigure[] = [];
  for (const n of residentElements) resident.push(await measureResident(ctx, n, ctx.adapter.software ? 2 : 20));
  return { adapter: ctx.adapter, transfers, tinyRoundTripUs: median(rt) * 1000, resident };
}
