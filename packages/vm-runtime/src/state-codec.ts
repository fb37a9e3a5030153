/**
 * How the state sits in the LMDB `state` DB (storage format 2).
 *
 * - An account's balance key `b/<hex>` and nonce key `n/<hex>` (ChainState's
 *   account keys: 64 lowercase hex digits of 32 bytes) share one record:
 *   key = ACCOUNT_TAG (0xff) + the 32 raw bytes (33 bytes); value = balance
 *   u64 LE, nonce u64 LE, flags u8 (17 bytes; bit 0: the balance key
 *   exists, bit 1: the nonce key exists; an absent one reads 0).
 * - Every other key: its UTF-8 bytes, value u64 LE (as in format 1). UTF-8
 *   never holds a 0xff byte, so these never collide with account records,
 *   and all of them sort before the account records.
 *
 * Format 1 (before) stored every key as its UTF-8 bytes (`b/<hex>`: 66
 * bytes) with an 8-byte value and wrote no `format` entry in the meta DB.
 * Format 2 halves the entries a transfer block writes (a sender's balance
 * and nonce are one put) and their key size, which roughly halves the
 * commit: LMDB's cost is per put (a B-tree descent) and per page touched.
 */
import type { Database } from 'lmdb';
import { wordsOf } from './shared-buffers.js';
import { ChainState } from './state.js';

/** The storage format this build reads and writes, kept under META_FORMAT_KEY in the meta DB. */
export const STATE_FORMAT = 2;
export const META_FORMAT_KEY = 'format';
export const ACCOUNT_TAG = 0xff;
export const ACCOUNT_RECORD_KEY_BYTES = 33;
export const ACCOUNT_RECORD_VALUE_BYTES = 17;
const HAS_BALANCE = 1;
const HAS_NONCE = 2;

const B = 0x62; // 'b'
const N = 0x6e; // 'n'
const SLASH = 0x2f;
const ACCOUNT_KEY_BYTES = 66;
const HEX = new TextEncoder().encode('0123456789abcdef');

/** The state DB operations the writer needs (lmdb's Database, binary keys and values). */
export type StateDb = Pick<Database<Uint8Array, Uint8Array>, 'putSync' | 'getBinaryFast'>;

/** State entries to write: entry k's key is bytes[starts[k] .. ends[k]) (UTF-8), its value values[k]. */
export interface EntryWrites {
  readonly bytes: Uint8Array;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly values: BigUint64Array;
}

/** Two lowercase hex digits (the first in the low byte of the index) -> their byte; -1 for anything else. */
const HEX_PAIR = new Int16Array(1 << 16).fill(-1);
for (let hi = 0; hi < 16; hi++) for (let lo = 0; lo < 16; lo++) HEX_PAIR[HEX[hi]! | (HEX[lo]! << 8)] = (hi << 4) | lo;

/** 'b' or 'n' when bytes[s..e) is ChainState's account key `b/<hex>` or `n/<hex>`; else 0. */
function accountPrefix(bytes: Uint8Array, s: number, e: number): number {
  if (e - s !== ACCOUNT_KEY_BYTES || bytes[s + 1] !== SLASH) return 0;
  const p = bytes[s]!;
  if (p !== B && p !== N) return 0;
  for (let i = s + 2; i < e; i += 2) if (HEX_PAIR[bytes[i]! | (bytes[i + 1]! << 8)]! < 0) return 0;
  return p;
}

/**
 * Decodes the account of the account key at bytes[s..s+66) into 8 big-endian
 * words at raw[w..w+8) (so word order is byte order); false when a digit is
 * not lowercase hex (then it is no account key).
 */
function decodeAccount(bytes: Uint8Array, s: number, raw: Uint32Array, w: number): boolean {
  for (let o = s + 2, end = w + 8; w < end; w++, o += 8) {
    const a = HEX_PAIR[bytes[o]! | (bytes[o + 1]! << 8)]!;
    const b = HEX_PAIR[bytes[o + 2]! | (bytes[o + 3]! << 8)]!;
    const c = HEX_PAIR[bytes[o + 4]! | (bytes[o + 5]! << 8)]!;
    const d = HEX_PAIR[bytes[o + 6]! | (bytes[o + 7]! << 8)]!;
    if ((a | b | c | d) < 0) return false;
    raw[w] = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  }
  return true;
}

/** Order of two decoded accounts (8 words at raw[x] and raw[y]). */
function compareRaw(raw: Uint32Array, x: number, y: number): number {
  for (let i = x, j = y, end = i + 8; i < end; i++, j++) {
    const d = raw[i]! - raw[j]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Scratch arrays kept between blocks: a commit's few megabytes of fresh
 * memory would each time be page-faulted in again (measurably, in a VM).
 */
const scratch = { u32: new Uint32Array(0), i32a: new Int32Array(0), i32b: new Int32Array(0), i32c: new Int32Array(0), u8: new Uint8Array(0) };
type Scratch = typeof scratch;
function reuse<K extends keyof Scratch>(name: K, length: number): Scratch[K] {
  let a = scratch[name];
  if (a.length < length) {
    const Kind = a.constructor as new (n: number) => Scratch[K];
    scratch[name] = a = new Kind(Math.max(length, 2 * a.length));
  }
  return a.subarray(0, length) as Scratch[K];
}

/**
 * Entry indices 0..n-1 roughly in the order of their keys' offsets
 * (`starts`): a counting sort on the offset's high bits, about one bucket per
 * entry, so neighbours in a bucket share a few cache lines.
 */
function memoryOrder(starts: Uint32Array): Int32Array {
  const n = starts.length;
  let max = 0;
  for (let k = 0; k < n; k++) if (starts[k]! > max) max = starts[k]!;
  let shift = 0;
  while (max >>> shift >= n && shift < 31) shift++;
  const counts = reuse('i32b', (max >>> shift) + 2).fill(0);
  for (let k = 0; k < n; k++) counts[(starts[k]! >>> shift) + 1]!++;
  for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
  const order = reuse('i32c', n);
  for (let k = 0; k < n; k++) order[counts[starts[k]! >>> shift]!++] = k;
  return order;
}

/** Entry indices of one kind of account key, in account order (input order among equal keys). */
function inAccountOrder(ids: Int32Array, raw: Uint32Array, at: Int32Array): Int32Array {
  for (let k = 1; k < ids.length; k++) {
    if (compareRaw(raw, at[ids[k - 1]!]!, at[ids[k]!]!) > 0) return ids.sort((x, y) => compareRaw(raw, at[x]!, at[y]!) || x - y);
  }
  return ids; // a block's writes come in key order already
}

/**
 * Writes state entries inside the caller's LMDB write transaction: other
 * keys first (input order), then one record per account, in key order
 * (LMDB inserts ascending keys fastest). An account whose balance or nonce
 * this block does not change keeps the other one from its stored record.
 * Among equal keys the last entry wins. `entryWritten(w)` is called after
 * each state entry is in the transaction (w of starts.length), so twice
 * after a record that carries a balance and a nonce.
 */
export function writeStateEntries(db: StateDb, writes: EntryWrites, entryWritten?: (written: number) => void): void {
  const { bytes, starts, ends, values } = writes;
  const n = starts.length;
  const kinds = reuse('u8', n).fill(0);
  // Entry k's account, decoded (account keys only): 8 words at raw[8 * slot[k]]. The keys lie scattered over
  // the key pool (a block's keys in key order are in no order there): read in memory order, the gather
  // runs at the speed of the hardware prefetcher instead of one cache miss per key.
  const raw = reuse('u32', 8 * n);
  const order = memoryOrder(starts);
  const at = reuse('i32a', n);
  let balances = 0;
  let nonces = 0;
  for (let q = 0; q < n; q++) {
    const k = order[q]!;
    at[k] = 8 * q;
    const s = starts[k]!;
    if (ends[k]! - s !== ACCOUNT_KEY_BYTES || bytes[s + 1] !== SLASH) continue;
    const p = bytes[s]!;
    if ((p !== B && p !== N) || !decodeAccount(bytes, s, raw, 8 * q)) continue;
    kinds[k] = p;
    if (p === B) balances++;
    else nonces++;
  }
  let bIds: Int32Array = new Int32Array(balances);
  let nIds: Int32Array = new Int32Array(nonces);
  const words = wordsOf(values);
  let written = 0;

  // Other keys, 8-byte values (putSync copies key and value, so one value buffer serves every entry).
  const value = Buffer.alloc(8);
  const valueWords = new Uint32Array(value.buffer, value.byteOffset, 2);
  for (let k = 0, b = 0, m = 0; k < n; k++) {
    const kind = kinds[k]!;
    if (kind === B) bIds[b++] = k;
    else if (kind === N) nIds[m++] = k;
    else {
      valueWords[0] = words[2 * k]!;
      valueWords[1] = words[2 * k + 1]!;
      db.putSync(bytes.subarray(starts[k]!, ends[k]!), value);
      entryWritten?.(++written);
    }
  }
  bIds = inAccountOrder(bIds, raw, at);
  nIds = inAccountOrder(nIds, raw, at);

  // Account records: balances and nonces merged by account.
  const key = Buffer.alloc(ACCOUNT_RECORD_KEY_BYTES);
  const keyView = new DataView(key.buffer, key.byteOffset, key.byteLength);
  key[0] = ACCOUNT_TAG;
  const recordBuffer = new ArrayBuffer(20);
  const record = Buffer.from(recordBuffer, 0, ACCOUNT_RECORD_VALUE_BYTES);
  const recordWords = new Uint32Array(recordBuffer, 0, 4);
  for (let i = 0, j = 0; i < balances || j < nonces; ) {
    let kb = -1;
    let kn = -1;
    if (i < balances && j < nonces) {
      const c = compareRaw(raw, at[bIds[i]!]!, at[nIds[j]!]!);
      if (c <= 0) kb = bIds[i]!;
      if (c >= 0) kn = nIds[j]!;
    } else if (i < balances) kb = bIds[i]!;
    else kn = nIds[j]!;
    let covered = 0;
    if (kb >= 0) {
      for (i++, covered++; i < balances && compareRaw(raw, at[bIds[i]!]!, at[kb]!) === 0; i++, covered++) kb = bIds[i]!;
    }
    if (kn >= 0) {
      for (j++, covered++; j < nonces && compareRaw(raw, at[nIds[j]!]!, at[kn]!) === 0; j++, covered++) kn = nIds[j]!;
    }
    const w = at[kb >= 0 ? kb : kn]!;
    for (let d = 0; d < 8; d++) keyView.setUint32(1 + 4 * d, raw[w + d]!, false);
    let flags = 0;
    recordWords[0] = recordWords[1] = recordWords[2] = recordWords[3] = 0;
    if (kb >= 0) {
      recordWords[0] = words[2 * kb]!;
      recordWords[1] = words[2 * kb + 1]!;
      flags |= HAS_BALANCE;
    }
    if (kn >= 0) {
      recordWords[2] = words[2 * kn]!;
      recordWords[3] = words[2 * kn + 1]!;
      flags |= HAS_NONCE;
    }
    if (flags !== (HAS_BALANCE | HAS_NONCE)) {
      // Only one of the two changed: the other stays as stored (a read of the page the put touches next).
      const old = db.getBinaryFast(key);
      if (old !== undefined) {
        const oldFlags = accountFlags(old);
        const from = (flags & HAS_BALANCE) === 0 ? 0 : 8;
        if ((oldFlags & ~flags) !== 0) record.set(old.subarray(from, from + 8), from);
        flags |= oldFlags;
      }
    }
    record[16] = flags;
    db.putSync(key, record);
    for (; covered > 0; covered--) entryWritten?.(++written);
  }
}

/** A stored account record's flags, checked. */
function accountFlags(value: Uint8Array): number {
  const flags = value[16]!;
  if (value.length !== ACCOUNT_RECORD_VALUE_BYTES || flags === 0 || flags > (HAS_BALANCE | HAS_NONCE)) {
    throw new Error(`corrupt account record in the state DB (${value.length} bytes, flags ${flags})`);
  }
  return flags;
}

const u64 = (value: Uint8Array, at: number): bigint => new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(at, true);

/** The order of a UTF-8 key against the account key `<prefix>/<hex of raw[at..at+32)>`. */
function compareWithAccountKey(key: Uint8Array, prefix: number, raw: Uint8Array, at: number): number {
  for (let i = 0; i < ACCOUNT_KEY_BYTES; i++) {
    if (i >= key.length) return -1;
    const c = i === 0 ? prefix : i === 1 ? SLASH : HEX[(i & 1) === 0 ? raw[at + ((i - 2) >> 1)]! >> 4 : raw[at + ((i - 2) >> 1)]! & 15]!;
    const d = key[i]! - c;
    if (d !== 0) return d;
  }
  return key.length - ACCOUNT_KEY_BYTES;
}

/**
 * The state stored in `entries` (the state DB in key order). Key ids are
 * given in key order (`b/<hex>` keys, other keys and `n/<hex>` keys
 * interleaved as their UTF-8 bytes sort), as format 1 gave them.
 */
export function decodeState(entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): ChainState {
  const otherKeys: Uint8Array[] = [];
  const otherValues: bigint[] = [];
  let raw = new Uint8Array(32 * 1024);
  let accounts = 0;
  const flags: number[] = [];
  const balances: bigint[] = [];
  const nonces: bigint[] = [];
  for (const { key, value } of entries) {
    if (key[0] === ACCOUNT_TAG) {
      if (key.length !== ACCOUNT_RECORD_KEY_BYTES) throw new Error(`corrupt key in the state DB (${key.length} bytes, tag 0xff)`);
      const f = accountFlags(value);
      if ((accounts + 1) * 32 > raw.length) {
        const grown = new Uint8Array(2 * raw.length);
        grown.set(raw);
        raw = grown;
      }
      raw.set(key.subarray(1), accounts * 32);
      accounts++;
      flags.push(f);
      balances.push(u64(value, 0));
      nonces.push(u64(value, 8));
    } else {
      if (value.length !== 8) throw new Error(`corrupt value in the state DB (${value.length} bytes)`);
      if (accountPrefix(key, 0, key.length) !== 0) throw new Error('corrupt state DB: an account key stored as a string');
      otherKeys.push(key);
      otherValues.push(u64(value, 0));
    }
  }
  const state = new ChainState();
  const other = (o: number): void => state.set(state.keyIdOfBytes(otherKeys[o]!), otherValues[o]!);
  let o = 0;
  for (const [prefix, bit, vals] of [[B, HAS_BALANCE, balances], [N, HAS_NONCE, nonces]] as const) {
    for (let a = 0; a < accounts; a++) {
      if ((flags[a]! & bit) === 0) continue;
      while (o < otherKeys.length && compareWithAccountKey(otherKeys[o]!, prefix, raw, a * 32) < 0) other(o++);
      state.set(state.accountKey(state.account(raw, a * 32), prefix === N), vals[a]!);
    }
  }
  while (o < otherKeys.length) other(o++);
  return state;
}
