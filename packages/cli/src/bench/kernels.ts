import type { Kernel } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, vectorAddKernel, type VectorAddInput } from '@supervm/gpu-executor/kernels';
import { PeerPool, ed25519Peers, sha256Peers, vectorAddPeers, type PeerFactory } from './peers.js';
import { ed25519Input, sha256Input, vectorAddInput, type Ed25519Workload, type Sha256Workload } from './workloads.js';

/** One kernel as the bench sees it: sizes, how to build inputs, which peers to run. */
export interface BenchKernel<W = unknown> {
  /** The kernel's `name`. */
  name: string;
  aliases: readonly string[];
  kernel: Kernel<never, never>;
  /** The seed's size first (phase 13 table), then a large one. */
  defaultSizes: readonly number[];
  quickSizes: readonly number[];
  /** Items of the first, untimed probe that estimates what a full run costs (time budget). */
  probeSize: number;
  /** Payload bytes per item, for bytes/s; undefined where bytes/s says nothing (signatures). */
  bytesPerItem?: number;
  /** One line about the workload, for reports. */
  describe(size: number): string;
  build(size: number): W;
  /** The executor input inside a workload. */
  input(workload: W): unknown;
  peers: readonly PeerFactory<W>[];
}

const SHA256_MESSAGE_BYTES = 64;

const vectorAdd: BenchKernel<VectorAddInput> = {
  name: 'vector-add',
  aliases: ['vector-add', 'vadd', 'add'],
  kernel: vectorAddKernel as unknown as Kernel<never, never>,
  defaultSizes: [1 << 20, 1 << 24],
  quickSizes: [1 << 20],
  probeSize: 1 << 16,
  // Reads a and b, writes c: 12 bytes of memory traffic per element.
  bytesPerItem: 12,
  describe: (n) => `c = a + b over ${n} f32 elements`,
  build: vectorAddInput,
  input: (w) => w,
  peers: vectorAddPeers,
};

const sha256: BenchKernel<Sha256Workload> = {
  name: 'sha256',
  aliases: ['sha256', 'sha-256', 'sha'],
  kernel: sha256Kernel as unknown as Kernel<never, never>,
  defaultSizes: [10_000, 1_000_000],
  quickSizes: [10_000],
  probeSize: 2_048,
  bytesPerItem: SHA256_MESSAGE_BYTES,
  describe: (n) => `SHA-256 of ${n} messages of ${SHA256_MESSAGE_BYTES} B`,
  build: (n) => sha256Input(n, SHA256_MESSAGE_BYTES),
  input: (w) => w,
  peers: sha256Peers,
};

const ed25519: BenchKernel<Ed25519Workload> = {
  name: 'ed25519-verify',
  aliases: ['ed25519-verify', 'ed25519', 'ed'],
  kernel: ed25519Kernel as unknown as Kernel<never, never>,
  defaultSizes: [1_000, 65_536],
  quickSizes: [1_000],
  probeSize: 64,
  describe: (n) => `Ed25519 verify of ${n} signatures over 64 B messages (64 signers, every 16th signature corrupted)`,
  build: ed25519Input,
  input: (w) => w.columns,
  peers: ed25519Peers,
};

export const BENCH_KERNELS: readonly BenchKernel[] = [vectorAdd, sha256, ed25519] as unknown as BenchKernel[];

/** The bench kernel for a name or alias (case-insensitive), or undefined. */
export function findBenchKernel(name: string): BenchKernel | undefined {
  const key = name.toLowerCase();
  return BENCH_KERNELS.find((k) => k.aliases.includes(key));
}

export { PeerPool };
