import { open, type Database, type RootDatabase } from 'lmdb';

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

/**
 * The chain on disk (LMDB): state entries, one record per block, and the
 * height. A block's state changes, its record and the new height are written
 * in one LMDB transaction, so a crash leaves the previous block or the new one,
 * never a mix.
 */
export class ChainStore {
  readonly #root: RootDatabase;
  readonly #state: Database<Uint8Array, string>;
  readonly #blocks: Database<BlockRecord, number>;
  readonly #meta: Database<number, string>;

  readonly #hook: CommitHook | undefined;

  constructor(path: string, hook?: CommitHook) {
    this.#hook = hook;
    this.#root = open({ path, compression: false });
    this.#state = this.#root.openDB({ name: 'state', encoding: 'binary' });
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

  loadState(): Map<string, bigint> {
    const state = new Map<string, bigint>();
    for (const { key, value } of this.#state.getRange()) {
      state.set(key, Buffer.from(value).readBigUInt64LE(0));
    }
    return state;
  }

  /** Writes the changes, the block and the height atomically. */
  commit(changes: ReadonlyMap<string, bigint>, block: BlockRecord): void {
    this.#root.transactionSync(() => {
      // putSync copies the value into the transaction before it returns, so one buffer serves every entry.
      const value = Buffer.alloc(8);
      let written = 0;
      for (const [key, v] of changes) {
        value.writeBigUInt64LE(v);
        this.#state.putSync(key, value);
        this.#hook?.(block.height, ++written, changes.size);
      }
      this.#blocks.putSync(block.height, block);
      this.#meta.putSync('height', block.height);
    });
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
