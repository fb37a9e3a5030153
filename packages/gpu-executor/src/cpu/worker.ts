/**
 * Worker-thread side of the pool: imports a kernel module once, then runs item
 * ranges over columns that live in shared memory, writing into a shared output.
 * Nothing is copied in either direction.
 */
import type { Columns, ColumnarKernel } from '../kernels/kernel.js';

/** Words of a batch's `PartClaims.control`. */
export const NEXT_PART = 0;
export const STOP = 1;
export const PARTS_DONE = 2;

/**
 * The parts of one batch, claimed by workers in shared memory: a worker that
 * finishes a part takes the next one itself, without a round trip through the
 * main thread (which, with a worker on every core, waits for a core to run).
 */
export interface PartClaims {
  /** Part p is items bounds[p] .. bounds[p + 1]. */
  bounds: Uint32Array;
  /** [NEXT_PART]: the next part to claim (atomic add); [STOP]: 1 once the batch failed or was aborted; [PARTS_DONE]: parts finished. */
  control: Int32Array;
}

export interface WorkerTask {
  moduleUrl: string;
  columns: Columns;
  /** Shared output buffer holding `items` outputs from byte 0. */
  output: SharedArrayBuffer;
  items: number;
  /** The one range to run, when `parts` is absent. */
  start: number;
  end: number;
  /** Parts to claim until none is left; `start` and `end` are then ignored. */
  parts?: PartClaims;
  /** Set by the pool on normal-priority tasks: above 0 while high-priority tasks wait, and claiming stops after the current part. */
  yieldWhile?: Int32Array;
}

const kernels = new Map<string, Promise<ColumnarKernel>>();

function load(moduleUrl: string): Promise<ColumnarKernel> {
  let kernel = kernels.get(moduleUrl);
  if (kernel === undefined) {
    kernel = import(moduleUrl).then((mod: { kernel?: ColumnarKernel }) => {
      if (typeof mod.kernel?.cpu !== 'function') throw new TypeError(`${moduleUrl} has no kernel export`);
      return mod.kernel;
    });
    kernels.set(moduleUrl, kernel);
  }
  return kernel;
}

/** Runs the task's range, or claims its parts one by one; returns the items it ran. */
export default async function runRange(task: WorkerTask): Promise<number> {
  const kernel = await load(task.moduleUrl);
  const output = kernel.createOutput(task.items, task.output);
  const { parts, yieldWhile } = task;
  if (parts === undefined) {
    kernel.cpu(task.columns, output, task.start, task.end);
    return task.end - task.start;
  }
  const { bounds, control } = parts;
  const count = bounds.length - 1;
  let ran = 0;
  // At least one part per task, so every task moves the batch on; then none while high-priority tasks wait.
  while (Atomics.load(control, STOP) === 0 && !(ran > 0 && yieldWhile !== undefined && Atomics.load(yieldWhile, 0) > 0)) {
    const p = Atomics.add(control, NEXT_PART, 1);
    if (p >= count) break;
    try {
      kernel.cpu(task.columns, output, bounds[p]!, bounds[p + 1]!);
    } catch (err) {
      Atomics.store(control, STOP, 1);
      throw err;
    }
    ran += bounds[p + 1]! - bounds[p]!;
    Atomics.add(control, PARTS_DONE, 1);
  }
  return ran;
}
