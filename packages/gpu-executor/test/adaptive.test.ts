import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { AdaptiveStrategy } from '../src/scheduler/adaptive-strategy.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import type { RoutingContext } from '../src/scheduler/strategy.js';
import { FakeGpu } from './fakes.js';

const ctx = (items: number, gpuAvailable = true): RoutingContext => ({ kernel: 'k', items, work: items, gpuAvailable, queued: { cpu: 0, gpu: 0 } });

describe('AdaptiveStrategy (the seed baseline)', () => {
  test('routes like the threshold strategy', () => {
    const s = new AdaptiveStrategy(100);
    assert.equal(s.name, 'adaptive');
    assert.equal(s.decide(ctx(99)).device, 'cpu');
    assert.equal(s.decide(ctx(100)).device, 'gpu');
    assert.equal(s.decide(ctx(1000, false)).device, 'cpu');
  });

  test('raises the threshold 1.5x while the GPU average latency is above 1.2x the CPU average', () => {
    const s = new AdaptiveStrategy(1000);
    s.adjust(500, 'cpu', 10);
    assert.equal(s.gpuThreshold, 1000, 'no GPU sample yet');
    s.adjust(2000, 'gpu', 12); // 12 <= 1.2 * 10: not slower enough
    assert.equal(s.gpuThreshold, 1000);
    s.adjust(2000, 'gpu', 15); // gpu avg 13.5 > 12
    assert.equal(s.gpuThreshold, 1500);
    s.adjust(2000, 'gpu', 15); // still slower: raised again, as the seed does after every batch
    assert.equal(s.gpuThreshold, 2250);
    assert.equal(s.decide(ctx(2000)).device, 'cpu');
    // A fast CPU history keeps it where it is once the GPU is no slower.
    s.adjust(100, 'cpu', 100);
    assert.equal(s.gpuThreshold, 2250);
  });

  test('keeps a window of the last 10 batches', () => {
    const s = new AdaptiveStrategy(64);
    for (let i = 0; i < 10; i++) s.adjust(10, 'gpu', 50); // no CPU sample: no change
    assert.equal(s.gpuThreshold, 64);
    s.adjust(10, 'cpu', 1); // window: 9 GPU at 50 ms, 1 CPU at 1 ms
    assert.equal(s.history.length, 10);
    assert.equal(s.gpuThreshold, 96);
    for (let i = 0; i < 10; i++) s.adjust(10, 'cpu', 1); // the GPU batches leave the window
    assert.equal(s.history.length, 10);
    assert.ok(s.history.every((h) => h.device === 'cpu'));
    const before = s.gpuThreshold;
    s.adjust(10, 'cpu', 1);
    assert.equal(s.gpuThreshold, before);
  });

  test('a threshold of 0 or 1 still rises (the seed would truncate 1 * 1.5 back to 1)', () => {
    for (const start of [0, 1]) {
      const s = new AdaptiveStrategy(start);
      s.adjust(1, 'cpu', 1);
      s.adjust(1, 'gpu', 10);
      assert.equal(s.gpuThreshold, start + 1);
    }
  });

  test('learns from a scheduler: a GPU three times slower pushes the threshold up', async () => {
    const strategy = new AdaptiveStrategy(8);
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd), { strategy });
    const input = (n: number) => ({ a: new Float32Array(n), b: new Float32Array(n) });
    await s.execute(input(4));
    await s.execute(input(16));
    // The strategy sees a batch after its caller has the result.
    await new Promise(setImmediate);
    assert.equal(strategy.history.length, 2);
    assert.deepEqual(strategy.history.map((h) => [h.batchSize, h.device]), [[4, 'cpu'], [16, 'gpu']]);
    // Synthetic latencies: the seed compares them, whatever the real ones were.
    strategy.observe({ kernel: 'vector-add', device: 'gpu', items: 16, work: 16, durationMs: 1e6 });
    assert.ok(strategy.gpuThreshold > 8);
  });

  test('rejects bad options', () => {
    assert.throws(() => new AdaptiveStrategy(-1), TypeError);
    assert.throws(() => new AdaptiveStrategy(1, { historySize: 0 }), TypeError);
    assert.throws(() => new AdaptiveStrategy(1, { growth: 1 }), TypeError);
  });
});
