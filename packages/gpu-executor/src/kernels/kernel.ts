import type { GpuKernel } from '../gpu/gpu-kernel.js';

export type TypedArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * A columnar batch: every field a typed array, so a million items are a few
 * arrays, not a million objects, and a worker can read them from shared memory.
 */
export type Columns = { readonly [column: string]: TypedArray };

/** Relative costs the scheduler starts from before it has measured anything. */
export interface CostHint {
  /** Rough single-thread CPU time per item, nanoseconds. */
  cpuNsPerItem: number;
  /** Bytes the GPU path moves per item (both ways), for transfer estimates. */
  gpuBytesPerItem: number;
  /** Default batch size from which the GPU is worth trying (threshold strategy). */
  gpuThreshold: number;
}

/**
 * A kernel is a self-contained module: validation, a CPU implementation over
 * columns, a cost hint and, where it has one, a GPU program. Outputs have a
 * fixed number of elements per item, so any range of items can be written by
 * any device into one shared output.
 */
export interface Kernel<I, O> {
  readonly name: string;
  /**
   * URL of a module whose `kernel` export is this kernel; worker threads import
   * it to run the CPU path. Built-in kernels set it to their own module.
   */
  readonly moduleUrl: string;
  /** Output elements per item (4-byte f32 sum: 1; SHA-256: 32 bytes; verdict: 1). */
  readonly outputWidth: number;
  readonly cost: CostHint;
  /** Checks and normalizes untrusted input; throws ExecutorError INVALID_INPUT with the item index. */
  validate(input: unknown): I;
  /** Number of items in a validated input. */
  count(input: I): number;
  /** An output for `items` items, optionally over a given (e.g. shared) buffer. */
  createOutput(items: number, buffer?: ArrayBufferLike): O;
  /** Runs items [start, end) on the calling thread, writing their outputs into `output`. */
  cpu(input: I, output: O, start: number, end: number): void;
  /** Work units of items [start, end), for cost models where items differ in size (bytes hashed). */
  work?(input: I, start: number, end: number): number;
  readonly gpu?: GpuKernel<I, O>;
}

export function isTypedArray(value: unknown): value is TypedArray {
  return (
    value instanceof Uint8Array ||
    value instanceof Uint16Array ||
    value instanceof Uint32Array ||
    value instanceof Int32Array ||
    value instanceof Float32Array ||
    value instanceof Float64Array
  );
}

/** A kernel whose input is columns and output a typed array: it can run in worker threads. */
export type ColumnarKernel<I extends Columns = Columns, O extends TypedArray = TypedArray> = Kernel<I, O>;
