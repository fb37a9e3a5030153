import { Counter, type Registry } from 'prom-client';

/** `supervm_routing_decisions_total{kernel, device, strategy}`: device is cpu, gpu or split. */
export function routingDecisionsCounter(registry: Registry, collect?: () => void): Counter<'kernel' | 'device' | 'strategy'> {
  return new Counter({
    name: 'supervm_routing_decisions_total',
    help: 'Routing decisions, by kernel, chosen device (cpu, gpu, split) and strategy',
    labelNames: ['kernel', 'device', 'strategy'] as const,
    registers: [registry],
    // Records observations held back from the hot path before the registry reads this metric.
    ...(collect ? { collect } : {}),
  });
}
