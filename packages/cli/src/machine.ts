import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export interface MachineInfo {
  node: string;
  platform: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  packages: Record<string, string>;
}

function versionOf(spec: string): string {
  try {
    const url = import.meta.resolve(`${spec}/package.json`);
    return (JSON.parse(readFileSync(new URL(url), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** What a benchmark row needs to be comparable across machines. */
export function machineInfo(): MachineInfo {
  return {
    node: process.version,
    platform: `${platform()} ${release()} ${process.arch}`,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    packages: Object.fromEntries(['@supervm/gpu-executor', 'webgpu', 'piscina'].map((p) => [p, versionOf(p)])),
  };
}
