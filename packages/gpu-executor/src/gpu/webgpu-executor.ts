import { ParallelCpuExecutor } from '../cpu/parallel-cpu-executor.js';
import { createSharedOutput, shareColumns } from '../cpu/shared-memory.js';
import type { WorkerPool } from '../cpu/worker-pool.js';
import { ExecutorError, abortError, throwIfAborted } from '../errors.js';
import type { Kernel } from '../kernels/kernel.js';
import type { ExecResult, ExecStats, ExecuteOptions, Executor, GpuTimings, RangeOptions } from '../types.js';
import { checkRange, executeWhole } from '../range.js';
import { GpuDeviceManager, type GpuContext } from './device.js';
import type { GpuKernel } from './gpu-kernel.js';
import { BusyTime, TIMESTAMP_BYTES, TimestampPool, passNanoseconds, type PassTimestamps } from './timing.js';

export interface WebGpuExecutorOptions {
  /** Shared device manager; by default each executor opens its own (the runtime shares one). */
  devices?: GpuDeviceManager;
  /** Upper bound on one binding, below the device's limit; smaller means more, smaller chunks. Default 64 MiB. */
  maxChunkBytes?: number;
  /**
   * Worker pool for kernels with a costly host pack (`GpuKernel.hostPack`):
   * records are built there, in parallel, while the GPU works. Without it they
   * are built in-thread.
   */
  hostPool?: WorkerPool;
  /** Least estimated pack work (ns) of a batch for the pool to take it. Default 1 ms. */
  minPoolPackNs?: number;
}

/** A batch's host records on the pool: its columns in shared memory and a shared array of records. */
interface PoolPack {
  readonly input: unknown;
  readonly records: Uint8Array;
}

/** What the chunks of one batch add up as they finish. */
interface BatchClock {
  readonly timings: GpuTimings;
  /** Submit-to-readback intervals of the chunks: host-timed compute. */
  readonly inFlight: BusyTime;
  /** Packing and staging intervals of the chunks (packs on the pool may overlap). */
  readonly uploading: BusyTime;
  /** Whether this batch's passes write timestamps (the adapter has them, the batch is not tiny). */
  readonly timed: boolean;
  /** Sum of the compute passes' timestamp intervals, and how many passes had valid ones. */
  passNs: number;
  timedPasses: number;
}

interface Layout {
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  /** Bind groups by buffers and ranges: pooled buffers come back, so steady batches reuse them. */
  bindGroups: Map<string, GPUBindGroup>;
}

/** Bind groups kept per kernel and device; past this the cache starts over. */
const MAX_BIND_GROUPS = 256;
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 0;
function bufferId(buffer: GPUBuffer): number {
  let id = bufferIds.get(buffer);
  if (id === undefined) bufferIds.set(buffer, (id = nextBufferId++));
  return id;
}

const DEFAULT_MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/**
 * Batches below this many items are timed on the host, not by timestamp
 * queries: on the H100 the queries added ~65 us to a 16-item round trip
 * (246 against 181 us, median of 300), a third of it, while such a batch's
 * compute is a few microseconds.
 */
const MIN_TIMESTAMP_ITEMS = 1024;
/**
 * Inputs up to this size go through `queue.writeBuffer` (one copy into Dawn's
 * own ring) instead of a staging buffer, whose re-map is one more round of
 * device events per chunk. Larger ones use staging: writeBuffer moved ~1 GB/s
 * on the H100, a reused MAP_WRITE staging buffer ~6.
 */
const DIRECT_UPLOAD_MAX_BYTES = 64 * 1024;
/** Estimated pack work below which a worker round trip costs more than it saves. */
const DEFAULT_MIN_POOL_PACK_NS = 1_000_000;
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Runs a kernel's GPU plan on the shared Dawn device: chunks sized to the
 * binding limits, inputs staged through reused MAP_WRITE buffers, at most two
 * chunks in flight so the upload of one overlaps the compute of the other.
 * Any device failure marks the device lost, so the next batch opens a new one.
 */
export class WebGpuExecutor<I, O> implements Executor<I, O> {
  readonly deviceKind = 'gpu' as const;
  readonly kernel: Kernel<I, O>;
  readonly #gpu: GpuKernel<I, O>;
  readonly #devices: GpuDeviceManager;
  readonly #ownsDevices: boolean;
  readonly #maxChunkBytes: number;
  readonly #layouts = new WeakMap<GPUDevice, Layout>();
  readonly #packer: ParallelCpuExecutor<never, Uint8Array> | undefined;
  readonly #minPoolPackNs: number;
  /** One shared records buffer kept between batches (host buffers reused); taken while a batch uses it. */
  #spareRecords: SharedArrayBuffer | undefined;
  /** Host bytes of a small chunk's input, filled and handed to writeBuffer (which copies) in one synchronous step. */
  readonly #directUpload = new Uint8Array(DIRECT_UPLOAD_MAX_BYTES);
  #closed = false;

  constructor(kernel: Kernel<I, O>, options: WebGpuExecutorOptions = {}) {
    if (kernel?.gpu === undefined) throw new TypeError(`kernel ${String(kernel?.name)} has no GPU program`);
    const { maxChunkBytes = DEFAULT_MAX_CHUNK_BYTES, minPoolPackNs = DEFAULT_MIN_POOL_PACK_NS } = options;
    if (!Number.isFinite(minPoolPackNs) || minPoolPackNs < 0) throw new TypeError(`minPoolPackNs must be a finite number >= 0, got ${minPoolPackNs}`);
    if (!Number.isInteger(maxChunkBytes) || maxChunkBytes < 1024) {
      throw new TypeError(`maxChunkBytes must be an integer >= 1024, got ${maxChunkBytes}`);
    }
    this.kernel = kernel;
    this.#gpu = kernel.gpu;
    this.#devices = options.devices ?? new GpuDeviceManager();
    this.#ownsDevices = options.devices === undefined;
    this.#maxChunkBytes = maxChunkBytes;
    const { hostPack } = kernel.gpu;
    if (hostPack !== undefined && kernel.gpu.inputBindings !== 1) {
      throw new TypeError(`kernel ${kernel.name}: hostPack needs exactly one input binding, not ${kernel.gpu.inputBindings}`);
    }
    if (hostPack !== undefined && options.hostPool !== undefined) {
      this.#packer = new ParallelCpuExecutor(hostPack as never, { pool: options.hostPool, minTaskNs: Math.min(minPoolPackNs, 250_000) });
    }
    this.#minPoolPackNs = minPoolPackNs;
  }

  get backend(): string {
    const ctx = this.#devices.context;
    return ctx ? `webgpu:${ctx.adapter.backend}` : 'webgpu';
  }

  /**
   * Synchronous view: true once an adapter has been found (call `ready()` first).
   * A lost device does not make it false: the next batch opens a new one.
   */
  isAvailable(): boolean {
    return !this.#closed && this.#devices.devicesOpened > 0 && !this.#devices.closed;
  }

  /** Opens the device if needed; false (with `unavailableReason`) when there is none. */
  async ready(): Promise<boolean> {
    if (this.#closed) return false;
    return (await this.#devices.open()) !== undefined;
  }

  get unavailableReason(): string {
    return this.#closed ? 'the executor is closed' : this.#devices.unavailableReason;
  }

  async execute(input: I, options: ExecuteOptions = {}): Promise<ExecResult<O>> {
    this.#assertOpen();
    return executeWhole(this, input, options);
  }

  async executeInto(input: I, output: O, options: RangeOptions): Promise<ExecStats> {
    this.#assertOpen();
    const { start, end, signal } = options;
    checkRange(start, end, this.kernel.count(input));
    throwIfAborted(signal);
    const t0 = performance.now();
    const ctx = await this.#devices.open();
    if (ctx === undefined) {
      throw new ExecutorError('BACKEND_UNAVAILABLE', `no GPU: ${this.#devices.unavailableReason}`);
    }
    const unsupported = this.#gpu.unsupported?.(input, start, end, ctx.adapter);
    if (unsupported !== undefined) throw new ExecutorError('BACKEND_UNAVAILABLE', `${this.kernel.name} on this GPU: ${unsupported}`);
    const gpu = await this.#run(ctx, input, output, start, end, signal);
    return {
      device: 'gpu',
      backend: `webgpu:${ctx.adapter.backend}`,
      kernel: this.kernel.name,
      tasks: end - start,
      durationMs: performance.now() - t0,
      gpu,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#packer?.close();
    if (this.#ownsDevices) await this.#devices.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ExecutorError('CLOSED', 'the GPU executor is closed');
  }

  #layout(ctx: GpuContext, tableCount: number): Layout {
    let layout = this.#layouts.get(ctx.device);
    if (layout === undefined) {
      const k = this.#gpu.inputBindings;
      const entries: GPUBindGroupLayoutEntry[] = [];
      const total = k + 2 + tableCount;
      for (let binding = 0; binding < total; binding++) {
        entries.push({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: binding === k ? 'storage' : 'read-only-storage' },
        });
      }
      const bindGroupLayout = ctx.device.createBindGroupLayout({ label: this.kernel.name, entries });
      const pipelineLayout = ctx.device.createPipelineLayout({ label: this.kernel.name, bindGroupLayouts: [bindGroupLayout] });
      layout = { bindGroupLayout, pipelineLayout, bindGroups: new Map() };
      this.#layouts.set(ctx.device, layout);
    }
    return layout;
  }

  #tables(ctx: GpuContext): GPUBuffer[] {
    let buffers = ctx.tables.get(this.kernel.name);
    if (buffers === undefined) {
      buffers = (this.#gpu.tables?.() ?? []).map((table) => {
        const buffer = ctx.device.createBuffer({
          label: `${this.kernel.name}-table`,
          size: alignUp(Math.max(table.byteLength, 4), 4),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
        });
        const padded = new Uint8Array(buffer.size);
        padded.set(table);
        ctx.device.queue.writeBuffer(buffer, 0, padded);
        return buffer;
      });
      ctx.tables.set(this.kernel.name, buffers);
    }
    return buffers;
  }

  async #run(ctx: GpuContext, input: I, output: O, start: number, end: number, signal?: AbortSignal): Promise<GpuTimings> {
    const timings: GpuTimings = { uploadMs: 0, computeMs: 0, downloadMs: 0, bytesUploaded: 0, bytesDownloaded: 0, source: 'host', chunks: 0 };
    if (start === end) return timings;
    const timed = ctx.timestamps !== undefined && end - start >= MIN_TIMESTAMP_ITEMS;
    const clock: BatchClock = { timings, inFlight: new BusyTime(), uploading: new BusyTime(), timed, passNs: 0, timedPasses: 0 };
    const poolPack = this.#poolPack(input, end - start);
    const g = this.#gpu;
    const { limits } = ctx;
    const tables = this.#tables(ctx);
    const layout = this.#layout(ctx, tables.length);
    const workgroupSize = Math.min(g.workgroupSize, limits.maxComputeWorkgroupSizeX, limits.maxComputeInvocationsPerWorkgroup);
    const pipeline = ctx.pipelines.get({
      kernel: this.kernel.name,
      code: g.code,
      entryPoint: g.entryPoint,
      workgroupSize,
      layout: layout.pipelineLayout,
    });
    const maxBinding = Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, this.#maxChunkBytes) / 256) * 256;

    const bounds = [start];
    for (let s = start; s < end; ) {
      const e = g.chunkEnd(input, s, end, maxBinding);
      if (!(e > s && e <= end)) throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name}: chunkEnd returned ${e} for [${s}, ${end})`);
      bounds.push(e);
      s = e;
    }
    const packs = poolPack && this.#packAhead(poolPack, bounds, clock, signal);
    const inFlight: Promise<void>[] = [];
    let failure: unknown;
    try {
      for (let k = 0; k + 1 < bounds.length; k++) {
        if (signal?.aborted) throw abortError(signal);
        const chunk = this.#chunk(ctx, pipeline, layout, tables, workgroupSize, input, output, bounds[k]!, bounds[k + 1]!, clock, poolPack && { ...poolPack, packed: packs![k]! }, signal);
        inFlight.push(chunk);
        // Two in flight: chunk k+1 is staged while chunk k computes.
        if (inFlight.length >= 2) await inFlight.shift();
      }
      await Promise.all(inFlight);
    } catch (err) {
      failure = err;
      await Promise.allSettled(inFlight);
    } finally {
      if (poolPack) {
        // Packs still running write into the records: they must end before another batch may take them.
        await Promise.allSettled(packs!);
        this.#spareRecords = poolPack.records.buffer as SharedArrayBuffer;
      }
    }
    if (failure !== undefined) throw await this.#classify(ctx, failure);
    timings.uploadMs = clock.uploading.total;
    // GPU passes run one after another on the queue, so their timestamp intervals add up without overlap.
    if (clock.timedPasses === timings.chunks && timings.chunks > 0) {
      timings.computeMs = clock.passNs / 1e6;
      timings.source = 'timestamp';
    } else {
      timings.computeMs = clock.inFlight.total;
    }
    return timings;
  }

  /**
   * Shared columns and records for packing on the pool, when the kernel has a
   * host pack, a pool was given and the batch is worth a worker round trip.
   * During co-execution the pool also runs the CPU part; packing runs at high
   * priority, and the CPU part's workers give way to it after each part.
   */
  #poolPack(input: I, items: number): PoolPack | undefined {
    const hostPack = this.#gpu.hostPack;
    if (this.#packer === undefined || hostPack === undefined) return undefined;
    if (items * hostPack.cost.cpuNsPerItem < this.#minPoolPackNs) return undefined;
    const total = this.kernel.count(input);
    const bytes = total * hostPack.outputWidth;
    const spare = this.#spareRecords;
    this.#spareRecords = undefined;
    const records = spare !== undefined && spare.byteLength >= bytes ? hostPack.createOutput(total, spare) : createSharedOutput(hostPack, total);
    return { input: shareColumns(input as never), records };
  }

  /**
   * Starts every chunk's packing on the pool, one chunk after another: chunk
   * k+1's records are built while chunk k is staged and computed, and two
   * chunks never split the pool between them (which would make the first
   * chunk, the one the GPU waits on, finish no sooner than the last).
   */
  #packAhead(poolPack: PoolPack, bounds: readonly number[], clock: BatchClock, signal: AbortSignal | undefined): Promise<void>[] {
    const packs: Promise<void>[] = [];
    let previous: Promise<void> = Promise.resolve();
    for (let k = 0; k + 1 < bounds.length; k++) {
      const range = { start: bounds[k]!, end: bounds[k + 1]! };
      // A failed pack fails every later one (their `then` never runs), and each chunk sees its own.
      const pack = previous.then(async () => {
        const t = performance.now();
        // High priority: the GPU waits on these records, so they go ahead of any CPU batch queued on the pool.
        await this.#packer!.executeInto(poolPack.input as never, poolPack.records, { ...range, priority: 'high', ...(signal ? { signal } : {}) });
        clock.uploading.add(t, performance.now());
      });
      pack.catch(() => undefined);
      packs.push(pack);
      previous = pack;
    }
    return packs;
  }

  async #chunk(
    ctx: GpuContext,
    pipeline: GPUComputePipeline,
    layout: Layout,
    tables: GPUBuffer[],
    workgroupSize: number,
    input: I,
    output: O,
    start: number,
    end: number,
    clock: BatchClock,
    poolPack: (PoolPack & { packed: Promise<void> }) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { device, buffers } = ctx;
    const { timings } = clock;
    const g = this.#gpu;
    const count = end - start;
    // Upload = host work (packing, copy into staging), as intervals: packs on the pool
    // (timed by #packAhead) overlap other chunks' work.
    let parts: readonly Uint8Array[];
    let tUpload: number;
    if (poolPack !== undefined) {
      const width = g.hostPack!.outputWidth;
      await poolPack.packed;
      tUpload = performance.now();
      parts = [poolPack.records.subarray(start * width, end * width)];
    } else {
      tUpload = performance.now();
      parts = g.pack(input, start, end);
    }
    if (parts.length !== g.inputBindings) {
      throw new ExecutorError('KERNEL_FAILED', `${this.kernel.name}: pack returned ${parts.length} bindings, expected ${g.inputBindings}`);
    }
    const params = Uint32Array.from([count, ...(g.params?.(input, start, end) ?? [])]);
    const paramBytes = new Uint8Array(params.buffer);
    const align = ctx.limits.minStorageBufferOffsetAlignment;
    const padTo = g.bindingAlignment ?? 4;
    const bindingSize = (bytes: number): number => alignUp(Math.max(bytes, padTo), padTo);
    const sections = [...parts, paramBytes];
    const offsets: number[] = [];
    let totalIn = 0;
    for (const part of sections) {
      offsets.push(totalIn);
      totalIn += alignUp(bindingSize(part.byteLength), align);
    }
    const outBytes = bindingSize(g.outputBytes(count));

    // Out-of-memory is scoped where buffers are created (BufferPool.acquire): reused ones need no scope.
    device.pushErrorScope('validation');
    const direct = totalIn <= DIRECT_UPLOAD_MAX_BYTES;
    const staging = direct ? undefined : buffers.acquire(totalIn, GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, 'staging');
    const inBuf = buffers.acquire(totalIn, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'input');
    const outBuf = buffers.acquire(outBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'output');
    // The pass's timestamps ride in the output's readback, after the output: one map for both.
    const stamps: PassTimestamps | undefined = clock.timed ? ctx.timestamps?.acquire() : undefined;
    const stampsAt = alignUp(outBytes, 8);
    const readBytes = stamps ? stampsAt + TIMESTAMP_BYTES : outBytes;
    const readback = buffers.acquire(readBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    // Taken now, before any await: the pool's pending allocation checks are exactly this chunk's,
    // not those of a chunk or batch that acquires while this one waits for its staging map.
    const allocated = buffers.allocationError();
    allocated.catch(() => undefined);
    let scopes: Promise<[GPUError | null, GPUError | null]> | undefined;
    let stagingReleased = false;
    try {
      // Pooled staging buffers come back already mapped (re-mapped in the background below).
      if (staging !== undefined && staging.mapState !== 'mapped') {
        // Waiting for the map is not upload work: count the pack before it and the copy after it.
        clock.uploading.add(tUpload, performance.now());
        await staging.mapAsync(GPUMapMode.WRITE);
        tUpload = performance.now();
      }
      const host = staging === undefined ? this.#directUpload.subarray(0, totalIn) : new Uint8Array(staging.getMappedRange(0, totalIn));
      sections.forEach((part, i) => {
        const at = offsets[i]!;
        host.set(part, at);
        // Reused memory holds old bytes: zero the padding so shaders see deterministic words.
        host.fill(0, at + part.byteLength, at + bindingSize(part.byteLength));
      });
      if (staging === undefined) device.queue.writeBuffer(inBuf, 0, host);
      else staging.unmap();
      clock.uploading.add(tUpload, performance.now());
      timings.bytesUploaded += totalIn;

      const key = `${bufferId(inBuf)}:${bufferId(outBuf)}:${outBytes}:${sections.map((p, i) => `${offsets[i]}+${bindingSize(p.byteLength)}`).join(',')}`;
      let bindGroup = layout.bindGroups.get(key);
      if (bindGroup === undefined) {
        const entries: GPUBindGroupEntry[] = [];
        sections.forEach((part, i) => {
          const binding = i < parts.length ? i : g.inputBindings + 1;
          entries.push({ binding, resource: { buffer: inBuf, offset: offsets[i]!, size: bindingSize(part.byteLength) } });
        });
        entries.push({ binding: g.inputBindings, resource: { buffer: outBuf, offset: 0, size: outBytes } });
        tables.forEach((buffer, i) => entries.push({ binding: g.inputBindings + 2 + i, resource: { buffer } }));
        if (layout.bindGroups.size >= MAX_BIND_GROUPS) layout.bindGroups.clear();
        bindGroup = device.createBindGroup({ layout: layout.bindGroupLayout, entries });
        layout.bindGroups.set(key, bindGroup);
      }

      const workgroups = Math.ceil(g.invocations(count) / workgroupSize);
      const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
      const encoder = device.createCommandEncoder();
      if (staging !== undefined) encoder.copyBufferToBuffer(staging, 0, inBuf, 0, totalIn);
      const pass = encoder.beginComputePass(
        stamps ? { timestampWrites: { querySet: stamps.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {},
      );
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      if (workgroups > 0) pass.dispatchWorkgroups(Math.min(workgroups, maxDim), Math.ceil(workgroups / maxDim));
      pass.end();
      encoder.copyBufferToBuffer(outBuf, 0, readback, 0, outBytes);
      if (stamps) TimestampPool.copyOut(encoder, stamps, readback, stampsAt);
      const tCompute = performance.now();
      device.queue.submit([encoder.finish()]);
      // Popped now, awaited with the readback: no extra round trip to the device.
      scopes = Promise.all([device.popErrorScope(), allocated]);
      // Re-map the staging buffer once the copy out of it is done, then hand it back to the pool mapped.
      stagingReleased = true;
      staging?.mapAsync(GPUMapMode.WRITE).then(
        () => buffers.release(staging),
        () => buffers.discard(staging),
      );

      const mappedOut = readback.mapAsync(GPUMapMode.READ, 0, readBytes);
      // Errors from the scopes explain a failed map better; the map's own rejection is then moot.
      mappedOut.catch(() => undefined);
      const [validation, oom] = await scopes;
      if (oom) throw new ExecutorError('OUT_OF_MEMORY', `GPU out of memory: ${oom.message}`);
      if (validation) throw new ExecutorError('KERNEL_FAILED', `GPU validation error: ${validation.message}`);
      await mappedOut;
      const tDownload = performance.now();
      clock.inFlight.add(tCompute, tDownload);
      try {
        const mapped = new Uint8Array(readback.getMappedRange(0, readBytes));
        const ns = stamps ? passNanoseconds(mapped, stampsAt) : undefined;
        if (ns !== undefined) {
          clock.passNs += ns;
          clock.timedPasses++;
        }
        // An aborted batch must not write into an output the caller may have given to the CPU instead.
        if (!signal?.aborted) g.unpack(mapped.subarray(0, outBytes), output, start, end);
      } finally {
        readback.unmap();
      }
      timings.downloadMs += performance.now() - tDownload;
      timings.bytesDownloaded += outBytes;
      timings.chunks++;
    } finally {
      if (scopes === undefined) {
        await device.popErrorScope().catch(() => null);
        await allocated.catch(() => null);
      }
      if (!stagingReleased && staging !== undefined) {
        if (staging.mapState === 'mapped') staging.unmap();
        buffers.release(staging);
      }
      if (readback.mapState === 'mapped') readback.unmap();
      for (const b of [inBuf, outBuf, readback]) buffers.release(b);
      if (stamps) ctx.timestamps?.release(stamps);
    }
  }

  /** Maps a failure to a stable code; anything but abort or a kernel bug retires the device. */
  async #classify(ctx: GpuContext, err: unknown): Promise<ExecutorError> {
    if (err instanceof ExecutorError && (err.code === 'ABORTED' || err.code === 'INVALID_INPUT')) return err;
    // Dawn reports loss through device.lost, which may settle just after the failed call.
    const lost = ctx.lost || (await Promise.race([ctx.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(r, 20, false))]));
    if (lost || !(err instanceof ExecutorError)) {
      ctx.lost = true;
      ctx.buffers.clear();
      ctx.device.destroy();
    }
    const message = err instanceof Error ? err.message : String(err);
    if (lost) return new ExecutorError('DEVICE_LOST', `GPU device lost during the batch: ${message}`, { cause: err });
    if (err instanceof ExecutorError) return err;
    return new ExecutorError('KERNEL_FAILED', `GPU batch failed: ${message}`, { cause: err });
  }
}
