import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeInfo } from '@supervm/gpu-executor';
import { machineInfo, type MachineInfo } from '../machine.js';
import type { BenchGpu } from './schema.js';

/** Packages whose versions make two reports comparable: the executor, Dawn, the pool and every peer. */
const PACKAGES = ['@supervm/gpu-executor', 'webgpu', 'piscina', '@noble/curves', '@noble/hashes', 'tweetnacl', 'hash-wasm'];

/** A package's version, also for packages whose exports map hides package.json (walks up from the entry point). */
export function packageVersion(name: string): string {
  const read = (path: string): { name?: string; version?: string } => JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
  try {
    return read(fileURLToPath(import.meta.resolve(`${name}/package.json`))).version ?? 'unknown';
  } catch {
    // exports without "./package.json": find it above the resolved entry point.
  }
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (;;) {
      try {
        const pkg = read(join(dir, 'package.json'));
        if (pkg.name === name) return pkg.version ?? 'unknown';
      } catch {
        // no package.json here
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'not installed';
  }
}

/** machineInfo() with every benchmarked package's version. */
export function benchMachine(): MachineInfo {
  const machine = machineInfo();
  return { ...machine, packages: { ...machine.packages, ...Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])) } };
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
