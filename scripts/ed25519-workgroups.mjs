// Ed25519 GPU throughput by workgroup size on one batch, verdicts checked
// against the CPU kernel. Usage: node scripts/ed25519-workgroups.mjs [items]
import { generateKeyPairSync, sign } from 'node:crypto';
import { CpuMapExecutor, GpuDeviceManager, WebGpuExecutor } from '@supervm/gpu-executor';
import { ed25519Kernel } from '@supervm/gpu-executor/kernels';

const n = Number(process.argv[2] ?? 65536);
const signers = Array.from({ length: 64 }, () => generateKeyPairSync('ed25519'));
const data = new Uint8Array(n * 64);
const publicKeys = new Uint8Array(n * 32);
const signatures = new Uint8Array(n * 64);
for (let i = 0; i < n; i++) {
  const s = signers[i % 64];
  const msg = data.subarray(i * 64, i * 64 + 64);
  msg.fill(i & 0xff, 0, 8);
  publicKeys.set(Buffer.from(s.publicKey.export({ format: 'jwk' }).x, 'base64url'), i * 32);
  const sig = sign(null, msg, s.privateKey);
  if (i % 16 === 15) sig[3] ^= 1;
  signatures.set(sig, i * 64);
}
const input = { data, offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i * 64), publicKeys, signatures };
const expected = (await new CpuMapExecutor(ed25519Kernel).execute(input)).output;
const devices = new GpuDeviceManager();
const rows = [];
for (const wg of [32, 64, 128, 256]) {
  const kernel = { ...ed25519Kernel, name: `ed25519-verify-wg${wg}`, gpu: { ...ed25519Kernel.gpu, workgroupSize: wg } };
  const gpu = new WebGpuExecutor(kernel, { devices });
  await gpu.execute(input);
  const times = [];
  let out;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    const res = await gpu.execute(input);
    times.push(performance.now() - t);
    out = res.output;
  }
  times.sort((a, b) => a - b);
  const ms = times[2];
  rows.push({ workgroupSize: wg, medianMs: +ms.toFixed(2), verifiesPerSecond: Math.round(n / (ms / 1000)), equalToCpu: Buffer.compare(Buffer.from(out), Buffer.from(expected)) === 0 });
}
console.log(JSON.stringify({ items: n, rows }, null, 1));
await devices.close();
