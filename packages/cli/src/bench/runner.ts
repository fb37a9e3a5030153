import {
  CpuMapExecutor,
  HybridScheduler,
  ParallelCpuExecutor,
  Runtime,
  WebGpuExecutor,
  type ExecStats,
  type Executor,
  type Kernel,
  type RoutingStrategy,
} from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { machineInfo } from '../machine.js';
import { ed25519Peers, sha256Peers, type Peer } from './peers.js';
import { BENCH_SCHEMA_VERSION, type BenchReport, type BenchRow } from './schema.js';
import { measure } from './stats.js';
import { ed25519Input, sha256Input, vectorAddInput } from './workloads.js';

export const KERNEL_ALIASES: Record<string, string> = {
  'vector-add': 'vector-add',
  vadd: 'vector-add',
  sha256: 'sha256',
  'sha-256': 'sha256',
  ed25519: 'ed25519-verify',
  'ed25519-verify': 'ed25519-verify',
};

/** Seed sizes first (phase 13's table), then large batches. */
export const DEFAULT_SIZES: Record<string, number[]> = {
  'vector-add': [1 << 20, 1 << 24],
  sha256: [10_000, 1_000_000],
  'ed25519-verify': [1_000, 65_536],
};

export interface BenchOptions {
  kernels: string[];
  sizes?: number[];
  repeat: number;
  quick: boolean;
  gpu: boolean;
  /** Run GPU rows on a software adapter too (exact, very slow). */
  softwareGpu: boolean;
  /** A case whose estimated time for one run (from its rate at a smaller size) exceeds this is skipped. Default 15 s. */
  budgetMs?: number;
  command: string;
  onProgress?: (done: number, total: number, label: string) => void;
}

interface Workload {
  input: unknown;
  peers: Peer[];
}

async function workloadFor(kernel: string, size: number): Promise<Workload> {
  if (kernel === 'vector-add') {
    const input = vectorAddInput(size);
    const out = new Float32Array(size);
    const js: Peer = {
      name: 'js-loop',
      run: async () => {
        for (let i = 0; i < size; i++) out[i] = input.a[i]! + input.b[i]!;
      },
    };
    return { input, peers: [js] };
  }
  if (kernel === 'sha256') {
    const input = sha256Input(size);
    return { input, peers: await sha256Peers(input) };
  }
  const w = ed25519Input(size);
  return { input: w.columns, peers: await ed25519Peers(w) };
}

const KERNELS: Record<string, Kernel<never, never>> = {
  'vector-add': vectorAddKernel as unknown as Kernel<never, never>,
  sha256: sha256Kernel as unknown as Kernel<never, never>,
  'ed25519-verify': ed25519Kernel as unknown as Kernel<never, never>,
};

/** Runs every case for every kernel and size in one process, so rows compare like with like. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const runtime = new Runtime(options.gpu ? {} : { gpu: false });
  try {
    const info = await runtime.info();
    const gpuCtx = info.gpu.available ? info.gpu.adapter : undefined;
    const gpuUsable = gpuCtx !== undefined && (!gpuCtx.software || options.softwareGpu);
    const rows: BenchRow[] = [];
    const plan = options.kernels.flatMap((k) => (options.sizes ?? (options.quick ? DEFAULT_SIZES[k]!.slice(0, 1) : DEFAULT_SIZES[k]!)).map((size) => [k, size] as const));
    let done = 0;
    const budgetMs = options.budgetMs ?? 15_000;
    // Items/s of each kernel's case at the last size it ran, to skip cases that would run for minutes.
    const rates = new Map<string, number>();
    const overBudget = (kernelName: string, name: string, size: number): string | undefined => {
      const rate = rates.get(`${kernelName}|${name}`);
      if (rate === undefined) return undefined;
      const estimateMs = (size / rate) * 1000;
      return estimateMs > budgetMs ? `skipped: one run would take about ${(estimateMs / 1000).toFixed(0)} s at its measured ${Math.round(rate)} items/s` : undefined;
    };
    const skip = (add: (row: Omit<BenchRow, 'kernel' | 'size' | 'throughput' | 'speedup'>) => BenchRow, name: string, device: BenchRow['device'], note: string): BenchRow =>
      add({ case: name, device, medianMs: Number.NaN, p95Ms: Number.NaN, note });
    for (const [kernelName, size] of plan) {
      const kernel = KERNELS[kernelName]!;
      options.onProgress?.(done, plan.length, `${kernelName} ${size}: preparing input`);
      const { input, peers } = await workloadFor(kernelName, size);
      const repeat = options.repeat;
      const group: BenchRow[] = [];
      const add = (row: Omit<BenchRow, 'kernel' | 'size' | 'throughput' | 'speedup'>): BenchRow => {
        const full: BenchRow = { kernel: kernelName, size, ...row, throughput: size / (row.medianMs / 1000), speedup: 0 };
        group.push(full);
        return full;
      };
      const timeExecutor = async (name: string, executor: Executor<never, never> | HybridScheduler<never, never>, device: BenchRow['device']) => {
        const tooSlow = overBudget(kernelName, name, size);
        if (tooSlow) return skip(add, name, device, tooSlow);
        options.onProgress?.(done, plan.length, `${kernelName} ${size}: ${name}`);
        let last: ExecStats | undefined;
        const t = await measure(async () => {
          last = (await executor.execute(input as never)).stats;
        }, repeat);
        return add({ case: name, device: last?.fellBack ? 'cpu' : device, medianMs: t.medianMs, p95Ms: t.p95Ms, ...(last?.gpu ? { gpuTimings: last.gpu } : {}), ...(last?.fellBack ? { note: `fell back: ${last.fallbackReason}` } : {}) });
      };

      const single = await timeExecutor('cpu-1t', new CpuMapExecutor(kernel), 'cpu');
      const pool = await timeExecutor('cpu-pool', new ParallelCpuExecutor(kernel as never, { pool: runtime.pool }), 'cpu');
      let gpuRow: BenchRow | undefined;
      if (gpuUsable && kernel.gpu) {
        gpuRow = await timeExecutor('gpu', new WebGpuExecutor(kernel, { devices: runtime.devices! }), 'gpu');
      } else {
        add({ case: 'gpu', device: 'none', medianMs: Number.NaN, p95Ms: Number.NaN, note: gpuCtx ? 'skipped: software adapter (exact but slow; --software-gpu runs it)' : `skipped: no GPU (${info.gpu.available ? '' : info.gpu.reason})` });
      }
      const auto = await timeExecutor('auto', await runtime.scheduler(kernel), 'mixed');
      const best = Math.min(...[single, pool, gpuRow].map((r) => (r && Number.isFinite(r.medianMs) ? r.medianMs : Number.POSITIVE_INFINITY)));
      if (Number.isFinite(auto.medianMs) && Number.isFinite(best)) auto.regret = auto.medianMs / best;
      if (gpuRow && Number.isFinite(gpuRow.medianMs)) {
        // Split so both devices finish together, from the throughputs just measured.
        const gpuShare = gpuRow.throughput / (gpuRow.throughput + pool.throughput);
        const split: RoutingStrategy = { name: 'split', decide: () => ({ device: 'split', gpuShare, reason: 'bench' }) };
        const scheduler = new HybridScheduler(new ParallelCpuExecutor(kernel as never, { pool: runtime.pool }), new WebGpuExecutor(kernel, { devices: runtime.devices! }), { strategy: split });
        const row = await timeExecutor('co-exec', scheduler as never, 'mixed');
        row.note = `gpu share ${(gpuShare * 100).toFixed(0)}%; ${(row.throughput / (gpuRow.throughput + pool.throughput)).toFixed(2)} of cpu-pool + gpu throughput`;
      }
      for (const peer of peers) {
        const tooSlow = overBudget(kernelName, peer.name, size);
        if (tooSlow) {
          skip(add, peer.name, 'cpu', tooSlow);
          continue;
        }
        options.onProgress?.(done, plan.length, `${kernelName} ${size}: ${peer.name}`);
        const t = await measure(peer.run, repeat);
        add({ case: peer.name, device: 'cpu', medianMs: t.medianMs, p95Ms: t.p95Ms, note: 'one thread' });
      }
      for (const row of group) {
        row.speedup = single.medianMs / row.medianMs;
        if (Number.isFinite(row.throughput)) rates.set(`${kernelName}|${row.case}`, row.throughput);
      }
      rows.push(...group);
      done++;
      options.onProgress?.(done, plan.length, `${kernelName} ${size}: done`);
    }
    return {
      schemaVersion: BENCH_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      command: options.command,
      machine: machineInfo(),
      gpu: gpuCtx
        ? { available: true, adapter: [gpuCtx.vendor, gpuCtx.device, gpuCtx.description].filter(Boolean).join(' '), backend: gpuCtx.backend, software: gpuCtx.software }
        : { available: false, reason: info.gpu.available ? '' : info.gpu.reason },
      repeat: options.repeat,
      rows,
    };
  } finally {
    await runtime.close();
  }
}
