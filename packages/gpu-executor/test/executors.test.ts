import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ExecutorError } from '../src/errors.js';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { ParallelCpuExecutor } from '../src/cpu/parallel-cpu-executor.js';
import { toShared } from '../src/cpu/shared-memory.js';
import { SharedScratch, sharedScratch } from '../src/cpu/shared-scratch.js';
import { WorkerPool } from '../src/cpu/worker-pool.js';
import { UnavailableGpu } from '../src/gpu/unavailable-gpu.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { pool } from './backends.js';
import { kernel as gateKernel } from './fixtures/gate-kernel.js';
import { kernel as threadKernel } from './fixtures/thread-kernel.js';

const input = (n: number) => ({ a: Float32Array.from({ length: n }, (_, i) => i / 7), b: Float32Array.from({ length: n }, (_, i) => -i / 3) });

/** A pool job of thread-kernel over `n` items of 1, cut at `bounds`, and the same kernel for the calling thread to join it with. */
function threadJob(n: number, bounds: Uint32Array) {
  const values = toShared(new Int32Array(n).fill(1));
  const output = new SharedArrayBuffer(4 * n);
  const out = new Int32Array(output);
  const job = { moduleUrl: threadKernel.moduleUrl, columns: { values }, output, items: n, bounds };
  const joinOnCaller = (s: number, e: number): void => threadKernel.cpu({ values }, out, s, e);
  return { values, out, job, joinOnCaller };
}

describe('ParallelCpuExecutor', () => {
  test('gives the same output as the in-thread executor for any length and split', async () => {
    const inline = new CpuMapExecutor(vectorAdd);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 50_000 }), async (n, minTaskNs) => {
        const parallel = new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs });
        const x = input(n);
        assert.deepEqual((await parallel.execute(x)).output, (await inline.execute(x)).output);
      }),
      { numRuns: 25 },
    );
  });

  test('runs a batch under twice minTaskNs in-thread, and one just over it on every thread', async () => {
    // Vector add is estimated at 1 ns an item: 400K items are 0.4 ms, 600K items 0.6 ms.
    const four = new WorkerPool({ threads: 4 });
    try {
      const parallel = new ParallelCpuExecutor(vectorAdd, { pool: four, minTaskNs: 250_000 });
      const small = await parallel.execute(input(400_000));
      assert.equal(small.stats.threads, 1);
      // 0.6 ms in parts of at least 25 us: all four threads get parts (with 250 us parts, two did).
      const large = await parallel.execute(input(600_000));
      assert.equal(large.stats.threads, 4);
      assert.deepEqual(large.output, (await new CpuMapExecutor(vectorAdd).execute(input(600_000))).output);
    } finally {
      await four.close();
    }
  });

  test('spreads a large batch over the workers; a shared output is written in place, a plain one through scratch', async () => {
    const parallel = new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 });
    const x = { a: toShared(input(10_000).a), b: toShared(input(10_000).b) };
    const want = (await new CpuMapExecutor(vectorAdd).execute(x)).output;
    const { output, stats } = await parallel.execute(x);
    assert.equal(stats.threads, 2);
    assert.deepEqual(output, want);
    const shared = parallel.allocateOutput(10_000);
    assert.ok(shared.buffer instanceof SharedArrayBuffer);
    await parallel.executeInto(x, shared, { start: 0, end: 10_000 });
    assert.deepEqual(shared, want);
  });

  test('scratch reused across batches never leaks one batch into another', async () => {
    const parallel = new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 });
    // Plain columns and outputs, sizes that share a scratch size class, run concurrently and in turn.
    const sizes = [40_000, 33_000, 40_000, 20_000, 33_000];
    const inputs = sizes.map((n, k) => ({ a: Float32Array.from({ length: n }, (_, i) => i + k), b: new Float32Array(n).fill(k) }));
    const wants = await Promise.all(inputs.map(async (x) => (await new CpuMapExecutor(vectorAdd).execute(x)).output));
    for (let round = 0; round < 2; round++) {
      const outs = await Promise.all(inputs.map((x) => parallel.execute(x)));
      outs.forEach((r, k) => assert.deepEqual(r.output, wants[k]));
    }
    assert.ok(sharedScratch.retainedBytes > 0, 'released scratch is kept for the next batch');
  });

  test('executeInto a plain (unshared) output fills only its range', async () => {
    const parallel = new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 });
    const x = input(1000);
    const out = new Float32Array(1000).fill(-1);
    await parallel.executeInto(x, out, { start: 100, end: 900 });
    assert.equal(out[99], -1);
    assert.equal(out[900], -1);
    assert.equal(out[100], Math.fround(x.a[100]! + x.b[100]!));
    await assert.rejects(parallel.executeInto(x, out, { start: 5, end: 1001 }), { code: 'INVALID_OPTION' });
  });

  test('a full queue applies backpressure instead of failing', async () => {
    const small = new WorkerPool({ threads: 1, maxQueue: 1 });
    const parallel = new ParallelCpuExecutor(vectorAdd, { pool: small, minTaskNs: 0 });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => parallel.execute(input(64))));
      for (const r of results) assert.deepEqual(r.output, (await new CpuMapExecutor(vectorAdd).execute(input(64))).output);
    } finally {
      await small.close();
    }
  });

  test('a high-priority task overtakes queued normal ones', async () => {
    const one = new WorkerPool({ threads: 1 });
    try {
      const n = 4096;
      const columns = { a: toShared(input(n).a), b: toShared(input(n).b) };
      const task = () => ({ moduleUrl: vectorAdd.moduleUrl, columns, output: new SharedArrayBuffer(n * 4), items: n, start: 0, end: n });
      const finished: string[] = [];
      const submit = (name: string, priority: 'high' | 'normal') => one.run(task(), { priority }).then(() => finished.push(name));
      // One worker: normal-0 may already run when the rest are queued; high must come before normal-1..5.
      const runs = [0, 1, 2, 3, 4, 5].map((i) => submit(`normal-${i}`, 'normal'));
      runs.push(submit('high', 'high'));
      await Promise.all(runs);
      assert.ok(finished.indexOf('high') <= 1, finished.join(', '));
    } finally {
      await one.close();
    }
  });

  test('a running batch gives its worker to a high-priority task between parts, then finishes every item', async () => {
    const one = new WorkerPool({ threads: 1 });
    try {
      const n = 8;
      const gate = new Int32Array(new SharedArrayBuffer(8));
      const values = toShared(Int32Array.from({ length: n }, (_, i) => i + 1));
      const batch = new ParallelCpuExecutor(gateKernel, { pool: one, minTaskNs: 0, maxTaskNs: 1_000_000 });
      const finished: string[] = [];
      const running = batch.execute({ gate, values }).then((r) => {
        finished.push('batch');
        return r.output;
      });
      // The only worker is inside the batch's first part: the high task has to wait for a part boundary.
      while (Atomics.load(gate, 1) === 0) await new Promise((r) => setTimeout(r, 1));
      const x = { a: toShared(input(16).a), b: toShared(input(16).b) };
      const high = one.run({ moduleUrl: vectorAdd.moduleUrl, columns: x, output: new SharedArrayBuffer(64), items: 16, start: 0, end: 16 }, { priority: 'high' }).then(() => finished.push('high'));
      await new Promise((r) => setTimeout(r, 5));
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      const [output] = await Promise.all([running, high]);
      assert.deepEqual(finished, ['high', 'batch']);
      assert.deepEqual([...output], [...values].map((v) => v * 2));
    } finally {
      await one.close();
    }
  });

  test('a part that throws fails its batch with KERNEL_FAILED and the item\'s message; the pool goes on', async () => {
    const two = new WorkerPool({ threads: 2 });
    try {
      const parallel = new ParallelCpuExecutor(threadKernel, { pool: two, minTaskNs: 0 });
      const values = toShared(new Int32Array(64).fill(1));
      values[40] = -1;
      await assert.rejects(parallel.execute({ values }), (err: ExecutorError) => err.code === 'KERNEL_FAILED' && /thread-id failed on the pool: item 40 is bad/.test(err.message));
      values[40] = 1;
      const { output } = await parallel.execute({ values });
      assert.ok(output.every((id) => id > 0), 'every item ran on a worker');
    } finally {
      await two.close();
    }
  });

  test('a worker that dies in a part fails that batch, and a new worker takes its place', async () => {
    const two = new WorkerPool({ threads: 2 });
    try {
      const parallel = new ParallelCpuExecutor(threadKernel, { pool: two, minTaskNs: 0 });
      const values = toShared(new Int32Array(64).fill(1));
      values[10] = -2;
      await assert.rejects(parallel.execute({ values }), (err: ExecutorError) => err.code === 'KERNEL_FAILED' && /exited \(code 3\)/.test(err.message));
      values[10] = 1;
      for (let round = 0; round < 3; round++) {
        const { output } = await parallel.execute({ values });
        assert.ok(output.every((id) => id > 0));
        if (new Set(output).size === 2) return;
      }
      assert.fail('after the replacement, batches never ran on two workers');
    } finally {
      await two.close();
    }
  });

  test('joinOnCaller: the calling thread runs parts too, and counts against maxThreads', async () => {
    const three = new WorkerPool({ threads: 3 });
    try {
      const n = 24;
      const { out, job, joinOnCaller } = threadJob(n, Uint32Array.from({ length: n + 1 }, (_, i) => i));
      // maxThreads 1 leaves no worker to the job: the caller runs every part.
      out.fill(-1);
      await three.runParts(job, { maxThreads: 1, joinOnCaller });
      assert.deepEqual([...new Set(out)], [0]);
      // maxThreads 2: the caller and at most one worker.
      out.fill(-1);
      await three.runParts(job, { maxThreads: 2, joinOnCaller });
      assert.ok(out.every((id) => id >= 0), 'every part ran');
      assert.ok(new Set(out.filter((id) => id > 0)).size <= 1, `ids ${[...new Set(out)]}`);
    } finally {
      await three.close();
    }
  });

  test('joinOnCaller: a part that throws on the calling thread fails the job with KERNEL_FAILED; the pool goes on', async () => {
    const two = new WorkerPool({ threads: 2 });
    try {
      const { values, out, job, joinOnCaller } = threadJob(8, Uint32Array.of(0, 4, 8));
      values[1] = -1;
      await assert.rejects(two.runParts(job, { maxThreads: 1, joinOnCaller }), (err: ExecutorError) => err.code === 'KERNEL_FAILED' && /item 1 is bad/.test(err.message));
      values[1] = 1;
      await two.runParts(job, { maxThreads: 1, joinOnCaller });
      assert.deepEqual([...out], new Array(8).fill(0));
    } finally {
      await two.close();
    }
  });

  test('callerJoinsUnderNs: a short batch is joined by the calling thread; 0 or a maxThreads turns it off', async () => {
    const two = new WorkerPool({ threads: 2 });
    try {
      // 32 items of 100 us: 1.6 ms estimated on two threads.
      const values = toShared(new Int32Array(32).fill(1));
      const joined = new ParallelCpuExecutor(threadKernel, { pool: two, minTaskNs: 0, callerJoinsUnderNs: 2_000_000 });
      const apart = new ParallelCpuExecutor(threadKernel, { pool: two, minTaskNs: 0, callerJoinsUnderNs: 0 });
      const { output } = await joined.execute({ values });
      assert.ok(new Set(output.filter((id) => id > 0)).size <= 1, 'the caller and one worker');
      // Batches started together, each joined by the calling thread: every item of each runs.
      const outputs = [1, 2, 3].map(() => joined.allocateOutput(32).fill(-1));
      await Promise.all(outputs.map((out) => joined.executeInto({ values }, out, { start: 0, end: 32 })));
      for (const out of outputs) assert.ok(out.every((id) => id >= 0), 'every item ran');
      for (let round = 0; round < 3; round++) {
        const { output } = await apart.execute({ values });
        assert.ok(output.every((id) => id > 0), 'every item ran on a worker');
      }
      // A call that sets maxThreads keeps the calling thread out (co-execution leaves it to the GPU).
      const out = joined.allocateOutput(32);
      await joined.executeInto({ values }, out, { start: 0, end: 32, maxThreads: 2 });
      assert.ok(out.every((id) => id > 0), 'every item ran on a worker');
      assert.throws(() => new ParallelCpuExecutor(threadKernel, { pool: two, callerJoinsUnderNs: -1 }), TypeError);
    } finally {
      await two.close();
    }
  });

  test('a kernel module without a kernel export fails the batch, not the pool', async () => {
    const one = new WorkerPool({ threads: 1 });
    try {
      const x = { a: toShared(input(16).a), b: toShared(input(16).b) };
      const task = { moduleUrl: new URL('./fixtures/README.md', import.meta.url).href, columns: x, output: new SharedArrayBuffer(64), items: 16, start: 0, end: 16 };
      await assert.rejects(one.run(task), { code: 'KERNEL_FAILED' });
      assert.equal(await one.run({ ...task, moduleUrl: vectorAdd.moduleUrl }), 16);
    } finally {
      await one.close();
    }
  });

  test('maxThreads bounds the workers a batch runs on', async () => {
    const three = new WorkerPool({ threads: 3 });
    try {
      const parallel = new ParallelCpuExecutor(threadKernel, { pool: three, minTaskNs: 0 });
      const values = toShared(new Int32Array(96).fill(1));
      const out = parallel.allocateOutput(96);
      const stats = await parallel.executeInto({ values }, out, { start: 0, end: 96, maxThreads: 1 });
      assert.equal(stats.threads, 1);
      assert.equal(new Set(out).size, 1, 'one worker ran every part');
      assert.ok(out[0]! > 0);
      await parallel.executeInto({ values }, out, { start: 0, end: 96, maxThreads: 2 });
      assert.ok(new Set(out).size <= 2);
    } finally {
      await three.close();
    }
  });

  test('batches from several executors run at once on one pool, each complete', async () => {
    const parallel = new ParallelCpuExecutor(threadKernel, { pool, minTaskNs: 0 });
    const adder = new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 });
    const values = toShared(new Int32Array(200).fill(1));
    const x = input(30_000);
    const want = (await new CpuMapExecutor(vectorAdd).execute(x)).output;
    const results = await Promise.all([...Array.from({ length: 6 }, () => parallel.execute({ values })), ...Array.from({ length: 6 }, () => adder.execute(x))]);
    for (const r of results.slice(0, 6)) assert.ok((r.output as Int32Array).every((id) => id > 0));
    for (const r of results.slice(6)) assert.deepEqual(r.output, want);
  });

  test('abort during a batch stops its workers at the next part', async () => {
    const one = new WorkerPool({ threads: 1 });
    try {
      const n = 8;
      const gate = new Int32Array(new SharedArrayBuffer(8));
      const values = toShared(Int32Array.from({ length: n }, (_, i) => i + 1));
      const output = gateKernel.createOutput(n, new SharedArrayBuffer(4 * n)).fill(-1);
      const controller = new AbortController();
      const batch = new ParallelCpuExecutor(gateKernel, { pool: one, minTaskNs: 0, maxTaskNs: 1_000_000 });
      const running = batch.executeInto({ gate, values }, output, { start: 0, end: n, signal: controller.signal });
      while (Atomics.load(gate, 1) === 0) await new Promise((r) => setTimeout(r, 1));
      controller.abort();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await assert.rejects(running, { code: 'ABORTED' });
      // The part in progress finished; no later part was claimed.
      assert.deepEqual([...output], [2, -1, -1, -1, -1, -1, -1, -1]);
    } finally {
      await one.close();
    }
  });

  test('closing the pool lets submitted tasks finish first', async () => {
    const one = new WorkerPool({ threads: 1 });
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const values = toShared(Int32Array.from({ length: 2 }, (_, i) => i + 1));
    const output = new SharedArrayBuffer(8);
    const running = one.run({ moduleUrl: gateKernel.moduleUrl, columns: { gate, values }, output, items: 2, start: 0, end: 2 });
    while (Atomics.load(gate, 1) === 0) await new Promise((r) => setTimeout(r, 1));
    const closing = one.close();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    assert.equal(await running, 2);
    await closing;
    assert.deepEqual([...new Int32Array(output)], [2, 4]);
  });

  test('createOutput: shared and written in place from 1 MiB, plain below', () => {
    const parallel = new ParallelCpuExecutor(vectorAdd, { pool });
    assert.ok(!(parallel.createOutput(1000).buffer instanceof SharedArrayBuffer));
    assert.ok(!(parallel.createOutput((1 << 18) - 1).buffer instanceof SharedArrayBuffer));
    const large = parallel.createOutput(1 << 18); // 1 MiB of f32
    assert.ok(large.buffer instanceof SharedArrayBuffer);
    assert.equal(large.length, 1 << 18);
  });

  test('SharedScratch reuses buffers by power-of-two size class, within its retention cap', () => {
    const scratch = new SharedScratch(1 << 20);
    const small = scratch.acquire(1000);
    assert.equal(small.byteLength, 1000, 'below 64 KiB: a fresh buffer of the exact size');
    scratch.release(small);
    assert.equal(scratch.retainedBytes, 0);
    const a = scratch.acquire(100_000);
    assert.equal(a.byteLength, 131_072);
    scratch.release(a);
    assert.equal(scratch.retainedBytes, 131_072);
    assert.equal(scratch.acquire(70_000), a, 'the same class comes back');
    assert.equal(scratch.retainedBytes, 0);
    assert.notEqual(scratch.acquire(70_000), a, 'a buffer is handed out once');
    // Past the cap a release is dropped.
    const big = scratch.acquire(600_000);
    const big2 = scratch.acquire(600_000);
    scratch.release(big);
    scratch.release(big2);
    assert.equal(scratch.retainedBytes, 1 << 20);
  });

  test('abort rejects with ABORTED', async () => {
    const parallel = new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 0 });
    await assert.rejects(parallel.execute(input(100), { signal: AbortSignal.abort() }), { code: 'ABORTED' });
  });

  test('a job without parts, or with more than the board counts, is INVALID_INPUT', async () => {
    const job = { moduleUrl: vectorAdd.moduleUrl, columns: {}, output: new SharedArrayBuffer(4), items: 1 };
    await assert.rejects(pool.runParts({ ...job, bounds: Uint32Array.of(0) }), { code: 'INVALID_INPUT' });
    await assert.rejects(pool.runParts({ ...job, bounds: new Uint32Array(65_537) }), { code: 'INVALID_INPUT' });
  });

  test('options and kernels are checked up front', () => {
    assert.throws(() => new WorkerPool({ threads: 0 }), TypeError);
    assert.throws(() => new WorkerPool({ threads: 1.5 }), TypeError);
    assert.throws(() => new WorkerPool({ threads: 1, maxQueue: -1 }), TypeError);
    assert.throws(() => new WorkerPool({ threads: 1, idleSpinMs: -1 }), TypeError);
    assert.throws(() => new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: Number.NaN }), TypeError);
    assert.throws(() => new ParallelCpuExecutor(vectorAdd, { pool, minTaskNs: 1000, maxTaskNs: 999 }), TypeError);
    assert.throws(() => new ParallelCpuExecutor({ ...vectorAdd, moduleUrl: '' }, { pool }), TypeError);
  });
});

describe('lifecycle and bad input at the boundary', () => {
  test('use after close is CLOSED on every executor', async () => {
    const inline = new CpuMapExecutor(vectorAdd);
    await inline.close();
    await assert.rejects(inline.execute(input(1)), { code: 'CLOSED' });
    const ownPool = new ParallelCpuExecutor(vectorAdd, { threads: 1 });
    await ownPool.close();
    await assert.rejects(ownPool.execute(input(1)), { code: 'CLOSED' });
    const gpu = new WebGpuExecutor(vectorAdd);
    await gpu.close();
    assert.equal(gpu.isAvailable(), false);
    await assert.rejects(gpu.execute(input(1)), { code: 'CLOSED' });
  });

  test('UnavailableGpu is never available and says why', async () => {
    const gpu = new UnavailableGpu('no adapter');
    assert.equal(gpu.isAvailable(), false);
    await assert.rejects(gpu.execute(), { code: 'BACKEND_UNAVAILABLE', message: /no adapter/ });
  });

  test('a kernel that throws is KERNEL_FAILED, on the thread and in a worker', async () => {
    const broken = { ...vectorAdd, cpu: () => { throw new Error('boom'); } };
    await assert.rejects(new CpuMapExecutor(broken).execute(input(3)), { code: 'KERNEL_FAILED', message: /boom/ });
  });

  test('executors reject bad constructor arguments with TypeError', () => {
    assert.throws(() => new CpuMapExecutor({} as never), TypeError);
    assert.throws(() => new WebGpuExecutor({ ...vectorAdd, gpu: undefined }), TypeError);
    assert.throws(() => new WebGpuExecutor(vectorAdd, { maxChunkBytes: 10 }), TypeError);
  });
});
