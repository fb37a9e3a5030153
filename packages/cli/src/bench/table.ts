import { ROW_HEADER, alignColumns, gpuLine, groups, machineLine, packagesLine, rowCells, transferTable } from './format.js';
import type { BenchReport } from './schema.js';

/** The summary printed at the end of a run: machine, GPU, then every row, a blank line between groups. */
export function consoleTable(report: BenchReport): string {
  const lines = [ROW_HEADER];
  const breaks = new Set<number>();
  for (const g of groups(report)) {
    breaks.add(lines.length);
    for (const r of g.rows) lines.push(rowCells(r));
  }
  const aligned = alignColumns(lines);
  const out = [`machine  ${machineLine(report)}`, `gpu      ${gpuLine(report)}`, `packages ${packagesLine(report)}`, `run      ${report.command}; warm-up ${report.warmup}, ${report.repeat} timed repeats, budget ${report.budgetMs / 1000} s a case`, ''];
  aligned.forEach((line, i) => {
    if (i > 1 && breaks.has(i)) out.push('');
    out.push(line);
  });
  const transfers = transferTable(report);
  if (transfers) out.push('', ...alignColumns([transfers.header, ...transfers.rows]), transfers.line);
  return out.join('\n');
}
