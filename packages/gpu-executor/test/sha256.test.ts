import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { kernel, toSha256Columns } from '../src/kernels/sha256/index.js';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import { SOFTWARE_MAX_BLOCKS } from '../src/kernels/sha256/sha256.wgsl.js';
import { HybridScheduler } from '../src/scheduler/hybrid-scheduler.js';
import { backends, gpuDevices, gpuSkip } from './backends.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const digestsOf = (messages: Uint8Array[]): string[] => messages.map((m) => createHash('sha256').update(m).digest('hex'));
const split = (out: Uint8Array): string[] => Array.from({ length: out.length / 32 }, (_, i) => hex(out.subarray(i * 32, i * 32 + 32)));

/** FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values", SHA-256) and the one-million-'a' vector. */
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

describe('sha256 on every backend', () => {
  // 1 MiB bindings on the GPU: the large messages below each take a chunk of their own.
  for (const { name, executor, skip } of backends(kernel, { maxChunkBytes: 1 << 20 })) {
    describe(name, { skip }, () => {
      test('FIPS 180-4 vectors, in one batch', async () => {
        const { output, stats } = await executor.execute(toSha256Columns(FIPS_VECTORS.map((v) => v[1])));
        assert.deepEqual(split(output), FIPS_VECTORS.map((v) => v[2]));
        assert.equal(stats.tasks, FIPS_VECTORS.length);
      });

      test('every length from 0 to 200 bytes (block and padding boundaries 55, 56, 63, 64, 119, 120)', async () => {
        const messages = Array.from({ length: 201 }, (_, n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff));
        assert.deepEqual(split((await executor.execute(toSha256Columns(messages))).output), digestsOf(messages));
      });

      test('messages at unaligned offsets, up to 1 MiB', async () => {
        const messages = [new Uint8Array(3).fill(1), new Uint8Array(1 << 20).fill(0xab), new Uint8Array(5).fill(2), new Uint8Array(65_537).fill(9), new Uint8Array(0)];
        assert.deepEqual(split((await executor.execute(toSha256Columns(messages))).output), digestsOf(messages));
      });

      test('random message sets equal node:crypto', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 80 }), async (messages) => {
            assert.deepEqual(split((await executor.execute(toSha256Columns(messages))).output), digestsOf(messages));
          }),
          { numRuns: name === 'webgpu' ? 20 : 60 },
        );
      });

      test('an empty batch gives an empty output', async () => {
        const { output, stats } = await executor.execute(toSha256Columns([]));
        assert.equal(output.length, 0);
        assert.equal(stats.tasks, 0);
      });
    });
  }
});

describe('sha256 on a GPU that cannot take a message', { skip: gpuSkip }, () => {
  test('past llvmpipe\'s loop limit the GPU refuses and the scheduler hashes it on the CPU, never a wrong digest', async () => {
    const scheduler = new HybridScheduler(new CpuMapExecutor(kernel), new WebGpuExecutor(kernel, { devices: gpuDevices }), { strategy: { gpuThreshold: 1 } });
    const messages = [text('small'), new Uint8Array(SOFTWARE_MAX_BLOCKS * 64).fill(0x5a)];
    const { output, stats } = await scheduler.execute(toSha256Columns(messages), { device: 'gpu' });
    assert.deepEqual(split(output), digestsOf(messages));
    const software = gpuDevices.context!.adapter.software;
    assert.equal(stats.fellBack === true, software);
    if (software) assert.match(stats.fallbackReason ?? '', /BACKEND_UNAVAILABLE.*loop limit/);
  });
});

describe('sha256 input validation', () => {
  test('a message that is not a Uint8Array names its index', () => {
    assert.throws(() => toSha256Columns([text('a'), 'b' as never]), { code: 'INVALID_INPUT', index: 1 });
  });
  test('columns: offsets must start at 0, never decrease and end at data.length', () => {
    const data = new Uint8Array(10);
    assert.throws(() => toSha256Columns({ data, offsets: Uint32Array.of(1, 10) }), { code: 'INVALID_INPUT', index: 0 });
    assert.throws(() => toSha256Columns({ data, offsets: Uint32Array.of(0, 6, 4, 10) }), { code: 'INVALID_INPUT', index: 1 });
    assert.throws(() => toSha256Columns({ data, offsets: Uint32Array.of(0, 4, 9) }), { code: 'INVALID_INPUT', index: 1 });
    assert.throws(() => toSha256Columns({ data, offsets: new Uint32Array(0) }), { code: 'INVALID_INPUT' });
    assert.throws(() => toSha256Columns({ data: [1, 2], offsets: Uint32Array.of(0, 2) }), { code: 'INVALID_INPUT' });
    assert.throws(() => toSha256Columns(42), { code: 'INVALID_INPUT' });
  });
  test('valid columns pass through without a copy', () => {
    const data = text('hello');
    const columns = toSha256Columns({ data, offsets: Uint32Array.of(0, 2, 5) });
    assert.equal(columns.data, data);
  });
});
