import { CONTRACTS, ContractError, OutOfGas, type ContractContext } from './contracts/index.js';
import { KIND_CALL, KIND_TRANSFER, type BlockTables } from './block-stm/layout.js';
import { Receipt } from './receipts.js';

const U64_MAX = 0xffffffffffffffffn;

export interface TxOutcome {
  code: number;
  /** Slot/value pairs this transaction writes; empty when rejected. */
  writes: [number, bigint][];
}

/**
 * The meaning of one transaction, shared by the sequential reference and the
 * parallel executor so both run the same code. `read` returns a slot's value
 * as this transaction sees it; it may throw (the parallel executor's
 * dependency signal), which passes through untouched.
 */
export function runTransaction(t: BlockTables, i: number, read: (slot: number) => bigint): TxOutcome {
  const kind = t.kind[i]!;
  if (kind !== KIND_TRANSFER && kind !== KIND_CALL) return { code: t.preset[i]!, writes: [] };
  const nonceSlot = t.senderNonce[i]!;
  const nonce = read(nonceSlot);
  if (nonce !== t.nonce[i]) return { code: Receipt.bad_nonce, writes: [] };
  const nextNonce: [number, bigint] = [nonceSlot, (nonce + 1n) & U64_MAX];

  if (kind === KIND_TRANSFER) {
    const amount = t.amount[i]!;
    const from = t.senderBalance[i]!;
    const to = t.recipientBalance[i]!;
    const balance = read(from);
    if (balance < amount) return { code: Receipt.insufficient_balance, writes: [] };
    if (from === to) return { code: Receipt.ok, writes: [nextNonce] };
    const received = read(to) + amount;
    // Supply is below 2^64 (genesis checks it), so a sum past it cannot come from valid state.
    if (received > U64_MAX) return { code: Receipt.contract_error, writes: [] };
    return { code: Receipt.ok, writes: [[from, balance - amount], [to, received], nextNonce] };
  }

  const contract = CONTRACTS[t.contract[i]!];
  // Unknown contract (or one whose keys could not be declared): rejected once the nonce is right.
  if (contract === undefined) return { code: Receipt.contract_error, writes: [] };
  const keys = t.keySlots.subarray(t.keyOffsets[i]!, t.keyOffsets[i + 1]!);
  const local = new Map<number, bigint>();
  // Each slot is read from the store at most once per execution, so a transaction's read set
  // never outgrows its cells (the parallel executor sizes the read log by them).
  const seen = new Map<number, bigint>();
  const gasLimit = t.gasLimit[i]!;
  let gas = 0;
  const ctx: ContractContext = {
    sender: t.senders.subarray(32 * i, 32 * i + 32),
    read(key) {
      const slot = keys[key];
      if (slot === undefined) throw new ContractError(`key ${key} was not declared`);
      let value = local.get(slot) ?? seen.get(slot);
      if (value === undefined) seen.set(slot, (value = read(slot)));
      return value;
    },
    write(key, value) {
      const slot = keys[key];
      if (slot === undefined) throw new ContractError(`key ${key} was not declared`);
      if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) throw new ContractError('values are u64');
      local.set(slot, value);
    },
    useGas(units) {
      gas += units;
      if (gas > gasLimit) throw new OutOfGas(`gas ${gas} > limit ${gasLimit}`);
    },
  };
  try {
    contract.execute(ctx, t.args.subarray(t.argsOffsets[i]!, t.argsOffsets[i + 1]!));
  } catch (err) {
    if (err instanceof OutOfGas) return { code: Receipt.out_of_gas, writes: [] };
    if (err instanceof ContractError || err instanceof RangeError || err instanceof TypeError) return { code: Receipt.contract_error, writes: [] };
    throw err;
  }
  return { code: Receipt.ok, writes: [...local, nextNonce] };
}
