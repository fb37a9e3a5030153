import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { closeRuntime } from '@supervm/gpu-executor';
import { compareReports, consoleTable, markdown, svgChart } from '../bench/report.js';
import { KERNEL_ALIASES, runBench } from '../bench/runner.js';
import { validateReport, type BenchReport } from '../bench/schema.js';
import { positiveInteger } from '../options.js';

interface BenchCliOptions {
  sizes?: number[];
  repeat?: number;
  quick?: boolean;
  gpu: boolean;
  softwareGpu?: boolean;
  budget: number;
  json?: string;
  markdown?: string;
  chart?: string;
  compare?: string[];
}

function sizeList(value: string): number[] {
  return value.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`bad size ${JSON.stringify(s)}`);
    return n;
  });
}

function readReport(path: string): BenchReport {
  const report = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const problems = validateReport(report);
  if (problems.length > 0) throw new Error(`${path} is not a supervm bench report: ${problems.join('; ')}`);
  return report as BenchReport;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('every kernel on every device, the scheduler\'s choice and npm peers, side by side in one run')
    .argument('[kernels...]', `kernels: ${[...new Set(Object.values(KERNEL_ALIASES))].join(', ')} (default: all)`)
    .option('--sizes <list>', 'comma-separated batch sizes (default: the seed\'s and large ones)', sizeList)
    .option('--repeat <n>', 'timed repeats per case (default 5, --quick 3)', positiveInteger)
    .option('--quick', 'the seed\'s sizes only, fewer repeats')
    .option('--no-gpu', 'CPU only')
    .option('--software-gpu', 'also time a software GPU adapter (exact, very slow)')
    .option('--budget <seconds>', 'skip a case whose one run would take longer (estimated from a smaller size)', positiveInteger, 15)
    .option('--json <file>', 'write the report as JSON (schema: docs/BENCHMARKS.md)')
    .option('--markdown <file>', 'write the seed\'s table and every row as Markdown')
    .option('--chart <file>', 'write an SVG chart of throughput')
    .option('--compare <files...>', 'compare two JSON reports (a.json b.json) instead of running')
    .action(async (kernelArgs: string[], options: BenchCliOptions) => {
      if (options.compare) {
        if (options.compare.length !== 2) throw new InvalidArgumentError('--compare takes two files');
        console.log(compareReports(readReport(options.compare[0]!), readReport(options.compare[1]!)));
        return;
      }
      const kernels = kernelArgs.length === 0 ? [...new Set(Object.values(KERNEL_ALIASES))] : kernelArgs.map((k) => {
        const name = KERNEL_ALIASES[k.toLowerCase()];
        if (!name) throw new InvalidArgumentError(`unknown kernel ${JSON.stringify(k)}`);
        return name;
      });
      const bar = process.stderr.isTTY ? new SingleBar({ format: 'bench {bar} {value}/{total} | {label}', stream: process.stderr }, Presets.shades_classic) : undefined;
      bar?.start(1, 0, { label: 'starting' });
      try {
        const report = await runBench({
          kernels,
          ...(options.sizes ? { sizes: options.sizes } : {}),
          repeat: options.repeat ?? (options.quick ? 3 : 5),
          quick: options.quick === true,
          gpu: options.gpu,
          softwareGpu: options.softwareGpu === true,
          budgetMs: options.budget * 1000,
          command: `supervm ${process.argv.slice(2).join(' ')}`,
          onProgress: (done, total, label) => {
            bar?.setTotal(total);
            bar?.update(done, { label });
          },
        });
        bar?.stop();
        if (options.json) writeFileSync(options.json, JSON.stringify(report, null, 2));
        if (options.markdown) writeFileSync(options.markdown, markdown(report));
        if (options.chart) writeFileSync(options.chart, svgChart(report));
        console.log(consoleTable(report));
      } finally {
        bar?.stop();
        await closeRuntime();
      }
    });
}
