import type { RuntimeInfo } from '@supervm/gpu-executor';
import { machineInfo, type MachineInfo } from '../machine.js';
import type { BenchGpu } from './schema.js';

/** Packages whose versions make two reports comparable: the executor, Dawn, the pool and every peer. */
const PACKAGES = ['@supervm/gpu-executor', 'webgpu', 'piscina', '@noble/curves', '@noble/hashes', 'tweetnacl', 'hash-wasm'];

/** machineInfo() with every benchmarked package's version. */
export function benchMachine(): MachineInfo {
  return machineInfo(PACKAGES);
}

export function describeGpu(info: RuntimeInfo['gpu']): BenchGpu {
  if (!info.available) return { available: false, reason: info.reason };
  const a = info.adapter;
  return {
    available: true,
    summary: [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed adapter',
    backend: `webgpu:${a.backend}`,
    vendor: a.vendor,
    architecture: a.architecture,
    device: a.device,
    description: a.description,
    software: a.software,
    featureLevel: a.featureLevel,
    timestampQuery: a.timestampQuery,
  };
}
