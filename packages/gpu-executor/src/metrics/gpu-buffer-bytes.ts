import { Gauge, type Registry } from 'prom-client';
import type { BufferPoolStats } from '../gpu/buffer-pool.js';

/** Reads the live GPU buffer pool; undefined when no device is open. */
export type BufferStatsSource = () => Pick<BufferPoolStats, 'heldBytes' | 'inUseBytes'> | undefined;

/** `supervm_gpu_buffer_bytes{state}`: bytes of GPU buffers the pool holds (`held`) and of those in use (`in_use`), read at scrape time. */
export function gpuBufferBytesGauge(registry: Registry, source: () => BufferStatsSource | undefined): Gauge<'state'> {
  return new Gauge({
    name: 'supervm_gpu_buffer_bytes',
    help: 'GPU buffer pool bytes: held (allocated, pooled or in use) and in_use',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = source()?.();
      this.set({ state: 'held' }, stats?.heldBytes ?? 0);
      this.set({ state: 'in_use' }, stats?.inUseBytes ?? 0);
    },
  });
}
