import { open, type Database, type RootDatabase } from 'lmdb';
import { ChainState } from './state.js';

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

/** A map's entries as StateWrites, in key order (LMDB inserts sorted keys fastest). */
export function writesOfMap(changes: ReadonlyMap<string, bigint>): StateWrites {
  const entries = [...changes].map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const).sort((a, b) => Buffer.compare(a[0], b[0]));
  return { size: entries.length, key: (k) => entries[k]![0], value: (k) => entries[k]![1] };
}

const isWrites = (c: ReadonlyMap<string, bigint> | StateWrites): c is StateWrites => typeof (c as Partial<StateWrites>).key === 'function';

/**
 * The chain on disk (LMDB): state entries, one record per block, and the
 * height. A block's state changes, its record and the new height are written
 * in one LMDB transaction, so a crash leaves the previous block or the new one,
 * never a mix. State keys are stored as their UTF-8 bytes (the bytes
 * ordered-binary wrote for these keys before, so older folders read the same).
 */
export class ChainStore {
  readonly #root: RootDatabase;
  readonly #state: Database<Uint8Array, Uint8Array>;
  readonly #blocks: Database<BlockRecord, number>;
  readonly #meta: Database<number, string>;

  readonly #hook: CommitHook | undefined;

  constructor(path: string, hook?: CommitHook) {
    this.#hook = hook;
    this.#root = open({ path, compression: false });
    this.#state = this.#root.openDB({ name: 'state', encoding: 'binary', keyEncoding: 'binary' });
    this.#blocks = this.#root.openDB({ name: 'blocks' });
    this.#meta = this.#root.openDB({ name: 'meta' });
  }

  /** Height of the last committed block; -1 before genesis. */
  height(): number {
    return this.#meta.get('height') ?? -1;
  }

  block(height: number): BlockRecord | undefined {
    return this.#blocks.get(height);
  }

  loadState(): ChainState {
    const state = new ChainState();
    for (const { key, value } of this.#state.getRange()) {
      state.set(state.keyIdOfBytes(key), Buffer.from(value.buffer, value.byteOffset, value.byteLength).readBigUInt64LE(0));
    }
    return state;
  }

  /** Writes the changes, the block and the height atomically. */
  commit(changes: ReadonlyMap<string, bigint> | StateWrites, block: BlockRecord): void {
    const writes = isWrites(changes) ? changes : writesOfMap(changes);
    this.#root.transactionSync(() => {
      // putSync copies key and value into the transaction before it returns, so one value buffer serves every entry.
      const value = Buffer.alloc(8);
      for (let k = 0; k < writes.size; k++) {
        value.writeBigUInt64LE(writes.value(k));
        this.#state.putSync(writes.key(k), value);
        this.#hook?.(block.height, k + 1, writes.size);
      }
      this.#blocks.putSync(block.height, block);
      this.#meta.putSync('height', block.height);
    });
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
