import { Counter, type Registry } from 'prom-client';

/** `supervm_fallbacks_total{kernel, reason}`: GPU batches re-run on the CPU; reason is the ExecutorError code. */
export function fallbacksCounter(registry: Registry, collect?: () => void): Counter<'kernel' | 'reason'> {
  return new Counter({
    name: 'supervm_fallbacks_total',
    help: 'Batches whose GPU run failed and were re-run on the CPU, by kernel and ExecutorError code',
    labelNames: ['kernel', 'reason'] as const,
    registers: [registry],
    // Records observations held back from the hot path before the registry reads this metric.
    ...(collect ? { collect } : {}),
  });
}
