import { sha256Batch, type DeviceChoice } from '@supervm/gpu-executor';

/** Leaf bytes of one state entry: the key (UTF-8), then its u64 value little-endian. */
function leafMessages(entries: [string, bigint][]): { data: Uint8Array; offsets: Uint32Array } {
  const encoder = new TextEncoder();
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

/**
 * SHA-256 Merkle root over the state's entries sorted by key: leaves
 * H(key || value), parents H(left || right), an odd node carried up as is.
 * The empty state's root is H(""). Every level is one batch through the scheduler.
 */
export async function stateRoot(state: ReadonlyMap<string, bigint>, device: DeviceChoice = 'auto'): Promise<Uint8Array> {
  const entries = [...state].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (entries.length === 0) return (await sha256Batch([new Uint8Array(0)], { device })).output;
  let level = (await sha256Batch(leafMessages(entries), { device })).output;
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
  return level;
}
