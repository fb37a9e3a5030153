import { ExecutorError, abortError } from '../src/errors.js';
import { CpuMapExecutor } from '../src/cpu/cpu-map-executor.js';
import type { Kernel } from '../src/kernels/kernel.js';
import type { ExecResult, ExecStats, Executor, RangeOptions } from '../src/types.js';

export type FakeGpuBehaviour = 'ok' | 'throw' | 'hang' | 'slow';

/**
 * A stand-in GPU for routing tests: computes with the CPU kernel but reports
 * itself as a GPU, or fails, or hangs until aborted. Real GPU faults are tested
 * against Dawn in webgpu.test.ts.
 */
export class FakeGpu<I, O> implements Executor<I, O> {
  readonly deviceKind = 'gpu' as const;
  readonly backend = 'fake-gpu';
  readonly kernel: Kernel<I, O>;
  behaviour: FakeGpuBehaviour;
  calls = 0;
  readonly #cpu: CpuMapExecutor<I, O>;

  constructor(kernel: Kernel<I, O>, behaviour: FakeGpuBehaviour = 'ok') {
    this.kernel = kernel;
    this.behaviour = behaviour;
    this.#cpu = new CpuMapExecutor(kernel);
  }

  isAvailable(): boolean {
    return true;
  }

  async execute(input: I): Promise<ExecResult<O>> {
    const validated = this.kernel.validate(input);
    const output = this.kernel.createOutput(this.kernel.count(validated));
    const stats = await this.executeInto(validated, output, { start: 0, end: this.kernel.count(validated) });
    return { output, stats };
  }

  async executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats> {
    this.calls++;
    const { signal } = options;
    if (this.behaviour === 'throw') throw new ExecutorError('DEVICE_LOST', 'injected device loss');
    if (this.behaviour === 'hang') {
      await new Promise<void>((_, reject) => {
        signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true });
      });
    }
    if (this.behaviour === 'slow') await new Promise((r) => setTimeout(r, 5));
    const stats = await this.#cpu.executeInto(input, output, options);
    return { ...stats, device: 'gpu', backend: this.backend };
  }

  async close(): Promise<void> {}
}
