/**
 * Scalars mod L = 2^252 + 27742317777372353535851937790883648493 on the host,
 * without BigInt (BigInt costs ~1 us per item, this ~0.1 us).
 */

/** L little-endian (RFC 8032 section 5.1). */
const L_BYTES = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** S < L, reading the 32 little-endian bytes at `at` (RFC 8032 section 5.1.7 step 1). */
export function isCanonicalScalar(bytes: Uint8Array, at: number): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = bytes[at + i] ?? 0;
    const b = L_BYTES[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

const LIMB = 2 ** 21;
const HALF = 2 ** 20;

/** Scratch limbs: the reduction runs on one thread at a time. */
const s = new Float64Array(24);

/**
 * Limb i (i >= 12, weight 2^(252 + 21(i-12))) folded into limbs i-12 .. i-7,
 * using 2^252 = -27742317777372353535851937790883648493 (mod L) written in
 * signed 21-bit limbs (the constants of ref10's sc_reduce).
 */
function fold(i: number): void {
  const v = s[i] ?? 0;
  const b = i - 12;
  s[i] = 0;
  s[b] = (s[b] ?? 0) + v * 666643;
  s[b + 1] = (s[b + 1] ?? 0) + v * 470296;
  s[b + 2] = (s[b + 2] ?? 0) + v * 654183;
  s[b + 3] = (s[b + 3] ?? 0) - v * 997805;
  s[b + 4] = (s[b + 4] ?? 0) + v * 136657;
  s[b + 5] = (s[b + 5] ?? 0) - v * 683901;
}

/** Carries limbs from..to (step 1 or 2) into the next: rounded to [-2^20, 2^20) or floored to [0, 2^21). */
function carry(from: number, to: number, step: number, rounded: boolean): void {
  const bias = rounded ? HALF : 0;
  for (let k = from; k <= to; k += step) {
    const v = s[k] ?? 0;
    const c = Math.floor((v + bias) / LIMB);
    s[k] = v - c * LIMB;
    s[k + 1] = (s[k + 1] ?? 0) + c;
  }
}

/**
 * Writes (64-byte little-endian `h`) mod L into out[at..at+32): ref10's
 * sc_reduce in doubles. Interval analysis of this exact sequence bounds every
 * intermediate by 2^49 in magnitude, so double arithmetic is exact. ~0.3 us
 * per call here against ~1 us for BigInt.
 */
export function reduce512(h: Uint8Array, out: Uint8Array, at: number): void {
  // 21-bit limbs of h; the last holds bits 483..511 (29 bits).
  for (let i = 0; i < 24; i++) {
    const byte = (21 * i) >> 3;
    const w = ((h[byte] ?? 0) | ((h[byte + 1] ?? 0) << 8) | ((h[byte + 2] ?? 0) << 16) | ((h[byte + 3] ?? 0) << 24)) >>> ((21 * i) & 7);
    s[i] = i === 23 ? w : w & 0x1fffff;
  }
  for (let i = 23; i >= 18; i--) fold(i);
  carry(6, 16, 2, true);
  carry(7, 15, 2, true);
  for (let i = 17; i >= 12; i--) fold(i);
  carry(0, 10, 2, true);
  carry(1, 11, 2, true);
  fold(12);
  carry(0, 11, 1, false);
  fold(12);
  carry(0, 10, 1, false);
  // Limbs 0..11 are now in [0, 2^21) and the value is < L.
  let acc = 0;
  let bits = 0;
  let o = at;
  for (let i = 0; i < 12; i++) {
    acc |= (s[i] ?? 0) << bits;
    for (bits += 21; bits >= 8; bits -= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
    }
  }
  out[o] = acc;
}
