/** Worker-thread entry: joins the Block-STM loop of one block over its shared tables. */
import { runWorker } from './engine.js';
import type { BlockTables } from './layout.js';

export default function run(tables: BlockTables): number {
  return runWorker(tables);
}
