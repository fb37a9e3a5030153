/**
 * The commit thread of a ChainStore: opens the same LMDB environment and
 * writes each block it is sent (state entries in order, record, height) in
 * one synchronous write transaction, replying in order. After a failure it
 * refuses every later block: each was executed on top of the failed one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open } from 'lmdb';
import {
  BLOCKS_DB,
  HOOK_ABORT,
  HOOK_DONE,
  HOOK_ACK,
  HOOK_HEIGHT,
  HOOK_SEQ,
  HOOK_TOTAL,
  HOOK_WRITTEN,
  META_DB,
  STATE_DB,
  STORE_OPTIONS,
  type BlockRecord,
  type CommitInit,
  type CommitJob,
  type CommitReply,
} from './store.js';
import { META_FORMAT_KEY, STATE_FORMAT, writeStateEntries } from './state-codec.js';

const { path, hook } = workerData as CommitInit;
const root = open({ path, ...STORE_OPTIONS });
const state = root.openDB<Uint8Array, Uint8Array>(STATE_DB);
const blocks = root.openDB<BlockRecord, number>(BLOCKS_DB);
const meta = root.openDB<number, string>(META_DB);
let failed: string | undefined;

/** Hands entry `written` to the calling thread's hook and waits for it (see store.ts's HOOK_ words). */
function handshake(words: Int32Array, height: number, written: number, total: number): void {
  Atomics.store(words, HOOK_HEIGHT, height);
  Atomics.store(words, HOOK_WRITTEN, written);
  Atomics.store(words, HOOK_TOTAL, total);
  const seq = Atomics.add(words, HOOK_SEQ, 1) + 1;
  Atomics.notify(words, HOOK_SEQ);
  while (Atomics.load(words, HOOK_ACK) !== seq) Atomics.wait(words, HOOK_ACK, Atomics.load(words, HOOK_ACK), 50);
  if (Atomics.load(words, HOOK_ABORT) === 1) throw new Error('the commit hook failed');
}

function commit({ writes, block }: CommitJob): void {
  const n = writes.starts.length;
  root.transactionSync(() => {
    // Blocks arrive in order; a gap would mean a lost commit: refuse rather than write past it.
    const before = meta.get('height') ?? -1;
    if (before !== block.height - 1) throw new Error(`block ${block.height} after stored height ${before}`);
    if (before === -1) meta.putSync(META_FORMAT_KEY, STATE_FORMAT);
    writeStateEntries(state, writes, hook && ((written) => handshake(hook, block.height, written, n)));
    blocks.putSync(block.height, block);
    meta.putSync('height', block.height);
  });
}

parentPort!.on('message', (message: CommitJob | { type: 'close' }) => {
  if (message.type === 'close') {
    void root.close().then(() => parentPort!.close());
    return;
  }
  const t0 = performance.now();
  const reply: CommitReply = { seq: message.seq, ms: 0 };
  if (failed !== undefined) {
    reply.error = `an earlier commit failed: ${failed}`;
  } else {
    try {
      commit(message);
    } catch (err) {
      reply.error = failed = err instanceof Error ? err.message : String(err);
    }
  }
  reply.ms = performance.now() - t0;
  if (hook) {
    Atomics.store(hook, HOOK_DONE, message.seq);
    Atomics.notify(hook, HOOK_SEQ);
  }
  parentPort!.postMessage(reply);
});
