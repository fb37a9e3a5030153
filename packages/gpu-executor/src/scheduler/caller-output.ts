import { ExecutorError } from '../errors.js';
import { isTypedArray, type Kernel, type TypedArray } from '../kernels/kernel.js';

/**
 * Checks a caller's `output` option at the public boundary and returns it:
 * the kernel's own output type (`like`, the kernel's empty output) with
 * exactly `items * outputWidth` elements, sharing no bytes with a column of
 * the validated input (a device may read one item's input after writing
 * another's output). Anything else is INVALID_OPTION, before the batch runs.
 */
export function checkCallerOutput<I, O>(kernel: Kernel<I, O>, like: O, output: unknown, items: number, input: I): O {
  const need = items * kernel.outputWidth;
  const name = kernel.name;
  if (isTypedArray(like)) {
    const type = like.constructor.name;
    if (!isTypedArray(output) || output.constructor !== like.constructor) {
      throw new ExecutorError('INVALID_OPTION', `output must be a ${type} (the ${name} kernel's output), got ${describe(output)}`);
    }
    checkLength(output.length, need, items);
    const column = overlappedColumn(output, input);
    if (column !== undefined) throw new ExecutorError('INVALID_OPTION', `output shares memory with the input${column === '' ? '' : ` column "${column}"`}`);
  } else if (Array.isArray(like)) {
    if (!Array.isArray(output)) throw new ExecutorError('INVALID_OPTION', `output must be an Array (the ${name} kernel's output), got ${describe(output)}`);
    checkLength(output.length, need, items);
  } else {
    throw new ExecutorError('INVALID_OPTION', `the ${name} kernel's output cannot be supplied by the caller`);
  }
  return output as O;
}

function checkLength(length: number, need: number, items: number): void {
  if (length !== need) throw new ExecutorError('INVALID_OPTION', `output has ${length} elements; a batch of ${items} items needs exactly ${need}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? value.constructor?.name ?? 'an object' : typeof value;
}

/** The name of the input column that shares bytes with `output` ('' for an input that is one array), if any. */
function overlappedColumn(output: TypedArray, input: unknown): string | undefined {
  const columns: [string, unknown][] = isTypedArray(input) ? [['', input]] : typeof input === 'object' && input !== null ? Object.entries(input) : [];
  const start = output.byteOffset;
  const end = start + output.byteLength;
  for (const [name, column] of columns) {
    if (!isTypedArray(column) || column.buffer !== output.buffer) continue;
    if (column.byteOffset < end && start < column.byteOffset + column.byteLength) return name;
  }
  return undefined;
}
