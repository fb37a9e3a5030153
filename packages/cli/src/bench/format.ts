import type { GpuTimings } from '@supervm/gpu-executor';
import type { BenchReport, BenchRow } from './schema.js';

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Milliseconds with three significant-ish digits; `-` for a skipped value. */
export function fmtMs(ms: number | null | undefined): string {
  if (!finite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

function scaled(value: number | null | undefined, unit: string): string {
  if (!finite(value) || value <= 0) return '-';
  for (const [prefix, scale] of [['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) {
    if (value >= scale) return `${(value / scale).toFixed(value / scale >= 100 ? 0 : 2)} ${prefix}${unit}`;
  }
  return `${value.toFixed(0)} ${unit}`;
}

/** Items per second: `12.3 M/s`. */
export const fmtRate = (r: number | null | undefined): string => scaled(r, '/s');
/** Bytes per second: `1.23 GB/s`. */
export const fmtBytes = (r: number | null | undefined): string => scaled(r, 'B/s');
/** A ratio: `1.23x`. */
/** A fraction as a whole percentage: 0.853 -> `85%`. */
export const fmtPct = (fraction: number): string => `${(fraction * 100).toFixed(0)}%`;

export const fmtX = (x: number | null | undefined): string => (finite(x) ? `${x >= 100 ? x.toFixed(0) : x.toFixed(2)}x` : '-');

/** `upload/compute/download` ms of a GPU row. */
export const fmtGpuSplit = (t: GpuTimings | undefined): string =>
  t ? `${fmtMs(t.uploadMs)}/${fmtMs(t.computeMs)}/${fmtMs(t.downloadMs)}${t.source === 'timestamp' ? ' (ts)' : ''}` : '';

export function gpuLine(report: BenchReport): string {
  const g = report.gpu;
  if (!g.available) return `none (${g.reason})`;
  return `${g.summary} (${g.backend}, ${g.featureLevel}${g.software ? ', software rasterizer: exact but runs on the CPU' : ''}${g.timestampQuery ? ', timestamp queries' : ''})`;
}

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  const load = report.load ? `; load average ${report.load.start.toFixed(2)} at start, ${report.load.end.toFixed(2)} at end` : '';
  return `${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, node ${m.node}, ${m.platform}${load}`;
}

export function packagesLine(report: BenchReport): string {
  return Object.entries(report.machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
}

/** Kernel and size groups in report order. */
export function groups(report: BenchReport): { kernel: string; size: number; rows: BenchRow[] }[] {
  const seen = new Map<string, { kernel: string; size: number; rows: BenchRow[] }>();
  for (const r of report.rows) {
    const key = `${r.kernel}|${r.size}`;
    let g = seen.get(key);
    if (!g) seen.set(key, (g = { kernel: r.kernel, size: r.size, rows: [] }));
    g.rows.push(r);
  }
  return [...seen.values()];
}

/** `1M`, `10K`, `16M` for sizes that are round in base 2 or 10; else the number. */
export function fmtSize(n: number): string {
  for (const [suffix, scale] of [['M', 1 << 20], ['K', 1 << 10]] as const) if (n >= scale && n % scale === 0) return `${n / scale}${suffix}i`;
  for (const [suffix, scale] of [['M', 1e6], ['K', 1e3]] as const) if (n >= scale && n % scale === 0) return `${n / scale}${suffix}`;
  return String(n);
}

/** Columns of text padded to equal widths (the last one left ragged). */
export function alignColumns(lines: string[][]): string[] {
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  return lines.map((cells) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/** A Markdown table; pipes inside cells escaped. */
export function markdownTable(header: string[], rows: string[][]): string[] {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

/** The cells every detailed table shows for a row. */
export function rowCells(r: BenchRow): string[] {
  return [
    r.kernel,
    fmtSize(r.size),
    r.case,
    r.device,
    fmtMs(r.medianMs),
    fmtMs(r.p95Ms),
    String(r.samples),
    fmtRate(r.throughput),
    r.bytesPerSecond === undefined ? '' : fmtBytes(r.bytesPerSecond),
    fmtX(r.speedup),
    r.regret === undefined ? '' : `${fmtX(r.regret)}${r.interleaved ? ` (${fmtX(r.interleaved.regret)} in turns)` : ''}`,
    fmtGpuSplit(r.gpuTimings),
    r.verified === undefined ? '' : r.verified ? 'yes' : 'NO',
    r.note ?? '',
  ];
}

export const ROW_HEADER = ['kernel', 'size', 'case', 'device', 'median ms', 'p95 ms', 'runs', 'items/s', 'bytes/s', 'vs cpu-1t', 'regret', 'gpu up/compute/down ms', 'same output', 'note'];

const gb = (x: number): string => (finite(x) ? x.toFixed(x >= 100 ? 0 : 1) : '-');

/** The GPU's fixed costs (`gpuTransfers`) as a header, rows and a closing line; none without them. */
export function transferTable(report: BenchReport): { header: string[]; rows: string[][]; line: string } | undefined {
  const g = report.gpuTransfers;
  if (g === undefined) return undefined;
  const header = ['transfer', 'upload GB/s', 'host copy', 'DMA', 'in 4 pieces', 'download GB/s', 'DMA + map', 'copy out'];
  const rows = g.transfers.map((t) => [
    `${(t.bytes / 2 ** 20).toFixed(t.bytes >= 2 ** 20 ? 0 : 2)} MiB`,
    gb(t.uploadGBps),
    gb(t.uploadHostCopyGBps),
    gb(t.uploadDmaGBps),
    gb(t.uploadPipelinedGBps),
    gb(t.downloadGBps),
    gb(t.downloadDmaGBps),
    gb(t.downloadHostCopyGBps),
  ]);
  const resident = g.resident.map((r) => `${fmtSize(r.elements)} ${r.dispatchUs.toFixed(1)} us (${gb(r.effectiveGBps)} GB/s)`).join(', ');
  return { header, rows, line: `tiny batch round trip (vector add of 16) ${g.tinyRoundTripUs.toFixed(0)} us; vector add on resident buffers: ${resident}` };
}
