/** Random signed blocks for property tests: every rejection reason, at chosen contention. */
import fc from 'fast-check';
import { encodeTransaction, signTransaction, type Payload } from '../../src/transaction.js';
import { createAccounts, type Account } from '../../src/workload.js';
import type { ReceiptStatus } from '../../src/receipts.js';

/** Fixed signers (deterministic seeds), shared by all tests. */
export const SIGNERS: Account[] = createAccounts(32);

export type Fault = 'none' | 'forge' | 'nonce-high';

export interface TxSpec {
  from: number;
  kind: 'transfer' | 'counter' | 'work' | 'unknown-contract' | 'bad-args';
  to: number;
  amount: bigint;
  key: number;
  rounds: number;
  gasLimit: number;
  fault: Fault;
}

/** Transactions among `accounts` signers whose contract calls share `hotKeys` keys (fewer: more conflicts). */
export const txSpecArb = (accounts: number, hotKeys: number): fc.Arbitrary<TxSpec> =>
  fc.record({
    from: fc.nat(accounts - 1),
    kind: fc.constantFrom('transfer', 'transfer', 'transfer', 'counter', 'work', 'work', 'unknown-contract', 'bad-args'),
    to: fc.nat(accounts - 1),
    amount: fc.bigInt(0n, 400n),
    key: fc.nat(hotKeys - 1),
    rounds: fc.nat(300),
    gasLimit: fc.oneof(fc.constant(100_000), fc.constant(100_000), fc.nat(320)),
    fault: fc.constantFrom<Fault>('none', 'none', 'none', 'none', 'none', 'none', 'forge', 'nonce-high'),
  });

/**
 * Signs the specs in order. `nonces[a]` is signer a's next nonce before the
 * block (updated: each unfaulted transaction takes the next one, whatever its
 * fate). Returns the encodings and, per transaction, the receipt its fault
 * guarantees (forged signature: bad_signature; nonce far ahead: bad_nonce).
 */
export function signBlock(specs: readonly TxSpec[], nonces: bigint[]): { encoded: Uint8Array[]; expected: (ReceiptStatus | undefined)[] } {
  const encoded: Uint8Array[] = [];
  const expected: (ReceiptStatus | undefined)[] = [];
  for (const s of specs) {
    const sender = SIGNERS[s.from]!;
    let payload: Payload;
    if (s.kind === 'transfer') payload = { kind: 'transfer', to: SIGNERS[s.to]!.publicKey, amount: s.amount };
    else if (s.kind === 'counter') payload = { kind: 'call', contract: 'counter', gasLimit: s.gasLimit, args: Uint8Array.of(s.key) };
    else if (s.kind === 'work') payload = { kind: 'call', contract: 'work', gasLimit: s.gasLimit, args: new Uint8Array(new Uint32Array([s.rounds, s.key]).buffer) };
    else if (s.kind === 'unknown-contract') payload = { kind: 'call', contract: 'no-such-contract', gasLimit: s.gasLimit, args: new Uint8Array(0) };
    else payload = { kind: 'call', contract: 'work', gasLimit: s.gasLimit, args: Uint8Array.of(1, 2, 3) };
    let nonce = nonces[s.from]!;
    if (s.fault === 'nonce-high') nonce += 1_000_000n;
    else if (s.fault === 'none') nonces[s.from]!++;
    const bytes = encodeTransaction(signTransaction({ sender: sender.publicKey, nonce, payload }, sender));
    if (s.fault === 'forge') bytes[bytes.length - 1 - (s.key % 64)]! ^= 1 << (s.rounds % 8);
    encoded.push(bytes);
    expected.push(s.fault === 'forge' ? 'bad_signature' : s.fault === 'nonce-high' ? 'bad_nonce' : undefined);
  }
  return { encoded, expected };
}
