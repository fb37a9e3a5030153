import { ExecutorError } from '../errors.js';
import type { Kernel } from '../kernels/kernel.js';
import type { ExecResult, ExecStats, Executor } from '../types.js';

/** A GPU that is never there: the seed's placeholder, and what the scheduler gets on machines without one. */
export class UnavailableGpu<I = unknown, O = unknown> implements Executor<I, O> {
  readonly deviceKind = 'gpu' as const;
  readonly backend = 'unavailable';
  readonly reason: string;
  readonly kernel: Kernel<I, O> | undefined;

  constructor(reason = 'no GPU backend configured', kernel?: Kernel<I, O>) {
    this.reason = reason;
    this.kernel = kernel;
  }

  isAvailable(): boolean {
    return false;
  }

  async execute(): Promise<ExecResult<O>> {
    throw new ExecutorError('BACKEND_UNAVAILABLE', `GPU unavailable: ${this.reason}`);
  }

  async executeInto(): Promise<ExecStats> {
    throw new ExecutorError('BACKEND_UNAVAILABLE', `GPU unavailable: ${this.reason}`);
  }

  async close(): Promise<void> {}
}
