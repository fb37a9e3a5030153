/** Temporary folders for chains under test, removed together at the end. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDirs {
  /** A new empty folder named `<prefix>XXXXXX` under the OS temp folder. */
  make: () => string;
  /** Removes every folder made so far. */
  removeAll: () => void;
}

export function tempDirs(prefix: string): TempDirs {
  const dirs: string[] = [];
  return {
    make: () => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    removeAll: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}
