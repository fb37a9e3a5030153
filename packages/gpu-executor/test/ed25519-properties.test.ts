import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { kernel, toEd25519Columns } from '../src/kernels/ed25519/index.js';
import { backends } from './backends.js';
import { nodeVerdict, type Case } from './fixtures/ed25519-cases.js';
import { L, TORSION, bigToLe, encode, leToBig } from './fixtures/ed25519-model.js';

const SMALL_ORDER = TORSION.map(encode);

/** PKCS #8 DER prefix of an Ed25519 private key (RFC 8410 section 7). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A key pair from a 32-byte seed (RFC 8032 section 5.1.5). */
function signWith(seed: Uint8Array, msg: Uint8Array): { pk: Uint8Array; sig: Uint8Array } {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '';
  return { pk: new Uint8Array(Buffer.from(x, 'base64url')), sig: new Uint8Array(sign(null, msg, privateKey)) };
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'flipR' | 'flipS' | 'flipA' | 'flipMsg'; bit: number }
  | { kind: 'sPlusL' | 'sHighBit' }
  | { kind: 'randomKey' | 'randomR'; bytes: Uint8Array }
  | { kind: 'smallOrderA' | 'smallOrderR'; which: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constantFrom('flipR' as const, 'flipS' as const, 'flipA' as const, 'flipMsg' as const), bit: fc.nat() }),
  fc.record({ kind: fc.constantFrom('sPlusL' as const, 'sHighBit' as const) }),
  fc.record({ kind: fc.constantFrom('randomKey' as const, 'randomR' as const), bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({ kind: fc.constantFrom('smallOrderA' as const, 'smallOrderR' as const), which: fc.nat({ max: 7 }) }),
);

const flip = (bytes: Uint8Array, bit: number): void => {
  const i = (bit >> 3) % bytes.length;
  bytes[i] = (bytes[i] ?? 0) ^ (1 << (bit & 7));
};

/** A signed message, then one mutation of it; node decides what each mutation does to the verdict. */
const signedCase: fc.Arbitrary<Case> = fc
  .record({ seed: fc.uint8Array({ minLength: 32, maxLength: 32 }), msg: fc.uint8Array({ maxLength: 200 }), m: mutation })
  .map(({ seed, msg, m }) => {
    const { pk, sig } = signWith(seed, msg);
    const message = msg.slice();
    switch (m.kind) {
      case 'none':
        break;
      case 'flipR':
        flip(sig.subarray(0, 32), m.bit);
        break;
      case 'flipS':
        flip(sig.subarray(32), m.bit);
        break;
      case 'flipA':
        flip(pk, m.bit);
        break;
      case 'flipMsg':
        if (message.length > 0) flip(message, m.bit);
        break;
      case 'sPlusL':
        sig.set(bigToLe(leToBig(sig.subarray(32)) + L), 32);
        break;
      case 'sHighBit':
        sig[63] = (sig[63] ?? 0) | 0x80;
        break;
      case 'randomKey':
        pk.set(m.bytes);
        break;
      case 'randomR':
        sig.set(m.bytes);
        break;
      case 'smallOrderA':
        pk.set(SMALL_ORDER[m.which] ?? SMALL_ORDER[0]!);
        break;
      case 'smallOrderR':
        sig.set(SMALL_ORDER[m.which] ?? SMALL_ORDER[0]!);
        break;
    }
    return { name: `${m.kind} ${Buffer.from(seed).toString('hex')}`, msg: message, pk, sig };
  });

/** Arbitrary bytes in every field: mostly invalid, sometimes keys that fail to decode. */
const randomCase: fc.Arbitrary<Case> = fc
  .record({ msg: fc.uint8Array({ maxLength: 64 }), pk: fc.uint8Array({ minLength: 32, maxLength: 32 }), sig: fc.uint8Array({ minLength: 64, maxLength: 64 }) })
  .map((c) => ({ name: 'random', ...c }));

const columnsOf = (cases: readonly Case[]) =>
  toEd25519Columns({ messages: cases.map((c) => c.msg), publicKeys: cases.map((c) => c.pk), signatures: cases.map((c) => c.sig) });

describe('ed25519-verify equals node:crypto on random and mutated inputs', () => {
  for (const { name, executor, skip } of backends(kernel)) {
    const gpu = name === 'webgpu';
    test(name, { skip }, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.oneof({ arbitrary: signedCase, weight: 4 }, { arbitrary: randomCase, weight: 1 }), { maxLength: gpu ? 24 : 40 }), async (cases) => {
          const { output } = await executor.execute(columnsOf(cases));
          assert.deepEqual(Array.from(output), cases.map((c) => nodeVerdict(c.msg, c.pk, c.sig)));
        }),
        { numRuns: gpu ? 15 : 40 },
      );
    });
  }
});
