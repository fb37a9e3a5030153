import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { closeRuntime, configureRuntime, getRuntime, sha256Batch, vectorAdd } from '../src/runtime.js';
import { gpuSkip } from './backends.js';

describe('the shared runtime', () => {
  after(() => closeRuntime());

  test('vectorAdd accepts typed and plain arrays on every device choice', async () => {
    const cpu = await vectorAdd([1, 2, 3], new Float32Array([4, 5, 6]), { device: 'cpu' });
    assert.deepEqual([...cpu.output], [5, 7, 9]);
    assert.equal(cpu.stats.device, 'cpu');
    const auto = await vectorAdd(new Float32Array([0.5]), new Float32Array([0.25]));
    assert.deepEqual([...auto.output], [0.75]);
  });

  test('vectorAdd with device gpu runs on the GPU', { skip: gpuSkip }, async () => {
    const { output, stats } = await vectorAdd(new Float32Array([1, 2]), new Float32Array([3, 4]), { device: 'gpu' });
    assert.deepEqual([...output], [4, 6]);
    assert.equal(stats.device, 'gpu');
  });

  test('the calls fill a caller\'s output, batch after batch', async () => {
    const output = new Uint8Array(64);
    for (const words of [['a', 'b'], ['c', 'd']]) {
      const got = await sha256Batch(words.map((w) => Buffer.from(w)), { output });
      assert.equal(got.output, output);
      assert.equal(Buffer.from(output).toString('hex'), words.map((w) => createHash('sha256').update(w).digest('hex')).join(''));
    }
    const sums = new Float32Array(2);
    assert.equal((await vectorAdd([1, 2], [3, 4], { output: sums })).output, sums);
    assert.deepEqual([...sums], [4, 6]);
    await assert.rejects(vectorAdd([1], [1], { output: new Float32Array(2) }), { code: 'INVALID_OPTION' });
  });

  test('bad input is INVALID_INPUT with the index; bad options are typed errors', async () => {
    await assert.rejects(vectorAdd([1, 2], [1]), { code: 'INVALID_INPUT', index: 1 });
    await assert.rejects(vectorAdd([1], [1], { device: 'fpga' as never }), { code: 'INVALID_OPTION' });
    assert.throws(() => configureRuntime({ threads: 0 }), TypeError);
  });

  test('info names the CPU and the GPU (or why there is none)', async () => {
    const info = await getRuntime().info();
    assert.ok(info.cpu.threads >= 1);
    if (info.gpu.available) assert.match(info.gpu.adapter.backend, /vulkan|opengles/);
    else assert.ok(info.gpu.reason.length > 0);
  });

  test('after closeRuntime the process exits by itself (pool and GPU device released)', () => {
    const script = `
      import { vectorAdd, closeRuntime } from ${JSON.stringify(new URL('../src/runtime.js', import.meta.url).href)};
      const r = await vectorAdd([1, 2], [3, 4], { device: 'auto' });
      console.log(JSON.stringify([...r.output]));
      await closeRuntime();`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), '[4,6]');
  });
});
