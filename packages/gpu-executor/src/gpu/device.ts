import { BufferPool } from './buffer-pool.js';
import { PipelineCache } from './pipeline-cache.js';
import { TimestampPool } from './timing.js';

export type GpuBackendChoice = 'auto' | 'vulkan' | 'opengles';

export interface GpuAdapterDescription {
  /** Dawn backend that found the adapter. */
  backend: 'vulkan' | 'opengles';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software rasterizers (Mesa llvmpipe): exact but slow. */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  /** Compute passes are timed by timestamp queries (the adapter has them, and they were not turned off). */
  timestampQuery: boolean;
}

/** Everything a batch needs on one live device. Replaced as a whole when the device is lost. */
export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GpuAdapterDescription;
  readonly limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupSizeX: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    minStorageBufferOffsetAlignment: number;
    maxStorageBuffersPerShaderStage: number;
  };
  readonly pipelines: PipelineCache;
  readonly buffers: BufferPool;
  /** Static tables already uploaded, per kernel. */
  readonly tables: Map<string, GPUBuffer[]>;
  /** Query sets for pass timestamps; undefined when the adapter lacks `timestamp-query`. */
  readonly timestamps: TimestampPool | undefined;
  /** Set once the device reports loss; the manager then opens a new one. */
  lost: boolean;
}

type WebGpuModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

/**
 * Every Dawn instance this process created. Dawn's node binding crashes the
 * process when an instance whose backend found no adapter (Vulkan without a
 * loader) is garbage-collected, so one instance per backend is kept for the process's life.
 */
const instances = new Map<string, GPU>();

const LIMIT_KEYS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

function parseBackend(value: string | undefined): GpuBackendChoice {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'vulkan' || value === 'opengles') return value;
  throw new TypeError(`SUPERVM_GPU_BACKEND must be auto, vulkan or opengles, not ${JSON.stringify(value)}`);
}

/**
 * One shared GPUDevice per process, opened lazily. `auto` tries a hardware
 * adapter first (Vulkan), then Mesa's OpenGL ES software adapter in
 * compatibility mode, which is how machines without a GPU still run every kernel.
 */
export class GpuDeviceManager {
  readonly #choice: GpuBackendChoice;
  #module: WebGpuModule | undefined;
  #context: GpuContext | undefined;
  #opening: Promise<GpuContext | undefined> | undefined;
  #reason = 'not probed yet';
  #closed = false;
  #devicesOpened = 0;
  readonly #timestamps: boolean;

  /**
   * `timestamps: false` times compute on the host even where the adapter has
   * timestamp queries (to measure what the queries cost). Default true.
   */
  constructor(options: { backend?: GpuBackendChoice; timestamps?: boolean } = {}) {
    this.#choice = options.backend ?? parseBackend(process.env.SUPERVM_GPU_BACKEND);
    this.#timestamps = options.timestamps ?? true;
  }

  /** Why no device is available; meaningful after `open()` resolved undefined. */
  get unavailableReason(): string {
    return this.#reason;
  }

  get context(): GpuContext | undefined {
    return this.#context?.lost ? undefined : this.#context;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Devices opened so far (1 normally; more after device loss). */
  get devicesOpened(): number {
    return this.#devicesOpened;
  }

  /** The live context, opening (or re-opening after loss) a device when needed; undefined when none can be had. */
  async open(): Promise<GpuContext | undefined> {
    if (this.#closed) {
      this.#reason = 'the GPU device manager is closed';
      return undefined;
    }
    if (this.#context !== undefined && !this.#context.lost) return this.#context;
    this.#opening ??= this.#openDevice().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #loadModule(): Promise<WebGpuModule | undefined> {
    if (this.#module) return this.#module;
    // Surfaceless EGL lets Mesa's GLES driver run headless; both are no-ops for Vulkan.
    process.env.EGL_PLATFORM ??= 'surfaceless';
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    try {
      const mod = (await import('webgpu')) as unknown as WebGpuModule;
      // Dawn's GPUBufferUsage and friends are globals in browsers; kernels and executors use them.
      for (const [k, v] of Object.entries(mod.globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      this.#module = mod;
      return mod;
    } catch (err) {
      this.#reason = `the optional 'webgpu' package (Dawn) could not be loaded: ${(err as Error).message}`;
      return undefined;
    }
  }

  async #requestAdapter(mod: WebGpuModule): Promise<{ adapter: GPUAdapter; backend: 'vulkan' | 'opengles'; compat: boolean } | undefined> {
    const attempts: { backend: 'vulkan' | 'opengles'; compat: boolean }[] = [];
    if (this.#choice !== 'opengles') attempts.push({ backend: 'vulkan', compat: false });
    if (this.#choice !== 'vulkan') attempts.push({ backend: 'opengles', compat: true });
    const failures: string[] = [];
    for (const attempt of attempts) {
      try {
        let gpu = instances.get(attempt.backend);
        if (gpu === undefined) {
          // Dawn quantizes timestamps by default (a browser's anti-fingerprinting measure), which would
          // round a short pass to zero; an embedded executor wants the real resolution.
          gpu = mod.create([`backend=${attempt.backend}`, 'disable-dawn-features=timestamp_quantization']);
          instances.set(attempt.backend, gpu);
        }
        const adapter = await gpu.requestAdapter(
          attempt.compat ? ({ featureLevel: 'compatibility' } as GPURequestAdapterOptions) : { powerPreference: 'high-performance' },
        );
        if (adapter) return { adapter, ...attempt };
        failures.push(`${attempt.backend}: no adapter`);
      } catch (err) {
        failures.push(`${attempt.backend}: ${(err as Error).message}`);
      }
    }
    this.#reason = `no WebGPU adapter found (${failures.join('; ')})`;
    return undefined;
  }

  async #openDevice(): Promise<GpuContext | undefined> {
    const mod = await this.#loadModule();
    if (!mod) return undefined;
    const found = await this.#requestAdapter(mod);
    if (!found) return undefined;
    const { adapter, backend, compat } = found;
    const requiredLimits: Record<string, number> = {};
    for (const key of LIMIT_KEYS) requiredLimits[key] = adapter.limits[key];
    const timestampQuery = this.#timestamps && adapter.features.has('timestamp-query');
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({
        requiredLimits,
        requiredFeatures: timestampQuery ? ['timestamp-query'] : [],
      });
    } catch (err) {
      this.#reason = `requestDevice failed: ${(err as Error).message}`;
      return undefined;
    }
    // Dawn's node binding can crash the process if the main thread runs synchronous work
    // before the new device has been serviced once; let the queue and event loop turn first.
    await device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const info = adapter.info;
    const description = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim();
    const context: GpuContext = {
      device,
      adapter: {
        backend,
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        software: /llvmpipe|swiftshader|lavapipe|software/i.test(description) || backend === 'opengles',
        featureLevel: compat ? 'compatibility' : 'core',
        timestampQuery,
      },
      limits: {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxBufferSize: device.limits.maxBufferSize,
        maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
        minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
        maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      },
      pipelines: new PipelineCache(device),
      buffers: new BufferPool(device),
      tables: new Map(),
      timestamps: timestampQuery ? new TimestampPool(device) : undefined,
      lost: false,
    };
    void device.lost.then((info) => {
      context.lost = true;
      if (!this.#closed) this.#reason = `device lost: ${info.reason} ${info.message}`.trim();
    });
    this.#devicesOpened++;
    this.#context = context;
    return context;
  }

  /** Destroys the device so the process can exit (Dawn keeps a thread alive while a device lives). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#opening;
    const ctx = this.#context;
    this.#context = undefined;
    if (ctx) {
      ctx.buffers.clear();
      ctx.device.destroy();
    }
  }
}
