/**
 * How a batch's GPU time is measured. With the adapter's `timestamp-query`
 * feature, every compute pass writes a begin and an end timestamp, resolved
 * into the same readback buffer as the chunk's output, so reading them costs
 * no extra map round trip. Without it, compute is host time from submit to
 * readback, counted once where chunks overlap.
 */

/** Bytes of one pass's two resolved timestamps (u64 nanoseconds each). */
export const TIMESTAMP_BYTES = 16;
/** `resolveQuerySet` writes at 256-byte aligned offsets (WebGPU spec, GPUCommandEncoder.resolveQuerySet). */
const RESOLVE_ALIGNMENT = 256;

/** A query set for one pass's begin/end and the buffer it resolves into, reused across chunks. */
export interface PassTimestamps {
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
}

/** Per-device free list of query sets: a steady stream of chunks allocates none. */
export class TimestampPool {
  readonly #device: GPUDevice;
  readonly #free: PassTimestamps[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  acquire(): PassTimestamps {
    return (
      this.#free.pop() ?? {
        querySet: this.#device.createQuerySet({ type: 'timestamp', count: 2, label: 'supervm-pass-timestamps' }),
        resolve: this.#device.createBuffer({
          size: RESOLVE_ALIGNMENT,
          usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
          label: 'supervm-timestamp-resolve',
        }),
      }
    );
  }

  release(t: PassTimestamps): void {
    this.#free.push(t);
  }

  /** Records the pass's timestamps into `readback` at `offset` (after the pass has ended). */
  static copyOut(encoder: GPUCommandEncoder, t: PassTimestamps, readback: GPUBuffer, offset: number): void {
    encoder.resolveQuerySet(t.querySet, 0, 2, t.resolve, 0);
    encoder.copyBufferToBuffer(t.resolve, 0, readback, offset, TIMESTAMP_BYTES);
  }
}

/**
 * Nanoseconds between the two timestamps at `offset` in a mapped readback, or
 * undefined when they are not a valid interval (an implementation may write
 * zeros, or reorder them across a power-state change).
 */
export function passNanoseconds(bytes: Uint8Array, offset: number): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, TIMESTAMP_BYTES);
  const begin = view.getBigUint64(0, true);
  const end = view.getBigUint64(8, true);
  if (end <= begin) return undefined;
  return Number(end - begin);
}

/**
 * Total length of the union of intervals: time during which at least one of
 * them (chunks in flight, packs on the pool) was running, never more than the
 * wall time however they overlap or in whatever order they are added.
 */
export class BusyTime {
  readonly #intervals: [number, number][] = [];

  add(start: number, end: number): void {
    if (end > start) this.#intervals.push([start, end]);
  }

  get total(): number {
    const sorted = [...this.#intervals].sort((a, b) => a[0] - b[0]);
    let total = 0;
    let coveredUntil = Number.NEGATIVE_INFINITY;
    for (const [start, end] of sorted) {
      const from = Math.max(start, coveredUntil);
      if (end > from) total += end - from;
      coveredUntil = Math.max(coveredUntil, end);
    }
    return total;
  }
}
