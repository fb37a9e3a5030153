import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeTransaction, encodeTransaction, encodeUnsigned, signTransaction, signerFromSeed, transactionId, type Transaction } from '../src/transaction.js';
import { transactionToTask } from '../src/chain.js';

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const txArb: fc.Arbitrary<Transaction> = fc.record({
  sender: key32,
  nonce: fc.bigInt(0n, 2n ** 64n - 1n),
  payload: fc.oneof(
    fc.record({ kind: fc.constant('transfer' as const), to: key32, amount: fc.bigInt(0n, 2n ** 64n - 1n) }),
    fc.record({
      kind: fc.constant('call' as const),
      contract: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
      gasLimit: fc.nat(0xffffffff),
      args: fc.uint8Array({ maxLength: 100 }),
    }),
  ),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
});

describe('transaction encoding', () => {
  test('decode(encode(tx)) is tx, for any transaction', () => {
    fc.assert(
      fc.property(txArb, (tx) => {
        assert.deepEqual(decodeTransaction(encodeTransaction(tx)), structuredClone(tx));
      }),
    );
  });

  test('every truncation and any trailing byte is INVALID_INPUT with the given index', () => {
    fc.assert(
      fc.property(txArb, fc.nat(), (tx, cut) => {
        const bytes = encodeTransaction(tx);
        assert.throws(() => decodeTransaction(bytes.subarray(0, cut % bytes.length), 7), { code: 'INVALID_INPUT', index: 7 });
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        assert.throws(() => decodeTransaction(longer, 3), { code: 'INVALID_INPUT', index: 3, message: /trailing/ });
      }),
      { numRuns: 50 },
    );
  });

  test('unknown versions and payload kinds, and wrong field lengths, are INVALID_INPUT', () => {
    const tx: Transaction = { sender: new Uint8Array(32), nonce: 0n, payload: { kind: 'transfer', to: new Uint8Array(32), amount: 1n }, signature: new Uint8Array(64) };
    const bytes = encodeTransaction(tx);
    assert.throws(() => decodeTransaction(Uint8Array.of(2, ...bytes.subarray(1))), { code: 'INVALID_INPUT', message: /version/ });
    const badKind = bytes.slice();
    badKind[41] = 9;
    assert.throws(() => decodeTransaction(badKind), { code: 'INVALID_INPUT', message: /kind/ });
    assert.throws(() => encodeTransaction({ ...tx, sender: new Uint8Array(31) }), { code: 'INVALID_INPUT' });
    assert.throws(() => encodeTransaction({ ...tx, signature: new Uint8Array(63) }), { code: 'INVALID_INPUT' });
    assert.throws(() => encodeTransaction({ ...tx, nonce: -1n }), { code: 'INVALID_INPUT' });
    assert.throws(() => decodeTransaction('x' as never), { code: 'INVALID_INPUT' });
  });

  test('a signer from a seed has the public key and signatures of the same seed imported as PKCS#8 (RFC 8410)', () => {
    const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (seed, message) => {
        const der = createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
        const signer = signerFromSeed(seed);
        assert.equal(Buffer.from(signer.publicKey).toString('base64url'), der.export({ format: 'jwk' }).x);
        assert.deepEqual(Buffer.from(signer.sign(message)), sign(null, message, der));
      }),
      { numRuns: 50 },
    );
  });

  test('signatures verify with node:crypto over the unsigned encoding; the id is SHA-256 of the whole', () => {
    const signer = signerFromSeed(new Uint8Array(32).fill(1));
    const tx = signTransaction({ sender: signer.publicKey, nonce: 5n, payload: { kind: 'call', contract: 'counter', gasLimit: 100, args: Uint8Array.of(1) } }, signer);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signer.publicKey).toString('base64url') }, format: 'jwk' });
    assert.equal(verify(null, encodeUnsigned(tx), key, tx.signature), true);
    const encoded = encodeTransaction(tx);
    assert.equal(transactionId(encoded).length, 32);
    const task = transactionToTask(encoded, 4);
    assert.equal(task.id, 4);
    assert.deepEqual(task.payload.tx, structuredClone(tx));
  });
});
