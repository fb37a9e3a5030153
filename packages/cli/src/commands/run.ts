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
  workPerThreadMs?: number;
  overlapCommit: boolean;
  data: string;
  device: DeviceChoice;
  rootDevice?: DeviceChoice;
  compare: boolean;
  json?: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Transactions generated (and held in memory) before a window of blocks runs. */
const GENERATE_WINDOW_TXS = 1_000_000;
/** Blocks submitted to the chain at once: one committing (on the store's commit thread), one executing, one verifying, and the next queued so the verifying pool never waits for a result to be reported. */
const PIPELINE_DEPTH = 4;

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
    .option('--work-per-thread-ms <ms>', 'Block-STM threads per block: one per this many ms of estimated work (default 50; 0: every thread)', nonNegativeInteger)
    .option('--no-overlap-commit', "wait for each block's LMDB commit before the next block executes")
    .option('--data <dir>', 'LMDB folder', './data')
    .addOption(new Option('--device <device>', 'where signatures are verified').choices(['auto', 'cpu', 'gpu']).default('auto'))
    .addOption(new Option('--root-device <device>', "where the state root's hashes run (default: --device)").choices(['auto', 'cpu', 'gpu']))
    .option('--no-compare', 'skip the sequential reference run (no speedup figure)')
    .option('--json', 'print one JSON object per block')
    .action(async (options: RunOptions) => {
      const chain = await Chain.open({
        path: options.data,
        device: options.device,
        overlapCommit: options.overlapCommit,
        ...(options.rootDevice ? { rootDevice: options.rootDevice } : {}),
        ...(options.threads ? { threads: options.threads } : {}),
        ...(options.workPerThreadMs !== undefined ? { workPerThreadNs: options.workPerThreadMs * 1e6 } : {}),
      });
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
          console.log(`chain at ${options.data}: height ${chain.height}, up to ${chain.threads} execution threads, ${options.txs} txs/block, conflict ${options.conflict}, work ${options.work}`);
        }
        bar?.start(options.blocks, 0, { tps: '-' });
        const start = chain.height + 1;
        // Blocks are generated a window at a time before any of them runs, so signing them never shares the
        // CPU with the timed stages; within a window, block k+1 is verified while block k executes and commits.
        const window = Math.max(1, Math.floor(GENERATE_WINDOW_TXS / options.txs));
        let done = 0;
        const report = (result: BlockResult): void => {
          print(result, options.json === true, bar !== undefined);
          bar?.update(++done, { tps: Math.round(result.stats.tps) });
        };
        for (let first = 0; first < options.blocks; first += window) {
          const blocks = Array.from({ length: Math.min(window, options.blocks - first) }, (_, k) => {
            const height = start + first + k;
            return generateBlock(accounts, { txs: options.txs, conflict: options.conflict, work: options.work, seed: height }, height * options.txs);
          });
          const inFlight: Promise<BlockResult>[] = [];
          for (const block of blocks) {
            inFlight.push(chain.executeBlock(block, { compareSequential: options.compare }));
            if (inFlight.length >= PIPELINE_DEPTH) report(await inFlight.shift()!);
          }
          for (const result of inFlight) report(await result);
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
    ` | layout ${s.layoutMs.toFixed(1)} ms | execute ${s.execute.ms.toFixed(1)} ms ${where}${speedup} | root ${s.rootMs.toFixed(1)} ms | commit ${s.commitMs.toFixed(1)} ms` +
    ` | ${Math.round(s.tps)} tx/s | root ${hex(r.stateRoot)}`;
  // Printed over the progress bar's line; the bar redraws below it on its next update.
  process.stdout.write(withBar ? `\r\x1b[K${line}\n` : `${line}\n`);
}
