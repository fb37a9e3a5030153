import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isExecutorError } from '../src/errors.js';
import { hostPackedKernel, kernel, toEd25519Columns, validate } from '../src/kernels/ed25519/index.js';
import { RECORD_BYTES } from '../src/kernels/ed25519/gpu.js';
import { isCanonicalScalar, reduce512 } from '../src/kernels/ed25519/scalar.js';
import { rfcCases, wycheproof } from './fixtures/ed25519-cases.js';
import { L, bigToLe, challenge, leToBig } from './fixtures/ed25519-model.js';

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

/** Asserts that `fn` throws INVALID_INPUT naming item `index` (undefined: no item). */
function assertInvalid(fn: () => unknown, index: number | undefined): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isExecutorError(err, 'INVALID_INPUT'), `not INVALID_INPUT: ${String(err)}`);
    assert.equal(err.index, index, err.message);
    return true;
  });
}

const three = { messages: [bytes(0), bytes(5), bytes(9)], publicKeys: [bytes(32), bytes(32), bytes(32)], signatures: [bytes(64), bytes(64), bytes(64)] };

describe('toEd25519Columns', () => {
  test('per-item arrays and packed columns give the same columns; packed ones are not copied', () => {
    const a = toEd25519Columns(three);
    assert.deepEqual(Array.from(a.offsets), [0, 0, 5, 14]);
    assert.equal(a.data.length, 14);
    const packed = { messages: { data: a.data, offsets: a.offsets }, publicKeys: a.publicKeys, signatures: a.signatures };
    const b = toEd25519Columns(packed);
    assert.equal(b.data, a.data);
    assert.equal(b.publicKeys, a.publicKeys);
    assert.deepEqual(b, a);
  });

  test('wrong types and shapes are INVALID_INPUT with the item index', () => {
    assertInvalid(() => toEd25519Columns(null), undefined);
    assertInvalid(() => toEd25519Columns({ ...three, messages: 'x' }), undefined);
    assertInvalid(() => toEd25519Columns({ ...three, messages: [bytes(1), [1, 2], bytes(1)] }), 1);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: [bytes(32), bytes(31), bytes(32)] }), 1);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: [bytes(32), bytes(32), 'k'] }), 2);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: [bytes(32), bytes(32)] }), 2);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: [bytes(32), bytes(32), bytes(32), bytes(32)] }), 3);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: bytes(32 * 2 + 5) }), 2);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: bytes(32 * 4) }), 3);
    assertInvalid(() => toEd25519Columns({ ...three, publicKeys: new Uint16Array(48) }), undefined);
    assertInvalid(() => toEd25519Columns({ ...three, signatures: [bytes(64), bytes(64), bytes(63)] }), 2);
    assertInvalid(() => toEd25519Columns({ ...three, signatures: bytes(64 * 3 - 1) }), 2);
    assertInvalid(() => toEd25519Columns({ ...three, signatures: undefined }), undefined);
  });

  test('offsets: non-monotonic, beyond data, empty, wrong type', () => {
    const data = bytes(10);
    const packed = (offsets: Uint32Array) => ({ messages: { data, offsets }, publicKeys: bytes(32 * (offsets.length - 1)), signatures: bytes(64 * (offsets.length - 1)) });
    assertInvalid(() => toEd25519Columns(packed(Uint32Array.of(0, 4, 3, 8))), 1);
    assertInvalid(() => toEd25519Columns(packed(Uint32Array.of(0, 4, 11))), 1);
    assertInvalid(() => toEd25519Columns(packed(Uint32Array.of(11, 11))), 0);
    assertInvalid(() => toEd25519Columns({ messages: { data, offsets: new Uint32Array(0) }, publicKeys: bytes(0), signatures: bytes(0) }), undefined);
    assertInvalid(() => toEd25519Columns({ ...packed(Uint32Array.of(0, 4)), messages: { data, offsets: [0, 4] } }), undefined);
    // A message may start after 0 and messages may be empty.
    assert.equal(kernel.count(toEd25519Columns(packed(Uint32Array.of(2, 2, 10)))), 2);
  });

  test('Wycheproof signatures that are not 64 bytes are shape errors, not verdicts', () => {
    const cases = wycheproof.filter((c) => c.sig.length !== 64);
    assert.ok(cases.length > 0);
    for (const c of cases) {
      const input = { messages: [...rfcCases.map((r) => r.msg), c.msg], publicKeys: [...rfcCases.map((r) => r.pk), c.pk], signatures: [...rfcCases.map((r) => r.sig), c.sig] };
      assertInvalid(() => toEd25519Columns(input), rfcCases.length);
    }
  });

  test('validate accepts columns as they are and rejects what toEd25519Columns would', () => {
    const cols = toEd25519Columns(three);
    assert.deepEqual(validate(cols), cols);
    assertInvalid(() => validate({ ...cols, offsets: Uint32Array.of(0, 6, 5, 14) }), 1);
    assertInvalid(() => validate({ ...cols, signatures: bytes(64 * 3 + 1) }), 3);
    assertInvalid(() => validate({ ...cols, data: [1, 2] }), undefined);
    assertInvalid(() => kernel.validate(three), undefined);
  });
});

describe('ed25519 host side (GPU pack)', () => {
  test('reduce512 equals BigInt mod L, edge values and random', () => {
    const edges = [0n, 1n, L - 1n, L, L + 1n, 2n * L, L * L, (1n << 512n) - 1n, (1n << 512n) - L, 1n << 252n, (1n << 253n) - 1n];
    const out = new Uint8Array(40);
    const check = (h: Uint8Array) => {
      out.fill(0xee);
      reduce512(h, out, 4);
      assert.equal(leToBig(out.subarray(4, 36)), leToBig(h) % L, Buffer.from(h).toString('hex'));
      assert.equal(out[36], 0xee, 'wrote past 32 bytes');
    };
    edges.forEach((v) => check(bigToLe(v, 64)));
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (h) => check(h)), { numRuns: 2000 });
  });

  test('isCanonicalScalar is S < L', () => {
    for (const v of [0n, 1n, L - 1n, L, L + 1n, (1n << 253n) - 1n, (1n << 256n) - 1n, L + (1n << 128n), L - (1n << 128n)]) {
      assert.equal(isCanonicalScalar(bigToLe(v), 0), v < L, v.toString(16));
    }
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (s) => isCanonicalScalar(s, 0) === leToBig(s) < L));
  });

  test('pack writes A, R, S and k = SHA-512(R || A || M) mod L, and flags S >= L', () => {
    const cases = [...rfcCases, { name: 'S = L', msg: bytes(3), pk: new Uint8Array(randomBytes(32)), sig: new Uint8Array([...randomBytes(32), ...bigToLe(L)]) }];
    const cols = toEd25519Columns({ messages: cases.map((c) => c.msg), publicKeys: cases.map((c) => c.pk), signatures: cases.map((c) => c.sig) });
    const gpu = hostPackedKernel.gpu!;
    const [records] = gpu.pack(cols, 1, cases.length);
    assert.equal(records?.length, (cases.length - 1) * RECORD_BYTES);
    cases.slice(1).forEach((c, j) => {
      const rec = records!.subarray(j * RECORD_BYTES, (j + 1) * RECORD_BYTES);
      assert.deepEqual(rec.subarray(0, 32), c.pk);
      assert.deepEqual(rec.subarray(32, 96), c.sig);
      const k = leToBig(rec.subarray(96, 128));
      if (leToBig(c.sig.subarray(32)) >= L) assert.equal(k >> 255n, 1n, `${c.name} flagged`);
      else assert.equal(k, challenge(c.sig.subarray(0, 32), c.pk, c.msg), c.name);
    });
  });

  test('chunking stays within the binding limit', () => {
    const cols = toEd25519Columns({ messages: Array.from({ length: 100 }, () => bytes(1)), publicKeys: bytes(3200), signatures: bytes(6400) });
    assert.equal(hostPackedKernel.gpu!.chunkEnd(cols, 10, 100, RECORD_BYTES * 7 + 5), 17);
    assert.equal(hostPackedKernel.gpu!.chunkEnd(cols, 90, 100, 1 << 20), 100);
    assert.equal(hostPackedKernel.gpu!.chunkEnd(cols, 0, 100, 1), 1);
  });

  test('work counts items plus long-message hashing', () => {
    const cols = toEd25519Columns({ messages: [bytes(0), bytes(160_000)], publicKeys: bytes(64), signatures: bytes(128) });
    assert.equal(kernel.work!(cols, 0, 1), 1);
    assert.ok(kernel.work!(cols, 0, 2) > 3);
  });
});
