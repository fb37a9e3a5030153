import { Option, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { closeRuntime, type DeviceChoice } from '@supervm/gpu-executor';
import { Chain, createAccounts, generateBlock, type BlockResult } from '@supervm/vm-runtime';
import { positiveInteger, fraction, nonNegativeInteger } from '../options.js';

interface RunOptions {
  blocks: number;
  txs: number;
  accounts: number;
  conflict: number;
  work: number;
  threads?: number;
  data: string;
  device: DeviceChoice;
  compare: boolean;
  json?: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('generate signed blocks and execute them through the runtime into an LMDB folder')
    .option('--blocks <n>', 'blocks to execute', positiveInteger, 5)
    .option('--txs <n>', 'transactions per block', positiveInteger, 2000)
    .option('--accounts <n>', 'accounts created at genesis', positiveInteger, 1000)
    .option('--conflict <fraction>', 'share of transactions that touch one hot key (0..1)', fraction, 0.01)
    .option('--work <rounds>', 'contract arithmetic rounds per transaction (0: plain transfers)', nonNegativeInteger, 0)
    .option('--threads <n>', 'execution threads (default: all cores)', positiveInteger)
    .option('--data <dir>', 'LMDB folder', './data')
    .addOption(new Option('--device <device>', 'where signatures are verified').choices(['auto', 'cpu', 'gpu']).default('auto'))
    .option('--no-compare', 'skip the sequential reference run (no speedup figure)')
    .option('--json', 'print one JSON object per block')
    .action(async (options: RunOptions) => {
      const chain = await Chain.open({ path: options.data, device: options.device, ...(options.threads ? { threads: options.threads } : {}) });
      try {
        const accounts = createAccounts(options.accounts);
        if (chain.height < 0) {
          await chain.genesis(accounts.map((a) => ({ publicKey: a.publicKey, balance: 1_000_000_000n })));
        }
        // Resume each generated account's nonce from the chain, so runs can continue a folder.
        for (const a of accounts) a.nonce = chain.nonce(a.publicKey);
        // The bar only for a person watching: stdout is a terminal and no --json.
        const showBar = !options.json && process.stdout.isTTY === true;
        const bar = showBar
          ? new SingleBar({ format: 'blocks {bar} {value}/{total} | {tps} tx/s', stream: process.stdout, clearOnComplete: true, hideCursor: true }, Presets.shades_classic)
          : undefined;
        if (!options.json) {
          console.log(`chain at ${options.data}: height ${chain.height}, ${chain.threads} execution threads, ${options.txs} txs/block, conflict ${options.conflict}, work ${options.work}`);
        }
        bar?.start(options.blocks, 0, { tps: '-' });
        const start = chain.height + 1;
        for (let b = 0; b < options.blocks; b++) {
          const block = generateBlock(accounts, { txs: options.txs, conflict: options.conflict, work: options.work, seed: start + b }, (start + b) * options.txs);
          const result = await chain.executeBlock(block, { compareSequential: options.compare });
          print(result, options.json === true, bar !== undefined);
          bar?.update(b + 1, { tps: Math.round(result.stats.tps) });
        }
        bar?.stop();
      } finally {
        await chain.close();
        await closeRuntime();
      }
    });
}

function print(r: BlockResult, json: boolean, withBar: boolean): void {
  const rejected = r.receipts.filter((x) => x !== 'ok').length;
  if (json) {
    console.log(JSON.stringify({ height: r.height, stateRoot: hex(r.stateRoot), rejected, ...r.stats }));
    return;
  }
  const s = r.stats;
  const speedup = s.execute.speedup === undefined ? '' : `, ${s.execute.speedup.toFixed(2)}x vs sequential`;
  const where = s.execute.parallel ? `on ${s.execute.threads} threads` : 'sequentially (small block)';
  const line =
    `block ${r.height}: ${s.txs} txs (${rejected} rejected) | verify ${s.verify.device}${s.verify.fellBack ? ' (fell back)' : ''} ${s.verify.ms.toFixed(1)} ms` +
    ` | execute ${s.execute.ms.toFixed(1)} ms ${where}${speedup} | ${Math.round(s.tps)} tx/s | root ${hex(r.stateRoot)}`;
  // Printed over the progress bar's line; the bar redraws below it on its next update.
  process.stdout.write(withBar ? `\r\x1b[K${line}\n` : `${line}\n`);
}
