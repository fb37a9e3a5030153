import { hash } from 'node:crypto';
import { sha256Batch, type DeviceChoice } from '@supervm/gpu-executor';
import { LITTLE_ENDIAN, giveShared, sharedArray } from './shared-buffers.js';
import { ChainState, KeyPool } from './state.js';

const sharedBytes = (length: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(Math.max(1, length)), 0, length);

/**
 * Batches of at most this many hashes run on this thread with node:crypto
 * (under 1 us each): a round trip to a worker pool that is busy verifying the
 * next block would cost more than the hashing.
 */
const MAIN_THREAD_HASHES = 4096;

/** 0, 64, 128, ...: the offsets of node pairs packed end to end, shared by every level and grown on demand. */
let pairOffsets = new Uint32Array(new SharedArrayBuffer(4));
function offsetsOfPairs(pairs: number): Uint32Array {
  if (pairOffsets.length < pairs + 1) {
    const grown = new Uint32Array(new SharedArrayBuffer(4 * Math.max(pairs + 1, 2 * pairOffsets.length)));
    for (let i = 0; i < grown.length; i++) grown[i] = i * 64;
    pairOffsets = grown;
  }
  return pairOffsets.subarray(0, pairs + 1);
}

/**
 * SHA-256 of `count` messages packed in `data` (message i: offsets[i] ..
 * offsets[i+1], offsets[0] = 0), 32 bytes each. Small batches run on this
 * thread; large ones go through the scheduler at high priority, ahead of the
 * next block's verification queued on the shared pool. (Hashing a share here
 * as well measured no faster: the pool already keeps every core busy.)
 */
async function hashAll(data: Uint8Array, offsets: Uint32Array, count: number, device: DeviceChoice): Promise<Uint8Array> {
  if (count > MAIN_THREAD_HASHES) return (await sha256Batch({ data, offsets: offsets.subarray(0, count + 1) }, { device, priority: 'high' })).output;
  const out = sharedBytes(count * 32);
  for (let i = 0; i < count; i++) out.set(hash('sha256', data.subarray(offsets[i]!, offsets[i + 1]!), 'buffer'), i * 32);
  return out;
}

/**
 * The levels above sorted leaf hashes: parents H(left || right), an odd node
 * carried up. levels[0] is the leaves, the last level the root (no levels
 * above an empty tree).
 */
async function buildLevels(leaves: Uint8Array, device: DeviceChoice): Promise<Uint8Array[]> {
  const levels = [leaves];
  for (let level = leaves; level.length > 32; ) {
    const nodes = level.length / 32;
    const pairs = nodes >> 1;
    const parents = await hashAll(level.subarray(0, pairs * 64), offsetsOfPairs(pairs), pairs, device);
    if ((nodes & 1) === 0 && parents.length === pairs * 32 && parents.buffer instanceof SharedArrayBuffer) {
      // No odd node to carry up: the hashes are the level (a buffer of their own, fresh per batch), not copied
      // into another one whose pages this thread may have to fault in.
      levels.push((level = parents));
      continue;
    }
    // Reused memory (every byte is written below): levels come back to the pool when the cache replaces them.
    const next = sharedArray(Uint8Array, (pairs + (nodes & 1)) * 32, false);
    next.set(parents.subarray(0, pairs * 32));
    if (nodes & 1) next.set(level.subarray((nodes - 1) * 32), pairs * 32);
    levels.push((level = next));
  }
  return levels;
}

/**
 * The same levels after the leaves at `dirty` (ascending positions) changed in
 * a tree of unchanged shape: only their ancestors are hashed again, gathered
 * into one batch per level.
 */
async function updateLevels(old: readonly Uint8Array[], leaves: Uint8Array, dirty: Int32Array, device: DeviceChoice): Promise<Uint8Array[]> {
  const levels = [leaves];
  let positions = dirty;
  for (let l = 1; l < old.length; l++) {
    const below = levels[l - 1]!;
    const nodes = below.length / 32;
    const pairs = nodes >> 1;
    const level = sharedArray(Uint8Array, old[l]!.length, false);
    level.set(old[l]!);
    // Parents of the dirty nodes, ascending and each once.
    const parents = new Int32Array(positions.length);
    let count = 0;
    for (const p of positions) if (count === 0 || parents[count - 1] !== p >> 1) parents[count++] = p >> 1;
    const hashed = parents.subarray(0, count).filter((p) => p < pairs);
    if (hashed.length > 0) {
      const gathered = sharedArray(Uint8Array, hashed.length * 64, false);
      hashed.forEach((p, k) => gathered.set(below.subarray(p * 64, p * 64 + 64), k * 64));
      copyNodes(await hashAll(gathered, offsetsOfPairs(hashed.length), hashed.length, device), level, hashed);
      giveShared([gathered.buffer]);
    }
    // The odd node at the end is carried up unchanged.
    if (nodes & 1 && parents[count - 1] === pairs) level.set(below.subarray((nodes - 1) * 32), pairs * 32);
    levels.push(level);
    positions = parents.subarray(0, count);
  }
  return levels;
}

/** Node k of `from` (32 bytes each) to node at[k] of `to`, a word at a time: a subarray per node would cost more than its copy. */
function copyNodes(from: Uint8Array, to: Uint8Array, at: Int32Array): void {
  const src = new Int32Array(from.buffer, from.byteOffset, from.length >> 2);
  const dst = new Int32Array(to.buffer, to.byteOffset, to.length >> 2);
  for (let k = 0; k < at.length; k++) {
    const s = k * 8;
    const d = at[k]! * 8;
    for (let w = 0; w < 8; w++) dst[d + w] = src[s + w]!;
  }
}

const rootOf = (levels: readonly Uint8Array[]): Uint8Array => {
  const top = levels[levels.length - 1]!;
  return top.length === 0 ? new Uint8Array(hash('sha256', new Uint8Array(0), 'buffer')) : top.slice();
};

/** Indices into `ids` (distinct, each below `count`) in ascending id order: a pass over the ids' range, no comparisons. */
function idOrder(ids: Int32Array, count: number): Int32Array {
  const index = sharedArray(Int32Array, count, false).fill(-1);
  for (let k = 0; k < ids.length; k++) index[ids[k]!] = k;
  const order = new Int32Array(ids.length);
  for (let id = 0, o = 0; id < count; id++) if (index[id]! >= 0) order[o++] = index[id]!;
  giveShared([index.buffer]);
  return order;
}

/**
 * Leaf messages key (UTF-8) || value (u64 LE) of keys `ids[order[j]]` from the
 * pool, message j for order[j], packed in shared memory from the buffer pool
 * (give both back once hashed). Bytes are copied in loops: a subarray per key
 * cost more than its copy, and reading a value as a bigint allocates one.
 */
function leafMessages(pool: KeyPool, ids: Int32Array, values: BigUint64Array, order: Int32Array): { data: Uint8Array; offsets: Uint32Array } {
  const n = order.length;
  const offsets = sharedArray(Uint32Array, n + 1, false);
  offsets[0] = 0;
  let total = 0;
  for (let j = 0; j < n; j++) {
    const id = ids[order[j]!]!;
    offsets[j + 1] = total += pool.end(id) - pool.start(id) + 8;
  }
  // Every byte is written below.
  const data = sharedArray(Uint8Array, total, false);
  const bytes = pool.bytes;
  // Unaligned 4-byte copies through DataViews (same byte order on both sides, so bytes land as they were):
  // half the time of a byte loop over ~66-byte keys, and no subarray per key.
  const from = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const valueView = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let j = 0; j < n; j++) {
    const k = order[j]!;
    const id = ids[k]!;
    let c = pool.start(id);
    const end = pool.end(id);
    let o = offsets[j]!;
    for (; c + 4 <= end; c += 4, o += 4) view.setInt32(o, from.getInt32(c));
    for (; c < end; c++) data[o++] = bytes[c]!;
    if (LITTLE_ENDIAN) {
      view.setInt32(o, valueView.getInt32(k * 8));
      view.setInt32(o + 4, valueView.getInt32(k * 8 + 4));
    } else view.setBigUint64(o, values[k]!, true);
  }
  return { data, offsets };
}

/** Sorts key ids in key order, comparing two 48-bit prefixes of each key as numbers first: most comparisons end there. */
function sortKeyIds(pool: KeyPool, ids: Int32Array): void {
  if (!pool.bytewise) {
    ids.sort((a, b) => pool.compare(a, b));
    return;
  }
  const bytes = pool.bytes;
  const n = ids.length;
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const start = pool.start(ids[k]!);
    const end = pool.end(ids[k]!);
    let h = 0;
    let l = 0;
    for (let c = start; c < start + 6; c++) h = h * 256 + (c < end ? bytes[c]! : 0);
    for (let c = start + 6; c < start + 12; c++) l = l * 256 + (c < end ? bytes[c]! : 0);
    hi[k] = h;
    lo[k] = l;
  }
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || pool.compare(ids[a]!, ids[b]!));
  const copy = ids.slice();
  for (let k = 0; k < n; k++) ids[k] = copy[order[k]!]!;
}

/** Re-hash only the changed leaves' ancestors while fewer than this share of the leaves changed. */
const INCREMENTAL_SHARE = 0.25;

/** Where the root cache gets key ids: a ChainState's, or its own for plain maps. */
interface KeyIndex {
  readonly pool: KeyPool;
  keyId(key: string): number;
}

class OwnKeys implements KeyIndex {
  readonly pool = new KeyPool();
  readonly #ids = new Map<string, number>();
  keyId(key: string): number {
    let id = this.#ids.get(key);
    if (id === undefined) this.#ids.set(key, (id = this.pool.addString(key)));
    return id;
  }
}

/** A root not yet made the cache's (see StateRootCache.prepare). */
export interface PreparedRoot {
  root: Uint8Array;
  /** Makes this root and its tree the cached ones; call once the block is committed. */
  apply: () => void;
}

/**
 * SHA-256 Merkle root over the state's entries sorted by key: leaves
 * H(key || value), parents H(left || right).
 */
export async function stateRoot(state: ReadonlyMap<string, bigint>, device: DeviceChoice = 'auto'): Promise<Uint8Array> {
  return (await StateRootCache.build(state instanceof ChainState ? new Map(state) : state, device)).root;
}

/**
 * The same root, kept up to date block by block. It caches the sorted keys
 * (as key ids, which are never renumbered) and every level of the tree: a
 * block re-hashes only the leaves it changed, merges new keys in, and
 * re-hashes only the changed paths when no key was added and few leaves
 * changed (otherwise every level). Built over a ChainState, it shares the
 * state's key ids, so a block's changes need no strings (`prepareIds`).
 */
export class StateRootCache {
  readonly #keys: KeyIndex;
  /** Key ids in key order. */
  #sorted = new Int32Array(0);
  /** Key id -> position in key order; -1 (or past the end) when not in the tree. */
  #positions = new Int32Array(0);
  #levels: Uint8Array[] = [new Uint8Array(0)];
  readonly #device: DeviceChoice;
  /** prepareIds calls under way: while any is, `apply` does not recycle the tree it replaces (a call may still read it). */
  #preparing = 0;

  private constructor(keys: KeyIndex, device: DeviceChoice) {
    this.#keys = keys;
    this.#device = device;
  }

  static async build(state: ReadonlyMap<string, bigint>, device: DeviceChoice): Promise<{ cache: StateRootCache; root: Uint8Array }> {
    let cache: StateRootCache;
    let next: PreparedRoot;
    if (state instanceof ChainState) {
      cache = new StateRootCache(state, device);
      const ids: number[] = [];
      for (let id = 0; id < state.pool.count; id++) if (state.present(id)) ids.push(id);
      next = await cache.prepareIds(Int32Array.from(ids), BigUint64Array.from(ids, (id) => state.value(id)));
    } else {
      cache = new StateRootCache(new OwnKeys(), device);
      next = await cache.prepare(new Map(), state);
    }
    next.apply();
    return { cache, root: next.root };
  }

  /** Whether this cache names keys by `state`'s key ids (it was built over that state), so `prepareIds` applies. */
  sharesKeysWith(state: ChainState): boolean {
    return this.#keys === state;
  }

  #inTree(id: number): boolean {
    return id < this.#positions.length && this.#positions[id]! >= 0;
  }

  /**
   * The root after `changes` on top of `state` (the state before them), and an
   * `apply` that makes it the cached one; nothing changes until `apply`, so a
   * failed commit leaves the cache as it was.
   */
  async prepare(state: ReadonlyMap<string, bigint>, changes: ReadonlyMap<string, bigint>): Promise<PreparedRoot> {
    const ids: number[] = [];
    const values: bigint[] = [];
    for (const [key, value] of changes) {
      const id = this.#keys.keyId(key);
      if (!this.#inTree(id) || state.get(key) !== value) {
        ids.push(id);
        values.push(value);
      }
    }
    return this.prepareIds(Int32Array.from(ids), BigUint64Array.from(values));
  }

  /**
   * `prepare` by key id: `ids` (distinct) are the keys whose value changed or
   * that are new, `values` their values. `keyOrder` lists the indices into
   * `ids` in key order (what LMDB writes fastest).
   */
  async prepareIds(ids: Int32Array, values: BigUint64Array): Promise<PreparedRoot & { keyOrder: Int32Array }> {
    this.#preparing++;
    try {
      return await this.#prepareIds(ids, values);
    } finally {
      this.#preparing--;
    }
  }

  async #prepareIds(ids: Int32Array, values: BigUint64Array): Promise<PreparedRoot & { keyOrder: Int32Array }> {
    const pool = this.#keys.pool;
    const oldCount = this.#sorted.length;
    const oldPositions = this.#positions;
    let added = 0;
    for (const id of ids) if (!this.#inTree(id)) added++;
    const newIds = new Int32Array(added);
    for (let k = 0, j = 0; k < ids.length; k++) if (!this.#inTree(ids[k]!)) newIds[j++] = ids[k]!;
    sortKeyIds(pool, newIds);

    const count = oldCount + added;
    let sorted = this.#sorted;
    let positions = oldPositions;
    // Reused memory, not zeroed: every leaf is an old one carried over or a changed key's, hashed below.
    const leaves = sharedArray(Uint8Array, count * 32, false);
    if (added === 0) {
      leaves.set(this.#levels[0]!);
    } else {
      // Merge the new keys into the order, carrying the old leaves over in runs.
      const oldSorted = this.#sorted;
      const oldLeaves = this.#levels[0]!;
      sorted = sharedArray(Int32Array, count, false);
      const from = new Int32Array(oldLeaves.buffer, oldLeaves.byteOffset, oldLeaves.length >> 2);
      const to = new Int32Array(leaves.buffer, leaves.byteOffset, leaves.length >> 2);
      let i = 0;
      for (let j = 0, o = 0; j <= added; j++) {
        let run = i;
        if (j < added) while (run < oldCount && pool.compare(oldSorted[run]!, newIds[j]!) < 0) run++;
        else run = oldCount;
        if (run - i > 64) {
          sorted.set(oldSorted.subarray(i, run), o);
          leaves.set(oldLeaves.subarray(i * 32, run * 32), o * 32);
        } else {
          // Short runs (new keys spread among the old) word by word: two subarrays per new key cost more.
          for (let k = 0; k < run - i; k++) sorted[o + k] = oldSorted[i + k]!;
          for (let w = i * 8, d = o * 8; w < run * 8; w++, d++) to[d] = from[w]!;
        }
        o += run - i;
        i = run;
        if (j < added) sorted[o++] = newIds[j]!;
      }
      positions = sharedArray(Int32Array, Math.max(pool.count, oldPositions.length), false).fill(-1);
      for (let p = 0; p < count; p++) positions[sorted[p]!] = p;
    }
    // Positions (in the new order) of the leaves hashed below, in `ids` order, and `ids` in key order.
    const at = new Int32Array(ids.length);
    const byPosition = sharedArray(Int32Array, count, false).fill(-1);
    for (let k = 0; k < ids.length; k++) byPosition[(at[k] = positions[ids[k]!]!)] = k;
    const keyOrder = new Int32Array(ids.length);
    for (let p = 0, o = 0; p < count; p++) if (byPosition[p]! >= 0) keyOrder[o++] = byPosition[p]!;
    giveShared([byPosition.buffer]);

    if (ids.length > 0) {
      // Packed in key-id order, which is the pool's byte order: a block's keys read in the order they were
      // written (~66 bytes each, scattered over megabytes) instead of at random.
      const byId = idOrder(ids, pool.count);
      const { data, offsets } = leafMessages(pool, ids, values, byId);
      const atById = new Int32Array(ids.length);
      for (let k = 0; k < byId.length; k++) atById[k] = at[byId[k]!]!;
      copyNodes(await hashAll(data, offsets, ids.length, this.#device), leaves, atById);
      giveShared([data.buffer, offsets.buffer]);
    }
    const incremental = added === 0 && ids.length < INCREMENTAL_SHARE * count;
    const levels = incremental ? await updateLevels(this.#levels, leaves, at.sort(), this.#device) : await buildLevels(leaves, this.#device);
    let applied = false;
    return {
      root: rootOf(levels),
      keyOrder,
      apply: () => {
        if (applied) return;
        applied = true;
        const replaced = [...this.#levels, this.#sorted, this.#positions];
        this.#sorted = sorted;
        this.#positions = positions;
        this.#levels = levels;
        // The tree replaced is unreachable now (levels are never shared between trees, and sorted and positions
        // only when no key was added), unless another prepareIds is still reading it.
        if (this.#preparing === 0) {
          const kept = new Set<ArrayBufferLike>([sorted.buffer, positions.buffer, ...levels.map((l) => l.buffer)]);
          giveShared(replaced.map((a) => a.buffer).filter((b) => !kept.has(b)));
        }
      },
    };
  }
}
