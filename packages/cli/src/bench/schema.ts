import type { GpuTimings } from '@supervm/gpu-executor';
import type { MachineInfo } from '../machine.js';

/** Version of the JSON `supervm bench --json` writes; bumped on any incompatible change. */
export const BENCH_SCHEMA_VERSION = 1;

export interface BenchRow {
  kernel: string;
  /** Items in the batch (f32 elements, messages, signatures). */
  size: number;
  /** `cpu-1t`, `cpu-pool`, `gpu`, `auto`, `co-exec`, or a peer such as `node:crypto`. */
  case: string;
  device: 'cpu' | 'gpu' | 'mixed' | 'none';
  medianMs: number;
  p95Ms: number;
  /** Items per second at the median. */
  throughput: number;
  /** Median of `cpu-1t` divided by this row's median. */
  speedup: number;
  /** `auto` only: its median over the best single-device median (cpu-1t, cpu-pool, gpu) of the same run. */
  regret?: number;
  /** GPU rows: upload / compute / download split of the median run. */
  gpuTimings?: GpuTimings;
  /** Why a row was skipped (its timings are then null in JSON), or what it measured differently. */
  note?: string;
}

export interface BenchReport {
  schemaVersion: typeof BENCH_SCHEMA_VERSION;
  createdAt: string;
  command: string;
  machine: MachineInfo;
  gpu: { available: boolean; adapter?: string; backend?: string; software?: boolean; reason?: string };
  repeat: number;
  rows: BenchRow[];
}

/** Checks a parsed report's shape (used by --compare and the tests); returns problems, empty when valid. */
export function validateReport(value: unknown): string[] {
  const problems: string[] = [];
  const r = value as Partial<BenchReport> | null;
  if (typeof r !== 'object' || r === null) return ['not an object'];
  if (r.schemaVersion !== BENCH_SCHEMA_VERSION) problems.push(`schemaVersion is ${String(r.schemaVersion)}, expected ${BENCH_SCHEMA_VERSION}`);
  if (typeof r.machine?.cpuModel !== 'string') problems.push('machine.cpuModel missing');
  if (typeof r.gpu?.available !== 'boolean') problems.push('gpu.available missing');
  if (!Array.isArray(r.rows)) return [...problems, 'rows missing'];
  r.rows.forEach((row, i) => {
    for (const k of ['kernel', 'case', 'device'] as const) if (typeof row[k] !== 'string') problems.push(`rows[${i}].${k} is not a string`);
    if (typeof row.size !== 'number') problems.push(`rows[${i}].size is not a number`);
    // A skipped row (note says why) has no timings: JSON null.
    for (const k of ['medianMs', 'p95Ms', 'throughput', 'speedup'] as const) {
      if (typeof row[k] !== 'number' && !(row[k] === null && typeof row.note === 'string')) problems.push(`rows[${i}].${k} is not a number`);
    }
  });
  return problems;
}
