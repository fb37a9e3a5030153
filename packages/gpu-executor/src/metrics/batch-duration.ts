import { Histogram, type Registry } from 'prom-client';

/** Seconds, 0.5 ms to 30 s: batch latencies from tiny CPU batches to large software-GPU ones. */
export const BATCH_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** `supervm_batch_duration_seconds{kernel, device}`: wall time of each batch (device `split` for co-executed ones). */
export function batchDurationHistogram(registry: Registry, collect?: () => void): Histogram<'kernel' | 'device'> {
  return new Histogram({
    name: 'supervm_batch_duration_seconds',
    help: 'Wall time of each batch, by kernel and the device that ran it (split: both)',
    labelNames: ['kernel', 'device'] as const,
    buckets: BATCH_DURATION_BUCKETS,
    registers: [registry],
    // Records observations held back from the hot path before the registry reads this metric.
    ...(collect ? { collect } : {}),
  });
}
