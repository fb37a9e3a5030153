import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CostModelStrategy } from '../src/scheduler/cost-model-strategy.js';
import { SplitSpread, probit } from '../src/scheduler/split-hedge.js';
import type { DeviceKind } from '../src/types.js';

describe('probit (inverse standard normal CDF)', () => {
  test('matches the standard normal quantiles', () => {
    // Quantiles of N(0, 1), to 6 decimals as printed in standard normal tables.
    const table: [number, number][] = [
      [0.5, 0],
      [0.9, 1.281552],
      [0.975, 1.959964],
      [0.99, 2.326348],
      [0.999, 3.090232],
      [0.01, -2.326348],
      [0.001, -3.090232],
    ];
    for (const [p, z] of table) assert.ok(Math.abs(probit(p) - z) < 1e-6, `probit(${p}) = ${probit(p)}, want ${z}`);
  });

  test('is odd about 1/2 and increasing', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-9, max: 0.5, noNaN: true }), fc.double({ min: 1e-9, max: 0.5, noNaN: true }), (p, q) => {
        assert.ok(Math.abs(probit(p) + probit(1 - p)) < 1e-6 * Math.max(1, Math.abs(probit(p))));
        if (p < q) assert.ok(probit(p) <= probit(q));
      }),
    );
  });

  test('rejects p outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, 1.5, Number.NaN]) assert.throws(() => probit(p), RangeError);
  });
});

describe('SplitSpread', () => {
  test('restored from its values (as saved), a spread has the same sigma and goes on the same', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0.5, max: 4, noNaN: true }), fc.double({ min: 0.5, max: 4, noNaN: true })), { maxLength: 40 }), (ratios) => {
        const spread = new SplitSpread();
        for (const [c, g] of ratios) spread.add(c, g);
        const restored = SplitSpread.restore(spread.values());
        assert.equal(restored.sigma, spread.sigma);
        assert.deepEqual(restored.values(), spread.values());
        spread.add(3, 1);
        restored.add(3, 1);
        assert.equal(restored.sigma, spread.sigma);
      }),
    );
  });

  test('no spread before six splits; parts that agree every time have none', () => {
    const spread = new SplitSpread();
    for (let i = 0; i < 5; i++) spread.add(2, 1);
    assert.equal(spread.sigma, undefined);
    assert.equal(spread.cpuFactor(0.02), 1);
    spread.add(2, 1);
    assert.equal(spread.sigma, 0);
    assert.equal(spread.cpuFactor(0.02), 1);
  });

  test('sigma is the MAD of ln(cpu / gpu) scaled to a standard deviation; one stall does not widen it', () => {
    const spread = new SplitSpread();
    // ln ratios -0.1, 0, 0.1 twice, and one stalled CPU part at 16x.
    for (const r of [Math.exp(-0.1), 1, Math.exp(0.1), Math.exp(-0.1), 1, Math.exp(0.1), 16]) spread.add(r, 1);
    // Deviations from the median 0: 0.1 x4, 0 x2, ln 16: their median is 0.1.
    assert.ok(Math.abs(spread.sigma! - 0.1 * 1.482602218505602) < 1e-12, String(spread.sigma));
  });

  test('the slower device gets the smaller part: factor above 1 when the CPU is slower, 1 at equal devices, below 1 when faster', () => {
    const spread = new SplitSpread();
    for (const r of [0.9, 1, 1.1, 0.9, 1, 1.1]) spread.add(r, 1);
    const sigma = spread.sigma!;
    assert.ok(Math.abs(spread.cpuFactor(0.02) - Math.exp(probit(0.98) * sigma)) < 1e-12);
    assert.equal(spread.cpuFactor(0.5), 1);
    assert.ok(spread.cpuFactor(0.98) < 1);
    assert.ok(Math.abs(spread.cpuFactor(0.02) * spread.cpuFactor(0.98) - 1) < 1e-9);
    // Past three standard deviations the normal tail is not trusted.
    assert.ok(Math.abs(spread.cpuFactor(1e-9) - Math.exp(3 * sigma)) < 1e-12);
  });

  test('ignores ratios that are not positive finite numbers', () => {
    const spread = new SplitSpread();
    for (const r of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) for (let i = 0; i < 6; i++) spread.add(r, 1);
    assert.equal(spread.sigma, undefined);
  });
});

describe('co-execution with a slow, noisy CPU part (the H100 Ed25519 64K shape)', () => {
  // GPU 60x the CPU's rate, linear models. The CPU part's time scatters lognormally (sigma 0.1) around its
  // model, the GPU part's a little (0.02). The split is the cost model's (`splitFor`, as the bench's co-exec row).
  const gpuMs = (w: number): number => 0.2 + w / 6000;
  const cpuMs = (w: number): number => 0.3 + w / 100;
  function seeded(seed: number): () => number {
    let s = seed >>> 0;
    return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  }

  function run(batches: number, hedged: boolean): { cpuLast: number; meanMs: number; gpuShare: number } {
    const strategy = new CostModelStrategy('k', { refreshEvery: 0 });
    for (let w = 256; w <= 1 << 17; w *= 2) {
      strategy.observe({ kernel: 'k', device: 'cpu', items: w, work: w, durationMs: cpuMs(w) });
      strategy.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: gpuMs(w) });
    }
    const random = seeded(11);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const ctx = { kernel: 'k', items: 65_536, work: 65_536, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    let cpuLast = 0;
    let total = 0;
    let gpuShare = 0;
    for (let i = 0; i < batches; i++) {
      const split = strategy.splitFor(ctx)!;
      gpuShare = split.gpuShare;
      const cpuWork = Math.round((1 - gpuShare) * ctx.work);
      const gpuWork = ctx.work - cpuWork;
      const parts = {
        cpu: { items: cpuWork, work: cpuWork, durationMs: cpuMs(cpuWork) * Math.exp(0.1 * gauss()) },
        gpu: { items: gpuWork, work: gpuWork, durationMs: gpuMs(gpuWork) * Math.exp(0.02 * gauss()) },
      };
      const durationMs = Math.max(parts.cpu.durationMs, parts.gpu.durationMs);
      // The baseline reports the whole batch only: no parts, so no spread (and no part factors), equal finish throughout.
      strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare, durationMs, ...(hedged ? { parts } : {}) });
      if (i >= 20) {
        if (parts.cpu.durationMs > parts.gpu.durationMs) cpuLast++;
        total += durationMs;
      }
    }
    return { cpuLast, meanMs: total / (batches - 20), gpuShare };
  }

  test('the CPU part ends last about as often as its share of throughput, and batches end sooner than at equal finish', () => {
    const batches = 420;
    const hedged = run(batches, true);
    const equal = run(batches, false);
    // CPU share of throughput ~1.6 %: of 400 batches, ~7 would end on the CPU with exact part factors (the
    // factors, medians of three noisy ratios, wobble too: 20-27 in seeds 11-13); at equal finish, ~half.
    assert.ok(hedged.cpuLast <= 40, `hedged: cpu part last in ${hedged.cpuLast} of 400`);
    assert.ok(equal.cpuLast >= 150, `equal finish: cpu part last in ${equal.cpuLast} of 400`);
    assert.ok(hedged.gpuShare > equal.gpuShare, `gpu share ${hedged.gpuShare} against ${equal.gpuShare}`);
    // Hedged, the split beats the GPU alone (these simulated devices do not slow each other); at equal finish
    // the late CPU parts cost more than the CPU adds.
    assert.ok(hedged.meanMs < gpuMs(65_536), `mean ${hedged.meanMs} ms against ${gpuMs(65_536)} for the gpu alone`);
    assert.ok(equal.meanMs > gpuMs(65_536), `mean ${equal.meanMs} ms at equal finish against ${gpuMs(65_536)} for the gpu alone`);
  });
});

describe('the hedge in the cost model', () => {
  test('weighs the devices by their time per unit of work at the cut: a fixed cost is paid either way', () => {
    // CPU 10 us per unit; GPU 1 us per unit plus a 50 ms fixed cost. At the margin the CPU holds ~1/11 of the
    // throughput; by the whole batch's times (1,000 against 150 ms) it would be 0.13.
    const cpuMs = (w: number): number => w / 100;
    const gpuMs = (w: number): number => 50 + w / 1000;
    const strategy = new CostModelStrategy('k', { refreshEvery: 0 });
    for (let w = 256; w <= 1 << 20; w *= 2) {
      strategy.observe({ kernel: 'k', device: 'cpu', items: w, work: w, durationMs: cpuMs(w) });
      strategy.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: gpuMs(w) });
    }
    const ctx = { kernel: 'k', items: 100_000, work: 100_000, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    // Six splits whose CPU parts scatter (ratios 1, 1.1, 1.2: none quicker than its model, which would
    // be stored as a sample of the CPU), GPU parts on time.
    for (const r of [1, 1.1, 1.2, 1, 1.1, 1.2]) {
      const { gpuShare } = strategy.splitFor(ctx)!;
      const cpuWork = Math.round((1 - gpuShare) * ctx.work);
      const parts = { cpu: { items: cpuWork, work: cpuWork, durationMs: r * cpuMs(cpuWork) }, gpu: { items: ctx.work - cpuWork, work: ctx.work - cpuWork, durationMs: gpuMs(ctx.work - cpuWork) } };
      strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare, durationMs: Math.max(parts.cpu.durationMs, parts.gpu.durationMs), parts });
    }
    const { cpu, gpu, sigma } = strategy.splitFactors;
    assert.ok(sigma !== undefined && sigma > 0, String(sigma));
    const { gpuShare } = strategy.splitFor(ctx)!;
    const at = (device: DeviceKind, w: number): number => strategy.predict(device, w)! * (device === 'cpu' ? cpu : gpu);
    // The GPU part's time over the CPU part's: the factor the CPU's curve was hedged by.
    const hedge = at('gpu', gpuShare * ctx.work) / at('cpu', (1 - gpuShare) * ctx.work);
    // Per unit at the margin, each device as its parts ran (the CPU's at 1.1x its model after these splits).
    const cpuUnit = cpu / 100;
    const gpuUnit = gpu / 1000;
    const want = Math.exp(probit(1 - gpuUnit / (cpuUnit + gpuUnit)) * sigma);
    assert.ok(Math.abs(hedge - want) < 1e-3 * want, `hedged by ${hedge}, want ${want} (by whole-batch times it would be ${Math.exp(probit(1 - gpuMs(1e5) / (gpuMs(1e5) + cpuMs(1e5))) * sigma)})`);
  });
});
