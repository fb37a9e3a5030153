/**
 * Constants of the GPU challenge hash k = SHA-512(R || A || M) mod L, generated
 * once per process with BigInt (no hand-typed hex tables):
 *
 * - SHA-512 round constants K[0..79]: the first 64 bits of the fractional parts
 *   of the cube roots of the first 80 primes (FIPS 180-4 section 4.2.3);
 * - SHA-512 initial hash H(0): the first 64 bits of the fractional parts of the
 *   square roots of the first 8 primes (FIPS 180-4 section 5.3.5);
 * - 2^(16j) mod L for j = 16..31, c = L - 2^252 and L, in 16-bit limbs, for the
 *   reduction mod L (hash.wgsl.ts).
 *
 * test/ed25519-gpu-hash.test.ts checks K and H(0) against FIPS 180-4's printed
 * values at both ends and the whole hash against node:crypto.
 */
import { L } from './constants.js';

/** u32 offsets into the hash table (binding `hashTable`). */
export const HASH_TABLE = {
  /** K[t] as (hi, lo) at 2t, 2t+1. */
  K: 0,
  /** H(0)[w] as (hi, lo) at 2w, 2w+1. */
  IV: 160,
  /** 2^(16j) mod L, j = 16..31, 16 limbs of 16 bits each (limb m of entry j at 16(j-16) + m). */
  FOLD: 176,
  /** c = L - 2^252 < 2^125, 8 limbs of 16 bits. */
  C: 432,
  /** L, 16 limbs of 16 bits. */
  L: 440,
  /** Words in all. */
  WORDS: 456,
} as const;

function primes(count: number): bigint[] {
  const out: bigint[] = [];
  for (let n = 2; out.length < count; n++) {
    if (out.every((p) => n % Number(p) !== 0)) out.push(BigInt(n));
  }
  return out;
}

/** floor(n^(1/k)) by Newton's method on integers. */
function iroot(n: bigint, k: bigint): bigint {
  let x = 1n << (BigInt(n.toString(2).length) / k + 1n);
  for (;;) {
    const y = ((k - 1n) * x + n / x ** (k - 1n)) / k;
    if (y >= x) return x;
    x = y;
  }
}

const MASK64 = (1n << 64n) - 1n;

/** K[0..79] (FIPS 180-4 section 4.2.3): floor(frac(cbrt(p)) * 2^64) = floor(cbrt(p * 2^192)) mod 2^64. */
export function sha512RoundConstants(): bigint[] {
  return primes(80).map((p) => iroot(p << 192n, 3n) & MASK64);
}

/** H(0) (FIPS 180-4 section 5.3.5): floor(frac(sqrt(p)) * 2^64) = floor(sqrt(p * 2^128)) mod 2^64. */
export function sha512InitialHash(): bigint[] {
  return primes(8).map((p) => iroot(p << 128n, 2n) & MASK64);
}

function limbs16(value: bigint, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number((value >> BigInt(16 * i)) & 0xffffn));
}

/** The table as little-endian u32 words (bytes for the executor's `tables`). */
export function hashTable(): Uint8Array {
  const words = new Uint32Array(HASH_TABLE.WORDS);
  const put64 = (at: number, v: bigint): void => {
    words[at] = Number(v >> 32n);
    words[at + 1] = Number(v & 0xffff_ffffn);
  };
  sha512RoundConstants().forEach((k, t) => put64(HASH_TABLE.K + 2 * t, k));
  sha512InitialHash().forEach((h, w) => put64(HASH_TABLE.IV + 2 * w, h));
  for (let j = 16; j < 32; j++) words.set(limbs16((1n << BigInt(16 * j)) % L, 16), HASH_TABLE.FOLD + 16 * (j - 16));
  words.set(limbs16(L - (1n << 252n), 8), HASH_TABLE.C);
  words.set(limbs16(L, 16), HASH_TABLE.L);
  return new Uint8Array(words.buffer);
}
