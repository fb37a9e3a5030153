/**
 * One SHA-256 suite, every backend: the kernel's CPU function called directly,
 * CpuMapExecutor, ParallelCpuExecutor (worker threads) and WebGpuExecutor (Dawn;
 * Mesa llvmpipe where there is no GPU). node:crypto is the reference; the only
 * hard-coded digests are the published FIPS 180-4 / NIST vectors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import { DIGEST_BYTES, SOFTWARE_MAX_BLOCKS, kernel, toSha256Columns, type Sha256Columns } from '../src/kernels/sha256/index.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import { backends, gpuDevices, gpuSkip } from './backends.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const digestsOf = (messages: readonly Uint8Array[]): string[] => messages.map((m) => createHash('sha256').update(m).digest('hex'));
const split = (out: Uint8Array): string[] => Array.from({ length: out.length / DIGEST_BYTES }, (_, i) => hex(out.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES)));

/** Deterministic bytes (xorshift32), so big messages are not runs of one value. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

/** FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values", SHA-256) and the one-million-'a' vector (FIPS 180-2 appendix B.3). */
const FIPS_VECTORS: [string, Uint8Array, string][] = [
  ['empty', text(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', text('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['448 bits', text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [
    '896 bits',
    text('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
  ['one million a', new Uint8Array(1_000_000).fill(0x61), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

interface Backend {
  name: string;
  skip: string | false;
  /** Digests of every message. */
  run(input: Sha256Columns): Promise<Uint8Array>;
  /** Digests of messages [start, end) into `output`, nothing else touched. */
  runInto(input: Sha256Columns, output: Uint8Array, start: number, end: number): Promise<void>;
}

const direct: Backend = {
  name: 'kernel.cpu',
  skip: false,
  async run(input) {
    const columns = kernel.validate(input);
    const output = kernel.createOutput(kernel.count(columns));
    kernel.cpu(columns, output, 0, kernel.count(columns));
    return output;
  },
  async runInto(input, output, start, end) {
    kernel.cpu(input, output, start, end);
  },
};

// 1 MiB bindings on the GPU: the biggest messages below exceed that and take a chunk of their own.
const BACKENDS: Backend[] = [
  direct,
  ...backends(kernel, { maxChunkBytes: 1 << 20 }).map(
    ({ name, executor, skip }): Backend => ({
      name,
      skip,
      run: async (input) => (await executor.execute(input)).output,
      runInto: async (input, output, start, end) => void (await executor.executeInto(input, output, { start, end })),
    }),
  ),
];

describe('sha256 on every backend', () => {
  for (const backend of BACKENDS) {
    const { name, run, runInto } = backend;
    const gpu = name === 'webgpu';
    describe(name, { skip: backend.skip }, () => {
      test('FIPS 180-4 / NIST vectors, in one batch', async () => {
        const output = await run(toSha256Columns(FIPS_VECTORS.map((v) => v[1])));
        assert.deepEqual(split(output), FIPS_VECTORS.map((v) => v[2]));
      });

      test('every length from 0 to 200 bytes (padding edges 55, 56, 63, 64, 119, 120) at each byte alignment', async () => {
        const messages: Uint8Array[] = [];
        for (let align = 0; align < 4; align++) {
          // A prefix of `align` bytes shifts every following message by one byte position.
          messages.push(bytes(align, 99));
          for (let n = 0; n <= 200; n++) messages.push(bytes(n, n + 1));
        }
        assert.deepEqual(split(await run(toSha256Columns(messages))), digestsOf(messages));
      });

      test('long messages: at unaligned starts within a chunk, 1 MiB, one larger than a GPU binding', async () => {
        // The first four share a GPU chunk, so the two long ones start at bytes 3 and 500,009 of it.
        const messages = [bytes(3, 1), bytes(500_001, 2), bytes(5, 3), bytes(400_000, 4), bytes(1 << 20, 5), bytes((1 << 20) + 7, 6), bytes(65_537, 7), new Uint8Array(0), bytes(1, 8)];
        assert.deepEqual(split(await run(toSha256Columns(messages))), digestsOf(messages));
      });

      test('random message sets equal node:crypto', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 60 }), async (messages) => {
            assert.deepEqual(split(await run(toSha256Columns(messages))), digestsOf(messages));
          }),
          { numRuns: gpu ? 25 : 60 },
        );
      });

      test('columns that are views into larger buffers (nonzero byteOffset, odd start)', async () => {
        const messages = [bytes(10, 7), bytes(64, 8), bytes(0, 9), bytes(130, 10)];
        const packed = toSha256Columns(messages);
        const dataHost = new Uint8Array(packed.data.length + 8).fill(0xee);
        dataHost.set(packed.data, 3);
        const offsetsHost = new Uint32Array(packed.offsets.length + 3).fill(0xffffffff);
        offsetsHost.set(packed.offsets, 2);
        const input = { data: dataHost.subarray(3, 3 + packed.data.length), offsets: offsetsHost.subarray(2, 2 + packed.offsets.length) };
        assert.deepEqual(split(await run(input)), digestsOf(messages));
      });

      test('a range writes its digests and nothing else', async () => {
        const messages = Array.from({ length: 12 }, (_, i) => bytes(i * 13, i + 20));
        const output = new Uint8Array(messages.length * DIGEST_BYTES).fill(0xee);
        await runInto(toSha256Columns(messages), output, 3, 9);
        const want = digestsOf(messages);
        split(output).forEach((digest, i) => assert.equal(digest, i >= 3 && i < 9 ? want[i] : 'ee'.repeat(DIGEST_BYTES), `item ${i}`));
      });

      test('an empty batch, and a batch of empty messages', async () => {
        assert.equal((await run(toSha256Columns([]))).length, 0);
        const empties = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
        assert.deepEqual(split(await run(toSha256Columns(empties))), digestsOf(empties));
      });
    });
  }
});

describe('sha256 on the GPU: chunking', { skip: gpuSkip }, () => {
  // 1 KiB bindings: 32 digests per chunk at most, so a few hundred messages are many chunks.
  const executor = new WebGpuExecutor(kernel, { devices: gpuDevices, maxChunkBytes: 1024 });

  test('chunks split at the data, offsets and digest limits join into one correct output', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 200 }), { minLength: 1, maxLength: 300 }), fc.nat(), async (lengths, seed) => {
        const messages = lengths.map((n, i) => bytes(n, seed + i));
        const { output, stats } = await executor.execute(toSha256Columns(messages));
        assert.deepEqual(split(output), digestsOf(messages));
        assert.ok(stats.gpu !== undefined && stats.gpu.chunks >= Math.ceil(messages.length / 32));
      }),
      { numRuns: 10 },
    );
  });

  test('a message longer than the chunk limit is a chunk of its own, between others', async () => {
    const messages = [bytes(100, 1), bytes(5000, 2), bytes(3, 3), bytes(1023, 4), bytes(1025, 5), bytes(40, 6)];
    const { output } = await executor.execute(toSha256Columns(messages));
    assert.deepEqual(split(output), digestsOf(messages));
  });
});

describe('sha256 on a software GPU at its loop limit', { skip: gpuSkip }, () => {
  const maxBytes = SOFTWARE_MAX_BLOCKS * 64 - 9;

  test('the longest message the limit allows hashes correctly on the GPU', async () => {
    const messages = [bytes(5, 1), bytes(maxBytes, 2)];
    const executor = new WebGpuExecutor(kernel, { devices: gpuDevices });
    const { output, stats } = await executor.execute(toSha256Columns(messages));
    assert.deepEqual(split(output), digestsOf(messages));
    assert.equal(stats.device, 'gpu');
  });

  test('one byte more: a software GPU refuses and the scheduler hashes it on the CPU, never a wrong digest', async () => {
    const scheduler = new HybridScheduler(new CpuMapExecutor(kernel), new WebGpuExecutor(kernel, { devices: gpuDevices }), { strategy: { gpuThreshold: 1 } });
    const messages = [text('small'), bytes(maxBytes + 1, 3)];
    const { output, stats } = await scheduler.execute(toSha256Columns(messages), { device: 'gpu' });
    assert.deepEqual(split(output), digestsOf(messages));
    const software = gpuDevices.context!.adapter.software;
    assert.equal(stats.fellBack === true, software);
    if (software) assert.match(stats.fallbackReason ?? '', /BACKEND_UNAVAILABLE.*loop limit/);
  });
});
