import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { ParallelCpuExecutor } from '../src/cpu/parallel-cpu-executor.js';
import { WorkerPool } from '../src/cpu/worker-pool.js';
import { kernel as sha256, toSha256Columns } from '../src/kernels/sha256/index.js';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { CostModelStrategy } from '../src/scheduler/cost-model-strategy.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import type { RoutingStrategy } from '../src/scheduler/strategy.js';
import { FakeGpu } from './fakes.js';

const pool = new WorkerPool({ threads: 2 });
after(() => pool.close());

/** Splits every batch at the share the test sets. */
class FixedSplit implements RoutingStrategy {
  readonly name = 'fixed-split';
  share = 0.5;
  decide() {
    return { device: 'split' as const, gpuShare: this.share, reason: 'test' };
  }
}

function vectors(n: number, seed: number): { a: Float32Array; b: Float32Array } {
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = Math.sin(i * 12.9898 + seed) * 1e4;
    b[i] = Math.cos(i * 78.233 + seed) * 1e-3;
  }
  return { a, b };
}

describe('co-execution equals single-device output', () => {
  const single = new HybridScheduler(new CpuMapExecutor(vectorAdd), undefined);

  for (const [name, cpu] of [
    ['in-thread CPU', () => new CpuMapExecutor(vectorAdd)],
    ['worker-pool CPU', () => new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 })],
  ] as const) {
    test(`vector-add, random sizes and shares (${name})`, async () => {
      const strategy = new FixedSplit();
      const s = new HybridScheduler(cpu(), new FakeGpu(vectorAdd), { strategy });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), async (n, share, seed) => {
          strategy.share = share;
          const input = vectors(n, seed);
          const split = await s.execute(input);
          const ref = await single.execute(input, { device: 'cpu' });
          assert.deepEqual(new Uint32Array(split.output.buffer, split.output.byteOffset, n), new Uint32Array(ref.output.buffer, ref.output.byteOffset, n));
          assert.equal(split.stats.split!.cpu + split.stats.split!.gpu, n);
        }),
        { numRuns: 40 },
      );
    });
  }

  test('sha256 of random messages, split where the cost model says', async () => {
    // A model in which both devices cost the same per byte: large batches are split about in half.
    const strategy = new CostModelStrategy(sha256, { refreshEvery: 0 });
    for (let e = 6; e <= 20; e += 2) {
      strategy.observe({ kernel: 'sha256', device: 'cpu', items: 1, work: 2 ** e, durationMs: 2 ** e * 1e-3 });
      strategy.observe({ kernel: 'sha256', device: 'gpu', items: 1, work: 2 ** e, durationMs: 2 ** e * 1e-3 });
    }
    const gpu = new FakeGpu(sha256);
    const s = new HybridScheduler(new ParallelCpuExecutor(sha256, { pool, minTaskNs: 0 }), gpu, { strategy });
    const reference = new HybridScheduler(new CpuMapExecutor(sha256), undefined);
    let splits = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 2, maxLength: 200 }), async (messages) => {
        const input = toSha256Columns(messages);
        const got = await s.execute(input);
        if (got.stats.split) splits++;
        const want = await reference.execute(input);
        assert.deepEqual(Buffer.from(got.output), Buffer.from(want.output));
      }),
      { numRuns: 40 },
    );
    assert.ok(splits > 0, 'some batches were split');
  });
});
