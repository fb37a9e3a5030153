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

/** Bytes of a kernel's output for `items` items. */
export function outputBytes(kernel: Kernel<unknown, TypedArray>, items: number): number {
  return items * kernel.outputWidth * kernel.createOutput(0).BYTES_PER_ELEMENT;
}

/** A kernel output for `items` items backed by a SharedArrayBuffer, so workers write it in place. */
export function createSharedOutput<O extends TypedArray>(kernel: Kernel<unknown, O>, items: number): O {
  return kernel.createOutput(items, new SharedArrayBuffer(outputBytes(kernel, items)));
}

/**
 * Every column in shared memory: shared columns as they are, the others copied
 * into buffers from `acquire` (the caller releases them after the batch).
 */
export function stageColumns<I extends Columns>(columns: I, acquire: (bytes: number) => SharedArrayBuffer): I {
  const out: Record<string, TypedArray> = {};
  for (const [name, column] of Object.entries(columns)) {
    if (isShared(column)) {
      out[name] = column;
      continue;
    }
    const Ctor = column.constructor as TypedArrayConstructor;
    const staged = new Ctor(acquire(column.byteLength), 0, column.length);
    staged.set(column as never);
    out[name] = staged;
  }
  return out as I;
}
