import { alignColumns, fmtMs, fmtRate, fmtSize, fmtX, gpuLine, machineLine } from './format.js';
import type { BenchReport, BenchRow } from './schema.js';

const key = (r: BenchRow): string => `${r.kernel}|${r.size}|${r.case}`;

/**
 * Side by side: every kernel, size and case of either report, a's and b's
 * medians, and b's speedup over a (a's median over b's; above 1, b is faster).
 */
export function compareReports(a: BenchReport, b: BenchReport, names: [string, string] = ['a', 'b']): string {
  const [na, nb] = names;
  const ia = new Map(a.rows.map((r) => [key(r), r]));
  const ib = new Map(b.rows.map((r) => [key(r), r]));
  const keys = [...new Set([...a.rows.map(key), ...b.rows.map(key)])];
  const lines = [['kernel', 'size', 'case', `${na} ms`, `${nb} ms`, `${na} items/s`, `${nb} items/s`, `${nb} vs ${na}`]];
  for (const k of keys) {
    const ra = ia.get(k);
    const rb = ib.get(k);
    const r = (ra ?? rb)!;
    const ratio = ra?.medianMs && rb?.medianMs ? ra.medianMs / rb.medianMs : null;
    lines.push([r.kernel, fmtSize(r.size), r.case, ra ? fmtMs(ra.medianMs) : 'absent', rb ? fmtMs(rb.medianMs) : 'absent', fmtRate(ra?.throughput), fmtRate(rb?.throughput), fmtX(ratio)]);
  }
  return [
    `${na}: ${machineLine(a)}; GPU ${gpuLine(a)}; ${a.createdAt}`,
    `${nb}: ${machineLine(b)}; GPU ${gpuLine(b)}; ${b.createdAt}`,
    `${nb} vs ${na}: ${na}'s median over ${nb}'s (above 1x: ${nb} is faster)`,
    '',
    ...alignColumns(lines),
  ].join('\n');
}
