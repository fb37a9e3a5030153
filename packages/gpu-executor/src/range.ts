import { ExecutorError } from './errors.js';

/** Validates a sub-range of a batch of `items` items. */
export function checkRange(start: number, end: number, items: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > items) {
    throw new ExecutorError('INVALID_OPTION', `range [${start}, ${end}) is not within a batch of ${items} items`);
  }
}
