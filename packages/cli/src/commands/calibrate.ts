import { generateKeyPairSync, sign } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import {
  ModelStore,
  Runtime,
  crossover,
  machineFingerprint,
  shareColumns,
  type DeviceKind,
  type FittedModel,
  type Kernel,
} from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, toEd25519Columns, toSha256Columns, vectorAddKernel } from '@supervm/gpu-executor/kernels';
import { positiveInteger } from '../options.js';

interface CalibrateOptions {
  quick?: boolean;
  kernels?: string[];
  json?: boolean;
  models?: string;
  repeats?: number;
  threads?: number;
  gpu: boolean;
}

/** One kernel's sweep: batch sizes (items) and an input of n items. */
interface Plan {
  kernel: Kernel<unknown, unknown>;
  quick: number[];
  full: number[];
  make(n: number): unknown;
}

let edKeys: { privateKey: ReturnType<typeof generateKeyPairSync>['privateKey']; publicKey: Uint8Array } | undefined;
function edKeyPair(): NonNullable<typeof edKeys> {
  if (edKeys === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    edKeys = { privateKey, publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(12) };
  }
  return edKeys;
}

const PLANS: Plan[] = [
  {
    kernel: vectorAddKernel as unknown as Kernel<unknown, unknown>,
    quick: [1_000, 8_000, 64_000, 512_000, 2_000_000],
    full: [1_000, 4_000, 16_000, 64_000, 256_000, 1_000_000, 4_000_000],
    make: (n) => ({ a: new Float32Array(n).fill(1.5), b: new Float32Array(n).fill(2.25) }),
  },
  {
    kernel: sha256Kernel as unknown as Kernel<unknown, unknown>,
    quick: [64, 256, 1_024, 4_096, 16_384, 65_536],
    full: [64, 256, 1_024, 4_096, 16_384, 65_536, 262_144],
    make: (n) => {
      // 64-byte messages, each different.
      const data = new Uint8Array(64 * n);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      const offsets = Uint32Array.from({ length: n + 1 }, (_, i) => 64 * i);
      return toSha256Columns({ data, offsets });
    },
  },
  {
    kernel: ed25519Kernel as unknown as Kernel<unknown, unknown>,
    // Up to 16K (quick) and 64K: the GPU's time is nearly flat below a few thousand signatures,
    // so smaller sizes alone leave its slope, and the large batches it wins, to extrapolation.
    quick: [4, 16, 64, 256, 1_024, 4_096, 16_384],
    full: [4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536],
    make: (n) => {
      const keys = edKeyPair();
      const messages = Array.from({ length: n }, (_, i) => Buffer.from(`calibration message ${i}`));
      const signatures = messages.map((m) => sign(null, m, keys.privateKey));
      return toEd25519Columns({ messages, publicKeys: messages.map(() => keys.publicKey), signatures });
    },
  },
];

const ALIASES: Record<string, string> = { ed25519: 'ed25519-verify', 'vector-add': 'vector-add', vectoradd: 'vector-add', sha256: 'sha256', 'ed25519-verify': 'ed25519-verify' };

function kernelList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const out: string[] = [];
  for (const n of names) {
    const name = ALIASES[n];
    if (name === undefined) throw new InvalidArgumentError(`unknown kernel ${JSON.stringify(n)}; one of ${PLANS.map((p) => p.kernel.name).join(', ')}`);
    if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) throw new InvalidArgumentError('no kernel named');
  return out;
}

export interface CalibrationResult {
  kernel: string;
  /** Work units per item of the sweep's inputs (the models are in work units). */
  workPerItem: number;
  devices: Partial<Record<DeviceKind, { a: number; b: number; c: number; rmsRelError: number; samples: number; sizes: number[] } | { error: string }>>;
  /** Smallest batch from which the GPU is predicted faster; `always`/`never` when one device wins everywhere in 1..1e9 items. */
  crossover: { items: number; work: number } | 'gpu always faster' | 'gpu never faster' | null;
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  return abs >= 1e4 || abs < 1e-3 ? n.toExponential(3) : n.toPrecision(4);
}

/**
 * Runs each kernel at growing sizes on each device (warm-up first, a few
 * repeats, interleaved), fits time(w) = a * w^b + c from what the scheduler
 * observed, and saves the models. A device stops growing once a batch takes
 * longer than the per-batch budget (software GPUs get only the small sizes).
 */
export async function calibrate(options: CalibrateOptions, log: (line: string) => void = () => {}): Promise<{ results: CalibrationResult[]; store: ModelStore; saved: boolean }> {
  const threads = options.threads;
  const store = new ModelStore({
    ...(options.models ? { path: options.models } : {}),
    // Same fingerprint the runtime uses: CPU, cores and pool threads.
    cpuFingerprint: machineFingerprint(threads ? { threads } : {}),
  });
  store.load();
  // The runtime's own strategies learn into a scratch store: the sweep records its samples itself, without warm-up runs.
  const runtime = new Runtime({ models: new ModelStore({ path: false }), ...(threads ? { threads } : {}), ...(options.gpu ? {} : { gpu: false }) });
  const repeats = options.repeats ?? 3;
  const budgetMs = options.quick ? 400 : 3_000;
  const wanted = options.kernels ?? PLANS.map((p) => p.kernel.name);
  const results: CalibrationResult[] = [];
  try {
    for (const plan of PLANS.filter((p) => wanted.includes(p.kernel.name))) {
      const name = plan.kernel.name;
      const scheduler = await runtime.scheduler(plan.kernel);
      const adapter = runtime.devices?.context?.adapter;
      if (adapter) store.setGpu(adapter);
      const devices: DeviceKind[] = scheduler.gpuAvailable ? ['cpu', 'gpu'] : ['cpu'];
      const sizes = options.quick ? plan.quick : plan.full;
      const inputs = new Map<number, { input: unknown; work: number }>(
        sizes.map((n) => {
          // In shared memory, as the bench's and a node's batches are: otherwise every CPU-pool sample
          // includes copying the columns into fresh shared memory (page faults: ~1.3 GB/s on the H100
          // machine), and the fitted CPU model came out 2-4x slower than the pool runs there.
          const input = plan.kernel.validate(shareColumns(plan.make(n) as never));
          return [n, { input, work: plan.kernel.work?.(input, 0, n) ?? n }];
        }),
      );
      const errors = new Map<DeviceKind, string>();
      store.clear(name);
      const active = new Set(devices);
      const ran = new Map<DeviceKind, number[]>(devices.map((d) => [d, []]));
      for (const n of sizes) {
        const { input, work } = inputs.get(n)!;
        // Run 0 at each size is a warm-up (kernel loading, pipeline compiling, first-touch of buffers): not recorded.
        for (let r = 0; r <= repeats; r++) {
          for (const device of [...active]) {
            try {
              const { stats } = await scheduler.execute(input, { device });
              if (stats.fellBack) {
                errors.set(device, `fell back to the CPU: ${stats.fallbackReason ?? ''}`);
                active.delete(device);
                continue;
              }
              if (r === 0) ran.get(device)!.push(n);
              else store.observe(name, device, work, stats.durationMs);
              // Not the warm-up: the first one compiles the pipeline (over a second for Ed25519 on the H100).
              if (r > 0 && stats.durationMs > budgetMs) active.delete(device);
            } catch (err) {
              errors.set(device, (err as Error).message);
              active.delete(device);
            }
          }
        }
        log(`${name}: ${n} items done`);
      }
      const first = inputs.get(sizes[0]!)!;
      const workPerItem = first.work / sizes[0]!;
      const result: CalibrationResult = { kernel: name, workPerItem, devices: {}, crossover: null };
      const fits: Partial<Record<DeviceKind, FittedModel>> = {};
      for (const device of devices) {
        const fit = store.fit(name, device);
        if (fit !== undefined && store.isTrusted(name, device)) {
          fits[device] = fit;
          result.devices[device] = { a: fit.a, b: fit.b, c: fit.c, rmsRelError: fit.rmsRelError, samples: fit.samples, sizes: ran.get(device)! };
        } else {
          const sizesRun = ran.get(device)!;
          const reason = errors.get(device) ?? `too few sizes within the ${budgetMs} ms budget (${sizesRun.join(', ') || 'none'})`;
          result.devices[device] = { error: reason };
        }
      }
      if (fits.cpu && fits.gpu) {
        const lo = workPerItem;
        const hi = workPerItem * 1e9;
        const w = crossover(fits.cpu, fits.gpu, lo, hi);
        if (w !== undefined) result.crossover = { work: w, items: w / workPerItem };
        else {
          const gpuFirst = fits.gpu.a * Math.pow(lo, fits.gpu.b) + fits.gpu.c < fits.cpu.a * Math.pow(lo, fits.cpu.b) + fits.cpu.c;
          result.crossover = gpuFirst ? 'gpu always faster' : 'gpu never faster';
        }
      }
      results.push(result);
    }
  } finally {
    await runtime.close();
  }
  const saved = await store.save();
  return { results, store, saved };
}

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .description('measure each kernel on each device, fit the cost models (time = a * work^b + c) and save them for the cost-model router')
    .option('--quick', 'fewer and smaller sizes (well under a minute)')
    .option('--kernels <list>', 'comma-separated: vector-add, sha256, ed25519', kernelList)
    .option('--repeats <n>', 'recorded runs per size and device, after one warm-up run (default 3)', positiveInteger)
    .option('--threads <n>', 'CPU worker threads (default: all cores)', positiveInteger)
    .option('--models <path>', 'model file (default: $SUPERVM_COST_MODEL_PATH or <cache>/supervm/cost-models.json)')
    .option('--no-gpu', 'calibrate the CPU only')
    .option('--json', 'print JSON')
    .action(async (options: CalibrateOptions) => {
      const t0 = performance.now();
      const { results, store, saved } = await calibrate(options, options.json || !process.stderr.isTTY ? undefined : (l) => process.stderr.write(`\r${l}\x1b[K`));
      if (!options.json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      const seconds = (performance.now() - t0) / 1000;
      if (options.json) {
        const gpu = results.some((r) => r.devices.gpu !== undefined) ? store.gpuFingerprint : null;
        console.log(JSON.stringify({ fingerprint: { cpu: store.cpuFingerprint, gpu }, path: store.path, saved, seconds, kernels: results }, null, 2));
        return;
      }
      const gpuKnown = results.some((r) => r.devices.gpu !== undefined);
      console.log(`machine  ${gpuKnown ? store.gpuFingerprint : `${store.cpuFingerprint} (no GPU)`}`);
      console.log('model    time_ms(work) = a * work^b + c   (work: kernel work units; sha256: bytes + 64 per message)');
      for (const r of results) {
        console.log('');
        console.log(`${r.kernel}  (${fmt(r.workPerItem)} work units per item in this sweep)`);
        for (const [device, d] of Object.entries(r.devices)) {
          if (d === undefined) continue;
          if ('error' in d) console.log(`  ${device}  no model: ${d.error}`);
          else console.log(`  ${device}  a=${fmt(d.a)}  b=${d.b.toFixed(3)}  c=${fmt(d.c)} ms  rms err ${(d.rmsRelError * 100).toFixed(1)} %  (${d.samples} samples, sizes ${d.sizes.join(', ')})`);
        }
        if (r.crossover === null) console.log('  crossover: needs models of both devices');
        else if (typeof r.crossover === 'string') console.log(`  crossover: none (${r.crossover})`);
        else console.log(`  crossover: gpu faster from ~${Math.round(r.crossover.items)} items (${fmt(r.crossover.work)} work units)`);
      }
      console.log('');
      console.log(saved ? `saved to ${store.path} in ${seconds.toFixed(1)} s` : `not saved (see the warning) after ${seconds.toFixed(1)} s`);
    });
}
