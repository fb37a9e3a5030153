import { createPublicKey, hash, verify } from 'node:crypto';
import type { Ed25519Workload } from './workloads.js';
import type { Sha256Columns } from '@supervm/gpu-executor/kernels';

/** What users would otherwise call, each in one thread over the same inputs. */
export interface Peer {
  name: string;
  run(): Promise<unknown>;
}

async function optional<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch {
    return undefined;
  }
}

export async function sha256Peers(input: Sha256Columns): Promise<Peer[]> {
  const { data, offsets } = input;
  const n = offsets.length - 1;
  const peers: Peer[] = [
    {
      name: 'node:crypto',
      run: async () => {
        for (let i = 0; i < n; i++) hash('sha256', data.subarray(offsets[i]!, offsets[i + 1]!), 'buffer');
      },
    },
  ];
  const hw = await optional<typeof import('hash-wasm')>('hash-wasm');
  if (hw) {
    const hasher = await hw.createSHA256();
    peers.push({
      name: 'hash-wasm',
      run: async () => {
        for (let i = 0; i < n; i++) hasher.init().update(data.subarray(offsets[i]!, offsets[i + 1]!)).digest('binary');
      },
    });
  }
  const noble = await optional<typeof import('@noble/hashes/sha2.js')>('@noble/hashes/sha2.js');
  if (noble) {
    peers.push({
      name: '@noble/hashes',
      run: async () => {
        for (let i = 0; i < n; i++) noble.sha256(data.subarray(offsets[i]!, offsets[i + 1]!));
      },
    });
  }
  return peers;
}

export async function ed25519Peers(w: Ed25519Workload): Promise<Peer[]> {
  const n = w.messages.length;
  const keyObjects = w.publicKeys.map((pk) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') }, format: 'jwk' }));
  const peers: Peer[] = [
    {
      // Keys imported once, outside the timing: the most favourable use of node:crypto.
      name: 'node:crypto',
      run: async () => {
        for (let i = 0; i < n; i++) verify(null, w.messages[i]!, keyObjects[i]!, w.signatures[i]!);
      },
    },
  ];
  const noble = await optional<typeof import('@noble/curves/ed25519.js')>('@noble/curves/ed25519.js');
  if (noble) {
    peers.push({
      name: '@noble/curves',
      run: async () => {
        for (let i = 0; i < n; i++) noble.ed25519.verify(w.signatures[i]!, w.messages[i]!, w.publicKeys[i]!);
      },
    });
  }
  const nacl = await optional<{ default: typeof import('tweetnacl') }>('tweetnacl');
  if (nacl) {
    peers.push({
      name: 'tweetnacl',
      run: async () => {
        for (let i = 0; i < n; i++) nacl.default.sign.detached.verify(w.messages[i]!, w.signatures[i]!, w.publicKeys[i]!);
      },
    });
  }
  return peers;
}
