/**
 * One kernel suite, every backend: tests call `backends(kernel)` and run the
 * same assertions against each executor. The GPU runs wherever Dawn finds an
 * adapter (Mesa llvmpipe in CI); without one its cases skip with the reason,
 * unless SUPERVM_REQUIRE_GPU=1 turns that into a failure.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { ParallelCpuExecutor } from '../src/cpu/parallel-cpu-executor.js';
import { WorkerPool } from '../src/cpu/worker-pool.js';
import { GpuDeviceManager } from '../src/gpu/device.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import type { Columns, Kernel, TypedArray } from '../src/kernels/kernel.js';
import type { Executor } from '../src/types.js';

export const gpuDevices = new GpuDeviceManager();
const gpuContext = await gpuDevices.open();
const requireGpu = process.env.SUPERVM_REQUIRE_GPU === '1';

/** False when the GPU is there; otherwise the one line that says why its cases skip. */
export const gpuSkip: string | false = gpuContext ? false : `no GPU adapter (${gpuDevices.unavailableReason}); set SUPERVM_REQUIRE_GPU=1 to fail instead`;

if (!gpuContext && requireGpu) {
  test('a GPU adapter is available (SUPERVM_REQUIRE_GPU=1)', () => assert.fail(gpuDevices.unavailableReason));
}

export const pool = new WorkerPool({ threads: 2 });

after(async () => {
  await pool.close();
  await gpuDevices.close();
});

export interface BackendCase<I, O> {
  name: string;
  executor: Executor<I, O>;
  /** A reason to skip (no GPU), or false. */
  skip: string | false;
}

export interface BackendOptions {
  /** Small chunks make the GPU path split even small batches, so chunk joins are tested. */
  maxChunkBytes?: number;
}

export function backends<I extends Columns, O extends TypedArray>(kernel: Kernel<I, O>, options: BackendOptions = {}): BackendCase<I, O>[] {
  const cases: BackendCase<I, O>[] = [
    { name: 'cpu-inline', executor: new CpuMapExecutor(kernel), skip: false },
    // minTaskNs 0: every batch of more than one item is spread over the workers.
    { name: 'cpu-pool', executor: new ParallelCpuExecutor(kernel, { pool, minTaskNs: 0 }), skip: false },
  ];
  if (kernel.gpu !== undefined) {
    cases.push({
      name: 'webgpu',
      executor: new WebGpuExecutor(kernel, { devices: gpuDevices, ...options }),
      skip: gpuSkip,
    });
  }
  if (kernel.gpu?.hostPack !== undefined) {
    // Records built on the worker pool (every batch, however small) instead of in-thread.
    cases.push({
      name: 'webgpu+pool-pack',
      executor: new WebGpuExecutor(kernel, { devices: gpuDevices, hostPool: pool, minPoolPackNs: 0, ...options }),
      skip: gpuSkip,
    });
  }
  return cases;
}
