import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelStore, machineFingerprint } from '@supervm/gpu-executor';
import { calibrate } from '../src/commands/calibrate.js';

const dir = mkdtempSync(join(tmpdir(), 'supervm-calibrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('calibrate fits a model per device, saves it, and a fresh store loads the same model', async () => {
  const path = join(dir, 'models.json');
  const { results, saved } = await calibrate({ quick: true, kernels: ['sha256'], repeats: 1, models: path, threads: 2, gpu: false });
  assert.equal(saved, true);
  const [sha] = results;
  assert.equal(sha?.kernel, 'sha256');
  const cpu = sha.devices.cpu;
  assert.ok(cpu !== undefined && !('error' in cpu), JSON.stringify(cpu));
  assert.deepEqual(cpu.sizes, [64, 256, 1024, 4096, 16384, 65536].slice(0, cpu.sizes.length));
  assert.ok(cpu.sizes.length >= 3, `sizes run: ${cpu.sizes.join(', ')}`);

  const reloaded = new ModelStore({ path, cpuFingerprint: machineFingerprint({ threads: 2 }) });
  assert.equal(reloaded.load(), true);
  const model = reloaded.model('sha256', 'cpu');
  assert.ok(model !== undefined, 'the saved cpu model is trusted after reload');
  assert.equal(model.a, cpu.a);
  assert.equal(model.b, cpu.b);
  // The model predicts more time for more work.
  assert.ok(reloaded.predict('sha256', 'cpu', 576 * 65536)! > reloaded.predict('sha256', 'cpu', 576 * 64)!);
});
