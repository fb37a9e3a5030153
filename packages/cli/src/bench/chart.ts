import { fmtRate, fmtSize, groups } from './format.js';
import type { BenchReport, BenchRow } from './schema.js';

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const COLORS = { cpu: '#0072b2', gpu: '#009e73', mixed: '#e69f00', peer: '#999999' } as const;
const DEVICE_CASES = new Set(['cpu-1t', 'cpu-pool', 'gpu', 'auto', 'co-exec']);

function colorOf(r: BenchRow): string {
  if (!DEVICE_CASES.has(r.case)) return COLORS.peer;
  return r.device === 'gpu' ? COLORS.gpu : r.device === 'mixed' ? COLORS.mixed : COLORS.cpu;
}

/**
 * Horizontal bars of throughput (items/s, log scale), one block per kernel and
 * size; a skipped row is a labelled empty line. Hand-written SVG, no dependency.
 */
export function svgChart(report: BenchReport): string {
  const measured = report.rows.filter((r) => r.throughput !== null && r.throughput > 0).map((r) => r.throughput!);
  // Half the slowest rate sets the floor, so the slowest bar is still visible.
  const lo = Math.floor(Math.log10(Math.min(...measured, 1e3) / 2));
  const hi = Math.ceil(Math.log10(Math.max(...measured, 1e4)));
  const width = 960;
  const left = 190;
  const right = 210;
  const plotW = width - left - right;
  const barH = 14;
  const step = barH + 5;
  const x = (rate: number): number => left + ((Math.log10(rate) - lo) / Math.max(hi - lo, 1)) * plotW;
  const body: string[] = [];
  let y = 96;
  for (const g of groups(report)) {
    body.push(`<text x="10" y="${y + 11}" font-weight="bold">${escapeXml(`${g.kernel}, ${fmtSize(g.size)} items`)}</text>`);
    y += step;
    for (const r of g.rows) {
      body.push(`<text x="${left - 6}" y="${y + 11}" text-anchor="end">${escapeXml(r.case)}</text>`);
      if (r.throughput !== null && r.throughput > 0) {
        const w = Math.max(1, x(r.throughput) - left);
        const tip = `${r.case}: ${fmtRate(r.throughput)}, median ${r.medianMs?.toFixed(3)} ms${r.note ? `; ${r.note}` : ''}`;
        body.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colorOf(r)}"${r.software ? ' fill-opacity="0.55"' : ''}><title>${escapeXml(tip)}</title></rect>`);
        body.push(`<text x="${(left + w + 5).toFixed(1)}" y="${y + 11}">${escapeXml(fmtRate(r.throughput) + (r.software ? ' (software GPU)' : ''))}</text>`);
      } else {
        body.push(`<text x="${left + 5}" y="${y + 11}" fill="#888888" font-style="italic">${escapeXml((r.note ?? 'skipped').slice(0, 90))}</text>`);
      }
      y += step;
    }
    y += 8;
  }
  const axis: string[] = [];
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e).toFixed(1);
    axis.push(`<line x1="${gx}" y1="84" x2="${gx}" y2="${y}" stroke="#dddddd"/>`);
    axis.push(`<text x="${gx}" y="80" text-anchor="middle" fill="#555555">${escapeXml(fmtRate(10 ** e))}</text>`);
  }
  const legend = (
    [
      ['SuperVM on the CPU', COLORS.cpu],
      ['SuperVM on the GPU', COLORS.gpu],
      ['co-execution / split', COLORS.mixed],
      ['peer library', COLORS.peer],
    ] as const
  ).map(([label, color], i) => `<rect x="${10 + i * 200}" y="50" width="12" height="12" fill="${color}"/><text x="${28 + i * 200}" y="60">${escapeXml(label)}</text>`);
  const summary = report.gpu.available && report.gpu.summary.length > 48 ? `${report.gpu.summary.slice(0, 47)}…` : report.gpu.available ? report.gpu.summary : '';
  const gpu = report.gpu.available ? `GPU ${summary}${report.gpu.software ? ' (software adapter: pale bars)' : ''}` : 'no GPU';
  const title = 'supervm bench: throughput, items/s, log scale (longer is faster)';
  const subtitle = `${report.machine.cpuModel}, ${report.machine.cores} cores, node ${report.machine.node}; ${gpu}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 12}" viewBox="0 0 ${width} ${y + 12}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="38" fill="#333333">${escapeXml(subtitle)}</text>`,
    ...legend,
    ...axis,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
