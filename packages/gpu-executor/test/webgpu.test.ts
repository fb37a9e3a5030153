import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { GpuDeviceManager } from '../src/gpu/device.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import { kernel as vectorAdd, type VectorAddInput } from '../src/kernels/vector-add/index.js';
import type { Kernel } from '../src/kernels/kernel.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import { gpuSkip } from './backends.js';

const input = (n: number): VectorAddInput => ({ a: Float32Array.from({ length: n }, (_, i) => i), b: Float32Array.from({ length: n }, (_, i) => 2 * i) });
const sum = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => 3 * i);

/** Fault injection through the kernel plan itself: `pack` runs mid-batch, on the device's own path. */
function withFault(fault: (devices: GpuDeviceManager) => void, devices: GpuDeviceManager, times = 1): Kernel<VectorAddInput, Float32Array> {
  let left = times;
  return {
    ...vectorAdd,
    gpu: {
      ...vectorAdd.gpu!,
      pack(x, s, e) {
        if (left > 0) {
          left--;
          fault(devices);
        }
        return vectorAdd.gpu!.pack(x, s, e);
      },
    },
  };
}

describe('WebGPU executor', { skip: gpuSkip }, () => {
  const devices = new GpuDeviceManager();
  after(() => devices.close());

  test('a pipeline is compiled once per process, not per batch', async () => {
    const gpu = new WebGpuExecutor(vectorAdd, { devices });
    for (let i = 0; i < 4; i++) assert.deepEqual((await gpu.execute(input(100 + i))).output, sum(100 + i));
    assert.equal(devices.context!.pipelines.compiles, 1);
  });

  test('device buffers are reused: steady batches create none after warm-up, none stay in use', async () => {
    const gpu = new WebGpuExecutor(vectorAdd, { devices });
    // Same size class (power of two) every time: 4000..4004 f32 per column.
    await gpu.execute(input(4000));
    await gpu.execute(input(4000));
    const warm = devices.context!.buffers.stats();
    for (let i = 0; i < 5; i++) await gpu.execute(input(4000 + i));
    const after5 = devices.context!.buffers.stats();
    assert.equal(after5.created, warm.created);
    assert.equal(after5.inUseBytes, 0);
    assert.ok(after5.heldBytes > 0);
  });

  test('batches larger than one binding are split into chunks and joined', async () => {
    const gpu = new WebGpuExecutor(vectorAdd, { devices, maxChunkBytes: 1024 });
    const { output, stats } = await gpu.execute(input(10_000));
    assert.deepEqual(output, sum(10_000));
    assert.equal(stats.gpu?.chunks, Math.ceil(10_000 / 256));
    assert.equal(stats.gpu?.bytesDownloaded, 10_000 * 4);
    assert.ok((stats.gpu?.bytesUploaded ?? 0) >= 2 * 10_000 * 4);
  });

  test('stats split the time into upload, compute and download, each within the batch wall time', async () => {
    // Many chunks, two in flight: per-chunk phases overlap, the reported ones must not double-count.
    const gpu = new WebGpuExecutor(vectorAdd, { devices, maxChunkBytes: 4096 });
    const { output, stats } = await gpu.execute(input(20_000));
    assert.deepEqual(output, sum(20_000));
    const g = stats.gpu!;
    assert.equal(g.chunks, Math.ceil(20_000 / 1024));
    for (const t of [g.uploadMs, g.computeMs, g.downloadMs]) assert.ok(t >= 0 && t <= stats.durationMs, `${t} within ${stats.durationMs} ms`);
    assert.ok(g.computeMs > 0);
    // Timestamp queries exactly when the adapter has them (the H100's Vulkan adapter does; llvmpipe's GL ES does not)...
    assert.equal(g.source, devices.context!.adapter.timestampQuery ? 'timestamp' : 'host');
    // ...and the batch is not tiny: those are timed on the host, where the queries would cost more than they measure.
    const tiny = await gpu.execute(input(16));
    assert.equal(tiny.stats.gpu?.source, 'host');
    assert.match(stats.backend, /^webgpu:(vulkan|opengles)$/);
  });

  test('device lost mid-batch: DEVICE_LOST, and the next batch gets a new device', async () => {
    const opened = devices.devicesOpened;
    const faulty = new WebGpuExecutor(withFault((d) => d.context!.device.destroy(), devices), { devices });
    await assert.rejects(faulty.execute(input(300)), { code: 'DEVICE_LOST' });
    const { output } = await faulty.execute(input(300));
    assert.deepEqual(output, sum(300));
    assert.equal(devices.devicesOpened, opened + 1);
  });

  test('the scheduler re-runs a batch whose device was lost on the CPU, and uses the GPU again after', async () => {
    const gpu = new WebGpuExecutor(withFault((d) => d.context!.device.destroy(), devices), { devices });
    await gpu.ready();
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), gpu, { strategy: { gpuThreshold: 1 } });
    const first = await s.execute(input(777));
    assert.deepEqual(first.output, sum(777));
    assert.equal(first.stats.fellBack, true);
    assert.match(first.stats.fallbackReason ?? '', /DEVICE_LOST/);
    const second = await s.execute(input(777));
    assert.equal(second.stats.device, 'gpu');
    assert.deepEqual(second.output, sum(777));
  });

  test('out of memory creating buffers: OUT_OF_MEMORY, the device stays, and the scheduler re-runs the batch on the CPU', async () => {
    // The injected fault: the next check of newly created buffers reports an out-of-memory error.
    const oom = (d: GpuDeviceManager): void => {
      const pool = d.context!.buffers;
      const real = pool.allocationError.bind(pool);
      pool.allocationError = async () => {
        pool.allocationError = real;
        await real();
        return { message: 'injected: out of memory' } as GPUError;
      };
    };
    const opened = devices.devicesOpened;
    await assert.rejects(new WebGpuExecutor(withFault(oom, devices), { devices }).execute(input(300)), { code: 'OUT_OF_MEMORY', message: /injected/ });
    assert.equal(devices.devicesOpened, opened);
    const gpu = new WebGpuExecutor(withFault(oom, devices), { devices });
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), gpu, { strategy: { gpuThreshold: 1 } });
    const { output, stats } = await s.execute(input(300));
    assert.deepEqual(output, sum(300));
    assert.equal(stats.fellBack, true);
    assert.match(stats.fallbackReason ?? '', /OUT_OF_MEMORY/);
    assert.equal((await s.execute(input(300))).stats.device, 'gpu');
  });

  test('a GPU validation error (an output larger than the device allows) falls back to the CPU', async () => {
    const huge = { ...vectorAdd, gpu: { ...vectorAdd.gpu!, outputBytes: () => 2 ** 40 } };
    const s = new HybridScheduler(new CpuMapExecutor(huge), new WebGpuExecutor(huge, { devices }), { strategy: { gpuThreshold: 1 } });
    await s.execute({ a: new Float32Array(1), b: new Float32Array(1) }).catch(() => undefined);
    const { output, stats } = await s.execute(input(64));
    assert.deepEqual(output, sum(64));
    assert.equal(stats.fellBack, true);
  });

  test('an aborted batch rejects with ABORTED and leaves the device usable', async () => {
    const gpu = new WebGpuExecutor(vectorAdd, { devices, maxChunkBytes: 1024 });
    const controller = new AbortController();
    const running = gpu.execute(input(50_000), { signal: controller.signal });
    controller.abort();
    await assert.rejects(running, { code: 'ABORTED' });
    assert.deepEqual((await gpu.execute(input(10))).output, sum(10));
  });
});
