// Ed25519 GPU throughput by workgroup size and items per dispatch on one batch,
// verdicts checked against the CPU kernel. Usage: node scripts/ed25519-workgroups.mjs [items]
import { generateKeyPairSync, sign } from 'node:crypto';
import { GpuDeviceManager, ParallelCpuExecutor, WebGpuExecutor, WorkerPool } from '@supervm/gpu-executor';
import { ed25519Kernel } from '@supervm/gpu-executor/kernels';

const n = Number(process.argv[2] ?? 65536);
const signers = Array.from({ length: 64 }, () => {
  const pair = generateKeyPairSync('ed25519');
  return { ...pair, raw: Buffer.from(pair.publicKey.export({ format: 'jwk' }).x, 'base64url') };
});
const data = new Uint8Array(n * 64);
const publicKeys = new Uint8Array(n * 32);
const signatures = new Uint8Array(n * 64);
for (let i = 0; i < n; i++) {
  const s = signers[i % 64];
  const msg = data.subarray(i * 64, i * 64 + 64);
  msg.fill(i & 0xff, 0, 8);
  publicKeys.set(s.raw, i * 32);
  const sig = sign(null, msg, s.privateKey);
  if (i % 16 === 15) sig[3] ^= 1;
  signatures.set(sig, i * 64);
}
const input = { data, offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i * 64), publicKeys, signatures };
const cpu = new ParallelCpuExecutor(ed25519Kernel);
const expected = (await cpu.execute(input)).output;
await cpu.close();
const devices = new GpuDeviceManager();
// Records are packed on the pool, as the runtime does.
const hostPool = new WorkerPool();
const rows = [];
const configs = [];
for (const wg of [64, 128, 256]) for (const chunk of [4096, 8192, 16384, 32768]) configs.push([wg, chunk]);
for (const [wg, chunk] of configs) {
  const chunkEnd = (_input, start, end) => Math.min(end, start + chunk);
  const kernel = { ...ed25519Kernel, name: `ed25519-verify-wg${wg}`, gpu: { ...ed25519Kernel.gpu, workgroupSize: wg, chunkEnd } };
  const gpu = new WebGpuExecutor(kernel, { devices, hostPool });
  await gpu.execute(input);
  const times = [];
  let out;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const res = await gpu.execute(input);
    times.push(performance.now() - t);
    out = res.output;
  }
  times.sort((a, b) => a - b);
  const ms = times[1];
  const row = { workgroupSize: wg, chunkItems: chunk, medianMs: +ms.toFixed(2), verifiesPerSecond: Math.round(n / (ms / 1000)), equalToCpu: Buffer.compare(Buffer.from(out), Buffer.from(expected)) === 0 };
  rows.push(row);
  console.error(JSON.stringify(row));
}
console.log(JSON.stringify({ items: n, rows }, null, 1));
await hostPool.close();
await devices.close();
