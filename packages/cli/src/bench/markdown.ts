import { ROW_HEADER, fmtMs, fmtPct, fmtRate, fmtSize, fmtX, gpuLine, groups, machineLine, markdownTable, packagesLine, rowCells, transferTable } from './format.js';
import type { BenchReport, BenchRow } from './schema.js';

/** The phase 13 report's promised table (docs seed): ms for single thread, rayon on 8 cores, GPU. */
export const SEED_TABLE = [
  { kernel: 'vector-add', size: 1 << 20, label: 'vector add, 1M f32', cpu: 5, parallel: 1.2, gpu: 0.8 },
  { kernel: 'sha256', size: 10_000, label: 'SHA-256, 10K x 64 B', cpu: 120, parallel: 18, gpu: 8 },
  { kernel: 'ed25519-verify', size: 1_000, label: 'Ed25519 verify, 1K', cpu: 800, parallel: 110, gpu: 45 },
] as const;

const DEVICE_CASE_NAMES = new Set(['cpu-1t', 'cpu-pool', 'gpu', 'auto', 'co-exec']);

function cell(row: BenchRow | undefined): string {
  if (!row) return 'not run';
  if (row.medianMs === null) return row.note?.startsWith('skipped: over budget') ? 'over budget' : 'skipped';
  return `${fmtMs(row.medianMs)} ms${row.software ? ' (sw)' : ''}`;
}

/** The seed's table rebuilt from a report: expected numbers next to measured ones. */
export function seedTable(report: BenchReport): string[] {
  const header = ['workload', 'seed: CPU', 'seed: rayon, 8 cores', 'seed: GPU (simulated)', 'cpu-1t', `cpu-pool (${report.machine.cores} cores)`, 'gpu', 'auto', 'co-exec', 'JS loop / node:crypto, 1 thread', 'fastest peer'];
  const rows: string[][] = [];
  for (const s of SEED_TABLE) {
    const mine = report.rows.filter((r) => r.kernel === s.kernel && r.size === s.size);
    if (mine.length === 0) continue;
    const by = new Map(mine.map((r) => [r.case, r]));
    const peers = mine.filter((r) => !DEVICE_CASE_NAMES.has(r.case) && r.medianMs !== null).sort((a, b) => a.medianMs! - b.medianMs!);
    const best = peers[0];
    rows.push([
      s.label,
      `${s.cpu} ms`,
      `${s.parallel} ms`,
      `${s.gpu} ms`,
      cell(by.get('cpu-1t')),
      cell(by.get('cpu-pool')),
      cell(by.get('gpu')),
      cell(by.get('auto')),
      cell(by.get('co-exec')),
      cell(by.get('node:crypto') ?? by.get('js-loop')),
      best ? `${best.case}: ${fmtMs(best.medianMs)} ms` : '-',
    ]);
  }
  return markdownTable(header, rows);
}

/** Markdown: header, the seed's table measured, one table per kernel and size, the GPU split. */
export function markdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`- Machine: ${machineLine(report)}`);
  out.push(`- GPU: ${gpuLine(report)}`);
  out.push(`- Packages: ${packagesLine(report)}`);
  out.push(`- Command: \`${report.command}\` (${report.createdAt})`);
  const more = report.minSampleMs > 0 ? `, more for short cases until ${report.minSampleMs} ms of timed runs (at most 50)` : '';
  out.push(`- Method: ${report.warmup} warm-up run, then ${report.repeat} timed runs per case${more}; fewer where a case would exceed its ${report.budgetMs / 1000} s budget. Median and p95 (nearest rank). Inputs built once per size, in shared memory.`);
  out.push('', '### The seed\'s table, measured', '');
  out.push('Medians. The seed\'s columns are the phase 13 report\'s expected numbers (its GPU column was simulated), not measurements. `(sw)`: a software GPU adapter.', '');
  out.push(...seedTable(report));
  for (const g of groups(report)) {
    out.push('', `### ${g.kernel}, ${fmtSize(g.size)} items (${g.size})`, '');
    out.push(...markdownTable(ROW_HEADER.slice(2), g.rows.map((r) => rowCells(r).slice(2))));
  }
  const gpuRows = report.rows.filter((r) => r.gpuTimings);
  if (gpuRows.length > 0) {
    out.push('', '### GPU time split (run at the median)', '');
    out.push(
      ...markdownTable(
        ['kernel', 'size', 'case', 'median ms', 'upload ms', 'compute ms', 'download ms', 'bytes up', 'bytes down', 'chunks', 'timing source', 'items/s'],
        gpuRows.map((r) => {
          const t = r.gpuTimings!;
          return [r.kernel, fmtSize(r.size), r.case, fmtMs(r.medianMs), fmtMs(t.uploadMs), fmtMs(t.computeMs), fmtMs(t.downloadMs), String(t.bytesUploaded), String(t.bytesDownloaded), String(t.chunks), t.source, fmtRate(r.throughput)];
        }),
      ),
    );
  }
  const transfers = transferTable(report);
  if (transfers) {
    out.push('', '### GPU transfers and fixed costs (before the rows, reused staging buffers)', '');
    out.push(...markdownTable(transfers.header, transfers.rows), '', `${transfers.line[0]!.toUpperCase()}${transfers.line.slice(1)}.`);
  }
  const autos = report.rows.filter((r) => r.case === 'auto' && r.regret !== undefined && r.regret !== null);
  if (autos.length > 0) {
    const routes = (t: NonNullable<BenchRow['interleaved']>): string => (t.routes && Object.keys(t.routes).length > 1 ? `, auto ran ${Object.entries(t.routes).map(([backend, n]) => `${backend} ${n}`).join(', ')}` : '');
    const interleaved = (r: BenchRow): string => (r.interleaved ? ` (in turns: ${fmtX(r.interleaved.regret)} over ${r.interleaved.best}, ${r.interleaved.rounds} rounds${routes(r.interleaved)})` : '');
    out.push('', `Routing regret (auto over the best single device): ${autos.map((r) => `${r.kernel} ${fmtSize(r.size)} ${fmtX(r.regret)}${interleaved(r)}`).join(', ')}.`);
  }
  const pools = report.rows.filter((r) => r.poolEfficiency !== undefined);
  if (pools.length > 0) {
    const scaling = report.parallelScaling;
    const machine = scaling ? ` Plain arithmetic on ${scaling.threads} threads ran ${fmtX(scaling.start)} and ${fmtX(scaling.end)} one thread's rate at the start and end of the run.` : '';
    out.push('', `Pool efficiency (cpu-pool over cpu-1t x threads): ${pools.map((r) => `${r.kernel} ${fmtSize(r.size)} ${fmtPct(r.poolEfficiency!.value)}${r.poolEfficiency!.inTurns ? ` (${fmtPct(r.poolEfficiency!.inTurns.value)} in turns)` : ''}`).join(', ')}.${machine}`);
  }
  return out.join('\n') + '\n';
}
