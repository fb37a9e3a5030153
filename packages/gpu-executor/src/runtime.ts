import { cpus } from 'node:os';
import { ParallelCpuExecutor } from './cpu/parallel-cpu-executor.js';
import { WorkerPool } from './cpu/worker-pool.js';
import { GpuDeviceManager, type GpuAdapterDescription, type GpuBackendChoice } from './gpu/device.js';
import { UnavailableGpu } from './gpu/unavailable-gpu.js';
import { WebGpuExecutor } from './gpu/webgpu-executor.js';
import { kernel as ed25519Kernel, toEd25519Columns } from './kernels/ed25519/index.js';
import type { Columns, Kernel, TypedArray } from './kernels/kernel.js';
import { kernel as sha256Kernel, toSha256Columns } from './kernels/sha256/index.js';
import { kernel as vectorAddKernel } from './kernels/vector-add/index.js';
import type { Registry } from 'prom-client';
import { createMetrics, type ExecutorMetrics } from './metrics/index.js';
import { CostModelStrategy } from './scheduler/cost-model-strategy.js';
import { HybridScheduler, type ScheduleOptions, type SchedulerOptions } from './scheduler/hybrid-scheduler.js';
import { ModelStore, machineFingerprint } from './scheduler/model-store.js';
import type { RoutingStrategy } from './scheduler/strategy.js';
import type { ExecResult } from './types.js';

export interface RuntimeOptions {
  /** Worker threads of the shared pool; default: available parallelism. */
  threads?: number;
  /** `false` keeps everything on the CPU; default: use a GPU when one is found. */
  gpu?: boolean;
  /** Dawn backend; default from SUPERVM_GPU_BACKEND, else `auto`. */
  gpuBackend?: GpuBackendChoice;
  /** Let `auto` route to a software GPU adapter too (tests of routing on machines without a GPU). Default false. */
  autoSoftwareGpu?: boolean;
  /**
   * Routing strategy for every kernel (a factory, since strategies keep per-kernel state).
   * Default: a CostModelStrategy per kernel, all sharing `models`.
   */
  strategy?: (kernel: Kernel<never, never>) => RoutingStrategy;
  /** Hooks passed to every scheduler (metrics). */
  onBatch?: SchedulerOptions['onBatch'];
  onDecision?: SchedulerOptions['onDecision'];
  /**
   * The cost models of the default strategy. Default: a store on `modelPath`,
   * loaded when the runtime is created and saved when it closes. `false`: in
   * memory only. A store passed in is used as it is (not loaded, not saved).
   */
  models?: ModelStore | false;
  /** File of the default model store; default `$SUPERVM_COST_MODEL_PATH` or `<cache>/supervm/cost-models.json`. */
  modelPath?: string;
  /** Prometheus metrics: an instance from `createMetrics`, or true for one on a new registry. */
  metrics?: ExecutorMetrics | boolean;
  /** Create the metrics on this registry (implies `metrics`). */
  registry?: Registry;
}

export interface RuntimeInfo {
  cpu: { model: string; threads: number };
  gpu: { available: true; adapter: GpuAdapterDescription } | { available: false; reason: string };
}

/** The shared pool, GPU device and one scheduler per kernel, created on first use. */
export class Runtime {
  readonly pool: WorkerPool;
  readonly devices: GpuDeviceManager | undefined;
  /** The cost models the default strategy learns into. */
  readonly models: ModelStore;
  /** The Prometheus metrics this runtime reports to, if any. */
  readonly metrics: ExecutorMetrics | undefined;
  readonly #ownsModels: boolean;
  readonly #options: RuntimeOptions;
  readonly #schedulers = new Map<string, Promise<HybridScheduler<never, never>>>();

  constructor(options: RuntimeOptions = {}) {
    this.#options = options;
    this.pool = new WorkerPool(options.threads === undefined ? {} : { threads: options.threads });
    const gpuOff = options.gpu === false || process.env.SUPERVM_GPU === '0';
    this.devices = gpuOff ? undefined : new GpuDeviceManager(options.gpuBackend ? { backend: options.gpuBackend } : {});
    this.#ownsModels = !(options.models instanceof ModelStore);
    if (options.models instanceof ModelStore) {
      this.models = options.models;
    } else {
      const path = options.models === false ? false : options.modelPath;
      this.models = new ModelStore({ ...(path === undefined ? {} : { path }), cpuFingerprint: machineFingerprint({ threads: this.pool.threads }) });
      this.models.load();
    }
    if (typeof options.metrics === 'object') this.metrics = options.metrics;
    else if (options.metrics === true || options.registry !== undefined) {
      this.metrics = createMetrics(options.registry ? { registry: options.registry } : {});
    } else this.metrics = undefined;
    this.metrics?.bind(this);
  }

  /** The scheduler for a kernel (CPU pool + shared GPU), created once. */
  scheduler<I, O>(kernel: Kernel<I, O>): Promise<HybridScheduler<I, O>> {
    let scheduler = this.#schedulers.get(kernel.name);
    if (scheduler === undefined) {
      scheduler = this.#createScheduler(kernel as unknown as Kernel<Columns, TypedArray>) as unknown as Promise<HybridScheduler<never, never>>;
      this.#schedulers.set(kernel.name, scheduler);
    }
    return scheduler as unknown as Promise<HybridScheduler<I, O>>;
  }

  async #createScheduler<I extends Columns, O extends TypedArray>(kernel: Kernel<I, O>): Promise<HybridScheduler<I, O>> {
    const cpu = new ParallelCpuExecutor(kernel, { pool: this.pool });
    let gpu: WebGpuExecutor<I, O> | UnavailableGpu<I, O>;
    let autoGpu = true;
    if (this.devices === undefined) gpu = new UnavailableGpu('GPU disabled', kernel);
    else if (kernel.gpu === undefined) gpu = new UnavailableGpu(`${kernel.name} has no GPU program`, kernel);
    else {
      gpu = new WebGpuExecutor(kernel, { devices: this.devices, hostPool: this.pool });
      await gpu.ready();
      // A software rasterizer is exact but slower than the CPU: only an explicit device 'gpu' uses it.
      autoGpu = this.devices.context?.adapter.software !== true || this.#options.autoSoftwareGpu === true;
      // The GPU half of the models' machine fingerprint.
      if (this.devices.context) this.models.setGpu(this.devices.context.adapter);
    }
    const { strategy } = this.#options;
    const onBatch = joinHooks(this.#options.onBatch, this.metrics?.onBatch);
    const onDecision = joinHooks(this.#options.onDecision, this.metrics?.onDecision);
    return new HybridScheduler<I, O>(cpu, gpu, {
      autoGpu,
      strategy: strategy ? strategy(kernel as unknown as Kernel<never, never>) : new CostModelStrategy(kernel, { store: this.models }),
      ...(onBatch ? { onBatch } : {}),
      ...(onDecision ? { onDecision } : {}),
    });
  }

  async info(): Promise<RuntimeInfo> {
    const cpu = { model: cpus()[0]?.model ?? 'unknown', threads: this.pool.threads };
    if (this.devices === undefined) return { cpu, gpu: { available: false, reason: 'GPU disabled' } };
    const ctx = await this.devices.open();
    return ctx ? { cpu, gpu: { available: true, adapter: ctx.adapter } } : { cpu, gpu: { available: false, reason: this.devices.unavailableReason } };
  }

  async close(): Promise<void> {
    const schedulers = await Promise.allSettled(this.#schedulers.values());
    this.#schedulers.clear();
    await Promise.all(schedulers.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    await this.pool.close();
    await this.devices?.close();
    // Saving warns on failure and never throws.
    if (this.#ownsModels && this.models.dirty) await this.models.save();
  }
}

/** Calls both hooks (either may be absent); undefined when neither is given. */
function joinHooks<A extends unknown[]>(a: ((...args: A) => void) | undefined, b: ((...args: A) => void) | undefined): ((...args: A) => void) | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (...args: A) => {
    a(...args);
    b(...args);
  };
}

let shared: Runtime | undefined;
let sharedOptions: RuntimeOptions = {};

/** Sets the options of the shared runtime; takes effect when it is next created. */
export function configureRuntime(options: RuntimeOptions): void {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new TypeError(`threads must be a positive integer, got ${options.threads}`);
  }
  sharedOptions = { ...options };
}

/** The process-wide runtime behind `vectorAdd`, `sha256Batch` and `verifyEd25519Batch`. */
export function getRuntime(): Runtime {
  shared ??= new Runtime(sharedOptions);
  return shared;
}

/** Closes the shared pool and GPU device so the process can exit; a later call creates a new runtime. */
export async function closeRuntime(): Promise<void> {
  const runtime = shared;
  shared = undefined;
  await runtime?.close();
}

/** `device`, `signal`, `priority`, and `output`: an output to reuse (see `ScheduleOptions`). */
export type CallOptions<O = unknown> = ScheduleOptions<O>;

/** c[i] = a[i] + b[i] (binary32), bit-identical on every device. */
export async function vectorAdd(a: Float32Array | readonly number[], b: Float32Array | readonly number[], options: CallOptions<Float32Array> = {}): Promise<ExecResult<Float32Array>> {
  const input = vectorAddKernel.validate({ a, b });
  return (await getRuntime().scheduler(vectorAddKernel)).execute(input, options);
}

/** SHA-256 of each message; 32 bytes per message in the output. */
export async function sha256Batch(messages: Uint8Array[] | { data: Uint8Array; offsets: Uint32Array }, options: CallOptions<Uint8Array> = {}): Promise<ExecResult<Uint8Array>> {
  const input = toSha256Columns(messages);
  return (await getRuntime().scheduler(sha256Kernel)).execute(input, options);
}

/** Ed25519 verdicts (1 valid, 0 invalid) equal to node's crypto.verify on every input. */
export async function verifyEd25519Batch(
  batch: { messages: Uint8Array[] | { data: Uint8Array; offsets: Uint32Array }; publicKeys: Uint8Array[] | Uint8Array; signatures: Uint8Array[] | Uint8Array },
  options: CallOptions<Uint8Array> = {},
): Promise<ExecResult<Uint8Array>> {
  const input = toEd25519Columns(batch);
  return (await getRuntime().scheduler(ed25519Kernel)).execute(input, options);
}

