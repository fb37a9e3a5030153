/**
 * SharedArrayBuffers reused between batches. A fresh SharedArrayBuffer is
 * mapped and zeroed by the kernel page by page on first touch: on the 2-core
 * VM, allocating and filling 320 KB took 300 us shared against 36 us in a
 * plain ArrayBuffer, and 4 MiB 10 ms against 1.4 ms. Workers need shared
 * memory, so the pool's executors stage columns and outputs in these instead.
 */

/** Below this a fresh SharedArrayBuffer costs about as much as a plain one (1 KB: ~1 us). */
const MIN_POOLED_BYTES = 64 * 1024;

export class SharedScratch {
  readonly #free = new Map<number, SharedArrayBuffer[]>();
  readonly #maxRetainedBytes: number;
  #retainedBytes = 0;

  /** `maxRetainedBytes`: most bytes kept for reuse; releases past it are dropped to the GC. */
  constructor(maxRetainedBytes = 512 * 1024 * 1024) {
    this.#maxRetainedBytes = maxRetainedBytes;
  }

  /** A buffer of at least `bytes` (a power of two from 64 KiB; exact below). Old bytes may remain. */
  acquire(bytes: number): SharedArrayBuffer {
    if (bytes < MIN_POOLED_BYTES) return new SharedArrayBuffer(Math.max(bytes, 1));
    const size = 2 ** Math.ceil(Math.log2(bytes));
    const reused = this.#free.get(size)?.pop();
    if (reused === undefined) return new SharedArrayBuffer(size);
    this.#retainedBytes -= size;
    return reused;
  }

  /** Hands a buffer back; the caller must not use it afterwards. */
  release(buffer: SharedArrayBuffer): void {
    const size = buffer.byteLength;
    if (size < MIN_POOLED_BYTES || (size & (size - 1)) !== 0 || this.#retainedBytes + size > this.#maxRetainedBytes) return;
    let list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, (list = []));
    list.push(buffer);
    this.#retainedBytes += size;
  }

  /** Bytes held for reuse. */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }
}

/** The process's scratch, shared by every executor on any pool. */
export const sharedScratch = new SharedScratch();
