import { sha256Batch, type DeviceChoice } from '@supervm/gpu-executor';

const encoder = new TextEncoder();
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Leaf messages key (UTF-8) || value (u64 LE), packed for one sha256Batch. */
function leafMessages(entries: readonly (readonly [string, bigint])[]): { data: Uint8Array; offsets: Uint32Array } {
  const keys = entries.map(([k]) => encoder.encode(k));
  const offsets = new Uint32Array(entries.length + 1);
  let total = 0;
  keys.forEach((k, i) => (offsets[i + 1] = total += k.length + 8));
  const data = new Uint8Array(total);
  const view = new DataView(data.buffer);
  keys.forEach((k, i) => {
    data.set(k, offsets[i]!);
    view.setBigUint64(offsets[i]! + k.length, entries[i]![1], true);
  });
  return { data, offsets };
}

/** Parents H(left || right) level by level, an odd node carried up; the empty tree's root is H(""). */
async function rootOf(leaves: Uint8Array, device: DeviceChoice): Promise<Uint8Array> {
  if (leaves.length === 0) return (await sha256Batch([new Uint8Array(0)], { device })).output;
  let level = leaves;
  while (level.length > 32) {
    const nodes = level.length / 32;
    const pairs = Math.floor(nodes / 2);
    const offsets = Uint32Array.from({ length: pairs + 1 }, (_, i) => i * 64);
    const parents = (await sha256Batch({ data: level.subarray(0, pairs * 64), offsets }, { device })).output;
    const next = new Uint8Array((pairs + (nodes % 2)) * 32);
    next.set(parents);
    if (nodes % 2 === 1) next.set(level.subarray((nodes - 1) * 32), pairs * 32);
    level = next;
  }
  return level.slice();
}

/**
 * SHA-256 Merkle root over the state's entries sorted by key: leaves
 * H(key || value), parents H(left || right). Every level is one batch through
 * the scheduler.
 */
export async function stateRoot(state: ReadonlyMap<string, bigint>, device: DeviceChoice = 'auto'): Promise<Uint8Array> {
  const entries = [...state].sort((a, b) => compareKeys(a[0], b[0]));
  const leaves = entries.length === 0 ? new Uint8Array(0) : (await sha256Batch(leafMessages(entries), { device })).output;
  return rootOf(leaves, device);
}

/**
 * The same root, kept up to date block by block: sorted keys and leaf hashes
 * are cached, so a block re-hashes only the leaves it changed (new keys are
 * merged in) instead of sorting and hashing the whole state again.
 */
export class StateRootCache {
  #keys: string[] = [];
  #index = new Map<string, number>();
  #leaves: Uint8Array = new Uint8Array(0);
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
    const added = [...changes.keys()].filter((k) => !this.#index.has(k)).sort(compareKeys);
    let keys = this.#keys;
    let index = this.#index;
    let leaves: Uint8Array;
    if (added.length === 0) {
      leaves = this.#leaves.slice();
    } else {
      // Merge the new keys into the sorted list, carrying the cached leaves along.
      keys = new Array<string>(this.#keys.length + added.length);
      leaves = new Uint8Array(keys.length * 32);
      index = new Map();
      for (let i = 0, j = 0, o = 0; o < keys.length; o++) {
        const takeOld = j >= added.length || (i < this.#keys.length && compareKeys(this.#keys[i]!, added[j]!) < 0);
        const key = takeOld ? this.#keys[i]! : added[j]!;
        if (takeOld) leaves.set(this.#leaves.subarray(i * 32, i * 32 + 32), o * 32), i++;
        else j++;
        keys[o] = key;
        index.set(key, o);
      }
    }
    const changed = [...changes].filter(([k, v]) => state.get(k) !== v || !this.#index.has(k));
    if (changed.length > 0) {
      const hashed = (await sha256Batch(leafMessages(changed), { device: this.#device })).output;
      changed.forEach(([k], n) => leaves.set(hashed.subarray(n * 32, n * 32 + 32), index.get(k)! * 32));
    }
    const root = await rootOf(leaves, this.#device);
    return {
      root,
      apply: () => {
        this.#keys = keys;
        this.#index = index;
        this.#leaves = leaves;
      },
    };
  }
}
