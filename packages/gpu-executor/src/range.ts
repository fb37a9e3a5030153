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
  const stats = await executor.executeInto(validated, output, rangeOptions(options, 0, items));
  return { output, stats };
}

/**
 * `options` for the items [start, end), with `signal` in place of the caller's where given. Built
 * field by field, not spread: batches come one after another on this path, and a spread of
 * objects of several shapes is V8's slow generic copy (see `routedStats` in the scheduler).
 */
export function rangeOptions(options: ExecuteOptions & { maxThreads?: number }, start: number, end: number, signal = options.signal): RangeOptions {
  const range: RangeOptions = { start, end };
  if (signal !== undefined) range.signal = signal;
  if (options.priority !== undefined) range.priority = options.priority;
  if (options.maxThreads !== undefined) range.maxThreads = options.maxThreads;
  return range;
}
