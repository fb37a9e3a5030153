/**
 * A block decoded once into columns, with no object per transaction on the
 * path of plain transfers: the encodings packed end to end (ids hash over
 * them), the signed messages, keys and signatures packed for one Ed25519
 * batch, and the fields stage 2 needs as typed arrays. Columns that worker
 * threads read live in SharedArrayBuffers, so the pools use them in place.
 */
import { randomInt } from 'node:crypto';
import { KIND_CALL, KIND_SKIP, KIND_TRANSFER, allocateTxColumns, type TxColumns } from './block-stm/layout.js';
import { CONTRACTS, contractId } from './contracts/index.js';
import { contractKey } from './keys.js';
import { Receipt } from './receipts.js';
import type { ChainState } from './state.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, TX_VERSION, decodeTransaction, type Transaction } from './transaction.js';

/** version | sender | nonce | kind | recipient | amount | signature */
const TRANSFER_BYTES = 1 + 32 + 8 + 1 + 32 + 8 + SIGNATURE_BYTES;
const SENDER_AT = 1;
const NONCE_AT = 33;
const KIND_AT = 41;
const RECIPIENT_AT = 42;
const AMOUNT_AT = 74;

export interface Packed {
  data: Uint8Array;
  offsets: Uint32Array;
}

export interface DecodedBlock {
  n: number;
  /** Every encoding end to end: transaction i is data[offsets[i] .. offsets[i+1]). */
  encodings: Packed;
  /** What each signature covers (the encoding less its signature), end to end. */
  messages: Packed;
  publicKeys: Uint8Array;
  signatures: Uint8Array;
  /** KIND_TRANSFER or KIND_CALL. */
  kind: Int32Array;
  nonce: BigUint64Array;
  amount: BigUint64Array;
  /** Calls by transaction index, decoded into objects (their contracts name keys as strings anyway). */
  calls: Map<number, Transaction & { payload: { kind: 'call' } }>;
}

const shared = (bytes: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(Math.max(1, bytes)), 0, bytes);
const sharedOffsets = (n: number): Uint32Array => new Uint32Array(new SharedArrayBuffer(4 * (n + 1)));

/**
 * Decodes a block. A well-formed transfer is recognised by its length, version
 * and kind alone (every other field of it is valid whatever its bytes); any
 * other encoding goes through `decodeTransaction`, so malformed ones throw its
 * INVALID_INPUT with their index.
 */
export function decodeBlock(block: readonly Uint8Array[]): DecodedBlock {
  return runSteps(decodeSteps(block, Infinity));
}

/** Transactions decoded between two yields of `decodeBlockAsync` (a few ms). */
const DECODE_SLICE = 8192;

/**
 * `decodeBlock`, yielding to the event loop every few thousand transactions:
 * while it runs, the block before may be executing and hashing its root,
 * whose next steps wait for this thread.
 */
export async function decodeBlockAsync(block: readonly Uint8Array[]): Promise<DecodedBlock> {
  return runStepsAsync(decodeSteps(block, DECODE_SLICE));
}

function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

async function runStepsAsync<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* decodeSteps(block: readonly Uint8Array[], slice: number): Generator<void, DecodedBlock> {
  const n = block.length;
  const kind = new Int32Array(n);
  const calls: DecodedBlock['calls'] = new Map();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const bytes = block[i];
    if (bytes instanceof Uint8Array && bytes.length === TRANSFER_BYTES && bytes[0] === TX_VERSION && bytes[KIND_AT] === 1) {
      kind[i] = KIND_TRANSFER;
    } else {
      const tx = decodeTransaction(bytes as Uint8Array, i);
      // Only calls reach this point: a transfer that decodes has the length, version and kind checked above.
      if (tx.payload.kind !== 'call') throw new Error(`transaction ${i}: a transfer missed the fast path`);
      kind[i] = KIND_CALL;
      calls.set(i, tx as Transaction & { payload: { kind: 'call' } });
    }
    total += bytes!.length;
    if ((i + 1) % slice === 0) yield;
  }
  const encodings = { data: shared(total), offsets: sharedOffsets(n) };
  const messages = { data: shared(total - n * SIGNATURE_BYTES), offsets: sharedOffsets(n) };
  const publicKeys = shared(n * PUBLIC_KEY_BYTES);
  const signatures = shared(n * SIGNATURE_BYTES);
  const nonce = new BigUint64Array(new SharedArrayBuffer(8 * Math.max(1, n)), 0, n);
  const amount = new BigUint64Array(new SharedArrayBuffer(8 * Math.max(1, n)), 0, n);
  const view = new DataView(encodings.data.buffer);
  for (let i = 0, at = 0, m = 0; i < n; i++) {
    const bytes = block[i]!;
    const signed = bytes.length - SIGNATURE_BYTES;
    encodings.data.set(bytes, at);
    messages.data.set(bytes.subarray(0, signed), m);
    publicKeys.set(bytes.subarray(SENDER_AT, SENDER_AT + PUBLIC_KEY_BYTES), i * PUBLIC_KEY_BYTES);
    signatures.set(bytes.subarray(signed), i * SIGNATURE_BYTES);
    nonce[i] = view.getBigUint64(at + NONCE_AT, true);
    if (kind[i] === KIND_TRANSFER) amount[i] = view.getBigUint64(at + AMOUNT_AT, true);
    encodings.offsets[i + 1] = at += bytes.length;
    messages.offsets[i + 1] = m += signed;
    if ((i + 1) % slice === 0) yield;
  }
  return { n, encodings, messages, publicKeys, signatures, kind, nonce, amount, calls };
}

/**
 * Open addressing over 32-byte account keys that stay where they are in the
 * packed encodings (no string per key). The hash is seeded per process, so
 * recipients crafted to collide cannot make interning quadratic.
 */
class AccountTable {
  readonly #bytes: Uint8Array;
  readonly #table: Int32Array;
  readonly #mask: number;
  /** Where account a's key starts in the bytes. */
  readonly at: Uint32Array;
  count = 0;

  static readonly #seed = randomInt(0x7fffffff) | 1;

  constructor(bytes: Uint8Array, maxAccounts: number) {
    this.#bytes = bytes;
    const capacity = 1 << Math.ceil(Math.log2(Math.max(2, 2 * maxAccounts)));
    this.#table = new Int32Array(capacity).fill(-1);
    this.#mask = capacity - 1;
    this.at = new Uint32Array(maxAccounts);
  }

  /** The account whose key is bytes[at .. at + 32), added if new. */
  intern(at: number): number {
    const b = this.#bytes;
    let h = AccountTable.#seed;
    for (let k = at; k < at + 32; k += 4) {
      h = Math.imul(h ^ (b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24)), 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (let p = h & this.#mask; ; p = (p + 1) & this.#mask) {
      const a = this.#table[p]!;
      if (a < 0) {
        this.#table[p] = this.count;
        this.at[this.count] = at;
        return this.count++;
      }
      const other = this.at[a]!;
      let k = 0;
      while (k < 32 && b[at + k] === b[other + k]) k++;
      if (k === 32) return a;
    }
  }
}

export interface BlockLayout {
  /** Per-transaction columns over slots; `kind` of a transaction with a bad signature is still its decoded kind. */
  columns: TxColumns;
  /** Accounts the block names, in order of first use: account a is accountBytes[accountAt[a] .. +32). */
  accounts: number;
  accountBytes: Uint8Array;
  accountAt: Uint32Array;
  /** Per slot: its account (-1 for a contract key), and whether it is that account's nonce (else its balance). */
  slotAccount: Int32Array;
  slotIsNonce: Uint8Array;
  /** Contract keys by slot. */
  named: ReadonlyMap<number, string>;
  /** `keys[slot]`: the state key of each slot, as a string (built on first use; the chain never needs it). */
  readonly keys: readonly string[];
}

const hexOf = (data: Uint8Array, at: number): string => Buffer.from(data.buffer, data.byteOffset + at, 32).toString('hex');

/**
 * Interns every key a transaction may touch to a dense slot, in order of first
 * use (sender nonce, sender balance, then the recipient's balance or the
 * contract's declared keys), and fills the per-transaction columns; accounts
 * stay bytes (no string per key). It needs neither the state nor the
 * signature verdicts, so it runs while they are computed.
 */
export function layoutDecoded(d: DecodedBlock): BlockLayout {
  return runSteps(layoutSteps(d, Infinity));
}

/** Transactions laid out between two yields of `layoutDecodedAsync`: a few milliseconds. */
const LAYOUT_SLICE = 4096;

/**
 * `layoutDecoded`, yielding to the event loop every few thousand
 * transactions: it runs while the shared pool verifies, and that pool's
 * queue is refilled from this thread's event loop (a stretch of tens of
 * milliseconds here would leave its workers idle).
 */
export async function layoutDecodedAsync(d: DecodedBlock): Promise<BlockLayout> {
  return runStepsAsync(layoutSteps(d, LAYOUT_SLICE));
}

function* layoutSteps(d: DecodedBlock, slice: number): Generator<void, BlockLayout> {
  const { n, encodings } = d;
  let argsBytes = 0;
  let keyCount = 0;
  const declared = new Map<number, { id: number; keys: string[] | undefined }>();
  for (const [i, tx] of d.calls) {
    const id = contractId(tx.payload.contract);
    let keys: string[] | undefined;
    try {
      keys = id < 0 ? undefined : CONTRACTS[id]!.keys(tx.sender, tx.payload.args);
    } catch {
      keys = undefined;
    }
    declared.set(i, { id, keys });
    if (keys !== undefined) {
      argsBytes += tx.payload.args.length;
      keyCount += keys.length;
    }
  }
  const c = allocateTxColumns(n, 0, argsBytes, keyCount);
  c.nonce = d.nonce;
  c.amount = d.amount;
  c.senders = d.publicKeys;
  c.kind.set(d.kind);
  c.contract.fill(-1);
  c.recipientBalance.fill(-1);
  // Receipt.ok is 0, which the fresh preset column already holds.
  const accounts = new AccountTable(encodings.data, 2 * n);
  const nonceSlot = new Int32Array(2 * n).fill(-1);
  const balanceSlot = new Int32Array(2 * n).fill(-1);
  // At most 3 slots per transfer; calls add their declared keys.
  const slotAccount = new Int32Array(3 * n + keyCount);
  const slotIsNonce = new Uint8Array(3 * n + keyCount);
  let slots = 0;
  const contractSlots = new Map<string, number>();
  const named = new Map<number, string>();
  let args = 0;
  let keys = 0;
  const { senderNonce, senderBalance, recipientBalance, argsOffsets, keyOffsets } = c;
  const offsets = encodings.offsets;
  const kinds = d.kind;
  for (let i = 0; i < n; i++) {
    const at = offsets[i]!;
    const sender = accounts.intern(at + SENDER_AT);
    let slot = nonceSlot[sender]!;
    if (slot < 0) {
      nonceSlot[sender] = slot = slots++;
      slotAccount[slot] = sender;
      slotIsNonce[slot] = 1;
    }
    senderNonce[i] = slot;
    slot = balanceSlot[sender]!;
    if (slot < 0) {
      balanceSlot[sender] = slot = slots++;
      slotAccount[slot] = sender;
    }
    senderBalance[i] = slot;
    if (kinds[i] === KIND_TRANSFER) {
      const recipient = accounts.intern(at + RECIPIENT_AT);
      slot = balanceSlot[recipient]!;
      if (slot < 0) {
        balanceSlot[recipient] = slot = slots++;
        slotAccount[slot] = recipient;
      }
      recipientBalance[i] = slot;
    } else {
      const tx = d.calls.get(i)!;
      const { id, keys: names } = declared.get(i)!;
      // An unknown contract (or one that cannot name its keys) still has its nonce checked first:
      // contract -1 makes the semantics answer contract_error after the nonce.
      if (names !== undefined) {
        c.contract[i] = id;
        c.gasLimit[i] = tx.payload.gasLimit;
        c.args.set(tx.payload.args, args);
        args += tx.payload.args.length;
        for (const name of names) {
          const key = contractKey(tx.payload.contract, name);
          let s = contractSlots.get(key);
          if (s === undefined) {
            contractSlots.set(key, (s = slots++));
            slotAccount[s] = -1;
            named.set(s, key);
          }
          c.keySlots[keys++] = s;
        }
      }
    }
    argsOffsets[i + 1] = args;
    keyOffsets[i + 1] = keys;
    if ((i + 1) % slice === 0) yield;
  }
  c.slots = slots;
  let names: string[] | undefined;
  const layout: BlockLayout = {
    columns: c,
    accounts: accounts.count,
    accountBytes: encodings.data,
    accountAt: accounts.at.subarray(0, accounts.count),
    slotAccount: slotAccount.subarray(0, slots),
    slotIsNonce: slotIsNonce.subarray(0, slots),
    named,
    get keys(): readonly string[] {
      return (names ??= slotKeys(layout));
    },
  };
  return layout;
}

function slotKeys(layout: BlockLayout): string[] {
  const hex = Array.from(layout.accountAt, (at) => hexOf(layout.accountBytes, at));
  return Array.from(layout.slotAccount, (a, s) => (a < 0 ? layout.named.get(s)! : `${layout.slotIsNonce[s] ? 'n' : 'b'}/${hex[a]!}`));
}

/**
 * The block's accounts as the state's account ids, and its slots' values
 * before the block, read from the state's columns without a string per key.
 */
export function resolveLayout(layout: BlockLayout, state: ChainState): { accountIds: Int32Array; base: BigUint64Array } {
  const accountIds = new Int32Array(layout.accounts);
  for (let a = 0; a < layout.accounts; a++) accountIds[a] = state.account(layout.accountBytes, layout.accountAt[a]!);
  const slots = layout.slotAccount.length;
  const base = new BigUint64Array(slots);
  for (let s = 0; s < slots; s++) {
    const a = layout.slotAccount[s]!;
    base[s] = a >= 0 ? state.accountValue(accountIds[a]!, layout.slotIsNonce[s] === 1) : (state.get(layout.named.get(s)!) ?? 0n);
  }
  return { accountIds, base };
}

/** The state's key id of slot `s` (added to its pool if new). */
export function slotKeyId(layout: BlockLayout, accountIds: Int32Array, state: ChainState, s: number): number {
  const a = layout.slotAccount[s]!;
  return a >= 0 ? state.accountKey(accountIds[a]!, layout.slotIsNonce[s] === 1) : state.keyId(layout.named.get(s)!);
}

/** Marks every transaction whose signature failed as rejected before execution. */
export function applyVerdicts(columns: TxColumns, verdicts: Uint8Array): void {
  for (let i = 0; i < columns.n; i++) {
    if (verdicts[i] !== 1) {
      columns.kind[i] = KIND_SKIP;
      columns.preset[i] = Receipt.bad_signature;
    }
  }
}

/** The slots' values before the block (missing keys read as 0). */
export function baseValues(keys: readonly string[], state: ReadonlyMap<string, bigint>): BigUint64Array {
  const base = new BigUint64Array(keys.length);
  for (let s = 0; s < keys.length; s++) base[s] = state.get(keys[s]!) ?? 0n;
  return base;
}
