import type { Columns, Kernel, TypedArray } from '../kernels/kernel.js';

type TypedArrayConstructor = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray; BYTES_PER_ELEMENT: number };

export function isShared(array: TypedArray): boolean {
  return array.buffer instanceof SharedArrayBuffer;
}

/** The same values in shared memory (the array itself when it already is), so workers read it without a copy each. */
export function toShared<T extends TypedArray>(array: T): T {
  if (isShared(array)) return array;
  const Ctor = array.constructor as TypedArrayConstructor;
  const shared = new Ctor(new SharedArrayBuffer(array.byteLength), 0, array.length);
  shared.set(array as never);
  return shared as T;
}

/** Every column in shared memory: one copy for columns that are not there yet. */
export function shareColumns<I extends Columns>(columns: I): I {
  const out: Record<string, TypedArray> = {};
  for (const [name, column] of Object.entries(columns)) out[name] = toShared(column);
  return out as I;
}

/** A kernel output for `items` items backed by a SharedArrayBuffer, so workers write it in place. */
export function createSharedOutput<O extends TypedArray>(kernel: Kernel<unknown, O>, items: number): O {
  const bytesPerItem = kernel.outputWidth * kernel.createOutput(0).BYTES_PER_ELEMENT;
  return kernel.createOutput(items, new SharedArrayBuffer(items * bytesPerItem));
}
