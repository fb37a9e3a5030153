import type { Kernel } from '../kernels/kernel.js';
import type { GpuAdapterDescription } from './device.js';

/**
 * The GPU half of a kernel, as a declarative plan that the WebGPU executor runs.
 * The executor owns everything device-side: staging buffers, chunking by binding
 * limits, double buffering, timing, fault handling. The kernel only says how its
 * items become bytes and back.
 *
 * Binding layout of every kernel shader, group 0:
 *   0 .. k-1   `var<storage, read>` per-chunk inputs, in the order `pack` returns them
 *   k          `var<storage, read_write>` output, `outputBytes(count)` bytes
 *   k + 1      `var<storage, read>` params: array<u32>; params[0] = items in this chunk,
 *              params[1..] = whatever `params` returns
 *   k + 2 ..   `var<storage, read>` static tables (`tables`), uploaded once per device
 * The shader declares `override WG: u32;` and `@workgroup_size(WG)`; the item index is
 * `gid.x + gid.y * nwg.x * WG` (2-D dispatch when one dimension is not enough).
 */
export interface GpuKernel<I, O> {
  /** WGSL source. Compiled once per device and workgroup size (PipelineCache). */
  readonly code: string;
  readonly entryPoint: string;
  /** Preferred workgroup size; clamped to the device's limits. */
  readonly workgroupSize: number;
  /** Number of per-chunk input bindings (k). */
  readonly inputBindings: number;
  /**
   * Byte multiple every input and output binding is padded to (zeros), so a
   * shader may read whole vec4<u32> words past the last item. Default 4.
   */
  readonly bindingAlignment?: number;
  /**
   * A reason this device cannot run items [start, end) correctly (e.g. a
   * software rasterizer's loop limit), or undefined. The executor then fails
   * the batch with BACKEND_UNAVAILABLE, so the scheduler runs it on the CPU:
   * never a silently wrong output.
   */
  unsupported?(input: I, start: number, end: number, adapter: GpuAdapterDescription): string | undefined;
  /** Static, read-only tables (e.g. precomputed multiples of a base point). */
  tables?(): readonly Uint8Array[];
  /**
   * The largest `stop` in (start, end] such that items [start, stop) fit in one
   * dispatch whose every binding is at most `maxBindingBytes`.
   */
  chunkEnd(input: I, start: number, end: number, maxBindingBytes: number): number;
  /** Bytes of each input binding for items [start, end); views of the input where possible. */
  pack(input: I, start: number, end: number): readonly Uint8Array[];
  /**
   * For kernels whose single input binding costs real CPU time to build
   * (Ed25519: SHA-512 and mod L per item): the same bytes `pack` returns, as a
   * CPU kernel with one fixed-size record per item. An executor with a worker
   * pool runs it there, over shared memory, and binds the records instead of
   * calling `pack`.
   */
  readonly hostPack?: Kernel<I, Uint8Array>;
  /** Kernel-specific params after the item count (params[1..]). */
  params?(input: I, start: number, end: number): readonly number[];
  /** Output bytes for `count` items. */
  outputBytes(count: number): number;
  /** Invocations needed for `count` items (usually `count`). */
  invocations(count: number): number;
  /** Copies a chunk's output bytes into the final output at items [start, end). */
  unpack(bytes: Uint8Array, output: O, start: number, end: number): void;
}
