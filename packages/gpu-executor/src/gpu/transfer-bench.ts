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

export interface TransferFigures {
  bytes: number;
  uploadGBps: number;
  downloadGBps: number;
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

async function measureTransfer(ctx: GpuContext, bytes: number, repeats: number): Promise<TransferFigures> {
  const { device } = ctx;
  const host = new Uint8Array(bytes).fill(7);
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC });
  const target = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const sink = new Uint8Array(bytes);
  const up: number[] = [];
  const down: number[] = [];
  try {
    for (let r = 0; r < repeats + 1; r++) {
      let t = performance.now();
      await staging.mapAsync(GPUMapMode.WRITE);
      new Uint8Array(staging.getMappedRange()).set(host);
      staging.unmap();
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(staging, 0, target, 0, bytes);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      if (r > 0) up.push(performance.now() - t);

      t = performance.now();
      const enc2 = device.createCommandEncoder();
      enc2.copyBufferToBuffer(target, 0, readback, 0, bytes);
      device.queue.submit([enc2.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      sink.set(new Uint8Array(readback.getMappedRange()));
      readback.unmap();
      if (r > 0) down.push(performance.now() - t);
    }
  } finally {
    staging.destroy();
    target.destroy();
    readback.destroy();
  }
  return { bytes, uploadGBps: bytes / (median(up) * 1e6), downloadGBps: bytes / (median(down) * 1e6) };
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
  options: { transferBytes?: number[]; residentElements?: number[]; repeats?: number } = {},
): Promise<GpuMicroBench | undefined> {
  const ctx = await devices.open();
  if (!ctx) return undefined;
  const { transferBytes = [4 << 20, 64 << 20], residentElements = [1 << 20, 1 << 24], repeats = 5 } = options;
  const transfers: TransferFigures[] = [];
  for (const bytes of transferBytes) transfers.push(await measureTransfer(ctx, bytes, repeats));
  const executor = new WebGpuExecutor(vectorAdd, { devices });
  const tiny = { a: new Float32Array(16), b: new Float32Array(16) };
  const rt: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await executor.execute(tiny);
    if (i >= 10) rt.push(performance.now() - t);
  }
  const resident: ResidentFigure[] = [];
  for (const n of residentElements) resident.push(await measureResident(ctx, n, ctx.adapter.software ? 2 : 20));
  return { adapter: ctx.adapter, transfers, tinyRoundTripUs: median(rt) * 1000, resident };
}
