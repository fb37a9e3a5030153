import { createHash } from 'node:crypto';
import { encodeTransaction, signTransaction, signerFromSeed, type Signer, type UnsignedTransaction } from './transaction.js';

export interface Account extends Signer {
  /** Next nonce this generator will use. */
  nonce: bigint;
}

/** Deterministic accounts: seed i is SHA-256("supervm-account-" + i), so runs are repeatable. */
export function createAccounts(count: number, first = 0): Account[] {
  if (!Number.isInteger(count) || count < 1) throw new TypeError(`count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, i) => {
    const seed = createHash('sha256').update(`supervm-account-${first + i}`).digest();
    return { ...signerFromSeed(new Uint8Array(seed)), nonce: 0n };
  });
}

export interface BlockSpec {
  txs: number;
  /** Fraction of transactions that touch one hot key (a hot recipient, or a hot contract slot). */
  conflict: number;
  /** Rounds of `work` contract arithmetic per transaction; 0 makes plain transfers. */
  work: number;
  /** Deterministic choice of recipients and conflicts. */
  seed?: number;
}

/** xorshift32: a tiny deterministic generator for workloads. */
function rng(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Signed, encoded transactions: senders taken round-robin (each sender's nonces
 * in order), `conflict` of them aimed at one hot key. Advances account nonces.
 */
export function generateBlock(accounts: Account[], spec: BlockSpec, offset = 0): Uint8Array[] {
  const { txs, conflict, work, seed = 1 } = spec;
  if (!Number.isInteger(txs) || txs < 0) throw new TypeError(`txs must be an integer >= 0, got ${txs}`);
  if (!(conflict >= 0 && conflict <= 1)) throw new TypeError(`conflict must be within [0, 1], got ${conflict}`);
  if (!Number.isInteger(work) || work < 0) throw new TypeError(`work must be an integer >= 0, got ${work}`);
  const random = rng(seed + offset);
  const out: Uint8Array[] = [];
  for (let i = 0; i < txs; i++) {
    const sender = accounts[(offset + i) % accounts.length]!;
    const hot = random() < conflict;
    let tx: UnsignedTransaction;
    if (work > 0) {
      const args = new Uint8Array(8);
      const view = new DataView(args.buffer);
      view.setUint32(0, work, true);
      view.setUint32(4, hot ? 0 : 1 + ((offset + i) % 1_000_000), true);
      tx = { sender: sender.publicKey, nonce: sender.nonce, payload: { kind: 'call', contract: 'work', gasLimit: work + 100, args } };
    } else {
      const to = hot ? accounts[0]! : accounts[Math.floor(random() * accounts.length)]!;
      tx = { sender: sender.publicKey, nonce: sender.nonce, payload: { kind: 'transfer', to: to.publicKey, amount: 1n + BigInt(Math.floor(random() * 10)) } };
    }
    sender.nonce++;
    out.push(encodeTransaction(signTransaction(tx, sender)));
  }
  return out;
}
