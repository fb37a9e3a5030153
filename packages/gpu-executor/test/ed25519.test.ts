import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { kernel, toEd25519Columns } from '../src/kernels/ed25519/index.js';
import { backends } from './backends.js';
import { craftedCases, nodeVerdict, RFC8032, rfcCases, speccheck, wycheproof, type Case } from './fixtures/ed25519-cases.js';
import { modelVerify } from './fixtures/ed25519-model.js';

const columnsOf = (cases: readonly Case[]) =>
  toEd25519Columns({ messages: cases.map((c) => c.msg), publicKeys: cases.map((c) => c.pk), signatures: cases.map((c) => c.sig) });
const nodeVerdicts = (cases: readonly Case[]): number[] => cases.map((c) => nodeVerdict(c.msg, c.pk, c.sig));

/** Names of the cases whose verdicts differ, so a failure says which input. */
function mismatches(cases: readonly Case[], got: Uint8Array, want: readonly number[]): string[] {
  return cases.flatMap((c, i) => (got[i] === want[i] ? [] : [`${c.name}: got ${got[i]}, node says ${want[i]}`]));
}

const wycheproof64 = wycheproof.filter((c) => c.sig.length === 64);
const crafted = craftedCases();

describe('ed25519 reference data (node:crypto is the reference)', () => {
  test('RFC 8032 section 7.1: node re-derives every public key and signature from the secret key', () => {
    for (const v of RFC8032) {
      const x = Buffer.from(v.publicKey, 'hex').toString('base64url');
      const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(v.secretKey, 'hex').toString('base64url'), x }, format: 'jwk' });
      assert.equal(sign(null, Buffer.from(v.message, 'hex'), key).toString('hex'), v.signature, v.name);
    }
  });

  test('node agrees with every Wycheproof result and with the documented speccheck verdicts', () => {
    assert.deepEqual(mismatches(wycheproof64, Uint8Array.from(wycheproof64.map((c) => (c.valid ? 1 : 0))), nodeVerdicts(wycheproof64)), []);
    assert.deepEqual(nodeVerdicts(speccheck), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  test('the verdict rule of the README (BigInt model) equals node on every vector and crafted case', () => {
    const all = [...rfcCases, ...wycheproof64, ...speccheck, ...crafted];
    const model = Uint8Array.from(all.map((c) => (modelVerify(c.msg, c.pk, c.sig) ? 1 : 0)));
    assert.deepEqual(mismatches(all, model, nodeVerdicts(all)), []);
  });

  test('the crafted small-order, mixed-order and non-canonical cases include accepted ones', () => {
    const verdicts = nodeVerdicts(crafted);
    assert.ok(verdicts.filter((v) => v === 1).length >= 20, `${verdicts.filter((v) => v === 1).length} accepted`);
    assert.ok(verdicts.includes(0));
  });
});

/** A batch of fresh keys and signatures, every third one broken somewhere. */
function mixedBatch(n: number, messageLength: (i: number) => number): Case[] {
  const keys = Array.from({ length: 4 }, () => generateKeyPairSync('ed25519'));
  return Array.from({ length: n }, (_, i) => {
    const { publicKey, privateKey } = keys[i % keys.length]!;
    const msg = new Uint8Array(randomBytes(messageLength(i)));
    const sig = new Uint8Array(sign(null, msg, privateKey));
    const pk = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url'));
    if (i % 3 === 1) sig[i % 64] = (sig[i % 64] ?? 0) ^ (1 << (i % 8));
    if (i % 3 === 2 && msg.length > 0) msg[i % msg.length] = (msg[i % msg.length] ?? 0) ^ 1;
    return { name: `mixed ${i}`, msg, pk, sig };
  });
}

describe('ed25519-verify on every backend', () => {
  for (const { name, executor, skip } of backends(kernel, { maxChunkBytes: 4096 })) {
    describe(name, { skip }, () => {
      test('RFC 8032 section 7.1 vectors all verify', async () => {
        const { output, stats } = await executor.execute(columnsOf(rfcCases));
        assert.deepEqual(Array.from(output), rfcCases.map(() => 1));
        assert.equal(stats.tasks, rfcCases.length);
      });

      test('Wycheproof and speccheck vectors equal node, in one batch', async () => {
        const cases = [...wycheproof64, ...speccheck];
        const { output } = await executor.execute(columnsOf(cases));
        assert.deepEqual(mismatches(cases, output, nodeVerdicts(cases)), []);
      });

      test('small-order, mixed-order and non-canonical keys, R and S = 0 equal node', async () => {
        const { output } = await executor.execute(columnsOf(crafted));
        assert.deepEqual(mismatches(crafted, output, nodeVerdicts(crafted)), []);
      });

      test('a mixed valid/invalid batch equals node', async () => {
        const cases = mixedBatch(name === 'webgpu' ? 48 : 96, (i) => (i * 13) % 300);
        const { output } = await executor.execute(columnsOf(cases));
        assert.deepEqual(mismatches(cases, output, nodeVerdicts(cases)), []);
        assert.ok(output.includes(1) && output.includes(0));
      });

      test('messages of 0 bytes to 1 MiB (one-shot hashing boundary at 4 KiB)', async () => {
        const lengths = [0, 1, 63, 64, 65, 4095, 4096, 4097, 65_536, 1 << 20];
        const cases = mixedBatch(lengths.length, (i) => lengths[i] ?? 0);
        const { output } = await executor.execute(columnsOf(cases));
        assert.deepEqual(mismatches(cases, output, nodeVerdicts(cases)), []);
      });

      test('short messages and ones past the GPU hash cap (4 KiB) mixed in one chunk equal node', async () => {
        const lengths = [10, 5000, 0, 70_000, 300, 4097, 64, 4096, 1];
        const cases = mixedBatch(lengths.length, (i) => lengths[i] ?? 0);
        const { output } = await executor.execute(columnsOf(cases));
        assert.deepEqual(mismatches(cases, output, nodeVerdicts(cases)), []);
      });

      test('an empty batch gives an empty output', async () => {
        const { output, stats } = await executor.execute(columnsOf([]));
        assert.equal(output.length, 0);
        assert.equal(stats.tasks, 0);
      });

      test('invalid input is INVALID_INPUT with the item index, before any work', async () => {
        const good = columnsOf(rfcCases);
        const bad = { ...good, signatures: good.signatures.subarray(0, 64 * 3 + 10) };
        await assert.rejects(executor.execute(bad), { code: 'INVALID_INPUT', index: 3 });
      });
    });
  }
});

describe('ed25519-verify on the CPU: KeyObjects cached per thread', () => {
  test('recurring signers, and keys evicted past the cache (4096 keys) and seen again, equal node', () => {
    const signers = mixedBatch(64, (i) => 32 + i);
    // Random keys and signatures fill the cache; the signers come back after it has evicted them.
    const filler = Array.from({ length: 4200 }, (_, i): Case => ({ name: `filler ${i}`, msg: new Uint8Array(8), pk: new Uint8Array(randomBytes(32)), sig: new Uint8Array(randomBytes(64)) }));
    const cases = [...signers, ...signers, ...filler, ...signers, ...rfcCases, ...signers];
    const output = new Uint8Array(cases.length);
    kernel.cpu(columnsOf(cases), output, 0, cases.length);
    assert.deepEqual(mismatches(cases, output, nodeVerdicts(cases)), []);
  });
});
