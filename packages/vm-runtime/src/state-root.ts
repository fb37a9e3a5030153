import { sha256Batch, type DeviceChoice } from '@supervm/gpu-executor';

const encoder = new TextEncoder();
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sharedBytes = (length: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(Math.max(1, length)), 0, length);

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
 * Leaf messages key (UTF-8) || value (u64 LE), packed in shared memory for one
 * sha256Batch. Keys are ASCII in practice and copied char by char; a key that
 * is not is encoded with TextEncoder.
 */
function leafMessages(keys: readonly string[], values: readonly bigint[]): { data: Uint8Array; offsets: Uint32Array } {
  const n = keys.length;
  const offsets = new Uint32Array(new SharedArrayBuffer(4 * (n + 1)));
  let total = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    let bytes = key.length;
    for (let c = 0; c < key.length; c++) {
      if (key.charCodeAt(c) >= 0x80) {
        bytes = encoder.encode(key).length;
        break;
      }
    }
    offsets[i + 1] = total += bytes + 8;
  }
  const data = sharedBytes(total);
  const view = new DataView(data.buffer);
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const at = offsets[i]!;
    const keyBytes = offsets[i + 1]! - at - 8;
    if (keyBytes === key.length) {
      for (let c = 0; c < keyBytes; c++) data[at + c] = key.charCodeAt(c);
    } else {
      encoder.encodeInto(key, data.subarray(at, at + keyBytes));
    }
    view.setBigUint64(at + keyBytes, values[i]!, true);
  }
  return { data, offsets };
}

/**
 * The levels above sorted leaf hashes: parents H(left || right), an odd node
 * carried up, each level one sha256Batch. levels[0] is the leaves, the last
 * level the root (no levels above an empty tree).
 */
async function buildLevels(leaves: Uint8Array, device: DeviceChoice): Promise<Uint8Array[]> {
  const levels = [leaves];
  for (let level = leaves; level.length > 32; ) {
    const nodes = level.length / 32;
    const pairs = nodes >> 1;
    const parents = (await sha256Batch({ data: level.subarray(0, pairs * 64), offsets: offsetsOfPairs(pairs) }, { device })).output;
    const next = sharedBytes((pairs + (nodes & 1)) * 32);
    next.set(parents);
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
    const level = old[l]!.slice();
    // Parents of the dirty nodes, ascending and each once.
    const parents = new Int32Array(positions.length);
    let count = 0;
    for (const p of positions) if (count === 0 || parents[count - 1] !== p >> 1) parents[count++] = p >> 1;
    const hashed = parents.subarray(0, count).filter((p) => p < pairs);
    if (hashed.length > 0) {
      const gathered = sharedBytes(hashed.length * 64);
      hashed.forEach((p, k) => gathered.set(below.subarray(p * 64, p * 64 + 64), k * 64));
      const digests = (await sha256Batch({ data: gathered, offsets: offsetsOfPairs(hashed.length) }, { device })).output;
      copyNodes(digests, level, hashed);
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

async function rootOf(levels: readonly Uint8Array[], device: DeviceChoice): Promise<Uint8Array> {
  const top = levels[levels.length - 1]!;
  if (top.length === 0) return (await sha256Batch([new Uint8Array(0)], { device })).output.slice();
  return top.slice();
}

/**
 * SHA-256 Merkle root over the state's entries sorted by key: leaves
 * H(key || value), parents H(left || right). Every level is one batch through
 * the scheduler.
 */
export async function stateRoot(state: ReadonlyMap<string, bigint>, device: DeviceChoice = 'auto'): Promise<Uint8Array> {
  return (await StateRootCache.build(state, device)).root;
}

/** Re-hash only the changed leaves' ancestors while fewer than this share of the leaves changed. */
const INCREMENTAL_SHARE = 0.25;

/**
 * The same root, kept up to date block by block. It caches the sorted keys
 * (as stable ids, so adding keys never rebuilds the key index) and every level
 * of the tree: a block re-hashes only the leaves it changed, merges new keys
 * in, and re-hashes only the changed paths when no key was added and few
 * leaves changed (otherwise every level, each one batch).
 */
export class StateRootCache {
  /** key -> id; ids are never reused or renumbered. */
  #ids = new Map<string, number>();
  /** position in key order -> id, and back. */
  #sorted = new Int32Array(0);
  #positions = new Int32Array(0);
  #names: string[] = [];
  #levels: Uint8Array[] = [new Uint8Array(0)];
  readonly #device: DeviceChoice;

  private constructor(device: DeviceChoice) {
    this.#device = device;
  }

  static async build(state: ReadonlyMap<string, bigint>, device: DeviceChoice): Promise<{ cache: StateRootCache; root: Uint8Array }> {
    const cache = new StateRootCache(device);
    const next = await cache.prepare(new Map(), state);
    next.apply();
    return { cache, root: next.root };
  }

  /**
   * The root after `changes` on top of `state` (the state before them), and an
   * `apply` that makes it the cached one; nothing changes until `apply`, so a
   * failed commit leaves the cache as it was.
   */
  async prepare(state: ReadonlyMap<string, bigint>, changes: ReadonlyMap<string, bigint>): Promise<{ root: Uint8Array; apply: () => void }> {
    const ids = this.#ids;
    const added: string[] = [];
    const hashKeys: string[] = [];
    const hashValues: bigint[] = [];
    const existing: number[] = []; // ids of changed keys that were already there, in hashKeys order
    for (const [key, value] of changes) {
      const id = ids.get(key);
      if (id === undefined) added.push(key);
      else if (state.get(key) !== value) {
        hashKeys.push(key);
        hashValues.push(value);
        existing.push(id);
      }
    }
    added.sort(compareKeys);
    for (const key of added) {
      hashKeys.push(key);
      hashValues.push(changes.get(key)!);
    }

    const oldCount = this.#sorted.length;
    const count = oldCount + added.length;
    let sorted = this.#sorted;
    let positions = this.#positions;
    let leaves: Uint8Array;
    // Positions (in the new order) of every leaf hashed below, in hashKeys order.
    const at = new Int32Array(hashKeys.length);
    if (added.length === 0) {
      leaves = sharedBytes(count * 32);
      leaves.set(this.#levels[0]!);
      existing.forEach((id, k) => (at[k] = positions[id]!));
    } else {
      // Merge the new keys (ids oldCount..) into the order, carrying the old leaves over in runs.
      const oldLeaves = this.#levels[0]!;
      sorted = new Int32Array(count);
      leaves = sharedBytes(count * 32);
      let i = 0;
      for (let j = 0, o = 0; j <= added.length; j++) {
        let run = i;
        if (j < added.length) while (run < oldCount && compareKeys(this.#names[this.#sorted[run]!]!, added[j]!) < 0) run++;
        else run = oldCount;
        sorted.set(this.#sorted.subarray(i, run), o);
        leaves.set(oldLeaves.subarray(i * 32, run * 32), o * 32);
        o += run - i;
        i = run;
        if (j < added.length) {
          sorted[o] = oldCount + j;
          at[existing.length + j] = o++;
        }
      }
      positions = new Int32Array(count);
      for (let p = 0; p < count; p++) positions[sorted[p]!] = p;
      existing.forEach((id, k) => (at[k] = positions[id]!));
    }

    if (hashKeys.length > 0) {
      const digests = (await sha256Batch(leafMessages(hashKeys, hashValues), { device: this.#device })).output;
      copyNodes(digests, leaves, at);
    }
    const incremental = added.length === 0 && hashKeys.length < INCREMENTAL_SHARE * count;
    const levels = incremental
      ? await updateLevels(this.#levels, leaves, at.sort(), this.#device)
      : await buildLevels(leaves, this.#device);
    const root = await rootOf(levels, this.#device);
    return {
      root,
      apply: () => {
        added.forEach((key, j) => ids.set(key, oldCount + j));
        for (const key of added) this.#names.push(key);
        this.#sorted = sorted;
        this.#positions = positions;
        this.#levels = levels;
      },
    };
  }
}
