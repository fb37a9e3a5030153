import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry, register as globalRegistry } from 'prom-client';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { createMetrics } from '../src/metrics/index.js';
import { MAX_PENDING } from '../src/metrics/pending.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import { Runtime } from '../src/runtime.js';
import type { RoutingStrategy } from '../src/scheduler/strategy.js';
import { FakeGpu } from './fakes.js';

/** Every non-comment line is `name{labels} value`; returns the samples. */
function parse(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const part of m[2].match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
        const eq = part.indexOf('=');
        labels[part.slice(0, eq)] = part.slice(eq + 2, -1);
      }
      assert.equal(Object.keys(labels).length, m[2].split('",').length, `labels of ${line}`);
    }
    const value = Number(m[3]);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(m[3]!), `value of ${line}`);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

function find(samples: ReturnType<typeof parse>, name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const input = (n: number) => ({ a: new Float32Array(n), b: new Float32Array(n) });

describe('executor metrics', () => {
  test('after some batches the registry text parses and the counters moved', async () => {
    const metrics = createMetrics();
    const route: { device: 'cpu' | 'gpu' | 'split' } = { device: 'cpu' };
    const strategy: RoutingStrategy = {
      name: 'threshold',
      decide: () => (route.device === 'split' ? { device: 'split', gpuShare: 0.25, reason: 't' } : { device: route.device, reason: 't' }),
    };
    const gpu = new FakeGpu(vectorAdd);
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), gpu, { strategy, onBatch: metrics.onBatch, onDecision: metrics.onDecision });
    await s.execute(input(10));
    await s.execute(input(20));
    route.device = 'gpu';
    await s.execute(input(30));
    route.device = 'split';
    await s.execute(input(100));
    route.device = 'gpu';
    gpu.behaviour = 'throw';
    await s.execute(input(7));

    const samples = parse(await metrics.text());
    assert.equal(find(samples, 'supervm_tasks_total', { kernel: 'vector-add', device: 'cpu' }), 10 + 20 + 75 + 7);
    assert.equal(find(samples, 'supervm_tasks_total', { kernel: 'vector-add', device: 'gpu' }), 30 + 25);
    assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'vector-add', device: 'cpu', strategy: 'threshold' }), 2);
    assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'vector-add', device: 'gpu', strategy: 'threshold' }), 2);
    assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'vector-add', device: 'split', strategy: 'threshold' }), 1);
    assert.equal(find(samples, 'supervm_fallbacks_total', { kernel: 'vector-add', reason: 'DEVICE_LOST' }), 1);
    assert.equal(find(samples, 'supervm_batch_duration_seconds_count', { kernel: 'vector-add', device: 'cpu' }), 3);
    assert.equal(find(samples, 'supervm_batch_duration_seconds_count', { kernel: 'vector-add', device: 'gpu' }), 1);
    assert.equal(find(samples, 'supervm_batch_duration_seconds_count', { kernel: 'vector-add', device: 'split' }), 1);
    assert.equal(find(samples, 'supervm_batch_duration_seconds_bucket', { kernel: 'vector-add', device: 'cpu', le: '+Inf' }), 3);
    // Nothing bound: the gauges read 0. The process defaults are there.
    assert.equal(find(samples, 'supervm_gpu_buffer_bytes', { state: 'held' }), 0);
    assert.equal(find(samples, 'supervm_worker_utilization', {}), 0);
    assert.ok(samples.some((x) => x.name === 'process_cpu_user_seconds_total'));
    // Never prom-client's global registry.
    assert.equal(globalRegistry.getSingleMetric('supervm_tasks_total'), undefined);
  });

  test('label values outside the known sets become "other"', async () => {
    const metrics = createMetrics({ defaultMetrics: false, kernels: ['custom'] });
    metrics.onDecision('no-such-kernel', 'gpu', 'my-strategy');
    metrics.onDecision('custom', 'tpu' as never, 'cost-model');
    metrics.onBatch({ device: 'gpu', backend: 'x', kernel: 'sha256', tasks: 1, durationMs: 1, fellBack: true, fallbackReason: 'made up: reason text' });
    metrics.onBatch({ device: 'cpu', backend: 'x', kernel: 'sha256', tasks: 1, durationMs: 1, fellBack: true, fallbackReason: 'TIMEOUT: GPU batch exceeded 5 ms' });
    const samples = parse(await metrics.text());
    assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'other', device: 'gpu', strategy: 'other' }), 1);
    assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'custom', device: 'other', strategy: 'cost-model' }), 1);
    assert.equal(find(samples, 'supervm_fallbacks_total', { kernel: 'sha256', reason: 'other' }), 1);
    assert.equal(find(samples, 'supervm_fallbacks_total', { kernel: 'sha256', reason: 'TIMEOUT' }), 1);
    assert.ok(!samples.some((x) => x.name.startsWith('process_')));
  });

  test('batches held off the hot path are all recorded before any read, as they were', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const total = MAX_PENDING * 2 + 3;
    for (let i = 0; i < total; i++) {
      const stats = { device: 'gpu' as const, backend: 'x', kernel: 'sha256', tasks: 2, durationMs: 0.75 };
      metrics.onBatch(stats);
      // The caller owns the stats it got back: changing them later changes no metric.
      stats.tasks = 1000;
      stats.durationMs = 60_000;
      metrics.onDecision('sha256', 'gpu', 'cost-model');
    }
    // A read of one metric (not the whole registry) records what is held too.
    const tasks = await metrics.registry.getSingleMetric('supervm_tasks_total')!.get();
    assert.deepEqual(tasks.values.map((v) => [v.labels, v.value]), [[{ kernel: 'sha256', device: 'gpu' }, 2 * total]]);
    const samples = parse(await metrics.text());
    assert.equal(find(samples, 'supervm_batch_duration_seconds_count', { kernel: 'sha256', device: 'gpu' }), total);
    assert.equal(find(samples, 'supervm_batch_duration_seconds_bucket', { kernel: 'sha256', device: 'gpu', le: '0.001' }), total);
    assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'sha256', device: 'gpu', strategy: 'cost-model' }), total);
    // Read twice, counted once.
    assert.equal(find(parse(await metrics.text()), 'supervm_tasks_total', { kernel: 'sha256', device: 'gpu' }), 2 * total);
  });

  test('a runtime with a registry reports its batches and its pool', async () => {
    const registry = new Registry();
    const runtime = new Runtime({ gpu: false, threads: 1, models: false, registry });
    try {
      const s = await runtime.scheduler(vectorAdd);
      await s.execute(input(50_000));
      await s.execute(input(5));
      const samples = parse(await registry.metrics());
      assert.equal(find(samples, 'supervm_tasks_total', { kernel: 'vector-add', device: 'cpu' }), 50_005);
      assert.equal(find(samples, 'supervm_routing_decisions_total', { kernel: 'vector-add', device: 'cpu', strategy: 'cost-model' }), 2);
      const util = find(samples, 'supervm_worker_utilization', {});
      assert.ok(util !== undefined && util >= 0 && util <= 1);
      assert.equal(find(samples, 'supervm_gpu_buffer_bytes', { state: 'in_use' }), 0);
      assert.equal(runtime.metrics?.registry, registry);
    } finally {
      await runtime.close();
    }
  });
});
