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
import { LITTLE_ENDIAN, giveShared, sharedArray, takeShared, wordsOf } from './shared-buffers.js';
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

const align8 = (bytes: number): number => (bytes + 7) & ~7;

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
  // Every column in one buffer from the pool (see shared-buffers.ts; `releasePrepared` hands it back): a fresh
  // one faults in its pages on this thread. Each region is written in full below, except amounts (zeroed).
  const signedTotal = total - n * SIGNATURE_BYTES;
  const encAt = 0;
  const msgAt = align8(encAt + total);
  const keysAt = align8(msgAt + signedTotal);
  const sigsAt = align8(keysAt + n * PUBLIC_KEY_BYTES);
  const nonceAt = align8(sigsAt + n * SIGNATURE_BYTES);
  const amountAt = nonceAt + 8 * n;
  const encOffsetsAt = amountAt + 8 * n;
  const msgOffsetsAt = encOffsetsAt + 4 * (n + 1);
  const buffer = takeShared(msgOffsetsAt + 4 * (n + 1), false);
  const all = new Uint8Array(buffer, 0, msgOffsetsAt + 4 * (n + 1));
  const encodings = { data: new Uint8Array(buffer, encAt, total), offsets: new Uint32Array(buffer, encOffsetsAt, n + 1) };
  const messages = { data: new Uint8Array(buffer, msgAt, signedTotal), offsets: new Uint32Array(buffer, msgOffsetsAt, n + 1) };
  const publicKeys = new Uint8Array(buffer, keysAt, n * PUBLIC_KEY_BYTES);
  const signatures = new Uint8Array(buffer, sigsAt, n * SIGNATURE_BYTES);
  const nonce = new BigUint64Array(buffer, nonceAt, n);
  const amount = new BigUint64Array(buffer, amountAt, n);
  new Int32Array(buffer, amountAt, 2 * n).fill(0);
  encodings.offsets[0] = 0;
  messages.offsets[0] = 0;
  const view = new DataView(buffer);
  // Copies within the one buffer (copyWithin) after one set per encoding: no subarray per field, no bigint per value.
  for (let i = 0, at = 0, m = 0; i < n; i++) {
    const bytes = block[i]!;
    const signed = bytes.length - SIGNATURE_BYTES;
    all.set(bytes, encAt + at);
    all.copyWithin(msgAt + m, encAt + at, encAt + at + signed);
    all.copyWithin(keysAt + i * PUBLIC_KEY_BYTES, encAt + at + SENDER_AT, encAt + at + SENDER_AT + PUBLIC_KEY_BYTES);
    all.copyWithin(sigsAt + i * SIGNATURE_BYTES, encAt + at + signed, encAt + at + bytes.length);
    if (LITTLE_ENDIAN) {
      all.copyWithin(nonceAt + 8 * i, encAt + at + NONCE_AT, encAt + at + NONCE_AT + 8);
      if (kind[i] === KIND_TRANSFER) all.copyWithin(amountAt + 8 * i, encAt + at + AMOUNT_AT, encAt + at + AMOUNT_AT + 8);
    } else {
      nonce[i] = view.getBigUint64(encAt + at + NONCE_AT, true);
      if (kind[i] === KIND_TRANSFER) amount[i] = view.getBigUint64(encAt + at + AMOUNT_AT, true);
    }
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
  readonly #view: DataView;
  readonly #table: Int32Array;
  readonly #mask: number;
  /** Where account a's key starts in the bytes. */
  readonly at: Uint32Array;
  count = 0;

  static readonly #seed = randomInt(0x7fffffff) | 1;

  constructor(bytes: Uint8Array, maxAccounts: number) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const capacity = 1 << Math.ceil(Math.log2(Math.max(2, 2 * maxAccounts)));
    // Pooled memory (see shared-buffers.ts): `at` is written before it is read.
    this.#table = sharedArray(Int32Array, capacity, false).fill(-1);
    this.#mask = capacity - 1;
    this.at = sharedArray(Uint32Array, maxAccounts, false);
  }

  /** Hands the hash table back to the pool (`at` stays: the layout keeps it). */
  release(): void {
    giveShared([this.#table.buffer]);
  }

  /**
   * The account whose key is bytes[at .. at + 32), added if new. Keys are
   * hashed and compared a 32-bit word at a time (unaligned, through a
   * DataView): a quarter of the loads of a byte loop.
   */
  intern(at: number): number {
    const v = this.#view;
    let h = AccountTable.#seed;
    for (let k = at; k < at + 32; k += 4) {
      h = Math.imul(h ^ v.getInt32(k, true), 0x9e3779b1);
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
      while (k < 32 && v.getInt32(at + k, true) === v.getInt32(other + k, true)) k += 4;
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
  const c = allocateTxColumns(n, 0, argsBytes, keyCount, { nonce: d.nonce, amount: d.amount, senders: d.publicKeys });
  c.kind.set(d.kind);
  c.contract.fill(-1);
  c.recipientBalance.fill(-1);
  // Receipt.ok is 0, which the fresh preset column already holds.
  const accounts = new AccountTable(encodings.data, 2 * n);
  const nonceSlot = sharedArray(Int32Array, 2 * n, false).fill(-1);
  const balanceSlot = sharedArray(Int32Array, 2 * n, false).fill(-1);
  // At most 3 slots per transfer; calls add their declared keys. slotAccount is written for every slot used;
  // slotIsNonce is zeroed, as it is only set where 1.
  const slotAccount = sharedArray(Int32Array, 3 * n + keyCount, false);
  const slotIsNonce = sharedArray(Uint8Array, 3 * n + keyCount);
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
  accounts.release();
  giveShared([nonceSlot.buffer, balanceSlot.buffer]);
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

/**
 * The buffers a layout from `layoutDecoded` holds (its columns, its decoded
 * block's, its slot maps), for `giveShared` once nothing reads the layout, its
 * decoded block or tables over it any more.
 */
export function layoutBuffers(layout: BlockLayout): ArrayBufferLike[] {
  const c = layout.columns;
  return [
    ...[c.kind, c.preset, c.senderNonce, c.senderBalance, c.recipientBalance, c.nonce, c.amount, c.contract, c.gasLimit, c.senders].map((a) => a.buffer),
    ...[c.argsOffsets, c.args, c.keyOffsets, c.keySlots, layout.accountBytes, layout.accountAt, layout.slotAccount, layout.slotIsNonce].map((a) => a.buffer),
  ];
}

function slotKeys(layout: BlockLayout): string[] {
  const hex = Array.from(layout.accountAt, (at) => hexOf(layout.accountBytes, at));
  return Array.from(layout.slotAccount, (a, s) => (a < 0 ? layout.named.get(s)! : `${layout.slotIsNonce[s] ? 'n' : 'b'}/${hex[a]!}`));
}

/**
 * The block's accounts as the state's account ids, and its slots' values
 * before the block, read from the state's columns without a string per key
 * (into `into` when given and of the right length).
 */
export function resolveLayout(layout: BlockLayout, state: ChainState, into?: BigUint64Array): { accountIds: Int32Array; base: BigUint64Array } {
  // Pooled (see shared-buffers.ts); every entry is written. The caller may hand it back once done with it.
  const accountIds = sharedArray(Int32Array, layout.accounts, false);
  state.accounts(layout.accountBytes, layout.accountAt, accountIds);
  const slots = layout.slotAccount.length;
  // `into` (as long as the slots): the values are written there instead of a new array.
  const base = into?.length === slots ? into : new BigUint64Array(slots);
  // Account values copied as 32-bit word pairs: no bigint per slot.
  const words = wordsOf(base);
  const { slotAccount, slotIsNonce } = layout;
  for (let s = 0; s < slots; s++) {
    const a = slotAccount[s]!;
    if (a >= 0) state.accountValueWords(accountIds[a]!, slotIsNonce[s] === 1, words, 2 * s);
    else base[s] = state.get(layout.named.get(s)!) ?? 0n;
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
