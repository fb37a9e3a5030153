import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { contractId } from '../contracts/index.js';
import { executeSequential, type BlockOutcome, type WriteColumns } from '../sequential.js';
import { allocateRun, prepareTables, runSingle, runStats, runThread, runWorker, type BlockRun } from './engine.js';
import { CELL_WRITTEN, CTL_DONE, KIND_CALL, KIND_TRANSFER, buildTables, type BlockTables, type TxColumns, type TxSlots } from './layout.js';

/** Rough single-thread cost of a transfer, and of a call per unit of its gas limit (H100 machine: ~4.4 ns a `work` round). */
const TRANSFER_NS = 1_000;
const CALL_BASE_NS = 500;
const CALL_NS_PER_GAS = 5;

/** Estimated sequential execution time of a block, from its kinds and gas limits (an upper bound for calls). */
export function estimateWorkNs(t: TxColumns): number {
  let ns = 0;
  for (let i = 0; i < t.n; i++) {
    if (t.kind[i] === KIND_TRANSFER) ns += TRANSFER_NS;
    else if (t.kind[i] === KIND_CALL) ns += CALL_BASE_NS + CALL_NS_PER_GAS * t.gasLimit[i]!;
  }
  return ns;
}

export interface BlockStmPoolOptions {
  /**
   * Blocks with fewer transactions than this run on the calling thread with the
   * sequential executor (same result, no hand-off to workers). Default 32; 0
   * always runs Block-STM.
   */
  sequentialBelow?: number;
  /**
   * Blocks whose estimated sequential work (`estimateWorkNs`) is below this run
   * sequentially too: handing 2,000 one-microsecond transfers to threads costs
   * more than it saves. Default 5 ms; 0 always runs Block-STM.
   */
  minParallelWorkNs?: number;
  /**
   * Threads a block gets: one per this many ns of estimated sequential work
   * (`estimateWorkNs`), at least 1 and at most the pool's. Cheap transfers
   * (~1 us each) then run on a few threads and leave the other cores to the
   * verification of the next block, which overlaps this one's execution;
   * heavy contract calls get every thread. A block given fewer threads than
   * the pool has runs on workers only, so the calling thread's event loop
   * stays free. Default 50 ms (a block of 50,000 transfers: 1 worker;
   * 20,000 calls of ~20 us: 8 threads); 0 always uses every thread.
   */
  workPerThreadNs?: number;
  /**
   * Start every declared write cell empty, as the paper does, instead of as an
   * ESTIMATE: reads then run past transactions that have not executed yet and
   * validation sends them back. Slower under contention; for tests and
   * comparisons. Default false.
   */
  optimistic?: boolean;
}

/**
 * Pool control words, one 64-byte line each: GEN (CLOSE stops the workers),
 * per worker the generation it finished (written by the worker), then per
 * worker its wake word (raised by the pool when a job waits on its port).
 */
const LINE = 16;
const GEN = 0;
const CLOSE = -1;
const ackWord = (worker: number): number => (1 + worker) * LINE;
const wakeWord = (threads: number, worker: number): number => (threads + worker) * LINE;

/** What worker.js gets at start. */
export interface WorkerInit {
  control: Int32Array;
  port: MessagePort;
  /** Its words in `control`: GEN is 0. */
  ack: number;
  wake: number;
}

/** One block for one worker, posted on its port before the generation is raised. */
export interface Job {
  gen: number;
  tables: BlockTables;
  run: BlockRun;
  thread: number;
}

/** Ack polls before the caller sleeps: workers leave within microseconds of the block's end. */
const ACK_SPINS = 20_000;

type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Worker threads that run Block-STM; one pool per chain, reused for every
 * block. Workers start (and warm up) when the pool is created and then sleep
 * in Atomics.wait on a word of their own between blocks: a block wakes only
 * the workers it runs on, which read its tables from their port
 * synchronously, without their event loops.
 */
export class BlockStmPool {
  readonly threads: number;
  readonly sequentialBelow: number;
  readonly minParallelWorkNs: number;
  readonly workPerThreadNs: number;
  readonly optimistic: boolean;
  readonly #control: Int32Array;
  readonly #workers: Worker[] = [];
  /** This side of each worker's channel: jobs out, a failed worker's error back. */
  readonly #ports: MessagePort[] = [];
  readonly #ready: Promise<void>;
  /** Resolve when each worker has exited. */
  readonly #exited: Promise<void>[] = [];
  /** Reasons to keep the process alive for the workers (start-up, a block, closing); unreferenced at 0. */
  #holds = 0;
  #gen = 0;
  /** Blocks run one at a time: each waits for the one before. */
  #queue: Promise<unknown> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;

  constructor(threads = availableParallelism(), options: BlockStmPoolOptions = {}) {
    if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be a positive integer, got ${threads}`);
    const { sequentialBelow = 32, minParallelWorkNs = 5_000_000, workPerThreadNs = 50_000_000, optimistic = false } = options;
    if (!Number.isInteger(sequentialBelow) || sequentialBelow < 0) throw new TypeError(`sequentialBelow must be an integer >= 0, got ${sequentialBelow}`);
    if (!(minParallelWorkNs >= 0)) throw new TypeError(`minParallelWorkNs must be a number >= 0, got ${minParallelWorkNs}`);
    if (!(workPerThreadNs >= 0)) throw new TypeError(`workPerThreadNs must be a number >= 0, got ${workPerThreadNs}`);
    this.threads = threads;
    this.sequentialBelow = sequentialBelow;
    this.minParallelWorkNs = minParallelWorkNs;
    this.workPerThreadNs = workPerThreadNs;
    this.optimistic = optimistic;
    this.#control = new Int32Array(new SharedArrayBuffer(2 * threads * LINE * 4));
    // The calling thread takes part too, so threads - 1 workers. Each warms up on its own before it reports ready.
    const started: Promise<void>[] = [];
    for (let index = 0; index < threads - 1; index++) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit = { control: this.#control, port: port2, ack: ackWord(index), wake: wakeWord(threads, index) };
      // Output forwarded by hand: the default pipe puts listeners on process.stdout per worker (warnings past 10 workers).
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init, transferList: [port2], stdout: true, stderr: true });
      worker.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
      worker.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`Block-STM worker exited during start-up (code ${code})`)));
        }),
      );
      this.#exited.push(new Promise((resolve) => worker.once('exit', () => resolve())));
      worker.on('error', (err) => (this.#failure ??= err));
      worker.on('exit', (code) => {
        if (!this.#closed) this.#failure ??= new Error(`Block-STM worker ${index} exited (code ${code})`);
      });
      this.#workers.push(worker);
      this.#ports.push(port1);
    }
    this.#hold(); // workers start referenced
    this.#ready = Promise.all(started).then(() => undefined);
    this.#ready.then(
      () => this.#release(),
      () => this.#release(),
    );
    // The calling thread's share of the first block should not run cold either.
    warmUp();
  }

  /** Resolves once every worker has started and warmed up (execute waits for it by itself). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Raises the wake words of workers 0 .. count - 1: each runs the jobs on its port (none when closing). */
  #wake(count: number): void {
    for (let w = 0; w < count; w++) {
      const at = wakeWord(this.threads, w);
      Atomics.add(this.#control, at, 1);
      Atomics.notify(this.#control, at);
    }
  }

  /** Whether `execute` hands this block to Block-STM (else it runs sequentially on the calling thread). */
  runsInParallel(t: TxColumns): boolean {
    return t.n >= this.sequentialBelow && (this.minParallelWorkNs === 0 || estimateWorkNs(t) >= this.minParallelWorkNs);
  }

  /**
   * How many threads `execute` runs this block on (1 also when it runs
   * sequentially): from its estimated work, see `workPerThreadNs`.
   */
  threadsFor(t: TxColumns): number {
    if (!this.runsInParallel(t)) return 1;
    if (this.workPerThreadNs === 0) return this.threads;
    return Math.min(this.threads, Math.max(1, Math.ceil(estimateWorkNs(t) / this.workPerThreadNs)));
  }

  /** Executes the block's transactions in parallel; the result equals `executeSequential`. */
  async execute(t: BlockTables): Promise<BlockOutcome> {
    if (!this.runsInParallel(t)) return executeSequential(t);
    const turn = this.#queue.then(() => this.#run(t));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #run(t: BlockTables): Promise<BlockOutcome> {
    if (this.#closed) throw new Error('BlockStmPool is closed');
    await this.#ready;
    if (this.#failure) throw this.#failure;
    const threads = this.threadsFor(t);
    // With every thread needed, the calling thread is one of them. With fewer, only workers run the block and
    // this thread's event loop stays free: it feeds the shared pool that verifies the next block meanwhile
    // (a pool whose queue runs dry while this thread is busy stalls until it returns).
    const callerJoins = threads === this.threads;
    const jobs = callerJoins ? threads - 1 : threads;
    const run = allocateRun(t.n, threads);
    prepareTables(t, this.optimistic);
    const startedAt = performance.timeOrigin + performance.now();
    const gen = ++this.#gen;
    this.#hold(); // an ack still to come must keep the process alive
    // Only the first `jobs` workers get a job, and only they are woken: a block on fewer threads leaves the others asleep.
    for (let index = 0; index < jobs; index++) {
      const job: Job = { gen, tables: t, run, thread: callerJoins ? index + 1 : index };
      this.#ports[index]!.postMessage(job);
    }
    this.#wake(jobs);
    let error: unknown;
    try {
      if (callerJoins) runThread(t, run, 0);
    } catch (err) {
      error = err;
    }
    try {
      await this.#acks(gen, jobs, callerJoins);
    } finally {
      this.#release();
    }
    for (const port of this.#ports) {
      const failed = receiveMessageOnPort(port);
      if (failed !== undefined) error ??= new Error(`Block-STM worker failed: ${String(failed.message)}`);
    }
    if (error !== undefined) throw error;
    if (Atomics.load(t.ctl, CTL_DONE) !== 1) throw new Error('Block-STM ended before the block was done');
    const stats = runStats(run, startedAt);
    const written = committedWriteColumns(t);
    let writes: Map<number, bigint> | undefined;
    return {
      receipts: t.receipts.slice(0, t.n),
      // Built only if asked for: the runtime reads the columns.
      get writes(): Map<number, bigint> {
        return (writes ??= mapOfWrites(written));
      },
      written,
      executions: stats.executions,
      workerExecutions: stats.workerExecutions,
      stats,
    };
  }

  #hold(): void {
    if (this.#holds++ === 0) for (const w of this.#workers) w.ref();
  }

  #release(): void {
    if (--this.#holds === 0) for (const w of this.#workers) w.unref();
  }

  /**
   * Waits until workers 0 .. count - 1 (those given a job) have finished
   * generation `gen`: spinning first when this thread ran its share (the
   * others end within microseconds of it), else asleep at once.
   */
  async #acks(gen: number, count: number, spin: boolean): Promise<void> {
    for (let w = 0; w < count; w++) {
      const at = ackWord(w);
      for (let spins = spin ? 0 : ACK_SPINS; Atomics.load(this.#control, at) < gen; spins++) {
        if (this.#failure) throw this.#failure;
        if (spins < ACK_SPINS) continue;
        // The timeout re-checks #failure: a worker that died never acks.
        const waiting = waitAsync(this.#control, at, Atomics.load(this.#control, at), 20);
        if (waiting.async) await waiting.value;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    // Held for good: the process stays up until the exits are seen. The workers leave their loop and end by themselves.
    this.#hold();
    Atomics.store(this.#control, GEN, CLOSE);
    this.#wake(this.#workers.length);
    await Promise.all(this.#exited);
    for (const port of this.#ports) port.close();
  }
}

/** Per slot, the value of its highest writer: what sequential execution would leave. */
export function committedWrites(t: BlockTables): Map<number, bigint> {
  return mapOfWrites(committedWriteColumns(t));
}

/** `committedWrites` as columns, in slot order. */
export function committedWriteColumns(t: BlockTables): WriteColumns {
  const slots = new Int32Array(t.slots);
  const values = new BigUint64Array(t.slots);
  let m = 0;
  for (let s = 0; s < t.slots; s++) {
    for (let p = t.slotWriterOffsets[s + 1]! - 1; p >= t.slotWriterOffsets[s]!; p--) {
      const cell = t.slotWriters[p]!;
      if (t.cellState[cell] === CELL_WRITTEN) {
        slots[m] = s;
        values[m++] = t.cellValue[cell]!;
        break;
      }
    }
  }
  return { slots: slots.subarray(0, m), values: values.subarray(0, m) };
}

function mapOfWrites(w: WriteColumns): Map<number, bigint> {
  const writes = new Map<number, bigint>();
  for (let k = 0; k < w.slots.length; k++) writes.set(w.slots[k]!, w.values[k]!);
  return writes;
}

let warmedUp = false;

/**
 * Runs a small synthetic block through the engine and the sequential
 * executor on this thread, so that the first real block finds the hot paths
 * (transaction semantics, multi-version reads, the contracts) compiled instead
 * of interpreted. A few milliseconds per thread. `cloned` (workers): the
 * tables and run objects go through a message port first, as a job's do, so
 * the compiled code is specialised for the object shapes it will really get.
 * Once per thread: later pools on the same thread find the code warm.
 */
export function warmUp(cloned = false): void {
  if (warmedUp) return;
  warmedUp = true;
  const accounts = 16;
  const keys = 4;
  const work = contractId('work');
  const counter = contractId('counter');
  const base = new BigUint64Array(2 * accounts + keys).fill(1_000_000n);
  const nonces = new Array<bigint>(accounts).fill(0n);
  const txs: TxSlots[] = [];
  for (let i = 0; i < 256; i++) {
    const from = i % accounts;
    const tx: TxSlots = {
      kind: KIND_TRANSFER, preset: 0, senderNonce: 2 * from + 1, senderBalance: 2 * from, recipientBalance: 2 * ((i * 7) % accounts),
      nonce: nonces[from]!++, amount: BigInt(i % 5), contract: -1, gasLimit: 0, sender: new Uint8Array(32).fill(from), args: new Uint8Array(0), keySlots: [],
    };
    if (i % 3 === 0) txs.push(tx);
    else if (i % 3 === 1) txs.push({ ...tx, kind: KIND_CALL, contract: work, gasLimit: 1_000, args: new Uint8Array(new Uint32Array([200, i % keys]).buffer), keySlots: [2 * accounts + (i % keys)] });
    else txs.push({ ...tx, kind: KIND_CALL, contract: counter, gasLimit: 100, args: Uint8Array.of(i % keys), keySlots: [2 * accounts + (i % keys)] });
  }
  const built = buildTables(txs, base);
  const channel = cloned ? new MessageChannel() : undefined;
  for (let round = 0; round < 12; round++) {
    let t = built;
    let run = allocateRun(t.n, 1);
    if (channel) {
      channel.port1.postMessage({ tables: t, run });
      ({ tables: t, run } = receiveMessageOnPort(channel.port2)!.message as { tables: BlockTables; run: BlockRun });
    }
    prepareTables(t);
    runWorker(t, run, 0);
    committedWrites(t);
    prepareTables(t);
    runSingle(t, allocateRun(t.n, 1));
    committedWrites(t);
    executeSequential(t);
  }
  channel?.port1.close();
}
