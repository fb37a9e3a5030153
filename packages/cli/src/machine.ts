import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  node: string;
  platform: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  packages: Record<string, string>;
}

/** A package's version, found by walking up from its resolved entry (its exports may hide package.json). */
export function packageVersion(spec: string): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(spec)));
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === spec && pkg.version) return pkg.version;
      } catch {
        // no package.json at this level
      }
      const parent = dirname(dir);
      if (parent === dir) return 'unknown';
      dir = parent;
    }
  } catch {
    return 'not installed';
  }
}

/** What a benchmark row needs to be comparable across machines; `packages` names whose versions to report. */
export function machineInfo(packages: readonly string[] = ['@supervm/gpu-executor', 'webgpu', 'prom-client']): MachineInfo {
  return {
    node: process.version,
    platform: `${platform()} ${release()} ${process.arch}`,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    packages: Object.fromEntries(packages.map((p) => [p, packageVersion(p)])),
  };
}
