/**
 * f32 vector add whose bits equal the CPU's for every input. WGSL lets a GPU
 * flush subnormals and leaves NaN payloads and overflow unspecified, so the
 * hardware add is kept only where both operands and the result are normal
 * finite numbers (where WGSL requires a correctly rounded result, IEEE 754
 * section 5.4.1); everything else goes through an exact integer emulation of
 * binary32 addition (round to nearest, ties to even). NaN is canonical 0x7fc00000.
 */
export const vectorAddWgsl = /* wgsl */ `
override WG: u32 = 64u;

// vec4 words: one 16-byte load per operand per invocation keeps the memory system busy
// with a quarter of the invocations (bindings are zero-padded to 16 bytes).
@group(0) @binding(0) var<storage, read> lhs: array<vec4u>;
@group(0) @binding(1) var<storage, read> rhs: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> sum: array<vec4u>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

const CANONICAL_NAN: u32 = 0x7fc00000u;
const SIGN: u32 = 0x80000000u;

fn exponent(x: u32) -> u32 { return (x >> 23u) & 0xffu; }

// Exact binary32 addition on integers: 3 extra bits (guard, round, sticky).
fn soft_add(x: u32, y: u32) -> u32 {
  let ex = exponent(x);
  let ey = exponent(y);
  if ((ex == 255u && (x & 0x7fffffu) != 0u) || (ey == 255u && (y & 0x7fffffu) != 0u)) { return CANONICAL_NAN; }
  if (ex == 255u) {
    if (ey == 255u && (x ^ y) == SIGN) { return CANONICAL_NAN; }
    return x;
  }
  if (ey == 255u) { return y; }
  if ((x & 0x7fffffffu) == 0u) {
    if ((y & 0x7fffffffu) == 0u) { return x & y; } // -0 only when both are -0
    return y;
  }
  if ((y & 0x7fffffffu) == 0u) { return x; }

  // Order by magnitude so that a >= b.
  var a = x;
  var b = y;
  if ((y & 0x7fffffffu) > (x & 0x7fffffffu)) { a = y; b = x; }
  let sign = a & SIGN;
  var ea = exponent(a);
  let eb = exponent(b);
  var ma = (a & 0x7fffffu);
  var mb = (b & 0x7fffffu);
  if (ea == 0u) { ea = 1u; } else { ma = ma | 0x800000u; }
  var ebn = eb;
  if (eb == 0u) { ebn = 1u; } else { mb = mb | 0x800000u; }
  ma = ma << 3u;
  mb = mb << 3u;
  let d = ea - ebn;
  if (d > 26u) {
    mb = select(0u, 1u, mb != 0u);
  } else if (d > 0u) {
    let lost = mb & ((1u << d) - 1u);
    mb = (mb >> d) | select(0u, 1u, lost != 0u);
  }
  var m: u32;
  var e = ea;
  if (((a ^ b) & SIGN) == 0u) {
    m = ma + mb;
    if (m >= (1u << 27u)) { m = (m >> 1u) | (m & 1u); e = e + 1u; }
  } else {
    m = ma - mb;
    if (m == 0u) { return 0u; }
    while (m < (1u << 26u) && e > 1u) { m = m << 1u; e = e - 1u; }
  }
  let grs = m & 7u;
  m = m >> 3u;
  if (grs > 4u || (grs == 4u && (m & 1u) == 1u)) {
    m = m + 1u;
    if (m == (1u << 24u)) { m = m >> 1u; e = e + 1u; }
  }
  if (m < 0x800000u) { return sign | m; } // subnormal: exponent field 0
  if (e >= 255u) { return sign | 0x7f800000u; }
  return sign | (e << 23u) | (m & 0x7fffffu);
}

fn add_bits(x: u32, y: u32) -> u32 {
  let ex = exponent(x);
  let ey = exponent(y);
  if (ex != 0u && ex != 255u && ey != 0u && ey != 255u) {
    let r = bitcast<u32>(bitcast<f32>(x) + bitcast<f32>(y));
    let er = exponent(r);
    if (er != 0u && er != 255u) { return r; }
  }
  return soft_add(x, y);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i * 4u >= params[0]) { return; }
  let x = lhs[i];
  let y = rhs[i];
  sum[i] = vec4u(add_bits(x.x, y.x), add_bits(x.y, y.y), add_bits(x.z, y.z), add_bits(x.w, y.w));
}
`;
