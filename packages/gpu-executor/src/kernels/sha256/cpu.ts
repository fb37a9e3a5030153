import { hash } from 'node:crypto';
import { DIGEST_BYTES, H0, K } from './constants.js';
import type { Sha256Columns } from './normalize.js';

/**
 * True where the JS compression below beats node:crypto (OpenSSL, SHA-NI where
 * the CPU has it). A compression costs ~300 ns in JS; a node:crypto call costs
 * ~600-850 ns whatever the length up to ~2 blocks (a view, a Buffer and the
 * binding per call). So JS wins where it compresses one block: messages under
 * 56 bytes, and 64-byte ones, whose padding-only block has a cached schedule.
 * At two blocks the two are even; past that node:crypto wins. Numbers in README.md.
 */
export function jsIsFaster(len: number): boolean {
  return len < 56 || len === 64;
}

// Int32 views of K and H(0): words above 2^31 read from a Uint32Array are heap numbers in V8, int32 ones are not.
const K32 = new Int32Array(K.buffer);
const H032 = new Int32Array(H0.buffer);
// Scratch reused by every call on this thread (the CPU path never re-enters itself).
const W = new Int32Array(64);
const H = new Int32Array(8);
/** The final one or two blocks of a message: its tail, 0x80, zeros, the 64-bit length (section 5.1.1). */
const TAIL = new Uint8Array(128);
/** Schedule of the padding-only block that ends a message of `padLength` whole blocks (64-byte messages: half the work). */
const PAD_W = new Int32Array(64);
let padLength = -1;

/** Section 6.2.2 step 1: the message schedule of the 64-byte block at `bytes[p..p+64)` into w. */
function schedule(bytes: Uint8Array, p: number, w: Int32Array): void {
  for (let t = 0; t < 16; t++, p += 4) {
    w[t] = (bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
}

/** Section 6.2.2 steps 2 to 4: 64 rounds over schedule w, added into H. */
function rounds(w: Int32Array): void {
  let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K32[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = H[0]! + a;
  H[1] = H[1]! + b;
  H[2] = H[2]! + c;
  H[3] = H[3]! + d;
  H[4] = H[4]! + e;
  H[5] = H[5]! + f;
  H[6] = H[6]! + g;
  H[7] = H[7]! + h;
}

/** Writes the padding and 64-bit big-endian bit length (section 5.1.1) after `rest` tail bytes in TAIL; returns its end (64 or 128). */
function pad(rest: number, len: number): number {
  TAIL[rest] = 0x80;
  // One block if the tail, 0x80 and the 8-byte length fit in 64 bytes, else two.
  const end = rest < 56 ? 64 : 128;
  for (let j = rest + 1; j < end - 5; j++) TAIL[j] = 0;
  // len < 2^32 bytes, so the bit length's high word is len >>> 29.
  const lo = len << 3;
  TAIL[end - 5] = len >>> 29;
  TAIL[end - 4] = lo >>> 24;
  TAIL[end - 3] = lo >>> 16;
  TAIL[end - 2] = lo >>> 8;
  TAIL[end - 1] = lo;
  return end;
}

/** SHA-256 of data[from..to) in JS, the digest written big-endian at output[at..at+32). */
export function sha256Js(data: Uint8Array, from: number, to: number, output: Uint8Array, at: number): void {
  // Element by element: TypedArray.set between element types is a runtime call, as slow as a compression round.
  for (let j = 0; j < 8; j++) H[j] = H032[j]!;
  const len = to - from;
  let p = from;
  for (; to - p >= 64; p += 64) {
    schedule(data, p, W);
    rounds(W);
  }
  const rest = to - p;
  if (rest === 0) {
    // A whole-block message ends with a block of padding alone, the same for every message of its length.
    if (len !== padLength) {
      pad(0, len);
      schedule(TAIL, 0, PAD_W);
      padLength = len;
    }
    rounds(PAD_W);
  } else {
    // A byte loop, not TAIL.set(data.subarray(..)): no view allocated per message.
    for (let j = 0; j < rest; j++) TAIL[j] = data[p + j]!;
    const end = pad(rest, len);
    for (let q = 0; q < end; q += 64) {
      schedule(TAIL, q, W);
      rounds(W);
    }
  }
  for (let j = 0; j < 8; j++, at += 4) {
    const v = H[j]!;
    output[at] = v >>> 24;
    output[at + 1] = v >>> 16;
    output[at + 2] = v >>> 8;
    output[at + 3] = v;
  }
}

/** Digests of messages [start, end) into output at 32 * i: JS for short messages, node:crypto for long ones. */
export function sha256Cpu({ data, offsets }: Sha256Columns, output: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    if (jsIsFaster(to - from)) sha256Js(data, from, to, output, i * DIGEST_BYTES);
    else output.set(hash('sha256', data.subarray(from, to), 'buffer') as unknown as Uint8Array, i * DIGEST_BYTES);
  }
}
