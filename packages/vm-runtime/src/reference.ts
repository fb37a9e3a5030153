/**
 * The reference executor: plain, one transaction after another over a Map of
 * string keys, with no slots, tables, shared memory or scheduler, and its own
 * signature check (node:crypto). Everything the runtime does to a block
 * (executeWithHybrid on any number of threads) must equal this: same receipts,
 * same changed keys and values, hence the same state root.
 *
 * Rules, in order, for each transaction:
 *   1. the signature must verify over the unsigned encoding   else bad_signature
 *   2. the nonce must equal the sender's next nonce (0 if new) else bad_nonce
 *   3. transfer: the sender's balance must cover the amount    else insufficient_balance
 *      call: the contract must exist and run to completion     else contract_error / out_of_gas
 *   4. then: balances move (or the contract's writes apply) and the nonce goes up by one.
 * A rejected transaction changes nothing at all; a missing key reads as 0.
 */
import { createPublicKey, verify } from 'node:crypto';
import { CONTRACTS, ContractError, OutOfGas, type ContractContext } from './contracts/index.js';
import { balanceKey, contractKey, nonceKey } from './keys.js';
import type { ReceiptStatus } from './receipts.js';
import { encodeUnsigned, type Transaction } from './transaction.js';

const U64_MAX = 0xffffffffffffffffn;

/** node:crypto's verdict on a transaction's Ed25519 signature; malformed keys are simply invalid. */
export function verifySignature(tx: Transaction): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(tx.sender).toString('base64url') }, format: 'jwk' });
    return verify(null, encodeUnsigned(tx), key, tx.signature);
  } catch {
    return false;
  }
}

export interface ReferenceOutcome {
  receipts: ReceiptStatus[];
  /** Final value of every key the block wrote. */
  changes: Map<string, bigint>;
}

/**
 * Executes `txs` on top of `state` (not modified). `verdicts` (1 valid) skips
 * the signature check when the caller already has node:crypto's verdicts.
 */
export function executeReference(txs: readonly Transaction[], state: ReadonlyMap<string, bigint>, verdicts?: ArrayLike<number>): ReferenceOutcome {
  const changes = new Map<string, bigint>();
  const get = (key: string): bigint => changes.get(key) ?? state.get(key) ?? 0n;
  const receipts = txs.map((tx, i): ReceiptStatus => {
    const valid = verdicts ? verdicts[i] === 1 : verifySignature(tx);
    if (!valid) return 'bad_signature';
    const nonceAt = nonceKey(tx.sender);
    if (get(nonceAt) !== tx.nonce) return 'bad_nonce';
    const writes = new Map<string, bigint>();
    const p = tx.payload;
    if (p.kind === 'transfer') {
      const from = balanceKey(tx.sender);
      const to = balanceKey(p.to);
      if (get(from) < p.amount) return 'insufficient_balance';
      if (from !== to) {
        if (get(to) + p.amount > U64_MAX) return 'contract_error';
        writes.set(from, get(from) - p.amount);
        writes.set(to, get(to) + p.amount);
      }
    } else {
      const contract = CONTRACTS.find((c) => c.name === p.contract);
      if (contract === undefined) return 'contract_error';
      let declared: string[];
      try {
        declared = contract.keys(tx.sender, p.args).map((k) => contractKey(p.contract, k));
      } catch {
        return 'contract_error';
      }
      let gas = 0;
      const keyAt = (index: number): string => {
        const key = declared[index];
        if (key === undefined) throw new ContractError(`key ${index} was not declared`);
        return key;
      };
      const ctx: ContractContext = {
        sender: tx.sender,
        read: (index) => writes.get(keyAt(index)) ?? get(keyAt(index)),
        write: (index, value) => {
          const key = keyAt(index);
          if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) throw new ContractError('values are u64');
          writes.set(key, value);
        },
        useGas: (units) => {
          gas += units;
          if (gas > p.gasLimit) throw new OutOfGas(`gas ${gas} > limit ${p.gasLimit}`);
        },
      };
      try {
        contract.execute(ctx, p.args);
      } catch (err) {
        if (err instanceof OutOfGas) return 'out_of_gas';
        if (err instanceof ContractError || err instanceof RangeError || err instanceof TypeError) return 'contract_error';
        throw err;
      }
    }
    writes.set(nonceAt, (tx.nonce + 1n) & U64_MAX);
    for (const [k, v] of writes) changes.set(k, v);
    return 'ok';
  });
  return { receipts, changes };
}
