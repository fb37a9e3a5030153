/**
 * WGSL of the Ed25519 verification kernel: one invocation per item computes
 * [S]B - [k]A and compares its canonical encoding with R (the OpenSSL rule, see
 * README.md). Point formulas and representations are ref10's (extended
 * twisted Edwards coordinates, Hisil-Wong-Carter-Dawson 2008), which are
 * complete on edwards25519 (d is not a square), so small-order and mixed-order
 * points need no special cases.
 *
 * Two entry shaders share `verify`: ED25519_HASH_WGSL (the default) takes raw
 * columns and computes k itself (hash.wgsl.ts); ED25519_WGSL takes records
 * packed on the host with k already in them. Their bindings are given below.
 *
 * Scalar schedule: 252 shared doublings; k in 64 signed radix-16 digits
 * against a per-item table of 0..8 * (-A), S in 32 signed radix-256 digits
 * against the static table 0..128 * B. Every invocation does the same number
 * of additions (digit 0 adds the identity), so a warp never diverges in the loop.
 */
import { BASE_TABLE_ENTRY_WORDS, LIMBS } from './constants.js';
import { FIELD_WGSL } from './field.wgsl.js';
import { HASH_WGSL } from './hash.wgsl.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Words of one item record. */
export const RECORD_WORDS = 32;

/** vec4s per table entry. */
const ENTRY_VECS = BASE_TABLE_ENTRY_WORDS / 4;
const loadNiels = (field: number): string =>
  `Fe(${range(LIMBS / 4).map((q) => `baseTable[e + ${(field * LIMBS) / 4 + q}u]`).join(', ')})`;

const CURVE_WGSL = /* wgsl */ `
struct P2 { x: Fe, y: Fe, z: Fe }
struct P3 { x: Fe, y: Fe, z: Fe, t: Fe }
// ref10 ge_p1p1: x = X/Z, y = Y/T
struct P1P1 { x: Fe, y: Fe, z: Fe, t: Fe }
// ref10 ge_cached: (Y+X, Y-X, Z, 2dT)
struct Cached { ypx: Fe, ymx: Fe, z: Fe, t2d: Fe }

fn p3_identity() -> P3 { return P3(FE_ZERO, FE_ONE, FE_ONE, FE_ZERO); }

// ref10 ge_p1p1_to_p3; T only when the next operation is an addition
// (doubling does not read it, as ref10's ge_p1p1_to_p2).
fn p1p1_to_p3(p: P1P1, with_t: bool) -> P3 {
  var r = P3(fe_mul(p.x, p.t), fe_mul(p.y, p.z), fe_mul(p.z, p.t), FE_ZERO);
  if (with_t) { r.t = fe_mul(p.x, p.y); }
  return r;
}

fn p3_to_cached(p: P3) -> Cached {
  return Cached(fe_add(p.y, p.x), fe_sub(p.y, p.x), p.z, fe_mul(p.t, FE_D2));
}

// ref10 ge_p2_dbl (dbl-2008-hwcd with a = -1)
fn p2_dbl(p: P2) -> P1P1 {
  let xx = fe_sq(p.x);
  let yy = fe_sq(p.y);
  let zz2 = fe_add(fe_sq(p.z), fe_sq(p.z));
  let xy2 = fe_sq(fe_add(p.x, p.y));
  let y = fe_add(yy, xx);
  let z = fe_sub(yy, xx);
  return P1P1(fe_sub(xy2, y), y, z, fe_sub(zz2, z));
}

// ref10 ge_add (add-2008-hwcd-3); with affine q (Z = 1, ref10 ge_madd) the Z
// product is skipped.
fn p3_add(p: P3, q: Cached, affine: bool) -> P1P1 {
  let a = fe_mul(fe_add(p.y, p.x), q.ypx);
  let b = fe_mul(fe_sub(p.y, p.x), q.ymx);
  let c = fe_mul(q.t2d, p.t);
  var zz = p.z;
  if (!affine) { zz = fe_mul(p.z, q.z); }
  let d = fe_add(zz, zz);
  return P1P1(fe_sub(a, b), fe_add(a, b), fe_add(d, c), fe_sub(d, c));
}

struct Decoded { ok: bool, x: Fe }

// ref10 ge_frombytes_vartime as in OpenSSL: y is the low 255 bits taken mod p
// (no canonicity check), reject only if x^2 = (y^2-1)/(dy^2+1) has no root;
// x = 0 with the sign bit set is kept as x = 0.
fn decompress(y: Fe, sign: u32) -> Decoded {
  let yy = fe_sq(y);
  let u = fe_sub(yy, FE_ONE);
  let v = fe_add(fe_mul(yy, FE_D), FE_ONE);
  let v3 = fe_mul(fe_sq(v), v);
  var x = fe_mul(fe_mul(fe_pow22523(fe_mul(fe_mul(fe_sq(v3), v), u)), v3), u);
  let vxx = fe_mul(fe_sq(x), v);
  if (!fe_is_zero(fe_sub(vxx, u))) {
    if (!fe_is_zero(fe_add(vxx, u))) { return Decoded(false, x); }
    x = fe_mul(x, FE_SQRT_M1);
  }
  if (fe_is_odd(x) != sign) { x = fe_neg(x); }
  return Decoded(true, x);
}

// w + 0x88..88 (radix 16) or + 0x8080..80 (radix 256): each digit of the sum
// minus the offset is the signed digit of w (w < 2^253, so the sum fits).
fn add_digit_offset(w: array<u32, 8>, offset: u32) -> array<u32, 8> {
  var r: array<u32, 8>;
  var carry = 0u;
  for (var i = 0u; i < 8u; i++) {
    let lo = (w[i] & 0xffffu) + (offset & 0xffffu) + carry;
    let hi = (w[i] >> 16u) + (offset >> 16u) + (lo >> 16u);
    r[i] = (lo & 0xffffu) | (hi << 16u);
    carry = hi >> 16u;
  }
  return r;
}

// Entry |digit| of the base table (ref10 ge_precomp: y+x, y-x, 2dxy) as an
// affine Cached (Z = 1).
fn base_entry(digit: i32) -> Cached {
  let e = u32(abs(digit)) * ${ENTRY_VECS}u;
  return Cached(${loadNiels(0)},
    ${loadNiels(1)},
    FE_ONE,
    ${loadNiels(2)});
}

// aw, rw, sw, kw: A, R, S and k as 8 little-endian words each; S < L and k < L
// are the caller's to ensure (k's top bits feed the radix-16 digits unchecked).
fn verify(aw: array<u32, 8>, rw: array<u32, 8>, sw: array<u32, 8>, kw: array<u32, 8>) -> u32 {
  let dec = decompress(fe_from_words(aw), aw[7] >> 31u);
  if (!dec.ok) { return 0u; }

  // -A (OpenSSL negates A and computes [k](-A) + [S]B), then its multiples.
  let nx = fe_neg(dec.x);
  let ay = fe_from_words(aw);
  var acc = P3(nx, ay, FE_ONE, fe_mul(nx, ay));
  var table: array<Cached, 9>;
  table[0] = Cached(FE_ONE, FE_ONE, FE_ONE, FE_ZERO);
  table[1] = p3_to_cached(acc);
  let kd = add_digit_offset(kw, 0x88888888u);
  let sd = add_digit_offset(sw, 0x80808080u);

  // One loop, one site per point operation (shader size: compilers inline every
  // call). Steps: table[2..8] = table[1] + previous; then for each radix-16
  // position j = 63..0: four doublings, + k_j (-A), and at even j + S_(j/2) B.
  var built = 1u;
  var j = 63;
  var sub = 0u;
  loop {
    var c = table[1];
    var dbl = false;
    var affine = false;
    var neg = false;
    if (built == 8u) {
      acc = p3_identity();
      built = 9u;
    }
    if (built == 9u) {
      if (sub < 4u) {
        dbl = true;
      } else if (sub == 4u) {
        let digit = i32((kd[j >> 3u] >> (u32(j & 7) * 4u)) & 15u) - 8;
        c = table[abs(digit)];
        neg = digit < 0;
      } else {
        let digit = i32((sd[j >> 3u] >> (u32((j >> 1u) & 3) * 8u)) & 255u) - 128;
        c = base_entry(digit);
        affine = true;
        neg = digit < 0;
      }
    }
    if (neg) { c = Cached(c.ymx, c.ypx, c.z, fe_neg(c.t2d)); }
    var r: P1P1;
    if (dbl) { r = p2_dbl(P2(acc.x, acc.y, acc.z)); } else { r = p3_add(acc, c, affine); }
    // T only if an addition comes next: a table step, after the 4th doubling, before S_(j/2) B.
    acc = p1p1_to_p3(r, built < 9u || sub == 3u || (sub == 4u && (j & 1) == 0));
    if (built < 9u) {
      built++;
      table[built] = p3_to_cached(acc);
    } else {
      sub++;
      if (sub == 6u || (sub == 5u && (j & 1) != 0)) {
        sub = 0u;
        j--;
        if (j < 0) { break; }
      }
    }
  }

  // Canonical encoding of acc (ref10 ge_tobytes) against R's 32 bytes.
  let zi = fe_invert(acc.z);
  let y = fe_canon(fe_mul(acc.y, zi));
  let same = fe_is_odd(fe_mul(acc.x, zi)) == (rw[7] >> 31u) && fe_eq_canon(y, fe_from_words(rw));
  return select(0u, 1u, same);
}
`;

const words = (buffer: string, base: string): string =>
  `array<u32, 8>(${range(8).map((i) => `${buffer}[${base} + ${i}u]`).join(', ')})`;

/**
 * Host-packed variant: binding 0 holds one record per item (32 u32: A, R, S,
 * k, each 8 little-endian words; bit 31 of k's last word set = rejected on the
 * host, S >= L), 1 verdicts (u32 per item), 2 params ([0] = items), 3 base
 * table (baseTable()).
 */
export const ED25519_WGSL = /* wgsl */ `${FIELD_WGSL}
${CURVE_WGSL}
@group(0) @binding(0) var<storage, read> records: array<u32>;
@group(0) @binding(1) var<storage, read_write> verdicts: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;
@group(0) @binding(3) var<storage, read> baseTable: array<vec4<u32>>;

override WG: u32;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params[0]) { return; }
  let base = i * ${RECORD_WORDS}u;
  let kw = ${words('records', 'base + 24u')};
  var v = 0u;
  if ((kw[7] >> 31u) == 0u) {
    v = verify(${words('records', 'base')}, ${words('records', 'base + 8u')}, ${words('records', 'base + 16u')}, kw);
  }
  verdicts[i] = v;
}
`;

/** Bit 31 of a rebased end offset: the item's data is k itself (32 bytes), hashed on the host. */
export const HOST_K_FLAG = 0x8000_0000;

/**
 * Per-chunk input bindings of the GPU-hash variant, shared with the tests'
 * k-only shader: 0 public keys (8 u32 per item), 1 signatures (16 u32: R, S),
 * 2 offsets (n + 1 u32: message i is msgData bytes [offsets[i], offsets[i+1])
 * with bit 31 masked off; bit 31 of offsets[i+1] = HOST_K_FLAG), 3 message bytes.
 */
export const RAW_INPUT_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> keys: array<u32>;
@group(0) @binding(1) var<storage, read> sigs: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> msgData: array<u32>;

// k of item i: SHA-512(R || A || M) mod L, or the host's k for a flagged item.
fn challenge(i: u32, aw: array<u32, 8>, rw: array<u32, 8>) -> array<u32, 8> {
  let start = offsets[i] & 0x7fffffffu;
  let stop = offsets[i + 1u];
  if ((stop >> 31u) != 0u) {
    var k: array<u32, 8>;
    for (var j = 0u; j < 8u; j++) { k[j] = msg_bytes(start + 4u * j); }
    return k;
  }
  var ra: array<u32, 16>;
  for (var j = 0u; j < 8u; j++) {
    ra[j] = rw[j];
    ra[j + 8u] = aw[j];
  }
  return reduce_digest(sha512(&ra, 64u, start, stop - start));
}
`;

/**
 * GPU-hash variant (the default): raw columns in (RAW_INPUT_WGSL, bindings
 * 0-3), 4 verdicts, 5 params ([0] = items), 6 base table, 7 hash table
 * (hashTable()). S < L is checked here and k computed here.
 */
export const ED25519_HASH_WGSL = /* wgsl */ `${FIELD_WGSL}
${CURVE_WGSL}
${HASH_WGSL}
${RAW_INPUT_WGSL}
@group(0) @binding(4) var<storage, read_write> verdicts: array<u32>;
@group(0) @binding(5) var<storage, read> params: array<u32>;
@group(0) @binding(6) var<storage, read> baseTable: array<vec4<u32>>;
@group(0) @binding(7) var<storage, read> hashTable: array<u32>;

override WG: u32;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params[0]) { return; }
  let sw = ${words('sigs', 'i * 16u + 8u')};
  var v = 0u;
  if (scalar_below_l(sw)) {
    let aw = ${words('keys', 'i * 8u')};
    let rw = ${words('sigs', 'i * 16u')};
    v = verify(aw, rw, sw, challenge(i, aw, rw));
  }
  verdicts[i] = v;
}
`;
