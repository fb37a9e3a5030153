import { H0, K } from './constants.js';

/**
 * SHA-256 (FIPS 180-4), one invocation per message, any lengths in one batch.
 *
 * Bindings (gpu-kernel.ts layout): 0 the chunk's packed message bytes as u32
 * words (little-endian byte order, zero-padded to a whole word by the executor),
 * 1 the chunk's n + 1 offsets as given (absolute), 2 the digests, 3 params:
 * [n, offsets[0] of the chunk]. Subtracting params[1] rebases the offsets on the
 * GPU, so the host uploads a view of the caller's offsets instead of a rebased copy.
 *
 * A message may start at any byte: a word at an unaligned byte is funnel-shifted
 * from two loads. Padding (section 5.1.1) is built here: bytes past the message
 * are masked to 0x80 then zeros, and the last block's words 14 and 15 are the
 * bit length. Digest words are stored byte-swapped, so the output bytes are the
 * big-endian digest, as on the CPU.
 *
 * The 64 rounds and the message schedule are unrolled (generated below) into
 * registers; the one loop left is over blocks. That matters on Mesa llvmpipe
 * too, which ends a shader's loops after 65,535 iterations in all per invocation.
 */

/** Blocks one message may have on a software rasterizer: llvmpipe's per-invocation loop-iteration cap. */
export const SOFTWARE_MAX_BLOCKS = 65_535;

const hex = (x: number): string => `0x${x.toString(16).padStart(8, '0')}u`;

/** Section 6.2.2 step 2 and 3, unrolled: a 16-word ring w0..w15 holds the schedule. */
function rounds(): string {
  const lines: string[] = [];
  for (let t = 0; t < 64; t++) {
    const w = `w${t & 15}`;
    if (t >= 16) lines.push(`    ${w} += sigma0(w${(t + 1) & 15}) + w${(t + 9) & 15} + sigma1(w${(t + 14) & 15});`);
    lines.push(`    t1 = hh + big_sigma1(e) + ch(e, f, g) + ${hex(K[t]!)} + ${w};`);
    lines.push('    t2 = big_sigma0(a) + maj(a, b, c);');
    lines.push('    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;');
  }
  return lines.join('\n');
}

const words = Array.from({ length: 16 }, (_, j) => j);
/**
 * The block's 16 words. A block wholly inside the message is read with straight
 * loads (17 for an unaligned start, funnel-shifted) that the compiler can issue
 * together; only the last one or two blocks take the per-word padding path.
 */
const loads = `    var w0: u32; var w1: u32; var w2: u32; var w3: u32; var w4: u32; var w5: u32; var w6: u32; var w7: u32;
    var w8: u32; var w9: u32; var w10: u32; var w11: u32; var w12: u32; var w13: u32; var w14: u32; var w15: u32;
    if (base + 64u <= len) {
      let p = start + base;
      let k = p >> 2u;
      let s = (p & 3u) * 8u;
      if (s == 0u) {
${words.map((j) => `        w${j} = bswap(data[k + ${j}u]);`).join('\n')}
      } else {
        let r = 32u - s;
${[...words, 16].map((j) => `        let x${j} = data[k + ${j}u];`).join('\n')}
${words.map((j) => `        w${j} = bswap((x${j} >> s) | (x${j + 1} << r));`).join('\n')}
      }
    } else {
${words.map((j) => `      w${j} = message_word(start, len, base + ${j * 4}u);`).join('\n')}
    }`;
const h = Array.from(H0, (x, j) => `var h${j} = ${hex(x)};`).join(' ');

export const sha256Wgsl = /* wgsl */ `
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read_write> digests: array<u32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;

fn bswap(w: u32) -> u32 {
  return (w >> 24u) | ((w >> 8u) & 0xff00u) | ((w << 8u) & 0xff0000u) | (w << 24u);
}

// FIPS 180-4 section 4.1.2.
fn rotr(x: u32, n: u32) -> u32 { return (x >> n) | (x << (32u - n)); }
fn ch(x: u32, y: u32, z: u32) -> u32 { return z ^ (x & (y ^ z)); }
fn maj(x: u32, y: u32, z: u32) -> u32 { return (x & y) | (z & (x | y)); }
fn big_sigma0(x: u32) -> u32 { return rotr(x, 2u) ^ rotr(x, 13u) ^ rotr(x, 22u); }
fn big_sigma1(x: u32) -> u32 { return rotr(x, 6u) ^ rotr(x, 11u) ^ rotr(x, 25u); }
fn sigma0(x: u32) -> u32 { return rotr(x, 7u) ^ rotr(x, 18u) ^ (x >> 3u); }
fn sigma1(x: u32) -> u32 { return rotr(x, 17u) ^ rotr(x, 19u) ^ (x >> 10u); }

// Big-endian word at byte q (a multiple of 4) of the padded message that starts at byte
// 'start' of data: message bytes, then 0x80, then zeros. Bytes past the message may be
// read from the next message or past the binding (WGSL bounds every access) but are masked.
fn message_word(start: u32, len: u32, q: u32) -> u32 {
  if (q > len) { return 0u; }
  let p = start + q;
  let i = p >> 2u;
  let s = (p & 3u) * 8u;
  var w = data[i];
  if (s != 0u) { w = (w >> s) | (data[i + 1u] << (32u - s)); }
  let have = len - q;
  if (have < 4u) {
    let bits = have * 8u;
    w = (w & ((1u << bits) - 1u)) | (0x80u << bits);
  }
  return bswap(w);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params[0]) { return; }
  let start = offsets[i] - params[1];
  let len = offsets[i + 1u] - offsets[i];
  // Message, 0x80, zeros and the 64-bit bit length: len + 9 bytes rounded up to whole blocks.
  let blocks = (len + 72u) / 64u;
  // Section 5.3.3.
  ${h}
  for (var blk = 0u; blk < blocks; blk++) {
    let base = blk * 64u;
${loads}
    if (blk + 1u == blocks) {
      // Section 5.1.1: the bit length as a 64-bit big-endian integer (len < 2^32 bytes).
      w14 = len >> 29u;
      w15 = len << 3u;
    }
    var a = h0; var b = h1; var c = h2; var d = h3;
    var e = h4; var f = h5; var g = h6; var hh = h7;
    var t1: u32;
    var t2: u32;
${rounds()}
    h0 += a; h1 += b; h2 += c; h3 += d;
    h4 += e; h5 += f; h6 += g; h7 += hh;
  }
  let o = i * 8u;
  digests[o] = bswap(h0); digests[o + 1u] = bswap(h1); digests[o + 2u] = bswap(h2); digests[o + 3u] = bswap(h3);
  digests[o + 4u] = bswap(h4); digests[o + 5u] = bswap(h5); digests[o + 6u] = bswap(h6); digests[o + 7u] = bswap(h7);
}
`;
