import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { svgChart } from '../bench/chart.js';
import { compareReports } from '../bench/compare.js';
import { BENCH_KERNELS, findBenchKernel, type BenchKernel } from '../bench/kernels.js';
import { markdown } from '../bench/markdown.js';
import { runBench, type GpuMode } from '../bench/runner.js';
import { validateReport, type BenchReport } from '../bench/schema.js';
import { consoleTable } from '../bench/table.js';
import { positiveInteger } from '../options.js';

interface BenchCliOptions {
  sizes?: number[];
  repeat?: number;
  quick?: boolean;
  /** undefined: use a GPU when found; true: require one; false: CPU only. */
  gpu?: boolean;
  budget?: number;
  json?: string;
  markdown?: string;
  chart?: string;
  compare?: string[];
}

const DEFAULT_REPEAT = 5;
const QUICK_REPEAT = 3;
const DEFAULT_BUDGET_S = 30;
const QUICK_BUDGET_S = 10;
/** Without --repeat, short cases repeat until this much timed work (at most 50 runs): steadier medians. */
const DEFAULT_MIN_SAMPLE_MS = 2000;
const QUICK_MIN_SAMPLE_MS = 300;

/** `1000`, `10k`, `1m` (decimal) or `64ki`, `16mi` (binary), comma-separated. */
export function parseSizes(value: string): number[] {
  return value.split(',').map((raw) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(k|ki|m|mi)?\s*$/i.exec(raw);
    const scale = { k: 1e3, ki: 1024, m: 1e6, mi: 1 << 20 }[(m?.[2] ?? '').toLowerCase() as 'k'] ?? 1;
    const n = m ? Number(m[1]) * scale : Number.NaN;
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`bad size ${JSON.stringify(raw)} (e.g. 1000, 10k, 1m, 64ki, 16mi)`);
    return n;
  });
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected seconds > 0');
  return n;
}

function readReport(path: string): BenchReport {
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const problems = validateReport(report);
  if (problems.length > 0) throw new Error(`${path} is not a supervm bench report (schema 1): ${problems.slice(0, 5).join('; ')}`);
  return report as BenchReport;
}

function kernelsFrom(args: string[]): BenchKernel[] {
  if (args.length === 0) return [...BENCH_KERNELS];
  return args.map((name) => {
    const k = findBenchKernel(name);
    if (!k) throw new InvalidArgumentError(`unknown kernel ${JSON.stringify(name)}; known: ${BENCH_KERNELS.map((b) => b.aliases.join('|')).join(', ')}`);
    return k;
  });
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description("every kernel on every device, the scheduler's choice, co-execution and npm peers, side by side in one run")
    .argument('[kernels...]', `kernels: ${BENCH_KERNELS.map((k) => k.aliases.join('|')).join(', ')} (default: all)`)
    .option('--sizes <list>', "batch sizes for every kernel, e.g. 1000,10k,1mi (default: the seed's and a large one per kernel)", parseSizes)
    .option('--repeat <n>', `timed runs per case after one warm-up (default ${DEFAULT_REPEAT}, --quick ${QUICK_REPEAT}, more for cases under ${DEFAULT_MIN_SAMPLE_MS / DEFAULT_REPEAT} ms; exactly n when given)`, positiveInteger)
    .option('--quick', "the seed's sizes only, fewer repeats, smaller budget")
    .option('--gpu', 'require a GPU adapter (fail instead of running CPU-only)')
    .option('--no-gpu', 'CPU only')
    .option('--budget <seconds>', `most time one case may take; slower cases run fewer repeats or are skipped (default ${DEFAULT_BUDGET_S}, --quick ${QUICK_BUDGET_S})`, seconds)
    .option('--json <file>', 'write the report as JSON (schema 1, docs/BENCHMARKS.md)')
    .option('--markdown <file>', "write the seed's table rebuilt from this run and every row as Markdown")
    .option('--chart <file>', 'write an SVG bar chart of throughput (log scale)')
    .option('--compare <files...>', 'print two JSON reports side by side (a.json b.json) instead of running')
    .action(async (kernelArgs: string[], options: BenchCliOptions, command: Command) => {
      try {
        await bench(kernelArgs, options);
      } catch (err) {
        // A usage or input problem is one line, not a stack trace.
        command.error(`error: ${(err as Error).message}`, { exitCode: 1 });
      }
    });
}

/** One `supervm bench` invocation: compare two reports, or run and write the outputs asked for. */
async function bench(kernelArgs: string[], options: BenchCliOptions): Promise<void> {
  if (options.compare) {
    if (options.compare.length !== 2) throw new InvalidArgumentError('--compare takes two files: a.json b.json');
    const [a, b] = options.compare as [string, string];
    const names: [string, string] = basename(a) === basename(b) ? ['a', 'b'] : [basename(a, '.json'), basename(b, '.json')];
    console.log(compareReports(readReport(a), readReport(b), names));
    return;
  }
  const kernels = kernelsFrom(kernelArgs);
  const quick = options.quick === true;
  const gpu: GpuMode = options.gpu === false ? 'off' : options.gpu === true ? 'required' : 'auto';
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'bench {bar} {value}/{total} cases | {duration_formatted} | {label}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic)
    : undefined;
  bar?.start(1, 0, { label: 'opening devices' });
  let report: BenchReport;
  try {
    report = await runBench({
      kernels,
      ...(options.sizes ? { sizes: options.sizes } : {}),
      repeat: options.repeat ?? (quick ? QUICK_REPEAT : DEFAULT_REPEAT),
      quick,
      gpu,
      budgetMs: (options.budget ?? (quick ? QUICK_BUDGET_S : DEFAULT_BUDGET_S)) * 1000,
      minSampleMs: options.repeat !== undefined ? 0 : quick ? QUICK_MIN_SAMPLE_MS : DEFAULT_MIN_SAMPLE_MS,
      command: ['supervm', ...process.argv.slice(2)].join(' '),
      onProgress: (done, total, label) => {
        bar?.setTotal(total);
        bar?.update(done, { label });
      },
    });
  } finally {
    bar?.stop();
  }
  if (options.json) writeFileSync(options.json, JSON.stringify(report, null, 2) + '\n');
  if (options.markdown) writeFileSync(options.markdown, markdown(report));
  if (options.chart) writeFileSync(options.chart, svgChart(report));
  console.log(consoleTable(report));
}
