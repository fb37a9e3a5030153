import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { ParallelCpuExecutor } from '../src/cpu/parallel-cpu-executor.js';
import { UnavailableGpu } from '../src/gpu/unavailable-gpu.js';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { ExecutorError } from '../src/errors.js';
import { rangeOptions } from '../src/range.js';
import { HybridScheduler, routedStats } from '../src/scheduler/hybrid-scheduler.js';
import { ThresholdStrategy, type SplitSample } from '../src/scheduler/strategy.js';
import { pool } from './backends.js';
import type { ExecStats, RangeOptions } from '../src/types.js';
import { FakeGpu } from './fakes.js';

function inputOf(n: number, seed = 1): { a: Float32Array; b: Float32Array } {
  return { a: Float32Array.from({ length: n }, (_, i) => i + seed), b: Float32Array.from({ length: n }, (_, i) => i * seed) };
}
function expected(n: number, seed = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.fround(i + seed) + Math.fround(i * seed));
}

describe('threshold routing', () => {
  test('GPU at and above the threshold, CPU below it', async () => {
    const gpu = new FakeGpu(vectorAdd);
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), gpu, { strategy: { gpuThreshold: 100 } });
    assert.equal((await s.execute(inputOf(99))).stats.device, 'cpu');
    assert.equal((await s.execute(inputOf(100))).stats.device, 'gpu');
    assert.equal((await s.execute(inputOf(101))).stats.device, 'gpu');
    assert.equal(gpu.calls, 2);
    assert.equal((await s.execute(inputOf(0))).stats.device, 'cpu');
  });

  test('threshold 0 sends even empty batches to the GPU', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd), { strategy: new ThresholdStrategy(0) });
    const { output, stats } = await s.execute(inputOf(0));
    assert.equal(stats.device, 'gpu');
    assert.equal(output.length, 0);
  });

  test('an unavailable GPU routes everything to the CPU', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new UnavailableGpu('none here'), { strategy: { gpuThreshold: 1 } });
    const { output, stats } = await s.execute(inputOf(500));
    assert.equal(stats.device, 'cpu');
    assert.equal(stats.fellBack, undefined);
    assert.deepEqual(output, expected(500));
    await assert.rejects(s.execute(inputOf(5), { device: 'gpu' }), { code: 'BACKEND_UNAVAILABLE' });
  });

  test('autoGpu false keeps auto on the CPU while device "gpu" still reaches the GPU', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd), { strategy: { gpuThreshold: 1 }, autoGpu: false });
    assert.equal((await s.execute(inputOf(1000))).stats.device, 'cpu');
    assert.equal((await s.execute(inputOf(10), { device: 'gpu' })).stats.device, 'gpu');
  });

  test('device "cpu" and "gpu" force the choice; anything else is INVALID_OPTION', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd), { strategy: { gpuThreshold: 10 } });
    assert.equal((await s.execute(inputOf(1000), { device: 'cpu' })).stats.device, 'cpu');
    assert.equal((await s.execute(inputOf(1), { device: 'gpu' })).stats.device, 'gpu');
    await assert.rejects(s.execute(inputOf(1), { device: 'tpu' as never }), { code: 'INVALID_OPTION' });
  });
});

describe('GPU failures fall back to the CPU', () => {
  test('a GPU that throws: the batch is re-run on CPU, stats and counter say so', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'throw'), { strategy: { gpuThreshold: 1 } });
    const { output, stats } = await s.execute(inputOf(300, 3));
    assert.deepEqual(output, expected(300, 3));
    assert.equal(stats.device, 'cpu');
    assert.equal(stats.fellBack, true);
    assert.match(stats.fallbackReason ?? '', /DEVICE_LOST/);
    assert.equal(s.fallbacks, 1);
  });

  test('a GPU that hangs past the deadline: abandoned, re-run on CPU', async () => {
    const gpu = new FakeGpu(vectorAdd, 'hang');
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), gpu, { strategy: { gpuThreshold: 1 }, gpuTimeoutMs: 50 });
    const { output, stats } = await s.execute(inputOf(64));
    assert.deepEqual(output, expected(64));
    assert.equal(stats.fellBack, true);
    assert.match(stats.fallbackReason ?? '', /TIMEOUT/);
  });

  test('batches in flight on a hung GPU all time out and re-run on CPU; the next batch gets a fresh GPU run', async () => {
    const gpu = new FakeGpu(vectorAdd, 'hang');
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), gpu, { strategy: { gpuThreshold: 1 }, gpuTimeoutMs: 40 });
    const caller = new AbortController();
    const runs = await Promise.all([s.execute(inputOf(64, 1)), s.execute(inputOf(65, 2), { signal: caller.signal }), s.execute(inputOf(66, 3))]);
    runs.forEach(({ output, stats }, i) => {
      assert.deepEqual(output, expected(64 + i, i + 1));
      assert.equal(stats.fellBack, true);
      assert.match(stats.fallbackReason ?? '', /TIMEOUT/);
    });
    assert.equal(s.fallbacks, 3);
    // The deadline aborted the shared controller; a later batch must not start aborted.
    gpu.behaviour = 'ok';
    const { stats } = await s.execute(inputOf(67));
    assert.equal(stats.device, 'gpu');
    assert.equal(stats.fellBack, undefined);
    await s.close();
  });

  test('the caller aborting a GPU batch rejects it with ABORTED, not a fallback', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'hang'), { strategy: { gpuThreshold: 1 } });
    const caller = new AbortController();
    const pending = s.execute(inputOf(64), { signal: caller.signal });
    setTimeout(() => caller.abort(), 5);
    await assert.rejects(pending, { code: 'ABORTED' });
    assert.equal(s.fallbacks, 0);
    await s.close();
  });

  test('invalid input is rejected up front, never "fallen back"', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'throw'), { strategy: { gpuThreshold: 1 } });
    await assert.rejects(s.execute({ a: new Float32Array(2), b: new Float32Array(3) }), { code: 'INVALID_INPUT', index: 2 });
    assert.equal(s.fallbacks, 0);
  });
});

describe('co-execution', () => {
  const split = { name: 'split-half', decide: () => ({ device: 'split' as const, gpuShare: 0.5, reason: 'test' }) };

  test('a split batch is joined in task order', async () => {
    const s = new HybridScheduler(new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 }), new FakeGpu(vectorAdd), { strategy: split });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 9 }), async (n, seed) => {
        const { output, stats } = await s.execute(inputOf(n, seed));
        assert.deepEqual(output, expected(n, seed));
        const { cpu, gpu, cpuMs, gpuMs } = stats.split!;
        assert.deepEqual({ cpu, gpu }, { cpu: Math.round(n / 2), gpu: n - Math.round(n / 2) });
        assert.ok(cpuMs! >= 0 && gpuMs! >= 0 && Math.max(cpuMs!, gpuMs!) <= stats.durationMs, JSON.stringify(stats));
      }),
      { numRuns: 30 },
    );
  });

  test('a split batch is reported to observeSplit whole and by part, with the strategy\'s prediction, and not as single-device samples', async () => {
    const splits: SplitSample[] = [];
    let singles = 0;
    const observing = {
      name: 'split-observed',
      decide: () => ({ device: 'split' as const, gpuShare: 0.3, reason: 'test', predictedMs: 3 }),
      observe: () => singles++,
      observeSplit: (sample: SplitSample) => splits.push(sample),
    };
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'slow'), { strategy: observing });
    await s.execute(inputOf(1000));
    await new Promise(setImmediate);
    assert.equal(splits.length, 1);
    const [sample] = splits;
    assert.deepEqual({ items: sample!.items, gpuShare: sample!.gpuShare, predictedMs: sample!.predictedMs }, { items: 1000, gpuShare: 0.3, predictedMs: 3 });
    const { cpu, gpu } = sample!.parts!;
    assert.deepEqual([cpu.items, gpu.items], [700, 300]);
    assert.deepEqual(sample!.queued, { cpu: 0, gpu: 0 });
    assert.equal(cpu.work + gpu.work, sample!.work);
    assert.equal(cpu.work, vectorAdd.work?.(inputOf(1000), 0, 700) ?? 700);
    // Each part's start and end from the batch's start, within the whole batch's; the CPU's larger part started first.
    for (const part of [cpu, gpu]) assert.ok(part.startMs! >= 0 && part.startMs! <= part.durationMs && part.durationMs <= sample!.durationMs, JSON.stringify(sample));
    assert.ok(cpu.startMs! <= gpu.startMs!, JSON.stringify(sample!.parts));
    // The fake GPU waits a timer; the in-thread CPU part is done first.
    assert.ok(gpu.durationMs > cpu.durationMs, JSON.stringify(sample!.parts));
    assert.equal(singles, 0);
  });

  test('the strategy observes a batch once its caller has the result; close hands over the rest; a throwing observe is a warning', async () => {
    const seen: string[] = [];
    const strategy = { name: 'watching', decide: () => ({ device: 'cpu' as const, reason: 'test' }), observe: (x: { items: number }) => seen.push(`observe ${x.items}`) };
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd), { strategy });
    await s.execute(inputOf(3));
    seen.push('caller');
    await s.execute(inputOf(4));
    assert.deepEqual(seen, ['caller']);
    await new Promise(setImmediate);
    assert.deepEqual(seen, ['caller', 'observe 3', 'observe 4']);
    await s.execute(inputOf(5));
    await s.close();
    assert.deepEqual(seen.at(-1), 'observe 5');

    // Batches that never leave the microtask queue still reach the strategy, at most three behind.
    const looping = new HybridScheduler(new CpuMapExecutor(vectorAdd), undefined, { strategy });
    const before = seen.length;
    for (let i = 0; i < 10; i++) await looping.execute(inputOf(7));
    assert.equal(seen.length - before, 8);
    await looping.close();
    assert.equal(seen.length - before, 10);

    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const throwing = new HybridScheduler(new CpuMapExecutor(vectorAdd), undefined, { strategy: { ...strategy, observe: () => { throw new Error('boom'); } } });
    const { output } = await throwing.execute(inputOf(6));
    assert.deepEqual(output, expected(6));
    await new Promise(setImmediate);
    await new Promise((r) => setTimeout(r, 5));
    process.off('warning', onWarning);
    assert.ok(warnings.some((m) => /watching threw in observe: boom/.test(m)), JSON.stringify(warnings));
  });

  test('a failing GPU part is re-run on the CPU', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'throw'), { strategy: split });
    const { output, stats } = await s.execute(inputOf(1001));
    assert.deepEqual(output, expected(1001));
    assert.equal(stats.fellBack, true);
  });

  test('the larger part starts first: a GPU part is staged before the CPU part starts; a GPU part rejected meanwhile rejects the batch, unhandled nowhere', async () => {
    type Input = ReturnType<typeof inputOf>;
    const events: string[] = [];
    class StagingGpu extends FakeGpu<Input, Float32Array> {
      override async executeInto(input: Input, output: Float32Array, options: RangeOptions): Promise<ExecStats> {
        events.push('gpu called');
        // Host staging: a chain of microtasks, as mapping and queue writes are.
        for (let i = 0; i < 5; i++) await null;
        events.push('gpu staged');
        if (this.behaviour === 'throw') throw new ExecutorError('INVALID_INPUT', 'found while staging', { index: 7 });
        return super.executeInto(input, output, options);
      }
    }
    class RecordingCpu extends CpuMapExecutor<Input, Float32Array> {
      override executeInto(input: Input, output: Float32Array, options: RangeOptions): Promise<ExecStats> {
        events.push('cpu called');
        return super.executeInto(input, output, options);
      }
    }
    let gpuShare = 0.5;
    const strategy = { name: 'split', decide: () => ({ device: 'split' as const, gpuShare, reason: 'test' }) };
    const gpu = new StagingGpu(vectorAdd);
    const s = new HybridScheduler(new RecordingCpu(vectorAdd), gpu, { strategy });
    assert.deepEqual((await s.execute(inputOf(400))).output, expected(400));
    assert.deepEqual(events, ['gpu called', 'gpu staged', 'cpu called']);
    // The CPU's larger part starts first, and the GPU's right after it.
    events.length = 0;
    gpuShare = 0.3;
    assert.deepEqual((await s.execute(inputOf(400))).output, expected(400));
    assert.deepEqual(events, ['cpu called', 'gpu called', 'gpu staged']);
    gpuShare = 0.5;

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    gpu.behaviour = 'throw';
    await assert.rejects(s.execute(inputOf(400)), { code: 'INVALID_INPUT', index: 7 });
    await new Promise((r) => setTimeout(r, 5));
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, []);
  });
});

describe('concurrency, abort and close', () => {
  test('concurrent batches each get complete results in task order', async () => {
    const s = new HybridScheduler(new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 }), new FakeGpu(vectorAdd, 'slow'), { strategy: { gpuThreshold: 500 } });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 50 })), { minLength: 1, maxLength: 12 }), async (batches) => {
        const results = await Promise.all(batches.map(([n, seed]) => s.execute(inputOf(n, seed))));
        results.forEach(({ output, stats }, i) => {
          const [n, seed] = batches[i]!;
          assert.equal(stats.tasks, n);
          assert.deepEqual(output, expected(n, seed));
        });
      }),
      { numRuns: 20 },
    );
  });

  test('an aborted signal rejects with ABORTED', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'hang'), { strategy: { gpuThreshold: 1 } });
    await assert.rejects(s.execute(inputOf(10), { signal: AbortSignal.abort() }), { code: 'ABORTED' });
    const controller = new AbortController();
    const pending = s.execute(inputOf(10), { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(pending, { code: 'ABORTED' });
    assert.equal(s.fallbacks, 0);
  });

  test('close while busy: the running batch completes, later calls get CLOSED', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'slow'), { strategy: { gpuThreshold: 1 } });
    const running = s.execute(inputOf(100));
    await s.close();
    assert.deepEqual((await running).output, expected(100));
    await assert.rejects(s.execute(inputOf(1)), { code: 'CLOSED' });
  });

  test('close waits for the batches running: a split whose CPU part starts after close still runs on both devices', async () => {
    const strategy = { name: 'split', decide: () => ({ device: 'split' as const, gpuShare: 0.5, reason: 'test' }) };
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), new FakeGpu(vectorAdd, 'slow'), { strategy });
    const running = s.execute(inputOf(1000));
    const closed = s.close();
    const { output, stats } = await running;
    assert.deepEqual(output, expected(1000));
    assert.equal(stats.fellBack, undefined, stats.fallbackReason);
    await closed;
    await assert.rejects(s.execute(inputOf(1)), { code: 'CLOSED' });
  });

  test('the Task/Batch form runs any function in task order', async () => {
    const cpu = CpuMapExecutor.fromFunction((x: number) => x * 2);
    const s = new HybridScheduler(cpu, new UnavailableGpu());
    const { output, stats } = await s.schedule({ tasks: [{ id: 1, payload: 21 }, { id: 2, payload: 50 }] });
    assert.deepEqual(output, [{ id: 1, output: 42 }, { id: 2, output: 100 }]);
    assert.equal(stats.device, 'cpu');
    await assert.rejects(s.schedule({ tasks: [{ id: 1, payload: 1, estCost: Number.NaN }] }), { code: 'INVALID_INPUT', index: 0 });
  });
});

describe('options are validated up front', () => {
  test('negative or fractional thresholds, bad parallelism, bad deadlines: TypeError', () => {
    const cpu = new CpuMapExecutor(vectorAdd);
    assert.throws(() => new ThresholdStrategy(-1), TypeError);
    assert.throws(() => new HybridScheduler(cpu, undefined, { strategy: { gpuThreshold: 1.5 } }), TypeError);
    assert.throws(() => new HybridScheduler(cpu, undefined, { strategy: { gpuThreshold: 1, maxCpuParallelism: 0 } }), TypeError);
    assert.throws(() => new HybridScheduler(cpu, undefined, { gpuTimeoutMs: 0 }), TypeError);
    assert.throws(() => new HybridScheduler(new FakeGpu(vectorAdd) as never), TypeError);
  });
});

describe('stats and options copied field by field on the hot path', () => {
  // Required<...>: a field added to ExecStats or RangeOptions fails to compile here until the copy is taught it.
  test('routedStats keeps every field of the executor\'s stats and sets the scheduler\'s own', () => {
    const full: Required<ExecStats> = {
      device: 'gpu',
      backend: 'fake-gpu',
      kernel: 'k',
      tasks: 1,
      durationMs: 1,
      fellBack: true,
      fallbackReason: 'DEVICE_LOST: x',
      split: { cpu: 1, gpu: 2, cpuMs: 3, gpuMs: 4 },
      threads: 3,
      gpu: { uploadMs: 1, computeMs: 2, downloadMs: 3, bytesUploaded: 4, bytesDownloaded: 5, source: 'timestamp', chunks: 1 },
      strategy: 'old',
      reason: 'old',
    };
    assert.deepEqual(routedStats(full, 9, 2.5, 'cost-model', 'why'), { ...full, tasks: 9, durationMs: 2.5, strategy: 'cost-model', reason: 'why' });
    const bare: ExecStats = { device: 'cpu', backend: 'cpu-inline', kernel: 'k', tasks: 1, durationMs: 1 };
    assert.deepEqual(Object.keys(routedStats(bare, 1, 1, 's', 'r')).sort(), ['backend', 'device', 'durationMs', 'kernel', 'reason', 'strategy', 'tasks']);
  });

  test('rangeOptions keeps every option, and a given signal replaces the caller\'s', () => {
    const signal = new AbortController().signal;
    const own = new AbortController().signal;
    const full: Required<RangeOptions> = { start: 0, end: 1, signal, priority: 'high', maxThreads: 3 };
    assert.deepEqual(rangeOptions(full, 2, 5), { ...full, start: 2, end: 5 });
    assert.equal(rangeOptions(full, 2, 5, own).signal, own);
    assert.deepEqual(rangeOptions({}, 0, 4), { start: 0, end: 4 });
  });
});
