/**
 * Device buffers reused by size class and usage, so a steady stream of batches
 * allocates nothing after warm-up. Size classes are powers of two from 256 B,
 * which bounds waste at 2x and keeps the number of free lists small.
 */
export interface BufferPoolStats {
  /** Bytes of every buffer the pool owns. */
  heldBytes: number;
  /** Bytes of buffers handed out and not yet released. */
  inUseBytes: number;
  /** Buffers created over the pool's life (reuse keeps this flat). */
  created: number;
}

const MIN_CLASS = 256;

export function sizeClass(bytes: number): number {
  let size = MIN_CLASS;
  while (size < bytes) size *= 2;
  return size;
}

export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<string, GPUBuffer[]>();
  readonly #inUse = new Set<GPUBuffer>();
  #heldBytes = 0;
  #inUseBytes = 0;
  #created = 0;
  /** Out-of-memory scopes of buffers created since the last `allocationError()`. */
  #allocations: Promise<GPUError | null>[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label = 'supervm'): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.#free.get(`${size}:${usage}`);
    let buffer = list?.pop();
    if (buffer === undefined) {
      // Creating a buffer is where memory runs out: scoped here, so reused buffers need no scope.
      this.#device.pushErrorScope('out-of-memory');
      buffer = this.#device.createBuffer({ size, usage, label });
      this.#allocations.push(this.#device.popErrorScope());
      this.#heldBytes += size;
      this.#created++;
    }
    this.#inUse.add(buffer);
    this.#inUseBytes += size;
    return buffer;
  }

  /** The first out-of-memory error of buffers created since the last call (null when none failed). */
  async allocationError(): Promise<GPUError | null> {
    const pending = this.#allocations;
    if (pending.length === 0) return null;
    this.#allocations = [];
    return (await Promise.all(pending)).find((e) => e !== null) ?? null;
  }

  release(buffer: GPUBuffer): void {
    if (!this.#inUse.delete(buffer)) return;
    this.#inUseBytes -= buffer.size;
    const key = `${buffer.size}:${buffer.usage}`;
    let list = this.#free.get(key);
    if (list === undefined) this.#free.set(key, (list = []));
    list.push(buffer);
  }

  /** Drops a buffer that can no longer be reused (e.g. its re-map failed). */
  discard(buffer: GPUBuffer): void {
    if (this.#inUse.delete(buffer)) this.#inUseBytes -= buffer.size;
    this.#heldBytes -= buffer.size;
    buffer.destroy();
  }

  stats(): BufferPoolStats {
    return { heldBytes: this.#heldBytes, inUseBytes: this.#inUseBytes, created: this.#created };
  }

  /** Destroys every buffer; the pool is empty afterwards. */
  clear(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    for (const b of this.#inUse) b.destroy();
    this.#free.clear();
    this.#inUse.clear();
    this.#heldBytes = 0;
    this.#inUseBytes = 0;
  }
}
