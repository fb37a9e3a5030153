// What the SHA-256 10K path probes share: 10,000 64-byte messages in shared memory, a runtime with
// its GPU and pool executors for SHA-256, and model stores loaded from `supervm calibrate`'s file.
import { ModelStore, ParallelCpuExecutor, Runtime, WebGpuExecutor, shareColumns } from '@supervm/gpu-executor';
import { sha256Kernel as kernel } from '@supervm/gpu-executor/kernels';
import { sha256Batch } from './sha256-batch.mjs';

export async function sha256Setup(n = 10_000) {
  const input = shareColumns(sha256Batch(n));
  const runtime = new Runtime();
  await runtime.info();
  const adapter = runtime.devices?.context?.adapter;
  return {
    n,
    kernel,
    input,
    runtime,
    adapter,
    gpu: new WebGpuExecutor(kernel, { devices: runtime.devices, hostPool: runtime.pool }),
    cpu: new ParallelCpuExecutor(kernel, { pool: runtime.pool }),
    /** A store of its own (one cost model's refits cannot change another's), loaded and fingerprinted for this GPU; `Store` may come from an older build. */
    loadStore(Store = ModelStore) {
      const store = new Store();
      store.load();
      if (adapter) store.setGpu(adapter);
      return store;
    },
  };
}
