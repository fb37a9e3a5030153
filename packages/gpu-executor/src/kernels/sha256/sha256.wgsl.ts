/**
 * SHA-256 (FIPS 180-4), one invocation per message, any lengths in one batch.
 * Messages are packed bytes read from u32 words (little-endian byte order),
 * starting at any byte; padding (section 5.1.1) is built on the GPU. Digest
 * words are stored byte-swapped so the output bytes are the big-endian digest.
 *
 * The 64 rounds and the message schedule are unrolled here in TypeScript: the
 * words live in registers, and the only loop left is the one over blocks. That
 * also matters on Mesa llvmpipe, which stops any one loop after 65,535
 * iterations per invocation (counted across its executions).
 */

// FIPS 180-4 section 4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** Blocks one message may have on a software rasterizer: llvmpipe's per-loop iteration cap. */
export const SOFTWARE_MAX_BLOCKS = 65_535;

function rounds(): string {
  const lines: string[] = [];
  for (let t = 0; t < 64; t++) {
    const w = `w${t & 15}`;
    if (t >= 16) lines.push(`    ${w} = ${w} + sigma0(w${(t + 1) & 15}) + w${(t + 9) & 15} + sigma1(w${(t + 14) & 15});`);
    lines.push(`    t1 = hh + big_sigma1(e) + ((e & f) ^ (~e & g)) + 0x${K[t]!.toString(16)}u + ${w};`);
    lines.push('    t2 = big_sigma0(a) + ((a & b) ^ (a & c) ^ (b & c));');
    lines.push('    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;');
  }
  return lines.join('\n');
}

const loads = Array.from({ length: 16 }, (_, j) => `    var w${j} = message_word(start, len, base + ${j * 4}u);`).join('\n');

export const sha256Wgsl = /* wgsl */ `
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read_write> digests: array<u32>;
// params[0] = messages in this chunk, params[1] = offsets[0] of the chunk (its byte 0 in data).
@group(0) @binding(3) var<storage, read> params: array<u32>;

fn bswap(w: u32) -> u32 {
  return (w >> 24u) | ((w >> 8u) & 0xff00u) | ((w << 8u) & 0xff0000u) | (w << 24u);
}

fn rotr(x: u32, n: u32) -> u32 { return (x >> n) | (x << (32u - n)); }
fn sigma0(x: u32) -> u32 { return rotr(x, 7u) ^ rotr(x, 18u) ^ (x >> 3u); }
fn sigma1(x: u32) -> u32 { return rotr(x, 17u) ^ rotr(x, 19u) ^ (x >> 10u); }
fn big_sigma0(x: u32) -> u32 { return rotr(x, 2u) ^ rotr(x, 13u) ^ rotr(x, 22u); }
fn big_sigma1(x: u32) -> u32 { return rotr(x, 6u) ^ rotr(x, 11u) ^ rotr(x, 25u); }

// Byte q of the padded message: the message, then 0x80, then zeros (section 5.1.1).
fn padded_byte(start: u32, len: u32, q: u32) -> u32 {
  if (q < len) {
    let p = start + q;
    return (data[p >> 2u] >> ((p & 3u) * 8u)) & 0xffu;
  }
  return select(0u, 0x80u, q == len);
}

// Big-endian word at byte q of the padded message.
fn message_word(start: u32, len: u32, q: u32) -> u32 {
  let p = start + q;
  if (q + 4u <= len && (p & 3u) == 0u) { return bswap(data[p >> 2u]); }
  return (padded_byte(start, len, q) << 24u) | (padded_byte(start, len, q + 1u) << 16u) |
         (padded_byte(start, len, q + 2u) << 8u) | padded_byte(start, len, q + 3u);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params[0]) { return; }
  let start = offsets[i] - params[1];
  let len = offsets[i + 1u] - offsets[i];
  // Message, 0x80, zeros, 64-bit bit length: (len + 9) bytes rounded up to whole blocks.
  let blocks = (len + 72u) / 64u;
  // FIPS 180-4 section 5.3.3: initial hash value.
  var h0 = 0x6a09e667u; var h1 = 0xbb67ae85u; var h2 = 0x3c6ef372u; var h3 = 0xa54ff53au;
  var h4 = 0x510e527fu; var h5 = 0x9b05688cu; var h6 = 0x1f83d9abu; var h7 = 0x5be0cd19u;
  for (var blk = 0u; blk < blocks; blk++) {
    let base = blk * 64u;
${loads}
    if (blk + 1u == blocks) {
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
