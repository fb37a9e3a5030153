/**
 * Child process of the crash test: opens the chain at argv[2], makes genesis if
 * needed, then commits block after block (`crashBlock`), printing
 * "committed <height> <root hex>" after each. argv[3] = "<height>:<entry>"
 * kills the process (SIGKILL) from inside the LMDB write transaction of block
 * <height>, after it has written <entry> state entries; "-" never does.
 */
import { closeRuntime } from '@supervm/gpu-executor';
import { Chain } from '../../src/chain.js';
import { CRASH_ACCOUNTS, CRASH_GENESIS_BALANCE, crashBlock } from './crash-workload.js';

const [path, killAt = '-', maxBlocks = '1000'] = process.argv.slice(2);
const [killHeight, killEntry] = killAt === '-' ? [-1, -1] : killAt.split(':').map(Number);
const chain = await Chain.open({
  path: path!,
  threads: 2,
  device: 'cpu',
  commitHook: (height, written) => {
    if (height === killHeight && written === killEntry) process.kill(process.pid, 'SIGKILL');
  },
});
if (chain.height < 0) await chain.genesis(CRASH_ACCOUNTS.map((a) => ({ publicKey: a.publicKey, balance: CRASH_GENESIS_BALANCE })));
for (let b = 0; b < Number(maxBlocks); b++) {
  const result = await chain.executeBlock(crashBlock(chain.height + 1));
  // Writes to a pipe are synchronous on Linux: a printed line is a committed block.
  process.stdout.write(`committed ${result.height} ${Buffer.from(result.stateRoot).toString('hex')}\n`);
}
await chain.close();
await closeRuntime();
