import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CANONICAL_NAN_BITS, kernel } from '../src/kernels/vector-add/index.js';
import { backends } from './backends.js';

/** The reference: JS adds in f64 and stores to f32 (one correct rounding), NaN made canonical. */
function reference(a: Float32Array, b: Float32Array): Uint32Array {
  const out = new Float32Array(a.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < a.length; i++) {
    out[i] = a[i]! + b[i]!;
    if (Number.isNaN(out[i])) bits[i] = CANONICAL_NAN_BITS;
  }
  return bits;
}

const bitsOf = (f: Float32Array): Uint32Array => new Uint32Array(f.buffer, f.byteOffset, f.length);

function fromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

/** Edge values: zeros, subnormals, extremes, infinities, NaNs with payloads. */
const SPECIAL_BITS = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff,
  0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc12345, 0x3f800000, 0xbf800000, 0x33800000, 0x4b800000, 0x00400000,
];

describe('vector-add on every backend', () => {
  for (const { name, executor, skip } of backends(kernel, { maxChunkBytes: 4096 })) {
    describe(name, { skip }, () => {
      for (const n of [0, 1, 3, 255, 256, 257, 1000, 1024 + 7, 5000]) {
        test(`length ${n} (several chunks past 1024)`, async () => {
          const a = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 100);
          const b = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
          const { output, stats } = await executor.execute({ a, b });
          assert.deepEqual(bitsOf(output), reference(a, b));
          assert.equal(stats.tasks, n);
          assert.equal(stats.device, name === 'webgpu' ? 'gpu' : 'cpu');
        });
      }

      test('every pair of special values (subnormals, infinities, NaN) matches bit for bit', async () => {
        const pairs = SPECIAL_BITS.flatMap((x) => SPECIAL_BITS.map((y) => [x, y] as const));
        const a = fromBits(pairs.map((p) => p[0]));
        const b = fromBits(pairs.map((p) => p[1]));
        const { output } = await executor.execute({ a, b });
        assert.deepEqual(bitsOf(output), reference(a, b));
      });

      test('random bit patterns match the CPU reference bit for bit', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 600 }), async (pairs) => {
            const a = fromBits(pairs.map((p) => p[0]));
            const b = fromBits(pairs.map((p) => p[1]));
            const { output } = await executor.execute({ a, b });
            assert.deepEqual(bitsOf(output), reference(a, b));
          }),
          { numRuns: name === 'webgpu' ? 25 : 100 },
        );
      });

      test('nearby magnitudes and cancellations round like the CPU', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.tuple(fc.float({ noNaN: false }), fc.float()), { maxLength: 400 }), async (pairs) => {
            const a = Float32Array.from(pairs, (p) => p[0]);
            const b = Float32Array.from(pairs, (p, i) => (i % 3 === 0 ? -p[0] * (1 + 2 ** -20) : p[1]));
            const { output } = await executor.execute({ a, b });
            assert.deepEqual(bitsOf(output), reference(a, b));
          }),
          { numRuns: name === 'webgpu' ? 25 : 100 },
        );
      });
    });
  }
});

describe('vector-add input validation', () => {
  test('lengths differ: INVALID_INPUT at the first unmatched index', () => {
    assert.throws(() => kernel.validate({ a: new Float32Array(3), b: new Float32Array(5) }), { code: 'INVALID_INPUT', index: 3 });
  });
  test('wrong array types are INVALID_INPUT', () => {
    assert.throws(() => kernel.validate({ a: new Float64Array(3), b: new Float32Array(3) }), { code: 'INVALID_INPUT' });
    assert.throws(() => kernel.validate({ a: 'x', b: [] }), { code: 'INVALID_INPUT' });
    assert.throws(() => kernel.validate(null), { code: 'INVALID_INPUT' });
  });
  test('a non-number in a plain array names its index', () => {
    assert.throws(() => kernel.validate({ a: [1, 2, '3'], b: [1, 2, 3] }), { code: 'INVALID_INPUT', index: 2 });
  });
  test('plain number arrays are accepted and rounded to f32', () => {
    const input = kernel.validate({ a: [0.1, 2], b: [0.2, 3] });
    assert.ok(input.a instanceof Float32Array);
    assert.equal(input.a[0], Math.fround(0.1));
  });
});
