/**
 * SHA-256 kernel pieces that need no device: input normalization and its
 * errors (directly and through every executor), the GPU plan's chunking and
 * packing, and the CPU path's JS compression against node:crypto.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DIGEST_BYTES, jsIsFaster, kernel, sha256Js, toSha256Columns, type Sha256Columns } from '../src/kernels/sha256/index.js';
import { backends } from './backends.js';

const gpuPlan = kernel.gpu!;
const digest = (m: Uint8Array): Buffer => createHash('sha256').update(m).digest();
const columns = (lengths: readonly number[]): Sha256Columns => toSha256Columns(lengths.map((n, i) => new Uint8Array(n).fill(i)));
const INVALID = (index: number | undefined) => ({ name: 'ExecutorError', code: 'INVALID_INPUT', index });

describe('toSha256Columns', () => {
  test('packs Uint8Array[] (Buffers too) end to end with n + 1 offsets', () => {
    const messages = [Uint8Array.of(1, 2, 3), new Uint8Array(0), Buffer.from('xy'), new Uint8Array(new ArrayBuffer(8), 5, 3).fill(9)];
    const { data, offsets } = toSha256Columns(messages);
    assert.deepEqual(Array.from(offsets), [0, 3, 3, 5, 8]);
    assert.deepEqual(Array.from(data), [1, 2, 3, 0x78, 0x79, 9, 9, 9]);
  });

  test('valid columns pass through without a copy', () => {
    const data = new TextEncoder().encode('hello');
    const offsets = Uint32Array.of(0, 2, 5);
    const out = toSha256Columns({ data, offsets });
    assert.equal(out.data, data);
    assert.equal(out.offsets, offsets);
  });

  test('an empty array is an empty batch', () => {
    const { data, offsets } = toSha256Columns([]);
    assert.equal(data.length, 0);
    assert.deepEqual(Array.from(offsets), [0]);
    assert.equal(kernel.count(kernel.validate({ data, offsets })), 0);
  });

  test('packing then validating any message set round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), (messages) => {
        const packed = kernel.validate(toSha256Columns(messages));
        assert.equal(kernel.count(packed), messages.length);
        messages.forEach((m, i) => assert.deepEqual(packed.data.subarray(packed.offsets[i]!, packed.offsets[i + 1]!), m));
      }),
    );
  });
});

/** Every malformed input, with the item index its error must carry (undefined where no item is at fault). */
const BAD_INPUTS: [string, unknown, number | undefined][] = [
  ['a number', 42, undefined],
  ['null', null, undefined],
  ['undefined', undefined, undefined],
  ['a string', 'abc', undefined],
  ['a bare Uint8Array', Uint8Array.of(1, 2), undefined],
  ['a string message', [Uint8Array.of(1), 'b'], 1],
  ['a number message', [7], 0],
  ['a null message', [Uint8Array.of(1), Uint8Array.of(2), null], 2],
  ['a plain-array message', [Uint8Array.of(1), [1, 2]], 1],
  ['a Uint16Array message', [new Uint16Array(2)], 0],
  ['an ArrayBuffer message', [Uint8Array.of(1), new Uint8Array(1), new ArrayBuffer(4)], 2],
  ['a DataView message', [new DataView(new ArrayBuffer(2))], 0],
  ['a hole in the array', [Uint8Array.of(1), , Uint8Array.of(3)], 1],
  ['columns without data', { offsets: Uint32Array.of(0) }, undefined],
  ['data as a plain array', { data: [1, 2], offsets: Uint32Array.of(0, 2) }, undefined],
  ['data as a Uint16Array', { data: new Uint16Array(2), offsets: Uint32Array.of(0, 4) }, undefined],
  ['offsets as a plain array', { data: new Uint8Array(2), offsets: [0, 2] }, undefined],
  ['offsets as an Int32Array', { data: new Uint8Array(2), offsets: Int32Array.of(0, 2) }, undefined],
  ['no offsets at all', { data: new Uint8Array(0), offsets: new Uint32Array(0) }, undefined],
  ['offsets[0] not 0', { data: new Uint8Array(10), offsets: Uint32Array.of(1, 10) }, 0],
  ['offsets[0] not 0 with no messages', { data: new Uint8Array(0), offsets: Uint32Array.of(5) }, undefined],
  ['offsets that decrease at message 1', { data: new Uint8Array(10), offsets: Uint32Array.of(0, 6, 4, 10) }, 1],
  ['offsets that decrease at the last message', { data: new Uint8Array(10), offsets: Uint32Array.of(0, 6, 10, 9) }, 2],
  ['a last offset short of data.length', { data: new Uint8Array(10), offsets: Uint32Array.of(0, 4, 9) }, 1],
  ['a last offset past data.length', { data: new Uint8Array(10), offsets: Uint32Array.of(0, 4, 11) }, 1],
  ['data with no messages', { data: new Uint8Array(3), offsets: Uint32Array.of(0) }, undefined],
];

describe('sha256 input errors: INVALID_INPUT with the index of the bad item', () => {
  for (const [what, input, index] of BAD_INPUTS) {
    test(what, () => {
      assert.throws(() => toSha256Columns(input), INVALID(index));
      // Columns reach executors through the kernel's validate, arrays through toSha256Columns.
      if (!Array.isArray(input)) assert.throws(() => kernel.validate(input), INVALID(index));
    });
  }

  test('any corrupted offset names the first message it breaks', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20 }), { minLength: 2, maxLength: 20 }), fc.nat(), fc.boolean(), (lengths, pick, up) => {
        const { data, offsets } = columns(lengths);
        const j = 1 + (pick % (lengths.length - 1));
        // Raised past the next offset, message j ends before it starts; lowered below the previous, message j - 1 does.
        offsets[j] = up ? offsets[j + 1]! + 1 : offsets[j - 1]! - 1;
        fc.pre(offsets[j - 1]! > 0 || up);
        assert.throws(() => kernel.validate({ data, offsets }), INVALID(up ? j : j - 1));
      }),
    );
  });

  for (const { name, executor } of backends(kernel)) {
    test(`${name}: execute rejects bad columns with the same error`, async () => {
      const data = new Uint8Array(10);
      await assert.rejects(executor.execute({ data, offsets: Uint32Array.of(0, 6, 4, 10) }), INVALID(1));
      await assert.rejects(executor.execute({ data, offsets: Uint32Array.of(0, 4, 9) }), INVALID(1));
      await assert.rejects(executor.execute({ data: [1] as never, offsets: Uint32Array.of(0, 1) }), INVALID(undefined));
    });
  }
});

describe('sha256 GPU plan', () => {
  const alignUp4 = (n: number): number => Math.ceil(n / 4) * 4;

  test('chunks cover the batch; each fits every binding, and is as long as the limits allow', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3000 }), { maxLength: 200 }), fc.integer({ min: 64, max: 8192 }), (lengths, max) => {
        const input = columns(lengths);
        const { offsets } = input;
        const n = lengths.length;
        const fits = (s: number, e: number): boolean => alignUp4(offsets[e]! - offsets[s]!) <= max && (e - s + 1) * 4 <= max && (e - s) * DIGEST_BYTES <= max;
        for (let s = 0; s < n; ) {
          const e = gpuPlan.chunkEnd(input, s, n, max);
          assert.ok(e > s && e <= n, `chunkEnd(${s}) = ${e}`);
          // A single message may exceed the limit (its own chunk); several must fit.
          if (e - s > 1) assert.ok(fits(s, e), `[${s}, ${e}) does not fit ${max}`);
          if (e < n) assert.ok(!fits(s, e + 1), `[${s}, ${e + 1}) would also fit ${max}`);
          s = e;
        }
      }),
    );
  });

  test('a message longer than the limit is a chunk of its own', () => {
    const input = columns([10, 5000, 10]);
    assert.equal(gpuPlan.chunkEnd(input, 0, 3, 1024), 1);
    assert.equal(gpuPlan.chunkEnd(input, 1, 3, 1024), 2);
    assert.equal(gpuPlan.chunkEnd(input, 2, 3, 1024), 3);
  });

  test('pack returns views of the chunk: data bytes and its n + 1 absolute offsets; params carry the base', () => {
    const input = columns([3, 5, 7, 2]);
    const [data, offsets] = gpuPlan.pack(input, 1, 3);
    assert.equal(data!.buffer, input.data.buffer);
    assert.deepEqual(Array.from(data!), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(Array.from(new Uint32Array(offsets!.slice().buffer)), [3, 8, 15]);
    assert.deepEqual(gpuPlan.params!(input, 1, 3), [3]);
    assert.equal(gpuPlan.outputBytes(2), 64);
  });

  test('unpack places a chunk at its items', () => {
    const output = new Uint8Array(4 * DIGEST_BYTES);
    // Chunk output may carry binding padding past its digests.
    gpuPlan.unpack(new Uint8Array(2 * DIGEST_BYTES + 16).fill(7), output, 1, 3);
    const expected = new Uint8Array(4 * DIGEST_BYTES);
    expected.fill(7, DIGEST_BYTES, 3 * DIGEST_BYTES);
    assert.deepEqual(output, expected);
  });
});

describe('sha256 CPU path', () => {
  test('JS compression equals node:crypto for every length to 300 at every offset', () => {
    const source = Uint8Array.from({ length: 400 }, (_, i) => (i * 151 + 7) & 0xff);
    const out = new Uint8Array(DIGEST_BYTES + 5);
    for (let len = 0; len <= 300; len++) {
      for (let from = 0; from < 4; from++) {
        sha256Js(source, from, from + len, out, 5);
        assert.deepEqual(out.subarray(5), new Uint8Array(digest(source.subarray(from, from + len))), `length ${len} at ${from}`);
      }
    }
  });

  test('the cached padding block follows the length of whole-block messages', () => {
    const out = new Uint8Array(DIGEST_BYTES);
    for (const len of [64, 64, 128, 0, 64, 192, 128, 0, 0, 64]) {
      const m = Uint8Array.from({ length: len }, (_, i) => (i * 29 + len) & 0xff);
      sha256Js(m, 0, len, out, 0);
      assert.deepEqual(out, new Uint8Array(digest(m)), `length ${len}`);
    }
  });

  test('kernel.cpu picks JS or node:crypto by length; both sides of each switch agree', () => {
    const lengths = [0, 55, 56, 63, 64, 65, 127, 128, 129, 4096];
    assert.ok(lengths.some(jsIsFaster) && !lengths.every(jsIsFaster));
    const messages = lengths.map((n) => new Uint8Array(n).fill(n));
    const output = kernel.createOutput(messages.length);
    kernel.cpu(toSha256Columns(messages), output, 0, messages.length);
    messages.forEach((m, i) => assert.deepEqual(output.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES), new Uint8Array(digest(m)), `length ${m.length}`));
  });

  test('work counts bytes hashed plus a constant per message', () => {
    const input = columns([0, 10, 100]);
    const perMessage = kernel.work!(input, 0, 1);
    assert.ok(perMessage > 0);
    assert.equal(kernel.work!(input, 0, 3), 110 + 3 * perMessage);
  });

  test('createOutput over a given buffer writes there', () => {
    const buffer = new SharedArrayBuffer(3 * DIGEST_BYTES);
    const output = kernel.createOutput(3, buffer);
    assert.equal(output.buffer, buffer);
    assert.equal(output.length, 3 * DIGEST_BYTES);
  });
});
