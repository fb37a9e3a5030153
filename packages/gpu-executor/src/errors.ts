/** Stable error codes: callers switch on these, so they never change meaning. */
export type ExecutorErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_OPTION'
  | 'BACKEND_UNAVAILABLE'
  | 'KERNEL_FAILED'
  | 'DEVICE_LOST'
  | 'OUT_OF_MEMORY'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'QUEUE_FULL'
  | 'CLOSED';

export interface ExecutorErrorOptions {
  /** Index of the offending item in the batch, where there is one. */
  index?: number;
  cause?: unknown;
}

export class ExecutorError extends Error {
  readonly code: ExecutorErrorCode;
  readonly index: number | undefined;

  constructor(code: ExecutorErrorCode, message: string, options: ExecutorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ExecutorError';
    this.code = code;
    this.index = options.index;
  }
}

export function isExecutorError(err: unknown, code?: ExecutorErrorCode): err is ExecutorError {
  return err instanceof ExecutorError && (code === undefined || err.code === code);
}

export function invalidInput(message: string, index?: number): ExecutorError {
  return new ExecutorError('INVALID_INPUT', index === undefined ? message : `${message} (item ${index})`, { index });
}

export function abortError(signal: AbortSignal): ExecutorError {
  return new ExecutorError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}

/** Throws ABORTED if the signal has fired; call at every point where work can stop cheaply. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
