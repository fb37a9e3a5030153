import type { BenchReport, BenchRow } from './schema.js';

const fmtMs = (ms: number): string => (Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)) : '-');
const fmtRate = (r: number): string => {
  if (!Number.isFinite(r) || r <= 0) return '-';
  for (const [unit, scale] of [['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (r >= scale) return `${(r / scale).toFixed(2)}${unit}/s`;
  return `${r.toFixed(0)}/s`;
};
const fmtX = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);

/** Seed (phase 13 report) expected times, ms: single thread, 8-core rayon, GPU. */
export const SEED_TABLE = [
  { kernel: 'vector-add', size: 1 << 20, label: 'vector add (1M f32)', cpu: 5, parallel: 1.2, gpu: 0.8 },
  { kernel: 'sha256', size: 10_000, label: 'SHA-256 (10K x 64 B)', cpu: 120, parallel: 18, gpu: 8 },
  { kernel: 'ed25519-verify', size: 1_000, label: 'Ed25519 verify (1K)', cpu: 800, parallel: 110, gpu: 45 },
];

function rowsOf(report: BenchReport, kernel: string, size: number): Map<string, BenchRow> {
  return new Map(report.rows.filter((r) => r.kernel === kernel && r.size === size).map((r) => [r.case, r]));
}

function groups(report: BenchReport): [string, number][] {
  const seen = new Map<string, [string, number]>();
  for (const r of report.rows) seen.set(`${r.kernel}|${r.size}`, [r.kernel, r.size]);
  return [...seen.values()];
}

function tableLines(report: BenchReport, separator: boolean): string[] {
  const header = ['kernel', 'size', 'case', 'device', 'median ms', 'p95 ms', 'throughput', 'vs cpu-1t', 'regret', 'note'];
  const lines = [header];
  for (const r of report.rows) {
    lines.push([r.kernel, String(r.size), r.case, r.device, fmtMs(r.medianMs), fmtMs(r.p95Ms), fmtRate(r.throughput), fmtX(r.speedup), fmtX(r.regret), r.note ?? '']);
  }
  if (separator) {
    const md = lines.map((cells) => `| ${cells.join(' | ')} |`);
    md.splice(1, 0, `|${header.map(() => ' --- ').join('|')}|`);
    return md;
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines.map((cells) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '));
}

export function consoleTable(report: BenchReport): string {
  const gpu = report.gpu.available ? `${report.gpu.adapter} (${report.gpu.backend}${report.gpu.software ? ', software' : ''})` : `none (${report.gpu.reason})`;
  return [`${report.machine.cpuModel}, ${report.machine.cores} cores, node ${report.machine.node}; GPU: ${gpu}`, ...tableLines(report, false)].join('\n');
}

export function markdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`Machine: ${report.machine.cpuModel}, ${report.machine.cores} cores, node ${report.machine.node}, ${report.machine.platform}.`);
  out.push(`GPU: ${report.gpu.available ? `${report.gpu.adapter} (webgpu:${report.gpu.backend}${report.gpu.software ? ', software rasterizer' : ''})` : `none (${report.gpu.reason})`}.`);
  out.push(`Command: \`${report.command}\`, ${report.repeat} timed repeats after a warm-up, median (p95 in the full table). ${report.createdAt}.`, '');
  out.push('### The seed\'s table, measured', '');
  out.push('| workload | seed: CPU | seed: 8-core rayon | seed: GPU | cpu-1t | cpu-pool | gpu | auto | best peer |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of SEED_TABLE) {
    const rows = rowsOf(report, s.kernel, s.size);
    if (rows.size === 0) continue;
    const cell = (name: string): string => fmtMs(rows.get(name)?.medianMs ?? Number.NaN) + (rows.has(name) && Number.isFinite(rows.get(name)!.medianMs) ? ' ms' : '');
    const peers = [...rows.values()].filter((r) => !['cpu-1t', 'cpu-pool', 'gpu', 'auto', 'co-exec'].includes(r.case) && Number.isFinite(r.medianMs));
    const best = peers.sort((a, b) => a.medianMs - b.medianMs)[0];
    out.push(`| ${s.label} | ${s.cpu} ms | ${s.parallel} ms | ${s.gpu} ms | ${cell('cpu-1t')} | ${cell('cpu-pool')} | ${cell('gpu')} | ${cell('auto')} | ${best ? `${best.case} ${fmtMs(best.medianMs)} ms` : '-'} |`);
  }
  out.push('', '### Every row', '', ...tableLines(report, true));
  return out.join('\n') + '\n';
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars of throughput (log scale), one block per kernel and size. */
export function svgChart(report: BenchReport): string {
  const bars = report.rows.filter((r) => Number.isFinite(r.throughput) && r.throughput > 0);
  const barH = 16;
  const gap = 4;
  const left = 250;
  const width = 900;
  const plotW = width - left - 120;
  const max = Math.log10(Math.max(...bars.map((b) => b.throughput), 10));
  const min = Math.max(0, Math.floor(Math.log10(Math.min(...bars.map((b) => b.throughput), 1e9))) - 1);
  const parts: string[] = [];
  let y = 40;
  for (const [kernel, size] of groups(report)) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(`${kernel} x ${size}`)}</text>`);
    y += barH + gap;
    for (const b of bars.filter((r) => r.kernel === kernel && r.size === size)) {
      const w = Math.max(1, ((Math.log10(b.throughput) - min) / (max - min)) * plotW);
      const color = b.device === 'gpu' ? '#76b900' : b.device === 'mixed' ? '#e69f00' : b.case.startsWith('cpu') ? '#0072b2' : '#999999';
      parts.push(`<text x="${left - 6}" y="${y + 12}" text-anchor="end">${escapeXml(b.case)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
      parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + 12}">${escapeXml(fmtRate(b.throughput))}</text>`);
      y += barH + gap;
    }
    y += 10;
  }
  const title = `items/s (log scale) — ${report.machine.cpuModel}, ${report.machine.cores} cores; GPU: ${report.gpu.available ? report.gpu.adapter : 'none'}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Ratio table of two reports: b's median over a's, per matching row. */
export function compareReports(a: BenchReport, b: BenchReport): string {
  const index = new Map(a.rows.map((r) => [`${r.kernel}|${r.size}|${r.case}`, r]));
  const lines = [`a: ${a.machine.cpuModel} (${a.machine.cores} cores), GPU ${a.gpu.adapter ?? 'none'}`, `b: ${b.machine.cpuModel} (${b.machine.cores} cores), GPU ${b.gpu.adapter ?? 'none'}`, ''];
  const rows = [['kernel', 'size', 'case', 'a ms', 'b ms', 'b/a']];
  for (const r of b.rows) {
    const ra = index.get(`${r.kernel}|${r.size}|${r.case}`);
    if (!ra) continue;
    rows.push([r.kernel, String(r.size), r.case, fmtMs(ra.medianMs), fmtMs(r.medianMs), fmtX(r.medianMs / ra.medianMs)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((l) => l[c]!.length)));
  return [...lines, ...rows.map((cells) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  '))].join('\n');
}
