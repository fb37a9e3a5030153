import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain } from '../src/chain.js';
import { CRASH_ACCOUNTS, CRASH_GENESIS_BALANCE, crashBlock } from './helpers/crash-workload.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'supervm-crash-'));
  dirs.push(d);
  return d;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Roots of the same chain built in this process without crashes: expected[h] is block h's root. */
const expected: string[] = [];
let reference: Chain | undefined;
async function expectedRoot(height: number): Promise<string> {
  if (!reference) {
    reference = await Chain.open({ path: tempDir(), threads: 1, device: 'cpu' });
    expected.push(hex((await reference.genesis(CRASH_ACCOUNTS.map((a) => ({ publicKey: a.publicKey, balance: CRASH_GENESIS_BALANCE })))).stateRoot));
  }
  while (expected.length <= height) {
    const result = await reference.executeBlock(crashBlock(reference.height + 1));
    assert.ok(result.receipts.every((r) => r === 'ok'));
    expected.push(hex(result.stateRoot));
  }
  return expected[height]!;
}

after(async () => {
  await reference?.close();
  await closeRuntime();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Kill = { kind: 'mid-commit'; ahead: number; entry: number } | { kind: 'timer'; delayMs: number };
const killArb: fc.Arbitrary<Kill> = fc.oneof(
  fc.record({ kind: fc.constant('mid-commit' as const), ahead: fc.integer({ min: 1, max: 2 }), entry: fc.integer({ min: 1, max: 800 }) }),
  fc.record({ kind: fc.constant('timer' as const), delayMs: fc.integer({ min: 150, max: 1200 }) }),
);

const child = fileURLToPath(new URL('./helpers/crash-child.js', import.meta.url));

/** Runs the child until it exits or is killed; returns the heights it reported committed. */
function runChild(path: string, kill: Kill, fromHeight: number): Promise<{ committed: number[]; signal: NodeJS.Signals | null; stderr: string }> {
  const killAt = kill.kind === 'mid-commit' ? `${fromHeight + kill.ahead}:${kill.entry}` : '-';
  const proc = spawn(process.execPath, [child, path, killAt, '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const committed: number[] = [];
  let out = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      committed.push(Number(out.slice(0, nl).split(' ')[1]));
      out = out.slice(nl + 1);
    }
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = kill.kind === 'timer' ? setTimeout(() => proc.kill('SIGKILL'), kill.delayMs) : undefined;
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ committed, signal, stderr });
    });
  });
}

describe('crash safety', () => {
  test('a process SIGKILLed at random points, inside a commit too, reopens at the old or the new block with its root, and continues', async () => {
    const midCommit = killArb.filter((k) => k.kind === 'mid-commit');
    await fc.assert(
      fc.asyncProperty(midCommit, fc.array(killArb, { minLength: 3, maxLength: 3 }), async (first, rest) => {
        const kills = [first, ...rest];
        const path = tempDir();
        let height = -1;
        for (const kill of kills) {
          const run = await runChild(path, kill, Math.max(height, 0));
          if (run.signal === null) assert.equal(run.committed.length, 3, `the child failed:\n${run.stderr}`);
          const last = run.committed.at(-1) ?? height;
          const chain = await Chain.open({ path, threads: 1, device: 'cpu' }); // rejects a state that does not match its last root
          try {
            if (kill.kind === 'mid-commit') {
              // Killed inside block (from + ahead)'s write transaction (every block writes over 800
              // entries): the store holds exactly the block before it.
              assert.equal(run.signal, 'SIGKILL', `the child was not killed:\n${run.stderr}`);
              assert.equal(chain.height, Math.max(height, 0) + kill.ahead - 1);
            }
            assert.ok(chain.height === last || chain.height === last + 1, `height ${chain.height}, last reported ${last}`);
            if (chain.height >= 0) {
              assert.equal(hex(chain.stateRoot), await expectedRoot(chain.height));
              assert.equal(hex(chain.block(chain.height)!.stateRoot), hex(chain.stateRoot));
            }
            height = chain.height;
          } finally {
            await chain.close();
          }
        }
        // Reopen and continue in this process.
        const chain = await Chain.open({ path, threads: 2, device: 'cpu' });
        try {
          if (chain.height < 0) await chain.genesis(CRASH_ACCOUNTS.map((a) => ({ publicKey: a.publicKey, balance: CRASH_GENESIS_BALANCE })));
          const next = await chain.executeBlock(crashBlock(chain.height + 1));
          assert.ok(next.receipts.every((r) => r === 'ok'));
          assert.equal(hex(next.stateRoot), await expectedRoot(next.height));
        } finally {
          await chain.close();
        }
      }),
      { numRuns: 3 },
    );
  });
});
