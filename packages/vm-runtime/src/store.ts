import { Worker } from 'node:worker_threads';
import { open, type Database, type RootDatabase } from 'lmdb';
import { type ChainState } from './state.js';
import { META_FORMAT_KEY, STATE_FORMAT, decodeState, writeStateEntries } from './state-codec.js';

export interface BlockRecord {
  height: number;
  stateRoot: Uint8Array;
  /** 32-byte transaction ids, concatenated. */
  txIds: Uint8Array;
  /** One receipt code per transaction (receipts.ts). */
  receipts: Uint8Array;
}

/**
 * Called inside the block's LMDB write transaction after each state entry is
 * written (`written` of `total`); crash tests kill the process from here to
 * stop a commit half-way.
 */
export type CommitHook = (height: number, written: number, total: number) => void;

/** State entries to write, already encoded: entry k's key as UTF-8 bytes and its value. Written in index order. */
export interface StateWrites {
  readonly size: number;
  key(k: number): Uint8Array;
  value(k: number): bigint;
}

/**
 * State entries packed for the commit thread: entry k's key is
 * bytes[starts[k] .. ends[k]), its value values[k]. `bytes` may be a
 * SharedArrayBuffer view (a KeyPool's), which reaches the thread uncopied.
 */
export interface PackedWrites {
  readonly bytes: Uint8Array;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly values: BigUint64Array;
}

/** A map's entries as StateWrites, in key order (LMDB inserts sorted keys fastest). */
export function writesOfMap(changes: ReadonlyMap<string, bigint>): StateWrites {
  const entries = [...changes].map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const).sort((a, b) => Buffer.compare(a[0], b[0]));
  return { size: entries.length, key: (k) => entries[k]![0], value: (k) => entries[k]![1] };
}

const isWrites = (c: unknown): c is StateWrites => typeof (c as Partial<StateWrites>).key === 'function';
const isPacked = (c: unknown): c is PackedWrites => (c as Partial<PackedWrites>).starts instanceof Uint32Array;

/** StateWrites (or a map's entries) copied into one packed buffer. */
function pack(writes: StateWrites): PackedWrites {
  let total = 0;
  for (let k = 0; k < writes.size; k++) total += writes.key(k).length;
  const bytes = new Uint8Array(total);
  const starts = new Uint32Array(writes.size);
  const ends = new Uint32Array(writes.size);
  const values = new BigUint64Array(writes.size);
  for (let k = 0, at = 0; k < writes.size; k++) {
    const key = writes.key(k);
    bytes.set(key, at);
    starts[k] = at;
    ends[k] = at += key.length;
    values[k] = writes.value(k);
  }
  return { bytes, starts, ends, values };
}

/**
 * LMDB options shared by this thread and the commit thread: both must encode
 * the same way. 16 KiB pages (for new folders; an existing one keeps its
 * own): a block's commit touches nearly every leaf of the state DB, and
 * fewer, larger pages measured ~10% faster there than 4 KiB ones.
 */
export const STORE_OPTIONS = { compression: false, pageSize: 16384 } as const;
/** State entries in storage format 2 (state-codec.ts): account records and other keys, binary keys and values. */
export const STATE_DB = { name: 'state', encoding: 'binary', keyEncoding: 'binary' } as const;
export const BLOCKS_DB = { name: 'blocks' } as const;
export const META_DB = { name: 'meta' } as const;

/**
 * Commit-hook handshake words (Int32, shared with the commit thread): the
 * thread publishes height/written/total and bumps SEQ after each entry, then
 * sleeps on ACK until this thread has called the hook (ACK = SEQ) or failed
 * (ABORT = 1: the transaction is aborted).
 */
export const HOOK_SEQ = 0;
export const HOOK_ACK = 1;
export const HOOK_HEIGHT = 2;
export const HOOK_WRITTEN = 3;
export const HOOK_TOTAL = 4;
export const HOOK_ABORT = 5;
/** The last job the commit thread finished (committed, failed or refused). */
export const HOOK_DONE = 6;

/** A commit sent to the commit thread. */
export interface CommitJob {
  type: 'commit';
  seq: number;
  writes: PackedWrites;
  block: BlockRecord;
}

/** The commit thread's answer, one per job, in job order. */
export interface CommitReply {
  seq: number;
  ms: number;
  error?: string;
}

export interface CommitInit {
  path: string;
  /** Present when a CommitHook is set: the handshake words. */
  hook?: Int32Array;
}

/** How a commit went: its transaction's time on the commit thread (ms), queueing excluded. */
export interface CommitDone {
  ms: number;
}

interface CommitThread {
  worker: Worker;
  hookWords: Int32Array | undefined;
  exited: Promise<void>;
}

/**
 * The chain on disk (LMDB): state entries, one record per block, and the
 * height. A block's state changes, its record and the new height are written
 * in one LMDB transaction, so a crash leaves the previous block or the new one,
 * never a mix. The state is stored in format 2 (state-codec.ts: one
 * record per account, binary keys); the meta DB's `format` entry says so,
 * and a folder of another format (format 1 wrote none) is refused on open.
 *
 * Reads run on the calling thread. `commitAsync` writes on a commit thread
 * of its own (commit-worker.ts, the same environment opened there): one
 * synchronous LMDB transaction per block, blocks in call order, so the
 * caller's thread only hands over packed keys and values and can execute the
 * next block meanwhile. (lmdb-js's own async `put` would also batch one event
 * turn into one transaction, but encodes each entry on the calling thread:
 * measured slower there than `putSync` in one `transactionSync`.)
 */
export class ChainStore {
  readonly #path: string;
  readonly #root: RootDatabase;
  readonly #state: Database<Uint8Array, Uint8Array>;
  readonly #blocks: Database<BlockRecord, number>;
  readonly #meta: Database<number, string>;
  readonly #hook: CommitHook | undefined;
  #worker: CommitThread | undefined;
  readonly #waiting = new Map<number, { resolve: (d: CommitDone) => void; reject: (e: Error) => void }>();
  #seq = 0;
  /** Settles when every commit sent so far has settled. */
  #tail: Promise<unknown> = Promise.resolve();
  /** Set once a commit failed: later ones are refused by the commit thread as well (they build on it). */
  #failure: Error | undefined;
  /** Whether a commit finished since the read transaction was last renewed. */
  #stale = false;

  constructor(path: string, hook?: CommitHook) {
    this.#path = path;
    this.#hook = hook;
    this.#root = open({ path, ...STORE_OPTIONS });
    this.#state = this.#root.openDB(STATE_DB);
    this.#blocks = this.#root.openDB(BLOCKS_DB);
    this.#meta = this.#root.openDB(META_DB);
    try {
      this.#checkFormat();
    } catch (err) {
      void this.#root.close().catch(() => undefined);
      throw err;
    }
  }

  /** Refuses a folder written in another storage format (format 1 had no `format` entry, but a height). */
  #checkFormat(): void {
    const format = this.#meta.get(META_FORMAT_KEY);
    if (format === STATE_FORMAT) return;
    if (format === undefined && this.#meta.get('height') === undefined && this.#state.getKeysCount({ limit: 1 }) === 0) return; // a new store
    throw new Error(
      format === undefined
        ? `the chain data at ${this.#path} is in storage format 1 (state keys as hex strings), which this version no longer reads (it stores format ${STATE_FORMAT}): use a new data folder, or an older version for this one`
        : `the chain data at ${this.#path} is in storage format ${String(format)}; this version reads format ${STATE_FORMAT} only`,
    );
  }

  /** Height of the last committed block; -1 before genesis. */
  height(): number {
    this.#fresh();
    return this.#meta.get('height') ?? -1;
  }

  block(height: number): BlockRecord | undefined {
    this.#fresh();
    return this.#blocks.get(height);
  }

  /** Commits from the other thread are seen by this one's next read transaction. */
  #fresh(): void {
    if (this.#stale) {
      this.#stale = false;
      this.#root.resetReadTxn();
    }
  }

  loadState(): ChainState {
    this.#fresh();
    return decodeState(this.#state.getRange());
  }

  /** Writes the changes, the block and the height atomically, on this thread. Waits for commits in flight first. */
  commit(changes: ReadonlyMap<string, bigint> | StateWrites, block: BlockRecord): void {
    if (this.#waiting.size > 0) throw new Error('ChainStore.commit while asynchronous commits are in flight: await flush() first');
    const writes = pack(isWrites(changes) ? changes : writesOfMap(changes));
    const hook = this.#hook;
    const total = writes.starts.length;
    this.#fresh();
    this.#root.transactionSync(() => {
      if ((this.#meta.get('height') ?? -1) === -1) this.#meta.putSync(META_FORMAT_KEY, STATE_FORMAT);
      writeStateEntries(this.#state, writes, hook && ((written) => hook(block.height, written, total)));
      this.#blocks.putSync(block.height, block);
      this.#meta.putSync('height', block.height);
    });
  }

  /**
   * The same transaction on the commit thread, after every commit sent
   * before; resolves once it is committed. If one fails, it and every later
   * one reject (a later block was built on it), and the store takes no more.
   * With a CommitHook, this thread waits here, calling the hook after each
   * entry the commit thread wrote (the transaction still runs there).
   */
  commitAsync(changes: ReadonlyMap<string, bigint> | StateWrites | PackedWrites, block: BlockRecord): Promise<CommitDone> {
    if (this.#failure) return Promise.reject(this.#failure);
    const writes = isPacked(changes) ? changes : pack(isWrites(changes) ? changes : writesOfMap(changes));
    const w = this.#start();
    const seq = ++this.#seq;
    const done = new Promise<CommitDone>((resolve, reject) => this.#waiting.set(seq, { resolve, reject }));
    if (this.#waiting.size === 1) w.worker.ref(); // a commit in flight keeps the process up
    const job: CommitJob = { type: 'commit', seq, writes, block };
    w.worker.postMessage(job);
    this.#tail = Promise.allSettled([this.#tail, done]);
    if (w.hookWords) {
      try {
        this.#runHook(w.hookWords, seq);
      } catch (err) {
        // The hook's error is the caller's; the aborted commit's own rejection is expected.
        done.catch(() => undefined);
        throw err;
      }
    }
    return done;
  }

  /** Calls the hook for each entry the commit thread writes (the thread waits inside the transaction each time), until job `job` is over. */
  #runHook(words: Int32Array, job: number): void {
    while (Atomics.load(words, HOOK_DONE) < job) {
      const seq = Atomics.load(words, HOOK_SEQ);
      if (seq === Atomics.load(words, HOOK_ACK)) {
        // Nothing new: the thread is on an earlier commit, or between entries.
        Atomics.wait(words, HOOK_SEQ, seq, 20);
        continue;
      }
      try {
        this.#hook!(Atomics.load(words, HOOK_HEIGHT), Atomics.load(words, HOOK_WRITTEN), Atomics.load(words, HOOK_TOTAL));
      } catch (err) {
        Atomics.store(words, HOOK_ABORT, 1);
        throw err;
      } finally {
        Atomics.store(words, HOOK_ACK, seq);
        Atomics.notify(words, HOOK_ACK);
      }
    }
  }

  #start(): CommitThread {
    if (this.#worker) return this.#worker;
    const hookWords = this.#hook ? new Int32Array(new SharedArrayBuffer(8 * 4)) : undefined;
    const init: CommitInit = { path: this.#path, ...(hookWords ? { hook: hookWords } : {}) };
    const worker = new Worker(new URL('./commit-worker.js', import.meta.url), { workerData: init });
    worker.unref();
    worker.on('message', (reply: CommitReply) => this.#settle(reply));
    const fail = (err: Error): void => {
      this.#failure ??= err;
      for (const [seq, waiter] of this.#waiting) {
        this.#waiting.delete(seq);
        waiter.reject(err);
      }
    };
    worker.on('error', fail);
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', (code) => {
        if (this.#waiting.size > 0) fail(new Error(`the commit thread exited (code ${code}) with commits in flight`));
        resolve();
      }),
    );
    this.#worker = { worker, hookWords, exited };
    return this.#worker;
  }

  #settle(reply: CommitReply): void {
    const waiter = this.#waiting.get(reply.seq);
    if (!waiter) return;
    this.#waiting.delete(reply.seq);
    if (this.#waiting.size === 0) this.#worker?.worker.unref();
    this.#stale = true;
    if (reply.error === undefined) {
      waiter.resolve({ ms: reply.ms });
    } else {
      this.#failure ??= new Error(`commit failed: ${reply.error}`);
      waiter.reject(this.#failure);
    }
  }

  /** Resolves when every commit sent so far has settled (committed or failed). */
  async flush(): Promise<void> {
    await this.#tail;
  }

  async close(): Promise<void> {
    await this.flush();
    const w = this.#worker;
    if (w) {
      w.worker.ref(); // up until the thread has closed its side of the environment
      w.worker.postMessage({ type: 'close' });
      await w.exited;
    }
    await this.#root.close();
  }
}
