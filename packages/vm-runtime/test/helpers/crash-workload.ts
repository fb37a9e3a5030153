/** The crash test's blocks: a pure function of the height, so every process generates the same chain. */
import { createAccounts, generateBlock } from '../../src/workload.js';

export const CRASH_ACCOUNTS = createAccounts(300);
export const CRASH_GENESIS_BALANCE = 1_000_000n;
export const CRASH_TXS = 600;

/**
 * Block `height` (>= 1): senders round-robin, so the nonce of every account is
 * known from the height alone; amounts are small, so every transaction is ok.
 * Half of the transactions are `work` calls, most on fresh keys, so each commit
 * writes 820 to 850 state entries (the crash test kills at entry <= 800).
 */
export function crashBlock(height: number): Uint8Array[] {
  const first = (height - 1) * CRASH_TXS;
  for (const [i, a] of CRASH_ACCOUNTS.entries()) {
    // Transactions first .. first + CRASH_TXS - 1 were sent round robin from account 0.
    a.nonce = BigInt(Math.floor(first / CRASH_ACCOUNTS.length) + (i < first % CRASH_ACCOUNTS.length ? 1 : 0));
  }
  const transfers = generateBlock(CRASH_ACCOUNTS, { txs: CRASH_TXS / 2, conflict: 0.2, work: 0, seed: height }, first);
  const calls = generateBlock(CRASH_ACCOUNTS, { txs: CRASH_TXS / 2, conflict: 0.2, work: 10, seed: height + 7 }, first + CRASH_TXS / 2);
  return [...transfers, ...calls];
}
