import { Counter, type Registry } from 'prom-client';

/** `supervm_tasks_total{kernel, device}`: items run, a split batch counted on each device for its part. */
export function tasksCounter(registry: Registry, collect?: () => void): Counter<'kernel' | 'device'> {
  return new Counter({
    name: 'supervm_tasks_total',
    help: 'Items (tasks) run, by kernel and device',
    labelNames: ['kernel', 'device'] as const,
    registers: [registry],
    // Records observations held back from the hot path before the registry reads this metric.
    ...(collect ? { collect } : {}),
  });
}
