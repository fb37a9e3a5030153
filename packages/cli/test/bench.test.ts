import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { svgChart } from '../src/bench/chart.js';
import { compareReports } from '../src/bench/compare.js';
import { markdown } from '../src/bench/markdown.js';
import { validateReport, type BenchReport } from '../src/bench/schema.js';
import { interleavedRegret, mediansInTurns, regretRounds } from '../src/bench/regret.js';
import { median, p95, planRuns, quantile } from '../src/bench/stats.js';
import { parseSizes } from '../src/commands/bench.js';

const main = new URL('../src/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'supervm-bench-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bench = (...args: string[]): string => execFileSync(process.execPath, [main, 'bench', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Tags balance (a stack, ignoring self-closing ones), attributes are quoted and text has no stray `<` or `&`. */
function checkXml(text: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    const between = text.slice(at, m.index);
    if (/[<>]/.test(between) || /&(?!(amp|lt|gt|quot|apos);)/.test(between)) problems.push(`bad text before offset ${m.index}: ${between.slice(0, 40)}`);
    at = m.index + m[0].length;
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}>`);
    } else stack.push(name!);
  }
  if (/[<>]/.test(text.slice(at))) problems.push('bad trailing text');
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}

describe('bench statistics', () => {
  test('nearest-rank median and p95 on known arrays', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.equal(median([7]), 7);
    assert.equal(p95(Array.from({ length: 100 }, (_, i) => 100 - i)), 95);
    assert.equal(p95(Array.from({ length: 20 }, (_, i) => i + 1)), 19);
    assert.equal(p95([3, 9, 1]), 9);
    assert.equal(quantile([10, 20, 30, 40], 0.25), 10);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  test('run plans fit the budget: all repeats, fewer, or a skip', () => {
    assert.deepEqual(planRuns(1, 5, 1000), { skip: false, warmup: 1, repeats: 5, reduced: false });
    assert.deepEqual(planRuns(100, 5, 450), { skip: false, warmup: 1, repeats: 3, reduced: true });
    assert.deepEqual(planRuns(100, 5, 150), { skip: false, warmup: 0, repeats: 1, reduced: true });
    assert.deepEqual(planRuns(100, 5, 50), { skip: true });
    // Short runs repeat until minSampleMs of timed work, at most 50 times, still within the budget.
    assert.deepEqual(planRuns(10, 5, 10_000, 200), { skip: false, warmup: 1, repeats: 20, reduced: false });
    assert.deepEqual(planRuns(0.01, 5, 10_000, 200), { skip: false, warmup: 1, repeats: 50, reduced: false });
    assert.deepEqual(planRuns(10, 5, 100, 200), { skip: false, warmup: 1, repeats: 9, reduced: false });
  });

  test('interleaved regret runs every case once a round, in rotated order, on a fake clock', async () => {
    let clock = 0;
    const order: string[] = [];
    // Each case advances the clock by its cost; auto alternates between the two devices' costs.
    const costs = { pool: 3, gpu: 1 };
    let autoRuns = 0;
    const fns = new Map(Object.entries(costs).map(([name, ms]) => [name, async () => { order.push(name); clock += ms; }] as const));
    const auto = async (): Promise<void> => {
      order.push('auto');
      clock += autoRuns++ % 3 === 0 ? costs.pool : costs.gpu;
    };
    let collected = 0;
    const r = await interleavedRegret(fns, auto, 6, () => collected++, () => clock);
    assert.equal(r.rounds, 6);
    assert.equal(collected, 18);
    // Six rounds are every order of the three cases once: within rounds, each case ran right after each other one twice.
    const rounds = Array.from({ length: 6 }, (_, k) => order.slice(3 * k, 3 * k + 3).join(','));
    assert.equal(new Set(rounds).size, 6, rounds.join(' | '));
    const after = new Map<string, number>();
    for (const round of rounds) {
      const [a, b, c] = round.split(',');
      for (const pair of [`${a}>${b}`, `${b}>${c}`]) after.set(pair, (after.get(pair) ?? 0) + 1);
    }
    assert.deepEqual([...after.values()], [2, 2, 2, 2, 2, 2]);
    assert.deepEqual(r.medianMs, { pool: 3, gpu: 1, auto: 1 });
    assert.equal(r.best, 'gpu');
    assert.equal(r.regret, 1);
    await assert.rejects(interleavedRegret(new Map(), auto, 3), RangeError);
    await assert.rejects(interleavedRegret(fns, auto, 0), RangeError);
    await assert.rejects(interleavedRegret(new Map([['auto', auto]]), auto, 3), /"auto" is the routed case/);
  });

  test('medians in turns: each case once a round, rotated, its own median', async () => {
    let clock = 0;
    const order: string[] = [];
    // One thread slows down from the third round on (a noisy neighbour): three of its five runs are slow.
    const cases = new Map([
      ['cpu-1t', async () => { order.push('cpu-1t'); clock += order.length > 4 ? 20 : 10; }],
      ['cpu-pool', async () => { order.push('cpu-pool'); clock += 1; }],
    ]);
    const medians = await mediansInTurns(cases, 5, undefined, () => clock);
    assert.deepEqual(order.slice(0, 4), ['cpu-1t', 'cpu-pool', 'cpu-pool', 'cpu-1t']);
    assert.deepEqual(medians, { 'cpu-1t': 20, 'cpu-pool': 1 });
    // Six cases: rotated, each once a round.
    const six = new Map(Array.from({ length: 6 }, (_, i) => [`c${i}`, async () => void order.push(`c${i}`)] as const));
    order.length = 0;
    await mediansInTurns(six, 2, undefined, () => clock);
    assert.deepEqual(order, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c1', 'c2', 'c3', 'c4', 'c5', 'c0']);
    await assert.rejects(mediansInTurns(new Map(), 3), /at least one case/);
    await assert.rejects(mediansInTurns(cases, 1.5), /rounds must be an integer/);
  });

  test('interleaved rounds fit the budget or are left out', () => {
    // Cheap rounds: as many as fit in ~2 s, at most 200; a 100 ms round keeps the base 25.
    assert.equal(regretRounds(1, 15_000), 200);
    assert.equal(regretRounds(20, 15_000), 100);
    assert.equal(regretRounds(100, 15_000), 25);
    assert.equal(regretRounds(1, 50), 50);
    assert.equal(regretRounds(1000, 15_000), 15);
    assert.equal(regretRounds(4000, 15_000), 0);
    assert.equal(regretRounds(0, 15_000), 0);
    assert.equal(regretRounds(Number.NaN, 15_000), 0);
  });

  test('sizes accept decimal and binary suffixes', () => {
    assert.deepEqual(parseSizes('1000,10k,1m,64ki,16mi'), [1000, 10_000, 1_000_000, 65_536, 1 << 24]);
    assert.throws(() => parseSizes('0'));
    assert.throws(() => parseSizes('1.5'));
    assert.throws(() => parseSizes('ten'));
  });
});

describe('supervm bench, a tiny real run', () => {
  const json = join(dir, 'a.json');
  const md = join(dir, 'a.md');
  const svg = join(dir, 'a.svg');
  let table = '';

  test('vector-add, --no-gpu: the JSON validates against the schema and has every CPU case', () => {
    table = bench('vector-add', '--sizes', '64,300', '--repeat', '1', '--no-gpu', '--json', json, '--markdown', md, '--chart', svg);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    assert.deepEqual(validateReport(report), []);
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.gpu.available, false);
    for (const size of [64, 300]) {
      const rows = new Map(report.rows.filter((r) => r.kernel === 'vector-add' && r.size === size).map((r) => [r.case, r]));
      for (const c of ['cpu-1t', 'cpu-pool', 'auto', 'js-loop']) {
        const row = rows.get(c);
        assert.ok(row, `${size} lacks ${c}`);
        assert.equal(row.device, 'cpu');
        assert.ok(row.medianMs! >= 0 && row.p95Ms! >= row.medianMs! && row.throughput! > 0 && row.speedup! > 0, `${c} has timings`);
        assert.equal(row.samples, 1);
        assert.equal(row.verified, true, `${c} output equals cpu-1t's`);
        assert.ok(row.bytesPerSecond! > 0);
      }
      assert.equal(rows.get('cpu-1t')!.speedup, 1);
      // Pool efficiency from the rows and from cpu-1t and cpu-pool run in turns.
      const efficiency = rows.get('cpu-pool')!.poolEfficiency!;
      assert.ok(efficiency.value > 0 && efficiency.threads >= 1 && efficiency.oneThreadSize === size, JSON.stringify(efficiency));
      const turns = efficiency.inTurns!;
      assert.ok(turns.rounds > 0 && turns.oneThreadMs > 0 && turns.poolMs > 0, JSON.stringify(turns));
      assert.equal(turns.value, turns.oneThreadMs / (turns.poolMs * efficiency.threads));
      assert.match(rows.get('cpu-pool')!.note!, /^\d+% of \d+ x cpu-1t \(\d+% in turns\)/);
      assert.equal(typeof rows.get('auto')!.regret, 'number');
      for (const c of ['gpu', 'co-exec']) {
        assert.equal(rows.get(c)?.device, 'none');
        assert.equal(rows.get(c)?.medianMs, null);
        assert.match(rows.get(c)!.note!, /^skipped/);
      }
    }
    assert.ok(report.machine.cores >= 1 && typeof report.machine.packages['tweetnacl'] === 'string');
    assert.match(table, /cpu-pool/);
    assert.match(table, /js-loop/);
  });

  test('vector-add with a GPU adapter: the GPU fixed costs come first, and validate', (t) => {
    const file = join(dir, 'gpu.json');
    const out = bench('vector-add', '--sizes', '64', '--repeat', '1', '--json', file);
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    assert.deepEqual(validateReport(report), []);
    if (!report.gpu.available) {
      assert.ok(process.env.SUPERVM_REQUIRE_GPU !== '1', `SUPERVM_REQUIRE_GPU=1 but no adapter: ${report.gpu.reason}`);
      assert.equal(report.gpuTransfers, undefined);
      t.diagnostic(`no GPU adapter (${report.gpu.reason}): only the absence of the section was checked`);
      return;
    }
    const g = report.gpuTransfers!;
    assert.ok(g.tinyRoundTripUs > 0);
    assert.ok(g.transfers.length >= 1 && g.transfers.every((x) => x.bytes > 0 && x.uploadGBps > 0 && x.downloadDmaGBps > 0));
    assert.ok(g.resident.length >= 1 && g.resident.every((x) => x.elements > 0 && x.dispatchUs > 0 && x.effectiveGBps > 0));
    assert.match(out, /^transfer +upload GB\/s/m);
    assert.match(out, /tiny batch round trip \(vector add of 16\) \d+ us/);
    // Co-execution: verified output, a share per batch, and a reading in turns with the GPU alone.
    const co = report.rows.find((r) => r.case === 'co-exec')!;
    assert.equal(co.verified, true);
    assert.ok(co.coexec!.gpuShare > 0 && co.coexec!.gpuShare < 1, JSON.stringify(co.coexec));
    assert.ok(co.coexec!.inTurns!.rounds > 0 && co.coexec!.inTurns!.gpuMs > 0 && co.coexec!.inTurns!.coexecMs > 0, JSON.stringify(co.coexec));
    const parts = co.coexec!.parts!;
    assert.ok(parts.batches >= co.samples && parts.cpuMs >= 0 && parts.gpuMs > 0 && parts.cpuLast <= parts.batches, JSON.stringify(parts));
    assert.match(co.note!, /gpu share [\d.]+%.* of cpu-pool \+ gpu throughput/);
    // A broken section is named by the schema check.
    assert.deepEqual(validateReport({ ...report, gpuTransfers: { ...g, tinyRoundTripUs: 'fast' } }), ['gpuTransfers.tinyRoundTripUs is not a number']);
  });

  test('sha256 and ed25519 with every peer, tiny and CPU-only', () => {
    const file = join(dir, 'peers.json');
    bench('sha256', 'ed25519', '--sizes', '48', '--repeat', '1', '--no-gpu', '--json', file);
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    assert.deepEqual(validateReport(report), []);
    const cases = (kernel: string): string[] => report.rows.filter((r) => r.kernel === kernel && r.medianMs !== null).map((r) => r.case);
    assert.deepEqual(cases('sha256'), ['cpu-1t', 'cpu-pool', 'auto', 'node:crypto', 'node:crypto-workers', 'hash-wasm', '@noble/hashes']);
    assert.deepEqual(cases('ed25519-verify'), ['cpu-1t', 'cpu-pool', 'auto', 'node:crypto', 'node:crypto-workers', '@noble/curves', 'tweetnacl']);
    for (const r of report.rows) if (r.medianMs !== null) assert.equal(r.verified, true, `${r.kernel} ${r.case} output equals cpu-1t's`);
  });

  test('--compare of two reports prints a ratio per row', () => {
    const b = join(dir, 'b.json');
    bench('vector-add', '--sizes', '64', '--repeat', '1', '--no-gpu', '--json', b);
    const out = bench('--compare', json, b);
    assert.match(out, /a vs b|b vs a/);
    assert.match(out, /vector-add\s+64\s+cpu-1t\s+\S+\s+\S+\s+.*\d+\.\d\dx/);
    assert.match(out, /vector-add\s+300\s+cpu-1t\s+\S+\s+absent/);
    const self = compareReports(JSON.parse(readFileSync(json, 'utf8')) as BenchReport, JSON.parse(readFileSync(json, 'utf8')) as BenchReport);
    assert.match(self, /vector-add\s+300\s+cpu-pool\s+\S+\s+\S+\s+\S+ \S+\s+\S+ \S+\s+1\.00x/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ schemaVersion: 2, rows: [] }));
    assert.throws(() => bench('--compare', json, join(dir, 'bad.json')), /not a supervm bench report/);
  });

  test('markdown has the seed table and every row; the SVG is well-formed', () => {
    const text = readFileSync(md, 'utf8');
    assert.match(text, /### The seed's table, measured/);
    assert.match(text, /\| cpu-1t \| cpu \|/);
    assert.match(text, /### vector-add, 300 items/);
    const chart = readFileSync(svg, 'utf8');
    assert.match(chart, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.deepEqual(checkXml(chart), []);
    assert.ok((chart.match(/<rect /g) ?? []).length >= 8 + 4 + 1, 'a bar per measured row, legend and background');
  });

  test('writers cope with a report holding the seed sizes, GPU rows and awkward text', () => {
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    report.gpu = { available: true, summary: 'ACME <GPU> & "friends"', backend: 'webgpu:vulkan', vendor: 'acme', architecture: '', device: '', description: '', software: false, featureLevel: 'core', timestampQuery: true };
    report.rows = [
      ...['cpu-1t', 'cpu-pool', 'gpu', 'auto', 'co-exec', 'js-loop'].map((c, i) => ({
        kernel: 'vector-add',
        size: 1 << 20,
        case: c,
        device: (c === 'gpu' ? 'gpu' : c === 'co-exec' ? 'mixed' : 'cpu') as 'cpu',
        medianMs: 1 + i,
        p95Ms: 2 + i,
        samples: 3,
        throughput: (1 << 20) / ((1 + i) / 1000),
        speedup: 1 / (1 + i),
        ...(c === 'gpu' ? { gpuTimings: { uploadMs: 0.5, computeMs: 0.2, downloadMs: 0.3, bytesUploaded: 8 << 20, bytesDownloaded: 4 << 20, source: 'timestamp' as const, chunks: 1 } } : {}),
        note: 'a | pipe <and> & ampersand',
      })),
      { kernel: 'ed25519-verify', size: 65_536, case: 'tweetnacl', device: 'none', medianMs: null, p95Ms: null, samples: 0, throughput: null, speedup: null, note: 'skipped: over budget (about 530 s a run)' },
    ];
    assert.deepEqual(validateReport(report), []);
    const text = markdown(report);
    assert.match(text, /\| vector add, 1M f32 \| 5 ms \| 1.2 ms \| 0.8 ms \| 1.00 ms \| 2.00 ms \| 3.00 ms \|/);
    assert.match(text, /a \\\| pipe/);
    assert.match(text, /### GPU time split/);
    assert.deepEqual(checkXml(svgChart(report)), []);
  });

  test('usage errors are one line and exit 1: unknown kernel, --gpu without an adapter', () => {
    const fail = (env: NodeJS.ProcessEnv, ...args: string[]): string => {
      try {
        execFileSync(process.execPath, [main, 'bench', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      } catch (err) {
        const e = err as { status: number; stderr: string };
        assert.equal(e.status, 1);
        return e.stderr;
      }
      return assert.fail('expected a failure');
    };
    assert.match(fail({}, 'sha512', '--sizes', '8'), /error: unknown kernel "sha512"/);
    const noGpu = fail({ SUPERVM_GPU: '0' }, 'vadd', '--gpu', '--sizes', '8', '--repeat', '1');
    assert.match(noGpu, /--gpu: no GPU adapter/);
    assert.doesNotMatch(noGpu, /\n\s+at /, 'no stack trace');
  });

  test('the validator names what is wrong', () => {
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    const broken = { ...report, rows: [{ ...report.rows[0]!, medianMs: 'fast', device: 'tpu' }, { ...report.rows[0]!, samples: 0, note: undefined, medianMs: null }] };
    const problems = validateReport(broken);
    assert.ok(problems.some((p) => p.includes('rows[0].medianMs')));
    assert.ok(problems.some((p) => p.includes('rows[0].device')));
    assert.ok(problems.some((p) => p.includes('rows[1] is skipped without a note')));
    assert.deepEqual(validateReport(null), ['not an object']);
  });
});
