/**
 * Large SharedArrayBuffers reused from block to block. A fresh buffer's pages
 * fault in (and are zeroed by the kernel) on first touch: filling a fresh
 * 7 MB buffer measured ~27 ms on a 2-core VM against ~0.5 ms for one already
 * touched, more than the work that fills it. A block's buffers come back here
 * (`give`) only once nothing can read them any more; `take` hands them out
 * zeroed (unless asked not to), exactly like fresh ones. Buffers not given
 * back are simply collected, so a missed `give` costs speed, never results.
 */
import { endianness } from 'node:os';

/** Smaller requests are allocated fresh: they fault in few pages and would only crowd the free list. */
const MIN_POOLED = 64 << 10;
/** Bounds on what the free list keeps (a few blocks' worth); past them the oldest buffers are dropped. */
const MAX_FREE_BUFFERS = 128;
const MAX_FREE_BYTES = 1 << 30;
/** A fresh pooled buffer gets this much headroom (and 64 KiB granularity), so the next, slightly larger block fits it. */
const HEADROOM = 1 / 8;
const GRAIN = 64 << 10;

const free: SharedArrayBuffer[] = [];
let freeBytes = 0;

/**
 * A buffer of at least `bytes` bytes whose first `bytes` are zero (with
 * `zero` false: whatever a previous user left, for callers that overwrite
 * every byte they read). Only views of exactly the asked length may be laid
 * over it: the buffer can be longer.
 */
export function takeShared(bytes: number, zero = true): SharedArrayBuffer {
  if (bytes < MIN_POOLED) return new SharedArrayBuffer(Math.max(1, bytes));
  let best = -1;
  for (let k = 0; k < free.length; k++) {
    const length = free[k]!.byteLength;
    // At most twice the size asked for: a small request does not pin a large buffer.
    if (length >= bytes && length <= 2 * bytes && (best < 0 || length < free[best]!.byteLength)) best = k;
  }
  if (best < 0) return new SharedArrayBuffer(Math.ceil((bytes * (1 + HEADROOM)) / GRAIN) * GRAIN);
  const buffer = free[best]!;
  free.splice(best, 1);
  freeBytes -= buffer.byteLength;
  if (zero) {
    // Word-wide fill: a byte-wide fill of shared memory is several times slower.
    const words = bytes >> 2;
    new Int32Array(buffer, 0, words).fill(0);
    new Uint8Array(buffer, words << 2, bytes - (words << 2)).fill(0);
  }
  return buffer;
}

/** Returns buffers for reuse (plain ArrayBuffers are skipped). The caller guarantees that nothing reads or writes them any more. */
export function giveShared(buffers: Iterable<ArrayBufferLike>): void {
  for (const buffer of buffers) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < MIN_POOLED || free.includes(buffer)) continue;
    free.push(buffer);
    freeBytes += buffer.byteLength;
  }
  while (free.length > MAX_FREE_BUFFERS || freeBytes > MAX_FREE_BYTES) freeBytes -= free.shift()!.byteLength;
}

type Ctor<T> = { new (buffer: SharedArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A typed array of `length` elements over a buffer from `takeShared` (zeroed unless `zero` is false). */
export function sharedArray<T>(C: Ctor<T>, length: number, zero = true): T {
  return new C(takeShared(length * C.BYTES_PER_ELEMENT, zero), 0, length);
}

/** Whether typed arrays hold values little-endian here, as encodings and leaf messages do (then u64 values are copied as bytes). */
export const LITTLE_ENDIAN = endianness() === 'LE';

/** A BigUint64Array's values as 32-bit words (value k is words 2k and 2k + 1): compared and copied without a bigint each. */
export const wordsOf = (a: BigUint64Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
