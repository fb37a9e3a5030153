/**
 * Worker-thread side of the pool (see job-board.ts): sleeps on the board's GEN
 * word, reads new jobs from a BroadcastChannel synchronously, claims parts of
 * the highest-priority, oldest job it may join and runs them over columns in
 * shared memory, writing the shared output in place. Between jobs it polls for
 * a while before it sleeps again, so back-to-back batches find it awake.
 */
import { BroadcastChannel, parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ColumnarKernel, TypedArray } from '../kernels/kernel.js';
import {
  CLAIM,
  CLOSING,
  FAILED,
  GEN,
  HIGH_ACTIVE,
  JOINED,
  MAX_THREADS,
  PRIORITY,
  RUNNING_SEQ,
  RUNNING_SLOT,
  STOP,
  claimPart,
  drainParts,
  finishParts,
  slotWord,
  workerWord,
  type JobMessage,
  type PartFailure,
  type WorkerInit,
} from './job-board.js';

interface KnownJob extends JobMessage {
  /** Publication order (sequence numbers wrap). */
  order: number;
  kernel?: ColumnarKernel;
  out?: TypedArray;
  /** Why the kernel module could not be loaded: every part this worker claims fails with it. */
  loadError?: unknown;
}

const kernels = new Map<string, Promise<ColumnarKernel>>();

function load(moduleUrl: string): Promise<ColumnarKernel> {
  let kernel = kernels.get(moduleUrl);
  if (kernel === undefined) {
    kernel = import(moduleUrl).then((mod: { kernel?: ColumnarKernel }) => {
      if (typeof mod.kernel?.cpu !== 'function') throw new TypeError(`${moduleUrl} has no kernel export`);
      return mod.kernel;
    });
    kernels.set(moduleUrl, kernel);
  }
  return kernel;
}

const { board, busy, index, threads, channel, idleSpinMs, errors } = workerData as WorkerInit & { errors: MessagePort };
const jobs = new BroadcastChannel(channel);
// Node reads a BroadcastChannel like a port (its typings name only MessagePort).
const jobPort = jobs as unknown as MessagePort;
const known = new Map<number, KnownJob>();
let order = 0;
/** Jobs this worker has joined (counted against their thread limit once). */
const joined = new Set<number>();
const slotAt = (slot: number) => (word: number) => slotWord(threads, slot, word);

function take(message: JobMessage): void {
  known.set(message.seq, { ...message, order: order++ });
}
// Messages that come while the worker's event loop turns (loading a kernel module) are
// dispatched, not queued: they are taken in here. The rest are read synchronously below.
jobs.onmessage = (event) => take((event as unknown as { data: JobMessage }).data);

/** Takes in the jobs published since the last look (synchronously: no event-loop turn) and loads their kernels. */
async function readJobs(): Promise<void> {
  for (let m = receiveMessageOnPort(jobPort); m !== undefined; m = receiveMessageOnPort(jobPort)) take(m.message as JobMessage);
  for (const job of known.values()) {
    if (job.kernel !== undefined || job.loadError !== undefined) continue;
    try {
      job.kernel = await load(job.moduleUrl);
      job.out = job.kernel.createOutput(job.items, job.output);
    } catch (err) {
      job.loadError = err;
    }
  }
}

/** The job to work on: high priority first, then the oldest, among those it has joined or may join (thread limit). */
function pick(): { job: KnownJob; high: boolean } | undefined {
  const open: { job: KnownJob; high: boolean }[] = [];
  for (const job of known.values()) {
    const at = slotAt(job.slot);
    const claim = Atomics.load(board, at(CLAIM));
    if (claim >>> 16 !== job.seq || (claim & 0xffff) >= job.bounds.length - 1) {
      // Fully claimed, or its slot holds a later job: never needed again.
      known.delete(job.seq);
      joined.delete(job.seq);
      continue;
    }
    open.push({ job, high: Atomics.load(board, at(PRIORITY)) === 1 });
  }
  open.sort((a, b) => Number(b.high) - Number(a.high) || a.job.order - b.job.order);
  return open.find(({ job }) => joined.has(job.seq) || join(job));
}

/** Joins a job within its thread limit (once per worker and job). */
function join(job: KnownJob): boolean {
  const at = slotAt(job.slot);
  const max = Atomics.load(board, at(MAX_THREADS));
  for (;;) {
    const word = Atomics.load(board, at(JOINED));
    if (word >>> 16 !== job.seq || (word & 0xffff) >= max) return false;
    if (Atomics.compareExchange(board, at(JOINED), word, word + 1) === word) {
      joined.add(job.seq);
      return true;
    }
  }
}

function fail(job: KnownJob, err: unknown): void {
  const e = err as Error | undefined;
  errors.postMessage({ seq: job.seq, message: e?.message ?? String(err), stack: e?.stack } satisfies PartFailure);
  const at = slotAt(job.slot);
  Atomics.store(board, at(FAILED), 1);
  Atomics.store(board, at(STOP), 1);
  drainParts(board, at, job.seq);
}

/** Claims and runs parts of one job until none is left, it stops, or (for a normal job) a high one waits. */
function runJob(job: KnownJob, high: boolean): void {
  const at = slotAt(job.slot);
  const parts = job.bounds.length - 1;
  const mine = workerWord(index, RUNNING_SLOT);
  while (Atomics.load(board, at(STOP)) === 0) {
    const p = claimPart(board, at(CLAIM), job.seq, parts);
    if (p < 0) return;
    Atomics.store(board, workerWord(index, RUNNING_SEQ), job.seq);
    Atomics.store(board, mine, job.slot + 1);
    const t0 = performance.now();
    try {
      if (job.kernel === undefined) throw job.loadError;
      job.kernel.cpu(job.columns as never, job.out!, job.bounds[p]!, job.bounds[p + 1]!);
    } catch (err) {
      fail(job, err);
    }
    busy[index]! += performance.now() - t0;
    Atomics.store(board, mine, 0);
    finishParts(board, at, 1);
    if (!high && Atomics.load(board, HIGH_ACTIVE) > 0) return;
  }
}

parentPort!.postMessage('ready');
for (;;) {
  const seen = Atomics.load(board, GEN);
  if (Atomics.load(board, CLOSING) === 1) break;
  for (;;) {
    await readJobs();
    const next = pick();
    if (next === undefined) break;
    runJob(next.job, next.high);
  }
  const until = performance.now() + idleSpinMs;
  while (Atomics.load(board, GEN) === seen && performance.now() < until);
  Atomics.wait(board, GEN, seen);
}
jobs.close();
errors.close();
