import type { GpuTimings, ResidentFigure, TransferFigures } from '@supervm/gpu-executor';
import type { MachineInfo } from '../machine.js';

/**
 * Version of the JSON that `supervm bench --json` writes (docs/BENCHMARKS.md).
 * Adding an optional field keeps the version; renaming, removing or changing
 * the meaning of a field bumps it.
 */
export const BENCH_SCHEMA_VERSION = 1;

/** The cases every kernel and size gets, in this order; peers follow. */
export const DEVICE_CASES = ['cpu-1t', 'cpu-pool', 'gpu', 'auto', 'co-exec'] as const;

export interface BenchRow {
  /** The kernel's `name`: `vector-add`, `sha256`, `ed25519-verify`. */
  kernel: string;
  /** Items in the batch: f32 element pairs, messages, signatures. */
  size: number;
  /** `cpu-1t`, `cpu-pool`, `gpu`, `auto`, `co-exec`, or a peer: `node:crypto`, `node:crypto-workers`, `@noble/curves`, ... */
  case: string;
  /** Where the timed work ran: `mixed` is both devices at once; `none` a skipped row. */
  device: 'cpu' | 'gpu' | 'mixed' | 'none';
  /** Executor backend (`cpu-inline`, `cpu-pool`, `webgpu:vulkan`, `co-exec(...)`), or the peer's library and how it runs. */
  backend?: string;
  /** Threads the case used (CPU executors, worker peers). */
  threads?: number;
  /** Median wall time of one batch, ms; null when skipped. */
  medianMs: number | null;
  /** 95th percentile (nearest rank) of the timed runs, ms; null when skipped. */
  p95Ms: number | null;
  /** Timed runs behind the median (0 when skipped). */
  samples: number;
  /** Items per second at the median. */
  throughput: number | null;
  /** Payload bytes per second at the median, where bytes mean something (vector add: 12 B/item, SHA-256: message bytes). */
  bytesPerSecond?: number | null;
  /** Median of this size's `cpu-1t` over this row's median. */
  speedup: number | null;
  /** `auto` only: its median over the best single-device median (cpu-1t, cpu-pool, gpu) of the same run; 1 is a perfect choice. */
  regret?: number | null;
  /**
   * `auto` only: the devices within 2x of the best and `auto` run in turns,
   * `rounds` times, so all see the same machine (see `interleavedRegret`);
   * `regret` is auto's median over the best device's median of those rounds;
   * `routes` counts where auto's rounds ran (by backend).
   */
  interleaved?: { rounds: number; medianMs: Record<string, number>; best: string; regret: number; routes?: Record<string, number> };
  /**
   * `cpu-pool` only: its throughput over (cpu-1t throughput x the pool's
   * threads); cpu-1t of `oneThreadSize` (this size unless that was over budget).
   * `inTurns`: the same from cpu-1t and cpu-pool run in turns, `rounds` times
   * (see `mediansInTurns`), where the budget allows.
   */
  poolEfficiency?: {
    value: number;
    threads: number;
    oneThreadSize: number;
    inTurns?: { rounds: number; oneThreadMs: number; poolMs: number; value: number };
  };
  /**
   * `co-exec` only: the GPU's share of items (the median over the row's batches), and throughput over
   * (cpu-pool throughput + gpu throughput), 1 is perfect overlap; `inTurns`, the same with the GPU
   * alone and co-execution run in turns (the pool's rate from its row).
   */
  coexec?: {
    gpuShare: number;
    efficiency: number | null;
    basis: 'measured' | 'probe';
    inTurns?: { rounds: number; gpuMs: number; coexecMs: number; efficiency: number };
    /** Each part's median ms from its batch's start, and in how many of the batches the CPU part ended last. */
    parts?: { cpuMs: number; gpuMs: number; cpuLast: number; batches: number };
  };
  /** GPU and co-exec rows: host/device split of the run at the median (`stats.gpu`). */
  gpuTimings?: GpuTimings;
  /** GPU rows on a software rasterizer (Mesa llvmpipe): exact results, CPU speed. */
  software?: boolean;
  /** Executor rows: true when the output equals cpu-1t's byte for byte. */
  verified?: boolean;
  /** Why a row was skipped, or what it measured differently. */
  note?: string;
}

export type BenchGpu =
  | {
      available: true;
      /** One line: vendor, architecture, device, driver description. */
      summary: string;
      backend: string;
      vendor: string;
      architecture: string;
      device: string;
      description: string;
      software: boolean;
      featureLevel: string;
      timestampQuery: boolean;
    }
  | { available: false; reason: string };

export interface BenchReport {
  schemaVersion: typeof BENCH_SCHEMA_VERSION;
  createdAt: string;
  /** The command line that produced the report. */
  command: string;
  /** CPU, cores, node, platform, memory and package versions (peers' included). */
  machine: MachineInfo;
  gpu: BenchGpu;
  /** Timed repeats asked for (rows say how many they got: `samples`), warm-up runs, per-case time budget. */
  repeat: number;
  warmup: number;
  budgetMs: number;
  /** Short cases repeat until their timed runs add up to this many ms (at most 50 runs). */
  minSampleMs: number;
  quick: boolean;
  /** 1-minute load average when the run started and ended (os.loadavg): other work on the machine shows up here. */
  load?: { start: number; end: number };
  /** Throughput of `threads` threads of plain arithmetic over one thread's, at the start and end of the run (measureParallelScaling). */
  parallelScaling?: { threads: number; start: number; end: number };
  /**
   * The GPU's fixed costs, measured once before the rows when vector add is
   * benchmarked on a GPU (`measureGpu`): transfers by size through reused
   * staging buffers, the round trip of a 16-element batch (median of 300 after
   * 100 warm-up batches; a software adapter gets a small sample of each), and
   * vector add over buffers already on the GPU.
   */
  gpuTransfers?: { transfers: TransferFigures[]; tinyRoundTripUs: number; resident: ResidentFigure[] };
  rows: BenchRow[];
}

const DEVICES = new Set(['cpu', 'gpu', 'mixed', 'none']);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks a parsed report against the documented schema; returns the problems, empty when valid. */
export function validateReport(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) return ['not an object'];
  const r = value as Record<string, unknown>;
  if (r.schemaVersion !== BENCH_SCHEMA_VERSION) problems.push(`schemaVersion is ${JSON.stringify(r.schemaVersion)}, expected ${BENCH_SCHEMA_VERSION}`);
  for (const k of ['createdAt', 'command'] as const) if (typeof r[k] !== 'string') problems.push(`${k} is not a string`);
  for (const k of ['repeat', 'warmup', 'budgetMs', 'minSampleMs'] as const) if (!isNum(r[k])) problems.push(`${k} is not a number`);
  if (typeof r.quick !== 'boolean') problems.push('quick is not a boolean');
  const load = r.load as Record<string, unknown> | undefined;
  if (load !== undefined && !(isNum(load.start) && isNum(load.end))) problems.push('load needs start and end numbers');
  const m = r.machine as Record<string, unknown> | undefined;
  if (typeof m?.cpuModel !== 'string' || !isNum(m.cores) || typeof m.node !== 'string' || typeof m.packages !== 'object') {
    problems.push('machine needs cpuModel, cores, node and packages');
  }
  const g = r.gpu as Record<string, unknown> | undefined;
  if (typeof g?.available !== 'boolean') problems.push('gpu.available is not a boolean');
  else if (g.available && (typeof g.summary !== 'string' || typeof g.backend !== 'string' || typeof g.software !== 'boolean')) problems.push('gpu needs summary, backend and software');
  else if (!g.available && typeof g.reason !== 'string') problems.push('gpu.reason is not a string');
  const gt = r.gpuTransfers as Record<string, unknown> | undefined;
  if (gt !== undefined) {
    const numbers = (list: unknown, keys: readonly string[]): boolean => Array.isArray(list) && list.every((x: Record<string, unknown>) => typeof x === 'object' && x !== null && keys.every((k) => isNum(x[k])));
    if (!isNum(gt.tinyRoundTripUs)) problems.push('gpuTransfers.tinyRoundTripUs is not a number');
    if (!numbers(gt.transfers, ['bytes', 'uploadGBps', 'uploadHostCopyGBps', 'uploadDmaGBps', 'downloadGBps', 'downloadDmaGBps'])) problems.push('gpuTransfers.transfers needs bytes and GB/s figures');
    if (!numbers(gt.resident, ['elements', 'dispatchUs', 'effectiveGBps'])) problems.push('gpuTransfers.resident needs elements, dispatchUs and effectiveGBps');
  }
  if (!Array.isArray(r.rows)) return [...problems, 'rows is not an array'];
  r.rows.forEach((row: Record<string, unknown>, i) => {
    const at = `rows[${i}]`;
    if (typeof row !== 'object' || row === null) return problems.push(`${at} is not an object`);
    for (const k of ['kernel', 'case'] as const) if (typeof row[k] !== 'string') problems.push(`${at}.${k} is not a string`);
    if (!DEVICES.has(row.device as string)) problems.push(`${at}.device is ${JSON.stringify(row.device)}`);
    if (!Number.isInteger(row.size) || (row.size as number) < 1) problems.push(`${at}.size is not a positive integer`);
    if (!Number.isInteger(row.samples) || (row.samples as number) < 0) problems.push(`${at}.samples is not an integer >= 0`);
    const skipped = row.samples === 0;
    if (skipped && typeof row.note !== 'string') problems.push(`${at} is skipped without a note`);
    for (const k of ['medianMs', 'p95Ms', 'throughput', 'speedup'] as const) {
      // A skipped row has null timings; a measured one may lack a speedup only when cpu-1t was skipped.
      const ok = isNum(row[k]) || (row[k] === null && (skipped || k === 'speedup'));
      if (!ok) problems.push(`${at}.${k} is ${JSON.stringify(row[k])}`);
    }
    for (const k of ['bytesPerSecond', 'regret'] as const) if (row[k] !== undefined && row[k] !== null && !isNum(row[k])) problems.push(`${at}.${k} is not a number`);
    for (const k of ['backend', 'note'] as const) if (row[k] !== undefined && typeof row[k] !== 'string') problems.push(`${at}.${k} is not a string`);
    const inTurns = row.interleaved as Record<string, unknown> | undefined;
    if (inTurns !== undefined && (!Number.isInteger(inTurns.rounds) || typeof inTurns.best !== 'string' || !isNum(inTurns.regret) || typeof inTurns.medianMs !== 'object')) {
      problems.push(`${at}.interleaved needs rounds, best, regret and medianMs`);
    }
    const pe = row.poolEfficiency as Record<string, unknown> | undefined;
    const peTurns = pe?.inTurns as Record<string, unknown> | undefined;
    if (pe !== undefined && (!isNum(pe.value) || !Number.isInteger(pe.threads) || !Number.isInteger(pe.oneThreadSize))) problems.push(`${at}.poolEfficiency needs value, threads and oneThreadSize`);
    if (peTurns !== undefined && (!Number.isInteger(peTurns.rounds) || !['oneThreadMs', 'poolMs', 'value'].every((k) => isNum(peTurns[k])))) {
      problems.push(`${at}.poolEfficiency.inTurns needs rounds, oneThreadMs, poolMs and value`);
    }
    for (const k of ['software', 'verified'] as const) if (row[k] !== undefined && typeof row[k] !== 'boolean') problems.push(`${at}.${k} is not a boolean`);
    const t = row.gpuTimings as Record<string, unknown> | undefined;
    if (t !== undefined && !['uploadMs', 'computeMs', 'downloadMs'].every((k) => isNum(t[k]))) problems.push(`${at}.gpuTimings lacks upload/compute/download ms`);
    const c = row.coexec as Record<string, unknown> | undefined;
    if (c !== undefined && !isNum(c.gpuShare)) problems.push(`${at}.coexec.gpuShare is not a number`);
    return undefined;
  });
  return problems;
}
