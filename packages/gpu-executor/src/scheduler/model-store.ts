import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { GpuAdapterDescription } from '../gpu/device.js';
import type { DeviceKind } from '../types.js';
import { fitPowerModel, predict, scaled, type CostSample, type FittedModel } from './cost-fit.js';

/** What the file says it is; anything else is not ours. */
const FORMAT = 'supervm-cost-models';
const VERSION = 1;

/** The model file's shape (version 1). */
export interface CostModelFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  savedAt: string;
  models: Array<{
    kernel: string;
    device: DeviceKind;
    /** The machine the samples were measured on (see `machineFingerprint`). */
    fingerprint: string;
    /** [work units, ms] pairs. */
    samples: Array<[number, number]>;
    /** The fit at save time, for people reading the file; the samples are what is loaded. */
    fit?: { a: number; b: number; c: number; rmsRelError: number };
  }>;
  /** What split batches taught, per kernel and machine (GPU fingerprint); absent in files without splits. */
  splits?: SavedSplit[];
}

/** What a cost-model strategy learned from the split batches of one kernel (see `CostModelStrategy.splitFactors`). */
export interface SplitRecord {
  /** Each device's last part times over its model's prediction, oldest first. */
  partRatios: { cpu: number[]; gpu: number[] };
  /** Each device's last part starts, ms after their batch's start, oldest first. */
  partStarts: { cpu: number[]; gpu: number[] };
  /** The last splits' ln(cpu ratio / gpu ratio), oldest first (`SplitSpread.values`). */
  spread: number[];
}

/** A split record as filed: for one kernel on one machine. */
type SavedSplit = SplitRecord & { kernel: string; fingerprint: string };

function splitKey(gpuFingerprint: string, kernel: string): string {
  return `${gpuFingerprint}\u0000${kernel}`;
}

export interface ModelStoreOptions {
  /** File to load from and save to; `false` keeps the models in memory only. Default `defaultModelPath()`. */
  path?: string | false;
  /** Fingerprint of the CPU side; default from `machineFingerprint()`. */
  cpuFingerprint?: string;
  /** Fingerprint of the GPU side; set later with `setGpu` when the adapter is known. Default `<cpu>;gpu=unknown`. */
  gpuFingerprint?: string;
  /** Samples kept per power-of-two bucket of work. Default 5. */
  samplesPerBucket?: number;
  /** Distinct power-of-two work buckets (spanning at least 4x) before a model is trusted. Default 3. */
  minBuckets?: number;
}

export interface ModelSummary {
  kernel: string;
  device: DeviceKind;
  fingerprint: string;
  samples: number;
  buckets: number;
  trusted: boolean;
  fit: FittedModel | undefined;
}

/** `$SUPERVM_COST_MODEL_PATH`, else `$XDG_CACHE_HOME/supervm/cost-models.json`, else `~/.cache/supervm/cost-models.json`. */
export function defaultModelPath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['SUPERVM_COST_MODEL_PATH'];
  if (explicit) return explicit;
  const xdg = env['XDG_CACHE_HOME'];
  const cache = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(cache, 'supervm', 'cost-models.json');
}

/**
 * The CPU side of the machine fingerprint: CPU model, core count and the
 * worker threads measured with. A file moved to another machine (or run with
 * another pool size) does not match, so its models are not trusted there.
 */
export function machineFingerprint(options: { threads?: number } = {}): string {
  const model = (cpus()[0]?.model ?? 'unknown').trim().replace(/\s+/g, ' ');
  const cores = availableParallelism();
  return `cpu=${model};cores=${cores};threads=${options.threads ?? cores}`;
}

/** The GPU side: the CPU fingerprint plus the adapter (backend, vendor, device, description). */
export function gpuFingerprint(cpuFingerprint: string, adapter: Pick<GpuAdapterDescription, 'backend' | 'vendor' | 'device' | 'description'>): string {
  const name = [adapter.vendor, adapter.device, adapter.description].filter(Boolean).join(' ').trim().replace(/\s+/g, ' ');
  return `${cpuFingerprint};gpu=${adapter.backend}:${name || 'unnamed'}`;
}

interface Entry {
  kernel: string;
  device: DeviceKind;
  fingerprint: string;
  /** Samples per floor(log2(work)) bucket, oldest first. */
  buckets: Map<number, CostSample[]>;
  fit: FittedModel | undefined;
  /** Samples were added since `fit` was computed. */
  stale: boolean;
  /** How many. */
  sinceFit: number;
  /** Consecutive samples of one bucket (`missBucket`) off their prediction by more than MISS_RATIO; MISSES_TO_REFIT refit now. */
  misses: number;
  missBucket: number;
}

/**
 * A fit over a full store costs ~1 ms (measured: 256 samples, the dev box),
 * which routing a 10K-hash batch on the H100 (0.5 ms) cannot afford after
 * every batch, nor every tenth (observe + decide averaged 127 us here with
 * refits at an eighth). Predictions near recent batches come from their
 * bucket's correction (`localModel`), and batches far off their prediction
 * twice in a row refit at once (MISS_RATIO), so the global curve is refitted
 * only once new samples match the ones it was fitted on: always while it has
 * few, every ~85 batches once its buckets are full.
 */
const REFIT_FRACTION = 1;
/** A batch this many times slower or faster than its model predicted is a miss. */
const MISS_RATIO = 2;
/**
 * Misses in a row, at one size, that refit at once. One is not enough: a GC pause or a driver
 * hiccup triples a 0.5 ms GPU batch now and then, and with a refit on every
 * single miss, 3 % of such batches refitted a 256-sample store each (H100
 * profile of SHA-256 10K: refits were ~30 us of every routed batch).
 */
const MISSES_TO_REFIT = 2;
/** The local correction of a prediction: the median ratio of the last this many samples of its bucket. */
const LOCAL_SAMPLES = 3;
/** Bounds of a local correction factor (a bucket cannot turn a model into nonsense). */
const MAX_CORRECTION = 16;

function dueForRefit(entry: Entry): boolean {
  if (!entry.stale) return false;
  if (entry.fit === undefined || entry.misses >= MISSES_TO_REFIT) return true;
  let samples = 0;
  for (const list of entry.buckets.values()) samples += list.length;
  return entry.sinceFit >= Math.max(1, Math.floor(samples / REFIT_FRACTION));
}

function refit(entry: Entry): void {
  entry.fit = fitPowerModel([...entry.buckets.values()].flat());
  entry.stale = false;
  entry.sinceFit = 0;
  entry.misses = 0;
}

/** The median observed/predicted ratio of a bucket's last LOCAL_SAMPLES samples, within 1/16..16; 1 for none. */
function localCorrection(model: FittedModel, bucket: readonly CostSample[]): number {
  const n = Math.min(bucket.length, LOCAL_SAMPLES);
  if (n === 0) return 1;
  // The median of at most three ratios, without allocating (cached per bucket: `cachedCorrection`).
  const ratio = (s: CostSample): number => s.ms / Math.max(predict(model, s.work), Number.MIN_VALUE);
  const end = bucket.length;
  let median: number;
  if (n === 1) median = ratio(bucket[end - 1]!);
  else if (n === 2) median = Math.min(ratio(bucket[end - 1]!), ratio(bucket[end - 2]!));
  else {
    const x = ratio(bucket[end - 1]!);
    const y = ratio(bucket[end - 2]!);
    const z = ratio(bucket[end - 3]!);
    median = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
  }
  return Math.min(Math.max(median, 1 / MAX_CORRECTION), MAX_CORRECTION);
}

/** Each bucket's correction under the fit and last sample it was computed for (see `cachedCorrection`). */
const corrections = new WeakMap<readonly CostSample[], { model: FittedModel; last: CostSample | undefined; k: number }>();

/**
 * `localCorrection`, recomputed only when the bucket gained a sample or the
 * curve was refitted: a routed batch asks for it about ten times (deciding,
 * learning, checking for a surprise), each three predictions.
 */
function cachedCorrection(model: FittedModel, bucket: readonly CostSample[]): number {
  const last = bucket[bucket.length - 1];
  const cached = corrections.get(bucket);
  if (cached !== undefined && cached.model === model && cached.last === last) return cached.k;
  const k = localCorrection(model, bucket);
  corrections.set(bucket, { model, last, k });
  return k;
}

/** The power-of-two bucket of `work` that samples and local corrections are kept by. */
export function bucketOf(work: number): number {
  return Math.floor(Math.log2(Math.max(work, 1)));
}

function isDevice(value: unknown): value is DeviceKind {
  return value === 'cpu' || value === 'gpu';
}

function warn(message: string): void {
  process.emitWarning(message, { type: 'SuperVMWarning', code: 'SUPERVM_COST_MODEL' });
}

/** Checks a parsed file; returns why it is not a model file, or undefined. */
function problemWith(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return 'not a JSON object';
  const file = data as Partial<CostModelFile>;
  if (file.format !== FORMAT) return `format is not ${JSON.stringify(FORMAT)}`;
  if (file.version !== VERSION) return `unsupported version ${JSON.stringify(file.version)}`;
  if (!Array.isArray(file.models)) return 'models is not an array';
  for (const [i, m] of file.models.entries()) {
    if (typeof m !== 'object' || m === null) return `models[${i}] is not an object`;
    if (typeof m.kernel !== 'string' || m.kernel === '') return `models[${i}].kernel is not a string`;
    if (!isDevice(m.device)) return `models[${i}].device is not cpu or gpu`;
    if (typeof m.fingerprint !== 'string') return `models[${i}].fingerprint is not a string`;
    if (!Array.isArray(m.samples)) return `models[${i}].samples is not an array`;
    for (const s of m.samples as unknown[]) {
      if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        return `models[${i}].samples has an entry that is not [work >= 0, ms >= 0]`;
      }
    }
  }
  if (file.splits !== undefined) {
    if (!Array.isArray(file.splits)) return 'splits is not an array';
    for (const [i, r] of file.splits.entries()) {
      const problem = problemWithSplit(r);
      if (problem !== undefined) return `splits[${i}]${problem}`;
    }
  }
  return undefined;
}

function problemWithSplit(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return ' is not an object';
  const record = r as Partial<SavedSplit>;
  if (typeof record.kernel !== 'string' || record.kernel === '') return '.kernel is not a string';
  if (typeof record.fingerprint !== 'string') return '.fingerprint is not a string';
  const numbers = (xs: unknown, min: number): boolean => Array.isArray(xs) && xs.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= min);
  for (const field of ['partRatios', 'partStarts'] as const) {
    const pair = record[field];
    if (typeof pair !== 'object' || pair === null || !numbers(pair.cpu, 0) || !numbers(pair.gpu, 0)) return `.${field} is not { cpu, gpu } of numbers >= 0`;
  }
  if (!numbers(record.spread, -Infinity)) return '.spread is not an array of numbers';
  return undefined;
}

/**
 * Cost models per (kernel, device, machine fingerprint), built from observed
 * batches and persisted as JSON. Only entries whose fingerprint matches this
 * machine are used; others found in the file are kept and written back
 * untouched (one file may serve several machines). A missing file is an empty
 * store; an unreadable or corrupt one is ignored with one process warning.
 */
export class ModelStore {
  readonly path: string | undefined;
  readonly cpuFingerprint: string;
  readonly #samplesPerBucket: number;
  readonly #minBuckets: number;
  #gpuFingerprint: string;
  readonly #entries = new Map<string, Entry>();
  /** This machine's entries by kernel, then device: looked up several times per routed batch, without building a key. */
  readonly #current = new Map<string, { cpu?: Entry; gpu?: Entry }>();
  /** Split records by GPU fingerprint and kernel; others' kept and written back, as models are. */
  readonly #splits = new Map<string, SavedSplit>();
  #splitsRevision = 0;
  #dirty = false;
  #refits = 0;
  #revision = 0;

  constructor(options: ModelStoreOptions = {}) {
    this.path = options.path === false ? undefined : (options.path ?? defaultModelPath());
    this.cpuFingerprint = options.cpuFingerprint ?? machineFingerprint();
    this.#gpuFingerprint = options.gpuFingerprint ?? `${this.cpuFingerprint};gpu=unknown`;
    this.#samplesPerBucket = options.samplesPerBucket ?? 5;
    this.#minBuckets = options.minBuckets ?? 3;
    if (!Number.isInteger(this.#samplesPerBucket) || this.#samplesPerBucket < 1) throw new TypeError('samplesPerBucket must be an integer >= 1');
    if (!Number.isInteger(this.#minBuckets) || this.#minBuckets < 2) throw new TypeError('minBuckets must be an integer >= 2');
  }

  get gpuFingerprint(): string {
    return this.#gpuFingerprint;
  }

  /** Names the GPU adapter once it is open: the GPU side of the fingerprint. */
  setGpu(adapter: Pick<GpuAdapterDescription, 'backend' | 'vendor' | 'device' | 'description'>): void {
    this.#gpuFingerprint = gpuFingerprint(this.cpuFingerprint, adapter);
    this.#current.clear();
    this.#revision++;
    this.#splitsRevision++;
  }

  /** What split batches of `kernel` taught on this machine (its GPU fingerprint): as loaded, or as last set. */
  splitRecord(kernel: string): SplitRecord | undefined {
    return this.#splits.get(splitKey(this.#gpuFingerprint, kernel));
  }

  /** Keeps `record` (a copy) for `kernel` on this machine, to be saved with the models. */
  setSplitRecord(kernel: string, record: SplitRecord): void {
    const { partRatios, partStarts, spread } = record;
    this.#splits.set(splitKey(this.#gpuFingerprint, kernel), {
      kernel,
      fingerprint: this.#gpuFingerprint,
      partRatios: { cpu: [...partRatios.cpu], gpu: [...partRatios.gpu] },
      partStarts: { cpu: [...partStarts.cpu], gpu: [...partStarts.gpu] },
      spread: [...spread],
    });
    this.#dirty = true;
  }

  /** Changes when the split records a strategy reads may have been replaced: a load, another GPU. */
  get splitsRevision(): number {
    return this.#splitsRevision;
  }

  /**
   * Changes whenever a fit, a bucket or a model does, not with each sample: a
   * decision taken from the fits holds while it does (bucket corrections move
   * by at most one sample a batch).
   */
  get revision(): number {
    return this.#revision;
  }

  /** The fingerprint a device's models are filed under on this machine. */
  fingerprintOf(device: DeviceKind): string {
    return device === 'cpu' ? this.cpuFingerprint : this.#gpuFingerprint;
  }

  /** True when observations were added since the last load or save. */
  get dirty(): boolean {
    return this.#dirty;
  }

  #key(fingerprint: string, kernel: string, device: DeviceKind): string {
    return `${fingerprint}\u0000${kernel}\u0000${device}`;
  }

  #entry(kernel: string, device: DeviceKind, create: boolean): Entry | undefined {
    let current = this.#current.get(kernel);
    let entry = current?.[device];
    if (entry !== undefined) return entry;
    const fingerprint = this.fingerprintOf(device);
    const key = this.#key(fingerprint, kernel, device);
    entry = this.#entries.get(key);
    if (entry === undefined && create) {
      entry = { kernel, device, fingerprint, buckets: new Map(), fit: undefined, stale: false, sinceFit: 0, misses: 0, missBucket: 0 };
      this.#entries.set(key, entry);
      this.#revision++;
    }
    if (entry !== undefined) {
      if (current === undefined) this.#current.set(kernel, (current = {}));
      current[device] = entry;
    }
    return entry;
  }

  /** Records one batch: `work` units took `ms` on `device`. Empty batches and bad numbers are ignored. */
  observe(kernel: string, device: DeviceKind, work: number, ms: number): void {
    if (!(work > 0) || !Number.isFinite(work) || !(ms >= 0) || !Number.isFinite(ms)) return;
    const entry = this.#entry(kernel, device, true);
    if (entry === undefined) return;
    this.#add(entry, { work, ms });
    this.#dirty = true;
  }

  #add(entry: Entry, sample: CostSample): void {
    const b = bucketOf(sample.work);
    let list = entry.buckets.get(b);
    if (list === undefined) {
      list = [];
      entry.buckets.set(b, list);
      this.#revision++;
    }
    // A miss is a batch far off what was predicted for it: the curve corrected by its bucket. Against the
    // bare curve, a size the curve misfits missed on every batch and refitted the whole store each time
    // (~1 ms: on the H100, auto ran SHA-256 10K 0.2 ms and Ed25519 1K 1.5 ms slower than forced GPU).
    if (entry.fit !== undefined) {
      const predicted = predict(entry.fit, sample.work) * cachedCorrection(entry.fit, list);
      const ratio = sample.ms / Math.max(predicted, Number.MIN_VALUE);
      if (ratio <= MISS_RATIO && ratio >= 1 / MISS_RATIO) entry.misses = 0;
      else if (entry.misses > 0 && entry.missBucket === b) entry.misses++;
      else {
        entry.misses = 1;
        entry.missBucket = b;
      }
    }
    list.push(sample);
    if (list.length > this.#samplesPerBucket) list.shift();
    entry.stale = true;
    entry.sinceFit++;
  }

  /** Every sample of a device's model on this machine. */
  samples(kernel: string, device: DeviceKind): CostSample[] {
    const entry = this.#entry(kernel, device, false);
    return entry ? [...entry.buckets.values()].flat() : [];
  }

  /** Whether a device has a sample within `buckets` power-of-two buckets of `work` (2: within 4x). */
  hasNear(kernel: string, device: DeviceKind, work: number, buckets: number): boolean {
    const entry = this.#entry(kernel, device, false);
    if (entry === undefined) return false;
    const b = bucketOf(work);
    for (let d = -buckets; d <= buckets; d++) if (entry.buckets.has(b + d)) return true;
    return false;
  }

  /** Whether the power-of-two bucket of `work` has a sample on this device. */
  hasBucket(kernel: string, device: DeviceKind, work: number): boolean {
    return this.#entry(kernel, device, false)?.buckets.has(bucketOf(work)) ?? false;
  }

  /** The sample whose work is nearest `work` on the log scale. */
  nearest(kernel: string, device: DeviceKind, work: number): CostSample | undefined {
    let best: CostSample | undefined;
    let bestDist = Infinity;
    const lw = Math.log(Math.max(work, 1));
    for (const s of this.samples(kernel, device)) {
      const d = Math.abs(Math.log(Math.max(s.work, 1)) - lw);
      if (d < bestDist) {
        best = s;
        bestDist = d;
      }
    }
    return best;
  }

  /** Whether the samples are spread enough (distinct buckets spanning 4x or more) to trust a fit. */
  isTrusted(kernel: string, device: DeviceKind): boolean {
    const entry = this.#entry(kernel, device, false);
    if (entry === undefined || entry.buckets.size < this.#minBuckets) return false;
    let lo = Infinity;
    let hi = -Infinity;
    for (const b of entry.buckets.keys()) {
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    }
    return hi - lo >= 2;
  }

  /** The fitted model, whether or not it is trusted yet (undefined below 2 samples). */
  fit(kernel: string, device: DeviceKind): FittedModel | undefined {
    const entry = this.#entry(kernel, device, false);
    if (entry === undefined) return undefined;
    if (dueForRefit(entry)) {
      refit(entry);
      this.#refits++;
      this.#revision++;
    }
    return entry.fit;
  }

  /** The fitted model when trusted, else undefined. */
  model(kernel: string, device: DeviceKind): FittedModel | undefined {
    return this.isTrusted(kernel, device) ? this.fit(kernel, device) : undefined;
  }

  /**
   * The trusted model corrected near `work`: scaled by the median of observed
   * over predicted for the last few samples in work's bucket. One curve over
   * every size can be far off at some (vector add 16M on the H100 ran 4x its
   * fit); the bucket's own batches then decide, and a run of surprises there
   * moves the decision within a batch or two.
   */
  localModel(kernel: string, device: DeviceKind, work: number): FittedModel | undefined {
    const model = this.model(kernel, device);
    if (model === undefined) return undefined;
    const bucket = this.#entry(kernel, device, false)?.buckets.get(bucketOf(work));
    return bucket === undefined ? model : scaled(model, cachedCorrection(model, bucket));
  }

  /** Whole-curve refits so far (every kernel and device): a handful per size learned, not one per batch. */
  get refits(): number {
    return this.#refits;
  }

  /** Predicted ms for `work` on `device` from a trusted model, corrected locally (see `localModel`). */
  predict(kernel: string, device: DeviceKind, work: number): number | undefined {
    const model = this.localModel(kernel, device, work);
    return model === undefined ? undefined : predict(model, work);
  }

  /** Forgets this machine's samples of a kernel (one device or both), and its split record, e.g. before a calibration sweep. */
  clear(kernel: string, device?: DeviceKind): void {
    for (const d of device === undefined ? (['cpu', 'gpu'] as const) : [device]) {
      const current = this.#current.get(kernel);
      if (current) delete current[d];
      if (this.#entries.delete(this.#key(this.fingerprintOf(d), kernel, d))) this.#dirty = true;
      this.#revision++;
    }
    // What splits taught was measured against the models just cleared.
    if (this.#splits.delete(splitKey(this.#gpuFingerprint, kernel))) this.#dirty = true;
    this.#splitsRevision++;
  }

  /** The models of this machine, every kernel and device. */
  summary(): ModelSummary[] {
    const out: ModelSummary[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.fingerprint !== this.fingerprintOf(entry.device)) continue;
      out.push({
        kernel: entry.kernel,
        device: entry.device,
        fingerprint: entry.fingerprint,
        samples: [...entry.buckets.values()].reduce((n, l) => n + l.length, 0),
        buckets: entry.buckets.size,
        trusted: this.isTrusted(entry.kernel, entry.device),
        fit: this.fit(entry.kernel, entry.device),
      });
    }
    return out.sort((x, y) => x.kernel.localeCompare(y.kernel) || x.device.localeCompare(y.device));
  }

  /** The whole store (every fingerprint) in the file format. */
  toJSON(): CostModelFile {
    const models: CostModelFile['models'] = [];
    for (const entry of this.#entries.values()) {
      if (entry.stale) {
        refit(entry);
        this.#revision++;
      }
      const samples = [...entry.buckets.values()].flat().map((s): [number, number] => [s.work, s.ms]);
      const { fit } = entry;
      models.push({
        kernel: entry.kernel,
        device: entry.device,
        fingerprint: entry.fingerprint,
        samples,
        ...(fit ? { fit: { a: fit.a, b: fit.b, c: fit.c, rmsRelError: fit.rmsRelError } } : {}),
      });
    }
    const splits = [...this.#splits.values()];
    return { format: FORMAT, version: VERSION, savedAt: new Date().toISOString(), models, ...(splits.length > 0 ? { splits } : {}) };
  }

  /**
   * Reads the file, replacing what the store holds. Returns true when a file was
   * loaded; false when there is none, or it is corrupt (then one warning is
   * emitted and the store starts empty). Never throws.
   */
  load(): boolean {
    if (this.path === undefined) return false;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cost model file ${this.path} could not be read, ignoring it: ${(err as Error).message}`);
      return false;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      warn(`cost model file ${this.path} is not valid JSON, ignoring it: ${(err as Error).message}`);
      return false;
    }
    const problem = problemWith(data);
    if (problem !== undefined) {
      warn(`cost model file ${this.path} is not a valid model file (${problem}), ignoring it`);
      return false;
    }
    this.#entries.clear();
    this.#current.clear();
    this.#revision++;
    for (const m of (data as CostModelFile).models) {
      const key = this.#key(m.fingerprint, m.kernel, m.device);
      let entry = this.#entries.get(key);
      if (entry === undefined) {
        entry = { kernel: m.kernel, device: m.device, fingerprint: m.fingerprint, buckets: new Map(), fit: undefined, stale: false, sinceFit: 0, misses: 0, missBucket: 0 };
        this.#entries.set(key, entry);
      }
      for (const [work, ms] of m.samples) if (work > 0) this.#add(entry, { work, ms });
    }
    this.#splits.clear();
    this.#splitsRevision++;
    for (const r of (data as CostModelFile).splits ?? []) this.#splits.set(splitKey(r.fingerprint, r.kernel), r);
    this.#dirty = false;
    return true;
  }

  /** Writes the file (atomically: a temporary file, then rename). Returns false, with a warning, on failure; never throws. */
  async save(): Promise<boolean> {
    if (this.path === undefined) return false;
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    try {
      const text = `${JSON.stringify(this.toJSON(), null, 1)}\n`;
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, text, 'utf8');
      await rename(tmp, this.path);
      this.#dirty = false;
      return true;
    } catch (err) {
      warn(`cost models could not be saved to ${this.path}: ${(err as Error).message}`);
      return false;
    }
  }

  /** `save` for exit paths that cannot wait. */
  saveSync(): boolean {
    if (this.path === undefined) return false;
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    try {
      const text = `${JSON.stringify(this.toJSON(), null, 1)}\n`;
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileSync(tmp, text, 'utf8');
      renameSync(tmp, this.path);
      this.#dirty = false;
      return true;
    } catch (err) {
      warn(`cost models could not be saved to ${this.path}: ${(err as Error).message}`);
      return false;
    }
  }
}

export { predict };
