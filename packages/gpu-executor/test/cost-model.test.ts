import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { kernel as vectorAdd } from '../src/kernels/vector-add/index.js';
import { Runtime } from '../src/runtime.js';
import { crossover, fitPowerModel, marginal, predict, type PowerModel } from '../src/scheduler/cost-fit.js';
import { CostModelStrategy, splitShare, type CostModelStrategyOptions } from '../src/scheduler/cost-model-strategy.js';
import { ModelStore, defaultModelPath, machineFingerprint } from '../src/scheduler/model-store.js';
import type { RoutingContext } from '../src/scheduler/strategy.js';
import type { DeviceKind } from '../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'supervm-cost-model-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A CPU that is cheap to start and slow per unit, a GPU with a fixed 1.5 ms cost and fast per unit. */
const CPU: PowerModel = { a: 0.0002, b: 1, c: 0.03 };
const GPU: PowerModel = { a: 0.00006, b: 0.95, c: 1.5 };
const truth = (device: DeviceKind, work: number): number => predict(device === 'cpu' ? CPU : GPU, work);

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ctx(work: number, queued = { cpu: 0, gpu: 0 }): RoutingContext {
  return { kernel: 'k', items: work, work, gpuAvailable: true, queued };
}

/** A strategy whose models were fed samples of the true functions over 2^4 .. 2^20. */
function trained(options: ConstructorParameters<typeof CostModelStrategy>[1] = {}): CostModelStrategy {
  const s = new CostModelStrategy({ name: 'k', cost: { cpuNsPerItem: 1, gpuBytesPerItem: 4, gpuThreshold: 1 << 12 } }, { refreshEvery: 0, ...options });
  for (let e = 4; e <= 20; e += 2) {
    for (const device of ['cpu', 'gpu'] as const) s.observe({ kernel: 'k', device, items: 1 << e, work: 1 << e, durationMs: truth(device, 1 << e) });
  }
  return s;
}

/** Five samples in every other power-of-two bucket from 2^10 to 2^24: the CPU 1.5e-6 ms, the GPU 1e-6 ms a work unit. */
function fillBuckets(s: CostModelStrategy): void {
  for (let e = 10; e <= 24; e += 2) {
    for (let k = 0; k < 5; k++) {
      s.observe({ kernel: 'k', device: 'cpu', items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * 1.5e-6 });
      s.observe({ kernel: 'k', device: 'gpu', items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * 1e-6 });
    }
  }
}

/** One batch per device at 2^8, 2^10, ..., 2^16 units of work, each taking `msPerUnit` ms a unit. */
function observeEverySize(s: CostModelStrategy, msPerUnit: Record<DeviceKind, number>): void {
  for (let e = 8; e <= 16; e += 2) {
    for (const device of ['cpu', 'gpu'] as const) s.observe({ kernel: 'k', device, items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * msPerUnit[device] });
  }
}

/**
 * Batches `from`..`to` of 2^12 units, each decided by `s` and observed at `msPerUnit(device, i)`
 * ms a unit; returns `i:device:reason` (the reason up to its colon) per batch.
 */
function routeBatches(s: CostModelStrategy, from: number, to: number, msPerUnit: (device: DeviceKind, i: number) => number): string[] {
  const w = 2 ** 12;
  const at = { kernel: 'k', items: w, work: w, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
  const routes: string[] = [];
  for (let i = from; i <= to; i++) {
    const d = s.decide(at);
    assert.notEqual(d.device, 'split');
    const device = d.device as DeviceKind;
    routes.push(`${i}:${device}:${d.reason.split(':')[0]}`);
    s.observe({ kernel: 'k', device, items: w, work: w, durationMs: w * msPerUnit(device, i) });
  }
  return routes;
}

describe('the power-law fit', () => {
  test('marginal is the slope of predict, without the fixed cost', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 10, noNaN: true }), fc.double({ min: 0.25, max: 1.25, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 10, max: 1 << 24 }), (a, b, c, w) => {
        const model = { a, b, c };
        // Central difference of the curve without its fixed cost (a large c would drown the step in rounding).
        const h = w * 1e-4;
        const curve = { a, b, c: 0 };
        const slope = (predict(curve, w + h) - predict(curve, w - h)) / (2 * h);
        assert.ok(Math.abs(marginal(model, w) - slope) <= 1e-6 * slope, `${marginal(model, w)} against ${slope}`);
        assert.equal(marginal(model, w), marginal(curve, w));
      }),
    );
    assert.equal(marginal({ a: 2, b: 1, c: 5 }, 1000), 2);
  });

  test('recovers a, b and c from exact samples', () => {
    const model = { a: 0.002, b: 0.9, c: 0.5 };
    const fit = fitPowerModel([8, 64, 512, 4096, 32768, 262144].map((w) => ({ work: w, ms: predict(model, w) })))!;
    assert.ok(Math.abs(fit.b - 0.9) < 0.01, `b ${fit.b}`);
    assert.ok(Math.abs(fit.a / 0.002 - 1) < 0.05, `a ${fit.a}`);
    assert.ok(Math.abs(fit.c - 0.5) < 0.01, `c ${fit.c}`);
    assert.ok(fit.rmsRelError < 1e-3);
  });

  test('predicts within 10 % under 5 % noise, and one wild outlier is dropped', () => {
    const r = rng(7);
    const samples = [];
    for (let e = 3; e <= 20; e++) for (let k = 0; k < 3; k++) samples.push({ work: 2 ** e, ms: truth('gpu', 2 ** e) * (0.95 + 0.1 * r()) });
    samples.push({ work: 2 ** 10, ms: 500 }); // a first batch that compiled a pipeline
    const fit = fitPowerModel(samples)!;
    for (const w of [10, 1000, 100_000, 1_000_000]) {
      const err = Math.abs(predict(fit, w) / truth('gpu', w) - 1);
      assert.ok(err < 0.1, `work ${w}: ${predict(fit, w)} vs ${truth('gpu', w)}`);
    }
  });

  test('no fit from fewer than two samples; bad numbers ignored', () => {
    assert.equal(fitPowerModel([]), undefined);
    assert.equal(fitPowerModel([{ work: 10, ms: 1 }, { work: NaN, ms: 1 }]), undefined);
  });
});

describe('CostModelStrategy decisions', () => {
  test('finds the crossover and routes either side of it', () => {
    const s = trained({ splitGain: 0.01 });
    const cpu = s.model('cpu')!;
    const gpu = s.model('gpu')!;
    const expected = crossover(CPU, GPU)!;
    const found = crossover(cpu, gpu)!;
    assert.ok(Math.abs(found / expected - 1) < 0.05, `crossover ${found} vs ${expected}`);
    assert.equal(s.decide(ctx(Math.round(expected / 2))).device, 'cpu');
    assert.equal(s.decide(ctx(Math.round(expected * 2))).device, 'gpu');
  });

  test('picks the earliest predicted finish, counting queued work', () => {
    const s = trained({ splitGain: 0.01 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 0, max: 4_000_000 }), fc.integer({ min: 0, max: 4_000_000 }), (work, qc, qg) => {
        const finish = (d: DeviceKind, q: number): number => (q > 0 ? s.predict(d, q)! : 0) + s.predict(d, work)!;
        const fc_ = finish('cpu', qc);
        const fg = finish('gpu', qg);
        const { device } = s.decide(ctx(work, { cpu: qc, gpu: qg }));
        assert.equal(device, fg < fc_ ? 'gpu' : 'cpu');
      }),
      { numRuns: 300 },
    );
  });

  test('queued work shifts the choice to the idle device', () => {
    const s = trained({ splitGain: 0.01 });
    const w = 50_000;
    assert.equal(s.decide(ctx(w)).device, 'gpu');
    assert.equal(s.decide(ctx(w, { cpu: 0, gpu: 3_000_000 })).device, 'cpu');
    assert.equal(s.decide(ctx(100)).device, 'cpu');
    assert.equal(s.decide(ctx(100, { cpu: 5_000_000, gpu: 0 })).device, 'gpu');
  });

  test('a split gives a share at which both devices finish together', () => {
    const s = trained();
    const cpu = s.model('cpu')!;
    const gpu = s.model('gpu')!;
    const w = 2_000_000;
    const d = s.decide(ctx(w));
    assert.equal(d.device, 'split');
    assert.ok(d.device === 'split');
    const tc = predict(cpu, (1 - d.gpuShare) * w);
    const tg = predict(gpu, d.gpuShare * w);
    assert.ok(Math.abs(tc - tg) / Math.max(tc, tg) < 1e-6, `cpu part ${tc} ms, gpu part ${tg} ms`);
    assert.ok(Math.max(tc, tg) < 0.9 * Math.min(predict(cpu, w), predict(gpu, w)));
    // With no fixed costs and linear models, the share is exactly the throughput share.
    const lin = splitShare({ a: 2, b: 1, c: 0 }, { a: 1, b: 1, c: 0 }, 900)!;
    assert.ok(Math.abs(lin.gpuShare - 2 / 3) < 1e-9 && Math.abs(lin.throughputShare - 2 / 3) < 1e-9);
    // Queues move the share: a busy GPU takes less.
    const busy = splitShare(cpu, gpu, w, 0, 20)!;
    const idle = splitShare(cpu, gpu, w)!;
    assert.ok(busy.gpuShare < idle.gpuShare);
  });

  test('small batches are never split: the split must beat the best device by 10 %', () => {
    const s = trained();
    for (const w of [16, 256, 2048]) assert.notEqual(s.decide(ctx(w)).device, 'split');
  });

  for (const [mode, options] of [
    ['single devices only', { splitGain: 0.01 }],
    ['with co-execution', {}],
  ] as const) {
    test(`routing regret on a synthetic sweep stays within 1.10 after warm-up (${mode})`, () => {
      const s = new CostModelStrategy({ name: 'k', cost: { cpuNsPerItem: 1, gpuBytesPerItem: 4, gpuThreshold: 1 << 12 } }, options);
      const r = rng(42);
      let chosen = 0;
      let oracle = 0;
      let explored = 0;
      let splits = 0;
      for (let i = 0; i < 600; i++) {
        const work = Math.round(10 * Math.pow(10, 5 * r())); // 10 .. 1e6, log-uniform
        const d = s.decide(ctx(work));
        let actual: number;
        if (d.device === 'split') {
          splits++;
          const gpuItems = work - Math.min(work, Math.max(0, Math.round(work * (1 - d.gpuShare))));
          actual = Math.max(truth('cpu', work - gpuItems), truth('gpu', gpuItems));
        } else {
          actual = truth(d.device, work) * (0.97 + 0.06 * r());
          s.observe({ kernel: 'k', device: d.device, items: work, work, durationMs: actual });
        }
        if (d.reason.startsWith('explore')) explored++;
        if (i >= 100) {
          chosen += actual;
          // The oracle knows the true functions and picks the faster single device.
          oracle += Math.min(truth('cpu', work), truth('gpu', work));
        }
      }
      assert.ok(explored > 0 && explored < 30, `explored ${explored}`);
      assert.ok(chosen / oracle <= 1.1, `regret ${(chosen / oracle).toFixed(3)}`);
      if (mode === 'with co-execution') assert.ok(splits > 0 && chosen / oracle < 1, `splits ${splits} beat the best single device: ${(chosen / oracle).toFixed(3)}`);
      else assert.equal(splits, 0);
    });
  }

  test('before its models are trusted: explores an untried device, else the hint decides', () => {
    const s = new CostModelStrategy({ name: 'k', cost: { cpuNsPerItem: 1, gpuBytesPerItem: 4, gpuThreshold: 1600 } });
    // Below minExploreItems (1600 / 16 = 100): the hint.
    assert.deepEqual(s.decide(ctx(50)).device, 'cpu');
    assert.match(s.decide(ctx(50)).reason, /prior/);
    assert.equal(s.decide(ctx(5000)).device, 'gpu');
    // Above it, a device without a sample of that size is tried first: the GPU (fewer samples), then the CPU.
    const first = s.decide(ctx(200));
    assert.equal(first.device, 'gpu');
    assert.match(first.reason, /explore/);
    s.observe({ kernel: 'k', device: 'gpu', items: 200, work: 200, durationMs: 2 });
    assert.equal(s.decide(ctx(200)).device, 'cpu');
    s.observe({ kernel: 'k', device: 'cpu', items: 200, work: 200, durationMs: 0.2 });
    // Both measured at this size: the nearest samples decide.
    const near = s.decide(ctx(220));
    assert.equal(near.device, 'cpu');
    assert.match(near.reason, /nearest/);
    // No GPU: always the CPU.
    assert.equal(s.decide({ ...ctx(1e6), gpuAvailable: false }).device, 'cpu');
  });
});

describe('the model store', () => {
  test('a full model is refitted once new samples match its samples, not after every batch', () => {
    const store = new ModelStore({ path: false, samplesPerBucket: 8 });
    // 8 buckets x 8 samples = 64, all on time(w) = 1e-4 w.
    for (let b = 0; b < 8; b++) for (let k = 0; k < 8; k++) store.observe('k', 'cpu', 2 ** (8 + b) + k, (2 ** (8 + b) + k) * 1e-4);
    const before = store.model('k', 'cpu');
    assert.ok(before !== undefined);
    // New batches 1.5x slower (within the miss ratio): 63 do not trigger a refit, the 64th does.
    for (let i = 0; i < 63; i++) store.observe('k', 'cpu', 4096, 4096 * 1.5e-4);
    assert.equal(store.model('k', 'cpu'), before);
    store.observe('k', 'cpu', 4096, 4096 * 1.5e-4);
    const after = store.model('k', 'cpu');
    assert.notEqual(after, before);
    assert.ok(predict(after!, 4096) > predict(before, 4096));
  });

  test('a new bucket far off the curve corrects itself at once; two misses in a row in a known bucket refit', () => {
    const store = new ModelStore({ path: false, samplesPerBucket: 8 });
    for (let b = 0; b < 8; b++) for (let k = 0; k < 8; k++) store.observe('k', 'cpu', 2 ** (8 + b) + k, (2 ** (8 + b) + k) * 1e-4);
    const before = store.model('k', 'cpu')!;
    // 4x slower at 2^20 (outside the samples): its bucket's correction takes it from the first batch.
    const w = 2 ** 20;
    assert.ok(Math.abs(store.predict('k', 'cpu', w)! / (w * 1e-4) - 1) < 0.01);
    store.observe('k', 'cpu', w, w * 4e-4);
    assert.ok(Math.abs(store.predict('k', 'cpu', w)! / (w * 4e-4) - 1) < 0.05, `${store.predict('k', 'cpu', w)}`);
    assert.equal(store.model('k', 'cpu'), before);
    // 4x slower at 2^12, a bucket of on-time samples: the first could be a hiccup, the second refits.
    const known = 2 ** 12;
    store.observe('k', 'cpu', known, known * 4e-4);
    assert.equal(store.model('k', 'cpu'), before);
    store.observe('k', 'cpu', known, known * 4e-4);
    assert.notEqual(store.model('k', 'cpu'), before);
    assert.ok(Math.abs(store.predict('k', 'cpu', w)! / (w * 4e-4) - 1) < 0.05, `${store.predict('k', 'cpu', w)}`);
    // Elsewhere the model is untouched by that bucket.
    assert.ok(Math.abs(store.predict('k', 'cpu', 2 ** 14)! / (2 ** 14 * 1e-4) - 1) < 0.05);
  });

  test('far past its samples, a device predicted within 4x of the best runs once, then its real time decides', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0, minSplitItems: 2 ** 30 });
    // Samples up to 2^16: the CPU's curve says 2x the GPU's, the GPU's 10x its own at the end.
    observeEverySize(s, { cpu: 2e-5, gpu: 1e-5 });
    const at = (e: number) => ({ kernel: 'k', items: 2 ** e, work: 2 ** e, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } });
    const first = s.decide(at(22));
    assert.equal(first.device, 'cpu');
    assert.match(first.reason, /explore/);
    // At 2^22 the CPU really takes a quarter of its curve: from now on it wins there.
    s.observe({ kernel: 'k', device: 'cpu', items: 2 ** 22, work: 2 ** 22, durationMs: 2 ** 22 * 0.5e-5 });
    s.observe({ kernel: 'k', device: 'gpu', items: 2 ** 22, work: 2 ** 22, durationMs: 2 ** 22 * 1e-5 });
    assert.equal(s.decide(at(22)).device, 'cpu');
    // Within the sampled range nothing is explored, and a device predicted more than 4x slower never is.
    assert.match(s.decide(at(14)).reason, /earliest finish/);
    const slow = new CostModelStrategy('k', { store: new ModelStore({ path: false }), refreshEvery: 0, minSplitItems: 2 ** 30 });
    for (let e = 8; e <= 16; e += 2) {
      slow.observe({ kernel: 'k', device: 'cpu', items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * 1e-4 });
      slow.observe({ kernel: 'k', device: 'gpu', items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * 1e-5 });
    }
    assert.equal(slow.decide(at(22)).device, 'gpu');
  });

  test('the cost model routes away from a device that turned out slow at one size', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0, minSplitItems: 2 ** 30 });
    // GPU models say 2x faster than the CPU everywhere...
    for (let e = 10; e <= 24; e += 2) {
      s.observe({ kernel: 'k', device: 'cpu', items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * 2e-6 });
      s.observe({ kernel: 'k', device: 'gpu', items: 2 ** e, work: 2 ** e, durationMs: 2 ** e * 1e-6 });
    }
    const ctx = { kernel: 'k', items: 2 ** 24, work: 2 ** 24, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    assert.equal(s.decide(ctx).device, 'gpu');
    // ...but at 16M the GPU takes 4x the CPU's time, twice in a row: the next batch of that size goes to the CPU.
    for (let i = 0; i < 2; i++) s.observe({ kernel: 'k', device: 'gpu', items: 2 ** 24, work: 2 ** 24, durationMs: 2 ** 24 * 8e-6 });
    assert.equal(s.decide(ctx).device, 'cpu');
    assert.equal(s.decide({ ...ctx, items: 2 ** 14, work: 2 ** 14 }).device, 'gpu');
  });

  test('a decision reused across batches of one size follows a drift that refits nothing as soon as without the reuse', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0, minSplitItems: 2 ** 30 });
    // Full buckets (5 samples each): the curve is not refitted again within the next 40 samples.
    fillBuckets(s);
    const w = 2 ** 20;
    const ctx = { kernel: 'k', items: w, work: w, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    assert.equal(s.decide(ctx).device, 'gpu');
    const fit = store.model('k', 'gpu');
    // Each GPU batch now takes 1.9x its prediction: under the miss ratio, so no refit, but the bucket's
    // correction makes the GPU slower than the CPU from its second sample.
    const devices: string[] = [];
    for (let i = 0; i < 6; i++) {
      s.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w * 1.9e-6 });
      devices.push(s.decide(ctx).device);
    }
    assert.equal(store.model('k', 'gpu'), fit);
    const flip = devices.indexOf('cpu');
    // The bucket's correction (median of its last three) turns at the second slow batch.
    assert.equal(flip, 1, devices.join(' '));
    assert.ok(devices.slice(flip).every((d) => d === 'cpu'), devices.join(' '));
    // Queued work is never answered from the reused decision.
    assert.equal(s.decide({ ...ctx, queued: { cpu: 100 * w, gpu: 0 } }).device, 'gpu');
  });

  test('a split that beats only an extrapolation runs the best device alone first', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0 });
    // The CPU is linear and sampled up to 64K. Up to 4K the GPU costs 0.9x as much per item; at 64K
    // (where it has no sample) it really takes 10 ms.
    for (let e = 4; e <= 16; e += 2) {
      const n = 2 ** e;
      s.observe({ kernel: 'k', device: 'cpu', items: n, work: n, durationMs: 0.01 * n });
      if (e <= 12) s.observe({ kernel: 'k', device: 'gpu', items: n, work: n, durationMs: 0.009 * n + 1 });
    }
    const n = 2 ** 16;
    const ctx = { kernel: 'k', items: n, work: n, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    // The curves say gpu ~590 ms and cpu ~655 ms, so a split would win by far.
    assert.ok(s.predict('gpu', n)! > 500 && s.predict('cpu', n)! > 600);
    const first = s.decide(ctx);
    assert.equal(first.device, 'gpu');
    assert.match(first.reason, /explore: no gpu sample within 2x/);
    s.observe({ kernel: 'k', device: 'gpu', items: n, work: n, durationMs: 10 });
    // Measured, the GPU alone beats any split the CPU could join.
    const next = s.decide(ctx);
    assert.equal(next.device, 'gpu', next.reason);
    assert.match(next.reason, /earliest finish/);
  });

  test('of the on-time batches that reuse a decision only the last is stored, and a drift within the tolerance still arrives', () => {
    const store = new ModelStore({ path: false, samplesPerBucket: 100 });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0, minSplitItems: 2 ** 30 });
    fillBuckets(s);
    const w = 2 ** 20;
    const ctx = { kernel: 'k', items: w, work: w, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    const stored = () => store.samples('k', 'gpu').filter((x) => x.work === w).length;
    const before = stored();
    // 18 batches, 1.2x the prediction (inside the 1.25x tolerance): two decisions by the models, each
    // reused 8 times; stored are each decision's own batch and its last reuse.
    for (let i = 0; i < 18; i++) {
      assert.equal(s.decide(ctx).device, 'gpu');
      s.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w * 1.2e-6 });
    }
    assert.equal(stored() - before, 4);
    // The bucket's correction (median of its last three) now says 1.2x: the drift arrived.
    assert.ok(Math.abs(store.predict('k', 'gpu', w)! / (w * 1.2e-6) - 1) < 0.02, String(store.predict('k', 'gpu', w)));
  });

  test('a refresh that beats the winner is confirmed by the next batch, and two agreeing runs move the decision', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 4, minSplitItems: 2 ** 30 });
    // Everywhere the GPU takes half the CPU's time...
    observeEverySize(s, { cpu: 2e-5, gpu: 1e-5 });
    const w = 2 ** 14;
    const at = { kernel: 'k', items: w, work: w, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    // ...but three slow GPU batches at 16K (a busy moment) made that bucket's median say 2.5x the CPU.
    for (let i = 0; i < 3; i++) s.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w * 5e-5 });
    const run = (): string => {
      const d = s.decide(at);
      assert.notEqual(d.device, 'split');
      const device = d.device as DeviceKind;
      s.observe({ kernel: 'k', device, items: w, work: w, durationMs: w * (device === 'gpu' ? 1e-5 : 2e-5) });
      return `${device}:${d.reason.split(':')[0]}`;
    };
    const routes = Array.from({ length: 8 }, run);
    // The CPU wins on the models until the 4th decision refreshes the GPU; its run beats the CPU's
    // prediction, the next batch confirms it, and from then on the GPU wins on its own bucket.
    assert.deepEqual(routes, [
      'cpu:earliest finish',
      'cpu:earliest finish',
      'cpu:earliest finish',
      'gpu:refresh the gpu model',
      'gpu:confirm',
      'gpu:earliest finish',
      'gpu:earliest finish',
      'gpu:earliest finish',
    ]);
  });

  test('refreshes start 4 decisions apart and double while the loser runs as predicted, up to refreshEvery', () => {
    const store = new ModelStore({ path: false });
    // A budget that allows any gap: refreshEvery alone caps it.
    const s = new CostModelStrategy('k', { store, minSplitItems: 2 ** 30, refreshBudget: 1 });
    // The GPU takes twice the CPU's time everywhere, and keeps doing so when refreshed.
    observeEverySize(s, { cpu: 1e-5, gpu: 2e-5 });
    const routes = routeBatches(s, 1, 100, (device) => (device === 'gpu' ? 2e-5 : 1e-5));
    assert.deepEqual(
      routes.filter((r) => r.includes(':gpu:')).map((r) => Number.parseInt(r, 10)),
      [4, 12, 28, 60, 92],
    );
    assert.throws(() => new CostModelStrategy('k', { refreshFirst: 0 }), /refreshFirst must be an integer in \[1, refreshEvery = 32\], got 0/);
    assert.throws(() => new CostModelStrategy('k', { refreshEvery: 8, refreshFirst: 9 }), TypeError);
    assert.doesNotThrow(() => new CostModelStrategy('k', { refreshEvery: 0 }));
  });

  test('refreshes of a loser far behind grow apart until they cost refreshBudget of the winner', () => {
    // The GPU takes 2x the CPU's time: a refresh costs one CPU batch more, so 2 % allows one per 50 decisions.
    const gpuAt = (ratio: number, options: CostModelStrategyOptions): number[] => {
      const s = new CostModelStrategy('k', { store: new ModelStore({ path: false }), minSplitItems: 2 ** 30, ...options });
      observeEverySize(s, { cpu: 1e-5, gpu: ratio * 1e-5 });
      return routeBatches(s, 1, 300, (device) => (device === 'gpu' ? ratio * 1e-5 : 1e-5))
        .filter((r) => r.includes(':gpu:'))
        .map((r) => Number.parseInt(r, 10));
    };
    // Gaps 4, 8, 16, 32, then 50 (not 32, the refreshEvery default).
    assert.deepEqual(gpuAt(2, {}), [4, 12, 28, 60, 110, 160, 210, 260]);
    // A looser budget lets refreshEvery decide; a loser 1.2x behind costs 0.2 a refresh, 10 apart at 2 %: refreshEvery decides too.
    assert.deepEqual(gpuAt(2, { refreshBudget: 0.05 }), [4, 12, 28, 60, 92, 124, 156, 188, 220, 252, 284]);
    assert.deepEqual(gpuAt(1.2, {}), [4, 12, 28, 60, 92, 124, 156, 188, 220, 252, 284]);
    assert.throws(() => new CostModelStrategy('k', { refreshBudget: 0 }), /refreshBudget must be in \(0, 1\], got 0/);
    assert.throws(() => new CostModelStrategy('k', { refreshBudget: 1.5 }), TypeError);
  });

  test('a refresh that beats the winner starts the gaps over at refreshFirst', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshFirst: 2, refreshEvery: 16, minSplitItems: 2 ** 30 });
    observeEverySize(s, { cpu: 1e-5, gpu: 2e-5 });
    // The 3rd refresh (decision 14 at gaps 2, 4, 8) would be the first to beat the CPU; before it the GPU runs as predicted.
    const routes = routeBatches(s, 1, 12, (device, i) => (device === 'gpu' ? (i > 6 ? 0.5e-5 : 2e-5) : 1e-5));
    assert.deepEqual(
      routes.filter((r) => !r.endsWith('cpu:earliest finish')),
      ['2:gpu:refresh the gpu model', '6:gpu:refresh the gpu model'],
    );
    // Decisions 2 and 6 ran as predicted (gaps 2, 4, now 8); refreshing at 14 runs fast: a surprise.
    const more = routeBatches(s, 13, 24, (device) => (device === 'gpu' ? 0.5e-5 : 1e-5));
    assert.equal(more[1], '14:gpu:refresh the gpu model');
    assert.equal(more[2], '15:gpu:confirm');
    // The GPU now wins; the CPU is refreshed 2 model decisions later (16, 17), then 4 (18-21).
    assert.deepEqual(
      more.filter((r) => r.includes('refresh')),
      ['14:gpu:refresh the gpu model', '17:cpu:refresh the cpu model', '21:cpu:refresh the cpu model'],
    );
  });

  test('a confirming run that is slow again ends the check', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0, minSplitItems: 2 ** 30 });
    observeEverySize(s, { cpu: 1e-5, gpu: 2e-5 });
    const w = 2 ** 12;
    const at = { kernel: 'k', items: w, work: w, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    for (let i = 0; i < 2; i++) s.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w * 2e-5 });
    assert.equal(s.decide(at).device, 'cpu');
    // One lucky GPU batch (say, a forced one) beats the CPU's prediction: one confirming batch...
    s.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w * 0.5e-5 });
    const confirm = s.decide(at);
    assert.equal(confirm.device, 'gpu');
    assert.match(confirm.reason, /^confirm/);
    // ...which runs at the usual GPU speed: back to the CPU, no further checks.
    s.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w * 2e-5 });
    for (let i = 0; i < 3; i++) assert.match(s.decide(at).reason, /^earliest finish/);
  });

  test('a lone hiccup (a batch 3x slow between on-time ones) does not refit the curve', () => {
    const store = new ModelStore({ path: false, samplesPerBucket: 8 });
    for (let b = 0; b < 8; b++) for (let k = 0; k < 8; k++) store.observe('k', 'gpu', 2 ** (8 + b) + k, 0.4 + (2 ** (8 + b) + k) * 1e-6);
    const w = 2 ** 12;
    const before = store.model('k', 'gpu');
    const refits = store.refits;
    for (let i = 0; i < 40; i++) {
      store.observe('k', 'gpu', w, (0.4 + w * 1e-6) * (i % 10 === 5 ? 3 : 1));
      store.predict('k', 'gpu', w);
    }
    assert.equal(store.refits, refits);
    assert.equal(store.model('k', 'gpu'), before);
  });

  test('a size its curve misfits is corrected by its bucket, not refitted after every batch', () => {
    const store = new ModelStore({ path: false });
    const s = new CostModelStrategy('k', { store, refreshEvery: 0, minSplitItems: 2 ** 30 });
    for (let rep = 0; rep < 5; rep++) {
      for (let e = 8; e <= 20; e += 2) {
        s.observe({ kernel: 'k', device: 'cpu', items: 2 ** e, work: 2 ** e, durationMs: 0.05 + 2 ** e * 2e-5 });
        s.observe({ kernel: 'k', device: 'gpu', items: 2 ** e, work: 2 ** e, durationMs: (0.5 + 2 ** e * 1e-5) * (e === 14 ? 0.1 : 1) });
      }
    }
    const w = 2 ** 14;
    const at = { kernel: 'k', items: w, work: w, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    const before = store.refits;
    // The GPU runs 16K at a tenth of its curve every time: the bucket's median says so, no batch is a surprise.
    for (let i = 0; i < 50; i++) {
      const d = s.decide(at);
      const device = d.device as DeviceKind;
      s.observe({ kernel: 'k', device, items: w, work: w, durationMs: device === 'gpu' ? (0.5 + w * 1e-5) * 0.1 : 0.05 + w * 2e-5 });
    }
    assert.ok(store.refits - before <= 2, `${store.refits - before} refits in 50 batches`);
    // And the decision is the bucket's: 16K on the GPU takes 0.07 ms (its curve says 0.66), on the CPU 0.38 ms.
    assert.equal(s.decide(at).device, 'gpu');
  });

  test('models persist and reload with the same fit', async () => {
    const path = join(dir, 'persist', 'models.json');
    const a = new ModelStore({ path });
    const s = new CostModelStrategy('k', { store: a });
    for (let e = 4; e <= 16; e += 3) s.observe({ kernel: 'k', device: 'cpu', items: 2 ** e, work: 2 ** e, durationMs: truth('cpu', 2 ** e) });
    assert.equal(a.dirty, true);
    assert.equal(await s.save(), true);
    assert.equal(a.dirty, false);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(file.format, 'supervm-cost-models');
    assert.equal(file.models[0].fingerprint, machineFingerprint());
    const b = new ModelStore({ path });
    assert.equal(b.load(), true);
    assert.deepEqual(b.model('k', 'cpu'), a.model('k', 'cpu'));
    assert.ok(b.model('k', 'cpu'));
    assert.equal(b.model('k', 'gpu'), undefined);
  });

  test('a corrupt file is ignored with one warning, never a crash', async () => {
    for (const [name, text] of [
      ['garbage.json', '{ not json'],
      ['shape.json', JSON.stringify({ format: 'supervm-cost-models', version: 1, models: [{ kernel: 'k', device: 'tpu', fingerprint: 'x', samples: [] }] })],
      ['samples.json', JSON.stringify({ format: 'supervm-cost-models', version: 1, models: [{ kernel: 'k', device: 'cpu', fingerprint: 'x', samples: [[1, -2]] }] })],
      ['splits.json', JSON.stringify({ format: 'supervm-cost-models', version: 1, models: [], splits: [{ kernel: 'k', fingerprint: 'x', partRatios: { cpu: [1], gpu: 'slow' }, partStarts: { cpu: [], gpu: [] }, spread: [] }] })],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => void warnings.push(w);
      process.on('warning', onWarning);
      const store = new ModelStore({ path });
      assert.equal(store.load(), false);
      await new Promise((r) => setImmediate(r));
      process.off('warning', onWarning);
      assert.equal(warnings.length, 1, name);
      assert.match(warnings[0]!.message, /ignoring it/);
      assert.deepEqual(store.summary(), []);
    }
    // A missing file is just empty, without a warning.
    assert.equal(new ModelStore({ path: join(dir, 'missing.json') }).load(), false);
  });

  test('a file from another machine is not trusted here, and is kept when saving', async () => {
    const path = join(dir, 'other-machine.json');
    const there = new ModelStore({ path, cpuFingerprint: 'cpu=Some Other CPU;cores=64;threads=64', gpuFingerprint: 'cpu=Some Other CPU;cores=64;threads=64;gpu=vulkan:big' });
    for (const device of ['cpu', 'gpu'] as const) for (let e = 4; e <= 16; e += 3) there.observe('k', device, 2 ** e, truth(device, 2 ** e));
    assert.ok(there.model('k', 'cpu') && there.model('k', 'gpu'));
    await there.save();
    const here = new ModelStore({ path });
    here.setGpu({ backend: 'opengles', vendor: 'mesa', device: 'llvmpipe', description: 'llvmpipe' });
    assert.equal(here.load(), true);
    assert.equal(here.model('k', 'cpu'), undefined);
    assert.equal(here.model('k', 'gpu'), undefined);
    assert.deepEqual(here.samples('k', 'cpu'), []);
    here.observe('k', 'cpu', 100, 1);
    await here.save();
    const fingerprints = JSON.parse(readFileSync(path, 'utf8')).models.map((m: { fingerprint: string }) => m.fingerprint);
    assert.ok(fingerprints.includes('cpu=Some Other CPU;cores=64;threads=64'));
    assert.ok(fingerprints.includes(machineFingerprint()));
  });

  test('saving to an impossible path warns and returns false', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'a file, not a folder');
    const store = new ModelStore({ path: join(blocker, 'models.json') });
    store.observe('k', 'cpu', 10, 1);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    assert.equal(await store.save(), false);
    assert.equal(store.saveSync(), false);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    assert.equal(warnings.length, 2);
  });

  test('the default path: SUPERVM_COST_MODEL_PATH, else XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(defaultModelPath({ SUPERVM_COST_MODEL_PATH: '/x/m.json' }), '/x/m.json');
    assert.equal(defaultModelPath({ XDG_CACHE_HOME: '/c' }), join('/c', 'supervm', 'cost-models.json'));
    assert.match(defaultModelPath({}), /\.cache[/\\]supervm[/\\]cost-models\.json$/);
  });

  test('the runtime loads the store at creation, learns into it and saves it on close', async () => {
    const path = join(dir, 'runtime.json');
    const runtime = new Runtime({ gpu: false, threads: 1, modelPath: path });
    const scheduler = await runtime.scheduler(vectorAdd);
    assert.equal(scheduler.strategy.name, 'cost-model');
    for (const n of [10, 100, 1000]) await scheduler.execute({ a: new Float32Array(n), b: new Float32Array(n) });
    await runtime.close();
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const entry = file.models.find((m: { kernel: string }) => m.kernel === 'vector-add');
    assert.equal(entry.device, 'cpu');
    assert.equal(entry.samples.length, 3);
    assert.equal(entry.fingerprint, machineFingerprint({ threads: 1 }));
    const again = new Runtime({ gpu: false, threads: 1, modelPath: path });
    assert.equal(again.models.samples('vector-add', 'cpu').length, 3);
    await again.close();
  });
});

describe('split batches that run slower than predicted', () => {
  // Two equal linear devices (1 ms per 100 work units): a split is predicted to finish in about half the time.
  // No refreshes: these tests follow the cut over consecutive splits.
  function equalDevices(): CostModelStrategy {
    const strategy = new CostModelStrategy('k', { refreshEvery: 0 });
    for (const device of ['cpu', 'gpu'] as const) {
      for (const w of [100, 1000, 10_000, 100_000]) strategy.observe({ kernel: 'k', device, items: w, work: w, durationMs: w / 100 });
    }
    return strategy;
  }
  const ctx = { kernel: 'k', items: 50_000, work: 50_000, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };

  test('a whole batch slower than predicted (parts unknown) stops further splits', () => {
    const strategy = equalDevices();
    assert.equal(strategy.decide(ctx).device, 'split');
    // In practice each split took three times its prediction.
    for (let i = 0; i < 4; i++) {
      const d = strategy.decide(ctx);
      if (d.device !== 'split') break;
      strategy.observeSplit({ kernel: 'k', items: 50_000, work: 50_000, gpuShare: d.gpuShare, durationMs: 3 * d.predictedMs!, predictedMs: d.predictedMs! });
    }
    assert.ok(strategy.splitFactors.cpu > 1.5 && strategy.splitFactors.gpu > 1.5, JSON.stringify(strategy.splitFactors));
    assert.notEqual(strategy.decide(ctx).device, 'split');
  });

  test('a CPU part twice as slow as its model moves the cut until both parts finish together', () => {
    const strategy = equalDevices();
    let cpuMs = 0;
    let gpuMs = 0;
    let share = 0;
    for (let i = 0; i < 10; i++) {
      const d = strategy.decide(ctx);
      assert.equal(d.device, 'split');
      assert.ok(d.device === 'split');
      share = d.gpuShare;
      const cpuWork = Math.round((1 - share) * ctx.work);
      cpuMs = (2 * cpuWork) / 100;
      gpuMs = (ctx.work - cpuWork) / 100;
      const parts = { cpu: { items: cpuWork, work: cpuWork, durationMs: cpuMs }, gpu: { items: ctx.work - cpuWork, work: ctx.work - cpuWork, durationMs: gpuMs } };
      strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: share, durationMs: Math.max(cpuMs, gpuMs), predictedMs: d.predictedMs!, parts });
    }
    assert.ok(Math.abs(share - 2 / 3) < 0.01, `gpu share ${share}`);
    assert.ok(Math.abs(cpuMs - gpuMs) / gpuMs < 0.03, `cpu part ${cpuMs} ms, gpu part ${gpuMs} ms`);
    assert.ok(Math.abs(strategy.splitFactors.cpu - 2) < 0.05 && Math.abs(strategy.splitFactors.gpu - 1) < 0.01, JSON.stringify(strategy.splitFactors));
  });

  test('one part that stalls once does not move the cut; two that agree do', () => {
    const strategy = equalDevices();
    const observe = (cpuRatio: number): void => {
      const d = strategy.decide(ctx);
      assert.ok(d.device === 'split');
      const cpuWork = Math.round((1 - d.gpuShare) * ctx.work);
      const gpuWork = ctx.work - cpuWork;
      const parts = { cpu: { items: cpuWork, work: cpuWork, durationMs: (cpuRatio * cpuWork) / 100 }, gpu: { items: gpuWork, work: gpuWork, durationMs: gpuWork / 100 } };
      strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: d.gpuShare, durationMs: Math.max(parts.cpu.durationMs, parts.gpu.durationMs), parts });
    };
    const before = strategy.decide(ctx);
    observe(10);
    assert.deepEqual(strategy.splitFactors, { cpu: 1, gpu: 1, sigma: undefined, startMs: { cpu: 0, gpu: 0 } });
    assert.deepEqual(strategy.decide(ctx), before);
    observe(1);
    observe(1.5);
    observe(1.5);
    const { cpu, gpu } = strategy.splitFactors;
    assert.ok(Math.abs(cpu - 1.5) < 1e-9 && Math.abs(gpu - 1) < 1e-9, JSON.stringify(strategy.splitFactors));
  });

  test('a part quicker than its model is a sample of its device, not a split that pays (factors stay >= 1)', () => {
    // As on the H100's SHA-256 10K: the GPU model says 0.8 ms + 1 ns per unit, the GPU runs 0.5 ms + 1 ns;
    // the pool takes 0.2 ms + 0.1 us per unit. Split batches (the bench's co-exec row) run first.
    const gpuReal = (w: number): number => 0.5 + w * 1e-6;
    const cpuReal = (w: number): number => 0.2 + w * 1e-4;
    const strategy = new CostModelStrategy('k', { refreshEvery: 0 });
    for (const w of [1000, 4000, 16_000, 64_000]) {
      strategy.observe({ kernel: 'k', device: 'cpu', items: w, work: w, durationMs: cpuReal(w) });
      strategy.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: 0.8 + w * 1e-6 });
    }
    const ctx10k = { kernel: 'k', items: 10_000, work: 10_000, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    let gpuWork = 0;
    for (let i = 0; i < 6; i++) {
      const split = strategy.splitFor(ctx10k);
      assert.ok(split !== undefined);
      const cpuWork = Math.round((1 - split.gpuShare) * ctx10k.work);
      gpuWork = ctx10k.work - cpuWork;
      const parts = { cpu: { items: cpuWork, work: cpuWork, durationMs: cpuReal(cpuWork) }, gpu: { items: gpuWork, work: gpuWork, durationMs: gpuReal(gpuWork) } };
      strategy.observeSplit({ kernel: 'k', items: ctx10k.items, work: ctx10k.work, gpuShare: split.gpuShare, durationMs: Math.max(parts.cpu.durationMs, parts.gpu.durationMs), parts });
    }
    // Six splits whose parts kept the same ratios: no scatter between them.
    assert.deepEqual(strategy.splitFactors, { cpu: 1, gpu: 1, sigma: 0, startMs: { cpu: 0, gpu: 0 } });
    // The GPU's parts taught its model near their work; and with the factors at 1, the GPU alone finishes
    // first (with the GPU's factor at its parts' 0.6, the split was predicted 0.5 ms and chosen).
    const predicted = strategy.predict('gpu', gpuWork)!;
    assert.ok(Math.abs(predicted - gpuReal(gpuWork)) / gpuReal(gpuWork) < 0.1, `gpu predicted ${predicted} ms for ${gpuWork} units`);
    assert.equal(strategy.decide(ctx10k).device, 'gpu');
  });

  test('while it splits, the best device runs a whole batch now and then: splits weighed against a stale model stop', () => {
    // Models: both devices 1 ms per 100 units (the GPU a little faster), so a split is predicted at half the time.
    // The GPU alone really runs 10x faster than its model at this size; its split parts run as predicted.
    const strategy = new CostModelStrategy('k', { refreshFirst: 4 });
    for (const w of [100, 1000, 10_000, 100_000]) {
      strategy.observe({ kernel: 'k', device: 'cpu', items: w, work: w, durationMs: w / 100 });
      strategy.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w / 110 });
    }
    const reasons: string[] = [];
    for (let i = 0; i < 12; i++) {
      const d = strategy.decide(ctx);
      reasons.push(d.device === 'split' ? 'split' : d.reason);
      if (d.device === 'split') {
        const cpuWork = Math.round((1 - d.gpuShare) * ctx.work);
        const gpuWork = ctx.work - cpuWork;
        const parts = { cpu: { items: cpuWork, work: cpuWork, durationMs: strategy.predict('cpu', cpuWork)! }, gpu: { items: gpuWork, work: gpuWork, durationMs: strategy.predict('gpu', gpuWork)! } };
        strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: d.gpuShare, durationMs: Math.max(parts.cpu.durationMs, parts.gpu.durationMs), parts });
      } else {
        strategy.observe({ kernel: 'k', device: d.device, items: ctx.items, work: ctx.work, durationMs: d.device === 'gpu' ? ctx.work / 1100 : ctx.work / 100 });
      }
    }
    assert.deepEqual(reasons.slice(0, 3), ['split', 'split', 'split'], reasons.join(' | '));
    assert.match(reasons[3]!, /^refresh the gpu model against the split/, reasons.join(' | '));
    // One whole batch that ran at a tenth of the split's prediction is confirmed once, and the splits are over.
    assert.ok(reasons.slice(4).every((r) => r !== 'split'), reasons.join(' | '));
  });

  test('a part that waited behind queued work is not taken for a slow one', () => {
    const strategy = equalDevices();
    const d = strategy.decide(ctx);
    assert.ok(d.device === 'split');
    const cpuWork = Math.round((1 - d.gpuShare) * ctx.work);
    const gpuWork = ctx.work - cpuWork;
    // 20K units were queued on the CPU: its part ran on time after them (1 ms per 100 units).
    const queued = { cpu: 20_000, gpu: 0 };
    const parts = { cpu: { items: cpuWork, work: cpuWork, durationMs: (queued.cpu + cpuWork) / 100 }, gpu: { items: gpuWork, work: gpuWork, durationMs: gpuWork / 100 } };
    for (let i = 0; i < 3; i++) strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: d.gpuShare, durationMs: parts.cpu.durationMs, parts, queued });
    assert.ok(Math.abs(strategy.splitFactors.cpu - 1) < 0.01, JSON.stringify(strategy.splitFactors));
    // Without the queue, the same times read as a CPU part ~1.8x slow.
    for (let i = 0; i < 3; i++) strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: d.gpuShare, durationMs: parts.cpu.durationMs, parts });
    assert.ok(strategy.splitFactors.cpu > 1.5, JSON.stringify(strategy.splitFactors));
  });

  test('a part that started late waited for the other part: a wait the split leaves it, not a slow device', () => {
    const strategy = equalDevices();
    // Both devices run 1 ms per 100 units as modelled; the CPU part starts 20 ms into each batch.
    const delayMs = 20;
    for (let i = 0; i < 3; i++) {
      const split = strategy.splitFor(ctx)!;
      const cpuWork = Math.round((1 - split.gpuShare) * ctx.work);
      const gpuWork = ctx.work - cpuWork;
      const parts = { cpu: { items: cpuWork, work: cpuWork, startMs: delayMs, durationMs: delayMs + cpuWork / 100 }, gpu: { items: gpuWork, work: gpuWork, startMs: 0, durationMs: gpuWork / 100 } };
      strategy.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: split.gpuShare, durationMs: Math.max(parts.cpu.durationMs, parts.gpu.durationMs), parts });
    }
    const { cpu, gpu, startMs } = strategy.splitFactors;
    assert.deepEqual(startMs, { cpu: delayMs, gpu: 0 });
    assert.ok(Math.abs(cpu - 1) < 1e-9 && Math.abs(gpu - 1) < 1e-9, JSON.stringify({ cpu, gpu }));
    // Both finish together with the wait: (1 - s) * 500 + 20 = s * 500 ms, so s = 0.52.
    const split = strategy.splitFor(ctx)!;
    assert.ok(Math.abs(split.gpuShare - 0.52) < 1e-3 && Math.abs(split.predictedMs - 260) < 0.5, JSON.stringify(split));
  });

  test('splitFor predicts each part near its own work: a CPU slow on small batches gets a smaller part', () => {
    const strategy = new CostModelStrategy('k');
    // GPU 50x the CPU's rate; the CPU's curve is linear but its batches of 256-1023 units take 3x the curve
    // (the pool's start and tail on a short batch), which is where the CPU's part of a 50K batch falls.
    for (let w = 64; w <= 1 << 20; w *= 2) {
      strategy.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w / 5000 });
      if (w !== 256 && w !== 512) strategy.observe({ kernel: 'k', device: 'cpu', items: w, work: w, durationMs: w / 100 });
    }
    for (let i = 0; i < 3; i++) {
      for (const w of [300, 700]) strategy.observe({ kernel: 'k', device: 'cpu', items: w, work: w, durationMs: (3 * w) / 100 });
    }
    const split = strategy.splitFor(ctx)!;
    const global = splitShare(strategy.model('cpu')!, strategy.model('gpu')!, ctx.work)!;
    const cpuPart = (1 - split.gpuShare) * ctx.work;
    const globalPart = (1 - global.gpuShare) * ctx.work;
    assert.ok(globalPart >= 512 && globalPart < 1024, `the curve's cpu part ${globalPart}`);
    assert.ok(cpuPart < 0.5 * globalPart, `cpu part ${cpuPart} against ${globalPart} by the curve alone`);
    // Both parts finish together as their local models predict them.
    const tc = strategy.predict('cpu', cpuPart)!;
    const tg = strategy.predict('gpu', split.gpuShare * ctx.work)!;
    assert.ok(Math.abs(tc - tg) / tg < 0.02 && Math.abs(split.predictedMs - tg) / tg < 0.02, `cpu ${tc} ms, gpu ${tg} ms, predicted ${split.predictedMs}`);
  });

  test('what splits taught is saved with the models: a new process splits as the last one learned to, on this machine only', async () => {
    const path = join(dir, 'splits', 'models.json');
    const ctx = { kernel: 'k', items: 50_000, work: 50_000, gpuAvailable: true, queued: { cpu: 0, gpu: 0 } };
    const filled = (): ModelStore => {
      const store = new ModelStore({ path });
      for (const device of ['cpu', 'gpu'] as const) for (const w of [100, 1000, 10_000, 100_000]) store.observe('k', device, w, w / 100);
      return store;
    };
    const a = new CostModelStrategy('k', { store: filled(), refreshEvery: 0 });
    // Eight splits: the CPU part starts 20 ms late and runs 1.1-1.5x its model; the GPU part on time.
    for (let i = 0; i < 8; i++) {
      const split = a.splitFor(ctx)!;
      const cpuWork = Math.round((1 - split.gpuShare) * ctx.work);
      const gpuWork = ctx.work - cpuWork;
      const slow = 1.1 + 0.05 * i;
      const parts = { cpu: { items: cpuWork, work: cpuWork, startMs: 20, durationMs: 20 + (slow * cpuWork) / 100 }, gpu: { items: gpuWork, work: gpuWork, startMs: 0, durationMs: gpuWork / 100 } };
      a.observeSplit({ kernel: 'k', items: ctx.items, work: ctx.work, gpuShare: split.gpuShare, durationMs: Math.max(parts.cpu.durationMs, parts.gpu.durationMs), parts });
    }
    const learned = a.splitFactors;
    assert.ok(learned.cpu > 1.3 && learned.sigma! > 0 && learned.startMs.cpu === 20, JSON.stringify(learned));
    assert.equal(await a.save(), true);
    const saved = JSON.parse(readFileSync(path, 'utf8')).splits;
    assert.equal(saved.length, 1);
    assert.equal(saved[0].fingerprint, a.store.gpuFingerprint);

    // A new store and strategy from the file: the same factors, starts and spread, so the same split.
    const b = new CostModelStrategy('k', { store: new ModelStore({ path }), refreshEvery: 0 });
    assert.equal(b.load(), true);
    assert.deepEqual(b.splitFactors, learned);
    assert.deepEqual(b.splitFor(ctx), a.splitFor(ctx));
    const none = { cpu: 1, gpu: 1, sigma: undefined, startMs: { cpu: 0, gpu: 0 } };
    // Clearing the kernel's models (a calibration) forgets what splits taught against them.
    a.store.clear('k', 'cpu');
    assert.deepEqual(a.splitFactors, none);
    // The same file on another GPU: nothing learned there yet.
    b.store.setGpu({ backend: 'vulkan', vendor: 'other', device: 'gpu', description: 'another' });
    assert.deepEqual(b.splitFactors, none);
  });

  test('splitFor needs both models trusted', () => {
    const strategy = new CostModelStrategy('k');
    for (const w of [100, 1000, 10_000, 100_000]) strategy.observe({ kernel: 'k', device: 'gpu', items: w, work: w, durationMs: w / 100 });
    assert.equal(strategy.splitFor(ctx), undefined);
  });
});
