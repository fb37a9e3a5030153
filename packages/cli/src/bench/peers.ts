import { createPublicKey, hash, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { VectorAddInput } from '@supervm/gpu-executor/kernels';
import type { PeerTask } from './peer-worker.js';
import type { Ed25519Workload, Sha256Workload } from './workloads.js';

/**
 * What users would call instead of SuperVM, over the same inputs. `run` returns
 * the peer's output in the kernel's layout, so the runner checks it against
 * cpu-1t; like the executors, each run allocates a fresh output.
 */
export interface Peer {
  backend: string;
  threads: number;
  run(): Promise<Uint8Array | Float32Array>;
  close?(): Promise<void>;
}

/** A peer by name; `create` resolves undefined when its package is not installed. */
export interface PeerFactory<W> {
  name: string;
  create(workload: W, pool: PeerPool): Promise<Peer | undefined>;
}

async function optional<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch {
    return undefined;
  }
}

/** One small piscina pool (one thread per core) running node:crypto directly; created on first use. */
export class PeerPool {
  readonly threads = availableParallelism();
  #piscina: Piscina<PeerTask, number> | undefined;

  /** Runs [0, items) in about four ranges per thread. */
  async run(items: number, task: (start: number, end: number) => PeerTask): Promise<void> {
    this.#piscina ??= new Piscina<PeerTask, number>({
      filename: new URL('./peer-worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: 1,
    });
    const parts = Math.max(1, Math.min(items, this.threads * 4));
    const runs: Promise<number>[] = [];
    for (let p = 0; p < parts; p++) {
      const start = Math.floor((items * p) / parts);
      const end = Math.floor((items * (p + 1)) / parts);
      if (end > start) runs.push(this.#piscina.run(task(start, end)));
    }
    await Promise.all(runs);
  }

  async close(): Promise<void> {
    await this.#piscina?.destroy();
    this.#piscina = undefined;
  }
}

const sharedBytes = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));

/**
 * The loop a user would write. A top-level function over its arguments, not a
 * closure: V8 optimizes the two differently once several closures exist.
 */
function addLoop(a: Float32Array, b: Float32Array): Float32Array {
  const c = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i]! + b[i]!;
  return c;
}

export const vectorAddPeers: PeerFactory<VectorAddInput>[] = [
  {
    name: 'js-loop',
    create: async ({ a, b }) => ({
      backend: 'plain JS loop over Float32Array',
      threads: 1,
      run: async () => addLoop(a, b),
    }),
  },
];

export const sha256Peers: PeerFactory<Sha256Workload>[] = [
  {
    name: 'node:crypto',
    create: async ({ data, offsets }) => {
      const n = offsets.length - 1;
      return {
        backend: 'crypto.hash per message',
        threads: 1,
        run: async () => {
          const out = new Uint8Array(n * 32);
          for (let i = 0; i < n; i++) out.set(hash('sha256', data.subarray(offsets[i]!, offsets[i + 1]!), 'buffer') as unknown as Uint8Array, i * 32);
          return out;
        },
      };
    },
  },
  {
    name: 'node:crypto-workers',
    create: async ({ data, offsets }, pool) => {
      const n = offsets.length - 1;
      return {
        backend: `crypto.hash in ${pool.threads} piscina workers`,
        threads: pool.threads,
        run: async () => {
          const out = sharedBytes(n * 32);
          await pool.run(n, (start, end) => ({ op: 'sha256', data, offsets, out, start, end }));
          return out;
        },
      };
    },
  },
  {
    name: 'hash-wasm',
    create: async ({ data, offsets }) => {
      const hw = await optional<typeof import('hash-wasm')>('hash-wasm');
      if (!hw) return undefined;
      const hasher = await hw.createSHA256();
      const n = offsets.length - 1;
      return {
        backend: 'createSHA256() reused, WebAssembly',
        threads: 1,
        run: async () => {
          const out = new Uint8Array(n * 32);
          for (let i = 0; i < n; i++) out.set(hasher.init().update(data.subarray(offsets[i]!, offsets[i + 1]!)).digest('binary'), i * 32);
          return out;
        },
      };
    },
  },
  {
    name: '@noble/hashes',
    create: async ({ data, offsets }) => {
      const noble = await optional<typeof import('@noble/hashes/sha2.js')>('@noble/hashes/sha2.js');
      if (!noble) return undefined;
      const n = offsets.length - 1;
      return {
        backend: 'sha256(), pure JS',
        threads: 1,
        run: async () => {
          const out = new Uint8Array(n * 32);
          for (let i = 0; i < n; i++) out.set(noble.sha256(data.subarray(offsets[i]!, offsets[i + 1]!)), i * 32);
          return out;
        },
      };
    },
  },
];

export const ed25519Peers: PeerFactory<Ed25519Workload>[] = [
  {
    name: 'node:crypto',
    create: async (w) => {
      const n = w.messages.length;
      // Keys imported once, outside the timing: the most favourable use of node:crypto.
      const keys = w.publicKeys.map((pk) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') }, format: 'jwk' }));
      return {
        backend: 'crypto.verify with a KeyObject',
        threads: 1,
        run: async () => {
          const out = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            try {
              out[i] = verify(null, w.messages[i]!, keys[i]!, w.signatures[i]!) ? 1 : 0;
            } catch {
              out[i] = 0;
            }
          }
          return out;
        },
      };
    },
  },
  {
    name: 'node:crypto-workers',
    create: async ({ columns }, pool) => {
      const n = columns.offsets.length - 1;
      const { data, offsets, publicKeys: keys, signatures: sigs } = columns;
      return {
        backend: `crypto.verify in ${pool.threads} piscina workers (keys cached per worker)`,
        threads: pool.threads,
        run: async () => {
          const out = sharedBytes(n);
          await pool.run(n, (start, end) => ({ op: 'ed25519', data, offsets, keys, sigs, out, start, end }));
          return out;
        },
      };
    },
  },
  {
    name: '@noble/curves',
    create: async (w) => {
      const noble = await optional<typeof import('@noble/curves/ed25519.js')>('@noble/curves/ed25519.js');
      if (!noble) return undefined;
      const n = w.messages.length;
      return {
        backend: 'ed25519.verify(), pure JS',
        threads: 1,
        run: async () => {
          const out = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            try {
              out[i] = noble.ed25519.verify(w.signatures[i]!, w.messages[i]!, w.publicKeys[i]!) ? 1 : 0;
            } catch {
              out[i] = 0;
            }
          }
          return out;
        },
      };
    },
  },
  {
    name: 'tweetnacl',
    create: async (w) => {
      const nacl = await optional<{ default: typeof import('tweetnacl') }>('tweetnacl');
      if (!nacl) return undefined;
      const n = w.messages.length;
      return {
        backend: 'nacl.sign.detached.verify, pure JS',
        threads: 1,
        run: async () => {
          const out = new Uint8Array(n);
          for (let i = 0; i < n; i++) out[i] = nacl.default.sign.detached.verify(w.messages[i]!, w.signatures[i]!, w.publicKeys[i]!) ? 1 : 0;
          return out;
        },
      };
    },
  },
];
