import { Gauge, type Registry } from 'prom-client';

/** Reads the worker pool's utilization (0..1); undefined when there is no pool. */
export type UtilizationSource = () => number | undefined;

/** `supervm_worker_utilization`: fraction of worker-thread time spent running kernel parts (busy ms the workers add to shared memory), read at scrape time. */
export function workerUtilizationGauge(registry: Registry, source: () => UtilizationSource | undefined): Gauge {
  return new Gauge({
    name: 'supervm_worker_utilization',
    help: 'Fraction of CPU worker-thread time spent running tasks since the pool started',
    registers: [registry],
    collect() {
      const value = source()?.();
      this.set(value !== undefined && Number.isFinite(value) ? value : 0);
    },
  });
}
