/**
 * `execute(input, { output })`: a caller's output is filled on every route
 * (in-thread, the pool, the GPU, a split), plain or shared, reused batch after
 * batch, and a wrong one is INVALID_OPTION before anything runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { createSharedOutput } from '../src/cpu/shared-memory.js';
import { ParallelCpuExecutor } from '../src/cpu/parallel-cpu-executor.js';
import { isExecutorError } from '../src/errors.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import { kernel as ed25519, toEd25519Columns } from '../src/kernels/ed25519/index.js';
import type { Columns, Kernel, TypedArray } from '../src/kernels/kernel.js';
import { kernel as sha256, toSha256Columns } from '../src/kernels/sha256/index.js';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import type { RoutingStrategy } from '../src/scheduler/strategy.js';
import { gpuDevices, gpuSkip, pool } from './backends.js';
import { speccheck, type Case } from './fixtures/ed25519-cases.js';

/** Splits every batch in half between the devices. */
const halves: RoutingStrategy = { name: 'halves', decide: () => ({ device: 'split', gpuShare: 0.5, reason: 'test' }) };

interface KernelCase<I extends Columns, O extends TypedArray> {
  kernel: Kernel<I, O>;
  /** Two different batches of the same size: the second must overwrite all of the first's results. */
  batches: [I, I];
}

function sha256Batches(): KernelCase<Columns, TypedArray> {
  const messages = (seed: number) => Array.from({ length: 37 }, (_, i) => Uint8Array.from({ length: (i * 13) % 150 }, (_, j) => (i * 31 + j * 7 + seed) & 0xff));
  return { kernel: sha256, batches: [toSha256Columns(messages(1)), toSha256Columns(messages(2))] };
}

function vectorAddBatches(): KernelCase<Columns, TypedArray> {
  const batch = (seed: number) => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i + seed) * 1e3);
    const b = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i * seed) * 1e-2);
    return vectorAdd.validate({ a, b });
  };
  return { kernel: vectorAdd, batches: [batch(1), batch(2)] };
}

function ed25519Batches(): KernelCase<Columns, TypedArray> {
  // speccheck's edge cases verify 1,1,1,1,0,0,0,0,0,0,0,1; reversed, 6 of the 12 verdicts change.
  const columns = (list: readonly Case[]) => toEd25519Columns({ messages: list.map((c) => c.msg), publicKeys: list.map((c) => c.pk), signatures: list.map((c) => c.sig) });
  return { kernel: ed25519, batches: [columns(speccheck), columns([...speccheck].reverse())] };
}

const routes = [
  { name: 'in-thread', device: 'cpu', cpu: (k: Kernel<Columns, TypedArray>) => new CpuMapExecutor(k), skip: false },
  { name: 'pool', device: 'cpu', cpu: (k: Kernel<Columns, TypedArray>) => new ParallelCpuExecutor(k, { pool, minTaskNs: 0 }), skip: false },
  { name: 'gpu', device: 'gpu', cpu: (k: Kernel<Columns, TypedArray>) => new CpuMapExecutor(k), skip: gpuSkip },
  { name: 'split (pool + gpu)', device: 'auto', cpu: (k: Kernel<Columns, TypedArray>) => new ParallelCpuExecutor(k, { pool, minTaskNs: 0 }), skip: gpuSkip },
] as const;

describe('a caller\'s output is filled on every route', () => {
  for (const make of [vectorAddBatches, sha256Batches, ed25519Batches]) {
    const { kernel, batches } = make();
    for (const route of routes) {
      test(`${kernel.name}, ${route.name}: plain, shared and offset outputs, reused`, { skip: route.skip }, async () => {
        const reference = new HybridScheduler(new CpuMapExecutor(kernel), undefined);
        const gpu = new WebGpuExecutor(kernel, { devices: gpuDevices });
        const s = new HybridScheduler(route.cpu(kernel), gpu, { strategy: halves });
        const items = kernel.count(batches[0]);
        // The third is a view 5 items into a larger array: every device must write at its offset.
        const offset = kernel.createOutput(items + 5).subarray(5 * kernel.outputWidth);
        for (const output of [kernel.createOutput(items), createSharedOutput(kernel, items), offset]) {
          for (const batch of batches) {
            const want = (await reference.execute(batch)).output;
            const got = await s.execute(batch, { device: route.device, output });
            assert.equal(got.output, output, 'the result is the caller\'s output itself');
            assert.equal(got.stats.fellBack, undefined);
            if (route.device === 'auto') assert.equal(got.stats.split!.cpu + got.stats.split!.gpu, items);
            assert.deepEqual(Buffer.from(output.buffer, output.byteOffset, output.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength));
            assert.ok(new Uint8Array(output.buffer, 0, output.byteOffset).every((x) => x === 0), 'nothing is written before the view');
          }
        }
        await s.close();
        await reference.close();
      });
    }
  }
});

describe('a wrong output is INVALID_OPTION, and nothing runs', () => {
  const rejects = (run: () => Promise<unknown>, message: RegExp) =>
    assert.rejects(run, (err: unknown) => isExecutorError(err, 'INVALID_OPTION') && message.test((err as Error).message));

  test('wrong type, wrong length, or memory shared with the input', async () => {
    let decisions = 0;
    const s = new HybridScheduler(new CpuMapExecutor(vectorAdd), undefined, { onDecision: () => decisions++ });
    const a = new Float32Array(8).fill(1);
    const b = new Float32Array(8).fill(2);
    await rejects(() => s.execute({ a, b }, { output: new Uint8Array(8) as unknown as Float32Array }), /must be a Float32Array \(the vector-add kernel's output\), got Uint8Array/);
    await rejects(() => s.execute({ a, b }, { output: 'c' as unknown as Float32Array }), /must be a Float32Array.*got string/);
    await rejects(() => s.execute({ a, b }, { output: null as unknown as Float32Array }), /got null/);
    await rejects(() => s.execute({ a, b }, { output: new Float32Array(7) }), /has 7 elements; a batch of 8 items needs exactly 8/);
    await rejects(() => s.execute({ a, b }, { output: new Float32Array(9) }), /has 9 elements/);
    await rejects(() => s.execute({ a, b }, { output: a }), /shares memory with the input column "a"/);
    // A view that overlaps b by one element, in one buffer with both columns.
    const memory = new Float32Array(24);
    const [ma, mb] = [memory.subarray(0, 8), memory.subarray(8, 16)];
    await rejects(() => s.execute({ a: ma, b: mb }, { output: memory.subarray(15, 23) }), /column "b"/);
    assert.equal(decisions, 0, 'no batch was routed');
    // Adjacent is not overlapping.
    const { output } = await s.execute({ a: ma.fill(1), b: mb.fill(2) }, { output: memory.subarray(16, 24) });
    assert.deepEqual([...output], new Array(8).fill(3));
    assert.equal(decisions, 1);
    await s.close();
  });

  test('sha256: 32 bytes per message, no more and no fewer', async () => {
    const s = new HybridScheduler(new CpuMapExecutor(sha256), undefined);
    const input = toSha256Columns([new Uint8Array(3), new Uint8Array(5)]);
    await rejects(() => s.execute(input, { output: new Uint8Array(2) }), /has 2 elements; a batch of 2 items needs exactly 64/);
    const { output } = await s.execute(input, { output: new Uint8Array(64) });
    assert.equal(Buffer.from(output).toString('hex'), createHash('sha256').update(new Uint8Array(3)).digest('hex') + createHash('sha256').update(new Uint8Array(5)).digest('hex'));
    await s.close();
  });

  test('the Task form takes an Array of the batch\'s length', async () => {
    const s = new HybridScheduler(CpuMapExecutor.fromFunction((x: number) => x + 1), undefined);
    const tasks = [{ id: 7, payload: 1 }, { id: 8, payload: 2 }];
    await rejects(() => s.execute({ tasks }, { output: new Array(3) }), /has 3 elements/);
    await rejects(() => s.execute({ tasks }, { output: new Uint8Array(2) as unknown as [] }), /must be an Array/);
    const output = new Array(2);
    assert.equal((await s.execute({ tasks }, { output })).output, output);
    assert.deepEqual(output, [{ id: 7, output: 2 }, { id: 8, output: 3 }]);
    await s.close();
  });
});
