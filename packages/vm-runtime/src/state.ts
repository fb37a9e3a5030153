/**
 * The chain's state as columns instead of a Map of strings: every key gets a
 * dense id whose UTF-8 bytes live packed in a KeyPool, values sit in a
 * BigUint64Array by id, and the 32-byte accounts behind `b/<hex>` and
 * `n/<hex>` are interned through one seeded hash table over their bytes. A
 * block then reads its base values, records its changes, hashes its leaves
 * and writes LMDB without building a string per key.
 */
import { randomInt } from 'node:crypto';

const encoder = new TextEncoder();
const HEX = new TextEncoder().encode('0123456789abcdef');
const B = 0x62; // 'b'
const N = 0x6e; // 'n'
const SLASH = 0x2f;
/** `b/` or `n/` and 64 lowercase hex digits. */
const ACCOUNT_KEY_BYTES = 66;

/** Lowercase hex digit value, or -1. */
const hexValue = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

/**
 * Key bytes by id, packed end to end and never moved between ids (ids are
 * never reused), so the root cache and the store can refer to keys by id.
 */
export class KeyPool {
  /** Shared memory: the commit thread reads keys from it in place (bytes of existing ids never change, even when the pool grows). */
  #bytes = new Uint8Array(new SharedArrayBuffer(1 << 16));
  #offsets = new Uint32Array(1 << 10);
  #count = 0;
  /** Keys whose UTF-8 byte order is not their JS string order (surrogates): compared as strings. */
  readonly #wide = new Map<number, string>();

  get count(): number {
    return this.#count;
  }

  /** The packed bytes: key `id` is bytes[start(id) .. end(id)). Replaced when the pool grows. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  start(id: number): number {
    return this.#offsets[id]!;
  }

  end(id: number): number {
    return this.#offsets[id + 1]!;
  }

  /** Room for one more key of `length` bytes; returns where it starts. */
  #reserve(length: number): number {
    const at = this.#offsets[this.#count]!;
    if (at + length > this.#bytes.length) {
      const grown = new Uint8Array(new SharedArrayBuffer(Math.max(2 * this.#bytes.length, at + length)));
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
    }
    if (this.#count + 2 > this.#offsets.length) {
      const grown = new Uint32Array(2 * this.#offsets.length);
      grown.set(this.#offsets);
      this.#offsets = grown;
    }
    return at;
  }

  /** `b/<hex>` (prefix 'b') or `n/<hex>` of the 32 bytes at src[at..]. */
  addAccountKey(prefix: number, src: Uint8Array, at: number): number {
    const start = this.#reserve(ACCOUNT_KEY_BYTES);
    const b = this.#bytes;
    b[start] = prefix;
    b[start + 1] = SLASH;
    for (let k = 0, o = start + 2; k < 32; k++, o += 2) {
      const byte = src[at + k]!;
      b[o] = HEX[byte >> 4]!;
      b[o + 1] = HEX[byte & 15]!;
    }
    this.#offsets[this.#count + 1] = start + ACCOUNT_KEY_BYTES;
    return this.#count++;
  }

  addString(key: string): number {
    let ascii = true;
    for (let c = 0; c < key.length && ascii; c++) ascii = key.charCodeAt(c) < 0x80;
    const bytes = ascii ? undefined : encoder.encode(key);
    const length = bytes ? bytes.length : key.length;
    const start = this.#reserve(length);
    if (bytes) this.#bytes.set(bytes, start);
    else for (let c = 0; c < length; c++) this.#bytes[start + c] = key.charCodeAt(c);
    this.#offsets[this.#count + 1] = start + length;
    if (!ascii && /[\ud800-\udfff]/.test(key)) this.#wide.set(this.#count, key);
    return this.#count++;
  }

  /** Key `id` as a string. */
  string(id: number): string {
    return this.#wide.get(id) ?? Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + this.start(id), this.end(id) - this.start(id)).toString('utf8');
  }

  /** Key order: JS string order (UTF-16 code units), which is UTF-8 byte order unless a key has surrogates. */
  compare(a: number, b: number): number {
    if (this.#wide.size > 0 && (this.#wide.has(a) || this.#wide.has(b))) {
      const x = this.string(a);
      const y = this.string(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const bytes = this.#bytes;
    const offsets = this.#offsets;
    let i = offsets[a]!;
    let j = offsets[b]!;
    const endA = offsets[a + 1]!;
    const endB = offsets[b + 1]!;
    for (; i < endA && j < endB; i++, j++) {
      const d = bytes[i]! - bytes[j]!;
      if (d !== 0) return d;
    }
    return endA - i - (endB - j);
  }

  /** Whether every key compares bytewise (no key needs a string comparison). */
  get bytewise(): boolean {
    return this.#wide.size === 0;
  }
}

/**
 * Writes the key `b/<hex>` or `n/<hex>` names to its account's 32 bytes in
 * `out`, and returns its prefix ('b' or 'n'); 0 when the key is not one.
 */
function parseAccountKey(key: Uint8Array | string, out: Uint8Array): number {
  const at = (i: number): number => (typeof key === 'string' ? key.charCodeAt(i) : key[i]!);
  if (key.length !== ACCOUNT_KEY_BYTES || at(1) !== SLASH) return 0;
  const prefix = at(0);
  if (prefix !== B && prefix !== N) return 0;
  for (let k = 0; k < 32; k++) {
    const hi = hexValue(at(2 + 2 * k));
    const lo = hexValue(at(3 + 2 * k));
    if (hi < 0 || lo < 0) return 0;
    out[k] = (hi << 4) | lo;
  }
  return prefix;
}

/**
 * The state: key -> u64 for every key ever written, by key id. It is also a
 * ReadonlyMap over string keys, for callers (and tests) that want one.
 */
export class ChainState implements ReadonlyMap<string, bigint> {
  readonly pool = new KeyPool();
  #values = new BigUint64Array(1 << 10);
  /** #values as 32-bit words: values compared and copied two words at a time allocate no bigint. */
  #words = new Uint32Array(this.#values.buffer);
  #present = new Uint8Array(1 << 10);
  #size = 0;
  /** Accounts: 32 bytes each, packed; a seeded open-addressing table over them (crafted keys cannot make it quadratic). */
  #accountBytes = new Uint8Array(32 << 10);
  /** #accountBytes as a DataView: keys are hashed and compared a 32-bit word at a time. */
  #accountView = new DataView(this.#accountBytes.buffer);
  #accounts = 0;
  #table = new Int32Array(1 << 11).fill(-1);
  #balanceKey = new Int32Array(1 << 10).fill(-1);
  #nonceKey = new Int32Array(1 << 10).fill(-1);
  /** Every other key (contract storage, and any key not spelled as an account key). */
  readonly #named = new Map<string, number>();
  readonly #scratch = new Uint8Array(32);
  static readonly #seed = randomInt(0x7fffffff) | 1;

  get size(): number {
    return this.#size;
  }

  /** The hash of the 32 bytes at `at`, read as little-endian 32-bit words (unaligned, through a DataView). */
  #hash(v: DataView, at: number): number {
    let h = ChainState.#seed;
    for (let k = at; k < at + 32; k += 4) {
      h = Math.imul(h ^ v.getInt32(k, true), 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h;
  }

  /** The account id of the 32 bytes at `at` in `v`, or -1 when unknown; compared a word at a time. */
  #find(v: DataView, at: number): number {
    const mask = this.#table.length - 1;
    const own = this.#accountView;
    for (let p = this.#hash(v, at) & mask; ; p = (p + 1) & mask) {
      const a = this.#table[p]!;
      if (a < 0) return -1;
      const o = a * 32;
      let k = 0;
      while (k < 32 && v.getInt32(at + k, true) === own.getInt32(o + k, true)) k += 4;
      if (k === 32) return a;
    }
  }

  /** The account id of the 32 bytes at bytes[at..], or -1 when unknown. */
  findAccount(bytes: Uint8Array, at: number): number {
    return this.#find(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), at);
  }

  /** The account id of the 32 bytes at bytes[at..], added if new (it holds no key until one is written). */
  account(bytes: Uint8Array, at: number): number {
    const found = this.findAccount(bytes, at);
    if (found >= 0) return found;
    const a = this.#accounts++;
    if (a * 32 + 32 > this.#accountBytes.length) {
      const grown = new Uint8Array(2 * this.#accountBytes.length);
      grown.set(this.#accountBytes);
      this.#accountBytes = grown;
      this.#accountView = new DataView(grown.buffer);
      const balance = new Int32Array(2 * this.#balanceKey.length).fill(-1);
      balance.set(this.#balanceKey);
      this.#balanceKey = balance;
      const nonce = new Int32Array(2 * this.#nonceKey.length).fill(-1);
      nonce.set(this.#nonceKey);
      this.#nonceKey = nonce;
    }
    this.#accountBytes.set(bytes.subarray(at, at + 32), a * 32);
    if (2 * this.#accounts > this.#table.length) this.#rehash();
    else this.#insert(a);
    return a;
  }

  /**
   * `account` for many keys: out[k] is the account id of bytes[at[k] ..
   * at[k] + 32), added if new; one DataView over `bytes` for all of them.
   */
  accounts(bytes: Uint8Array, at: Uint32Array, out: Int32Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < at.length; k++) {
      const found = this.#find(view, at[k]!);
      out[k] = found >= 0 ? found : this.account(bytes, at[k]!);
    }
  }

  #insert(a: number): void {
    const mask = this.#table.length - 1;
    let p = this.#hash(this.#accountView, a * 32) & mask;
    while (this.#table[p]! >= 0) p = (p + 1) & mask;
    this.#table[p] = a;
  }

  #rehash(): void {
    this.#table = new Int32Array(2 * this.#table.length).fill(-1);
    for (let a = 0; a < this.#accounts; a++) this.#insert(a);
  }

  /** The value of account a's balance (or nonce) key; 0 when the key was never written. */
  accountValue(a: number, nonce: boolean): bigint {
    const id = (nonce ? this.#nonceKey : this.#balanceKey)[a]!;
    return id >= 0 ? this.value(id) : 0n;
  }

  /**
   * `accountValue` as two 32-bit words written to out[at], out[at + 1] (a view
   * over a BigUint64Array: its element at / 2), with no bigint allocated.
   */
  accountValueWords(a: number, nonce: boolean, out: Uint32Array, at: number): void {
    const id = (nonce ? this.#nonceKey : this.#balanceKey)[a]!;
    out[at] = id >= 0 ? this.#words[2 * id]! : 0;
    out[at + 1] = id >= 0 ? this.#words[2 * id + 1]! : 0;
  }

  /**
   * Whether writing the value in words[at], words[at + 1] (a view over a
   * BigUint64Array) to key `id` changes the state: the key is absent or holds
   * another value. Compared as words, with no bigint allocated.
   */
  changedBy(id: number, words: Uint32Array, at: number): boolean {
    return this.#present[id] !== 1 || this.#words[2 * id] !== words[at] || this.#words[2 * id + 1] !== words[at + 1];
  }

  /** The key id of account a's balance (or nonce), added to the pool if new. */
  accountKey(a: number, nonce: boolean): number {
    const ids = nonce ? this.#nonceKey : this.#balanceKey;
    let id = ids[a]!;
    if (id < 0) ids[a] = id = this.#newKey(this.pool.addAccountKey(nonce ? N : B, this.#accountBytes, a * 32));
    return id;
  }

  /** The id of `key`, added to the pool if new. */
  keyId(key: string): number {
    const prefix = parseAccountKey(key, this.#scratch);
    if (prefix !== 0) return this.accountKey(this.account(this.#scratch, 0), prefix === N);
    let id = this.#named.get(key);
    if (id === undefined) this.#named.set(key, (id = this.#newKey(this.pool.addString(key))));
    return id;
  }

  /** The id of the key whose UTF-8 bytes these are, added if new. */
  keyIdOfBytes(key: Uint8Array): number {
    const prefix = parseAccountKey(key, this.#scratch);
    if (prefix !== 0) return this.accountKey(this.account(this.#scratch, 0), prefix === N);
    return this.keyId(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8'));
  }

  /** The id of `key` if the pool has it, else -1 (nothing is added). */
  findKey(key: string): number {
    const prefix = parseAccountKey(key, this.#scratch);
    if (prefix === 0) return this.#named.get(key) ?? -1;
    const a = this.findAccount(this.#scratch, 0);
    return a < 0 ? -1 : (prefix === N ? this.#nonceKey : this.#balanceKey)[a]!;
  }

  #newKey(id: number): number {
    if (id >= this.#values.length) {
      const values = new BigUint64Array(2 * this.#values.length);
      values.set(this.#values);
      this.#values = values;
      this.#words = new Uint32Array(values.buffer);
      const present = new Uint8Array(2 * this.#present.length);
      present.set(this.#present);
      this.#present = present;
    }
    return id;
  }

  /** Whether key `id` has been written (a key can be in the pool without a value). */
  present(id: number): boolean {
    return this.#present[id] === 1;
  }

  /** Key `id`'s value, 0 when never written. */
  value(id: number): bigint {
    return this.#values[id]!;
  }

  set(id: number, value: bigint): void {
    if (this.#present[id] !== 1) {
      this.#present[id] = 1;
      this.#size++;
    }
    this.#values[id] = value;
  }

  get(key: string): bigint | undefined {
    const id = this.findKey(key);
    return id >= 0 && this.#present[id] === 1 ? this.#values[id]! : undefined;
  }

  has(key: string): boolean {
    const id = this.findKey(key);
    return id >= 0 && this.#present[id] === 1;
  }

  *entries(): MapIterator<[string, bigint]> {
    for (let id = 0; id < this.pool.count; id++) if (this.#present[id] === 1) yield [this.pool.string(id), this.#values[id]!];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<bigint> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, bigint]> {
    return this.entries();
  }

  forEach(callback: (value: bigint, key: string, map: ReadonlyMap<string, bigint>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }
}
