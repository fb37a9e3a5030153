import { ExecutorError } from './errors.js';
import type { Kernel } from './kernels/kernel.js';
import type { ExecResult, ExecStats, ExecuteOptions, RangeOptions } from './types.js';

/** Validates a sub-range of a batch of `items` items. */
export function checkRange(start: number, end: number, items: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > items) {
    throw new ExecutorError('INVALID_OPTION', `range [${start}, ${end}) is not within a batch of ${items} items`);
  }
}

/**
 * `Executor.execute` in terms of `executeInto`: validates the batch, allocates
 * its output (`createOutput`, by default the kernel's) and runs every item.
 */
export async function executeWhole<I, O>(
  executor: { readonly kernel: Kernel<I, O>; executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats> },
  input: I,
  options: ExecuteOptions,
  createOutput: (items: number) => O = (items) => executor.kernel.createOutput(items),
): Promise<ExecResult<O>> {
  const validated = executor.kernel.validate(input);
  const items = executor.kernel.count(validated);
  const output = createOutput(items);
  const stats = await executor.executeInto(validated, output, { ...options, start: 0, end: items });
  return { output, stats };
}
