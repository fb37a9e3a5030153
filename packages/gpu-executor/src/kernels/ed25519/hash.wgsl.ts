/**
 * WGSL of the challenge scalar k = SHA-512(R || A || M) mod L (RFC 8032
 * section 5.1.7 step 2), computed per item on the GPU.
 *
 * SHA-512 (FIPS 180-4 section 6.4) over 64-bit words held as vec2<u32>
 * (x = high half, y = low half): WGSL has no 64-bit integers. Padding (section
 * 5.1.2) is done while reading message words, so the message is read in place.
 * The message is `pre` bytes of `ra` (R || A as little-endian words, `pre` a
 * multiple of 4) followed by `len` bytes of `msgData` from byte `off`;
 * pre + len < 2^29, so the 128-bit bit length has only its low word set.
 *
 * Reduction mod L of the digest read as a little-endian 512-bit integer x, in
 * 16-bit limbs (a 16 x 16-bit product fits a u32; low and high halves are
 * summed in separate columns so sums stay < 2^22):
 *   1. y = x mod 2^256 + sum_{j=16..31} x_j (2^(16j) mod L)    y < 2^21 L
 *   2. y = h 2^252 + l, r = l - h c with c = L - 2^252          (2^252 = -c mod L)
 *      h < 2^22, so h c < 2^147 and r is in (-L, L);
 *   3. r < 0: r + L.                                           0 <= r < L
 * Every step is an identity mod L with exact integers, so k equals
 * reduce512 (scalar.ts) bit for bit.
 *
 * Uses bindings `msgData: array<u32>` and `hashTable: array<u32>` (hashTable()).
 */
import { HASH_TABLE } from './hash-table.js';

export const HASH_WGSL = /* wgsl */ `
fn bswap(x: u32) -> u32 {
  return (x << 24u) | ((x & 0xff00u) << 8u) | ((x >> 8u) & 0xff00u) | (x >> 24u);
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.y + b.y;
  return vec2<u32>(a.x + b.x + select(0u, 1u, lo < a.y), lo);
}

// Rotate right by n, 0 < n < 32; by 32 + n: rotr64(a.yx, n).
fn rotr64(a: vec2<u32>, n: u32) -> vec2<u32> {
  return vec2<u32>((a.x >> n) | (a.y << (32u - n)), (a.y >> n) | (a.x << (32u - n)));
}

fn shr64(a: vec2<u32>, n: u32) -> vec2<u32> {
  return vec2<u32>(a.x >> n, (a.y >> n) | (a.x << (32u - n)));
}

fn hash_const(at: u32) -> vec2<u32> {
  return vec2<u32>(hashTable[at], hashTable[at + 1u]);
}

// 4 message bytes at byte address a of msgData, little-endian, any alignment.
// A read past the binding is clamped by WGSL's robust access; callers mask such bytes.
fn msg_bytes(a: u32) -> u32 {
  let w = a >> 2u;
  let sh = (a & 3u) * 8u;
  if (sh == 0u) { return msgData[w]; }
  return (msgData[w] >> sh) | (msgData[w + 1u] << (32u - sh));
}

// Big-endian word at byte q of the padded message (total = its padded length).
fn msg_word(ra: ptr<function, array<u32, 16>>, pre: u32, off: u32, t: u32, total: u32, q: u32) -> u32 {
  if (q < pre) { return bswap((*ra)[q >> 2u]); }
  // Bit length, low word (t < 2^29); the word before it is 0.
  if (q == total - 4u) { return t << 3u; }
  var le = 0u;
  if (q < t) {
    le = msg_bytes(off + q - pre);
    if (t - q < 4u) { le &= (1u << (8u * (t - q))) - 1u; }
  }
  if (t >= q && t - q < 4u) { le |= 0x80u << (8u * (t - q)); }
  return bswap(le);
}

// SHA-512 of ra[0..pre) || msgData[off, off + len) (FIPS 180-4 section 6.4.2).
fn sha512(ra: ptr<function, array<u32, 16>>, pre: u32, off: u32, len: u32) -> array<vec2<u32>, 8> {
  let t = pre + len;
  // Padding: 0x80, zeros, 16-byte length, to a multiple of 128 bytes.
  let total = ((t + 17u + 127u) / 128u) * 128u;
  var h: array<vec2<u32>, 8>;
  for (var i = 0u; i < 8u; i++) { h[i] = hash_const(${HASH_TABLE.IV}u + 2u * i); }
  var w: array<vec2<u32>, 16>;
  for (var block = 0u; block < total; block += 128u) {
    var a = h[0]; var b = h[1]; var c = h[2]; var d = h[3];
    var e = h[4]; var f = h[5]; var g = h[6]; var hh = h[7];
    for (var r = 0u; r < 80u; r++) {
      var wr: vec2<u32>;
      if (r < 16u) {
        let q = block + 8u * r;
        wr = vec2<u32>(msg_word(ra, pre, off, t, total, q), msg_word(ra, pre, off, t, total, q + 4u));
      } else {
        // Message schedule in a ring of 16: W[r] = s1(W[r-2]) + W[r-7] + s0(W[r-15]) + W[r-16].
        let w2 = w[(r - 2u) & 15u];
        let w15 = w[(r - 15u) & 15u];
        let s0 = rotr64(w15, 1u) ^ rotr64(w15, 8u) ^ shr64(w15, 7u);
        let s1 = rotr64(w2, 19u) ^ rotr64(w2.yx, 29u) ^ shr64(w2, 6u);
        wr = add64(add64(s1, w[(r - 7u) & 15u]), add64(s0, w[r & 15u]));
      }
      w[r & 15u] = wr;
      let S1 = rotr64(e, 14u) ^ rotr64(e, 18u) ^ rotr64(e.yx, 9u);
      let ch = (e & f) ^ (~e & g);
      let t1 = add64(add64(add64(hh, S1), add64(ch, hash_const(${HASH_TABLE.K}u + 2u * r))), wr);
      let S0 = rotr64(a, 28u) ^ rotr64(a.yx, 2u) ^ rotr64(a.yx, 7u);
      let maj = (a & b) ^ (a & c) ^ (b & c);
      let t2 = add64(S0, maj);
      hh = g; g = f; f = e; e = add64(d, t1);
      d = c; c = b; b = a; a = add64(t1, t2);
    }
    h[0] = add64(h[0], a); h[1] = add64(h[1], b); h[2] = add64(h[2], c); h[3] = add64(h[3], d);
    h[4] = add64(h[4], e); h[5] = add64(h[5], f); h[6] = add64(h[6], g); h[7] = add64(h[7], hh);
  }
  return h;
}

// Digest (as sha512 returns it) mod L, as 8 little-endian words (see the header).
fn reduce_digest(dg: array<vec2<u32>, 8>) -> array<u32, 8> {
  // 16-bit limbs of the digest bytes read little-endian.
  var x: array<u32, 32>;
  for (var i = 0u; i < 8u; i++) {
    let hi = bswap(dg[i].x);
    let lo = bswap(dg[i].y);
    x[4u * i] = hi & 0xffffu;
    x[4u * i + 1u] = hi >> 16u;
    x[4u * i + 2u] = lo & 0xffffu;
    x[4u * i + 3u] = lo >> 16u;
  }
  // 1. Fold limbs 16..31 through 2^(16j) mod L; columns < 33 * 2^16.
  var y: array<u32, 18>;
  for (var m = 0u; m < 16u; m++) { y[m] = x[m]; }
  for (var j = 16u; j < 32u; j++) {
    let xj = x[j];
    for (var m = 0u; m < 16u; m++) {
      let p = xj * hashTable[${HASH_TABLE.FOLD}u + 16u * (j - 16u) + m];
      y[m] += p & 0xffffu;
      y[m + 1u] += p >> 16u;
    }
  }
  for (var m = 0u; m < 17u; m++) {
    y[m + 1u] += y[m] >> 16u;
    y[m] &= 0xffffu;
  }
  // 2. h = y >> 252 (< 2^22), l = y mod 2^252, hc = h * c in 16-bit limbs.
  let hq = (y[15] >> 12u) | (y[16] << 4u) | (y[17] << 20u);
  y[15] &= 0xfffu;
  let h0 = hq & 0xffffu;
  let h1 = hq >> 16u;
  var hc: array<u32, 10>;
  for (var m = 0u; m < 8u; m++) {
    let cm = hashTable[${HASH_TABLE.C}u + m];
    let p = h0 * cm;
    hc[m] += p & 0xffffu;
    hc[m + 1u] += (p >> 16u) + h1 * cm;
  }
  for (var m = 0u; m < 9u; m++) {
    hc[m + 1u] += hc[m] >> 16u;
    hc[m] &= 0xffffu;
  }
  // r = l - hc with borrows (arithmetic shifts of i32).
  var r: array<u32, 16>;
  var borrow = 0i;
  for (var m = 0u; m < 16u; m++) {
    var v = i32(y[m]) + borrow;
    if (m < 10u) { v -= i32(hc[m]); }
    r[m] = u32(v) & 0xffffu;
    borrow = v >> 16u;
  }
  // 3. Negative: add L (mod 2^256, which is exact since 0 < r + L < L).
  if (borrow < 0i) {
    var carry = 0u;
    for (var m = 0u; m < 16u; m++) {
      let v = r[m] + hashTable[${HASH_TABLE.L}u + m] + carry;
      r[m] = v & 0xffffu;
      carry = v >> 16u;
    }
  }
  var k: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) { k[i] = r[2u * i] | (r[2u * i + 1u] << 16u); }
  return k;
}

// S < L on S's 8 little-endian words (RFC 8032 section 5.1.7 step 1; all 256 bits).
fn scalar_below_l(s: array<u32, 8>) -> bool {
  for (var i = 7i; i >= 0i; i--) {
    let l = hashTable[${HASH_TABLE.L}u + 2u * u32(i)] | (hashTable[${HASH_TABLE.L}u + 2u * u32(i) + 1u] << 16u);
    if (s[i] != l) { return s[i] < l; }
  }
  return false;
}
`;
