/**
 * Worker-thread side of the pool: imports a kernel module once, then runs item
 * ranges over columns that live in shared memory, writing into a shared output.
 * Nothing is copied in either direction.
 */
import type { Columns, ColumnarKernel } from '../kernels/kernel.js';

export interface WorkerTask {
  moduleUrl: string;
  columns: Columns;
  /** Shared output buffer holding `items` outputs from byte 0. */
  output: SharedArrayBuffer;
  items: number;
  start: number;
  end: number;
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

export default async function runRange(task: WorkerTask): Promise<number> {
  const kernel = await load(task.moduleUrl);
  kernel.cpu(task.columns, kernel.createOutput(task.items, task.output), task.start, task.end);
  return task.end - task.start;
}
