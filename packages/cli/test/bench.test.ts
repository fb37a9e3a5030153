import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compareReports, markdown, svgChart } from '../src/bench/report.js';
import { validateReport, type BenchReport } from '../src/bench/schema.js';
import { median, p95, quantile } from '../src/bench/stats.js';

const main = new URL('../src/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'supervm-bench-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('bench statistics', () => {
  test('nearest-rank median and p95', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.equal(p95(Array.from({ length: 100 }, (_, i) => i + 1)), 95);
    assert.equal(p95([7]), 7);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });
});

describe('supervm bench, a tiny real run', () => {
  const json = join(dir, 'a.json');
  const md = join(dir, 'a.md');
  const svg = join(dir, 'a.svg');
  const run = (): string =>
    execFileSync(process.execPath, [main, 'bench', 'vector-add', 'sha256', '--sizes', '64,300', '--repeat', '1', '--no-gpu', '--json', json, '--markdown', md, '--chart', svg], { encoding: 'utf8' });

  test('writes a report that matches the documented schema, with every CPU case and peer', () => {
    const table = run();
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    assert.deepEqual(validateReport(report), []);
    for (const kernel of ['vector-add', 'sha256']) {
      for (const size of [64, 300]) {
        const cases = report.rows.filter((r) => r.kernel === kernel && r.size === size).map((r) => r.case);
        for (const c of ['cpu-1t', 'cpu-pool', 'gpu', 'auto']) assert.ok(cases.includes(c), `${kernel} ${size} lacks ${c}`);
      }
    }
    assert.ok(report.rows.some((r) => r.case === 'node:crypto'));
    assert.ok(report.rows.filter((r) => r.case === 'auto').every((r) => typeof r.regret === 'number'));
    assert.match(table, /cpu-pool/);
  });

  test('markdown has the seed table and every row; the SVG is balanced XML', () => {
    const text = readFileSync(md, 'utf8');
    assert.match(text, /### The seed's table, measured/);
    assert.match(text, /\| sha256 \| 300 \| cpu-1t \|/);
    const chart = readFileSync(svg, 'utf8');
    assert.match(chart, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const open = (chart.match(/<(text|svg)[\s>]/g) ?? []).length;
    const close = (chart.match(/<\/(text|svg)>/g) ?? []).length;
    assert.equal(open, close);
    assert.equal((chart.match(/<rect /g) ?? []).length, (chart.match(/\/>/g) ?? []).length);
  });

  test('--compare prints a ratio per matching row; a file that is not a report is refused', () => {
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    const text = compareReports(report, report);
    assert.match(text, /sha256\s+300\s+cpu-1t\s+\S+\s+\S+\s+1\.00x/);
    const out = execFileSync(process.execPath, [main, 'bench', '--compare', json, json], { encoding: 'utf8' });
    assert.match(out, /b\/a/);
    assert.throws(() => execFileSync(process.execPath, [main, 'bench', '--compare', json, md], { encoding: 'utf8', stdio: 'pipe' }));
    assert.ok(markdown(report).length > 0 && svgChart(report).length > 0);
  });
});
