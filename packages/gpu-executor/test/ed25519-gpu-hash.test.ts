/**
 * The GPU challenge hash (hash.wgsl.ts) against node:crypto and the host pack:
 * SHA-512 of any length, and k = SHA-512(R || A || M) mod L bit for bit equal
 * to packRange's, through the kernel's own `pack` and WGSL (small shaders built
 * from the kernel's pieces, so they compile fast on llvmpipe).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hostPackedKernel, kernel, toEd25519Columns } from '../src/kernels/ed25519/index.js';
import { WebGpuExecutor } from '../src/gpu/webgpu-executor.js';
import { GPU_HASH_MAX_MESSAGE_BYTES, gpuKernel, RECORD_BYTES } from '../src/kernels/ed25519/gpu.js';
import { RAW_INPUT_WGSL } from '../src/kernels/ed25519/ed25519.wgsl.js';
import { HASH_WGSL } from '../src/kernels/ed25519/hash.wgsl.js';
import { hashTable, sha512InitialHash, sha512RoundConstants } from '../src/kernels/ed25519/hash-table.js';
import { packRange } from '../src/kernels/ed25519/pack.js';
import { gpuDevices, gpuSkip, pool } from './backends.js';
import { craftedCases, speccheck, wycheproof } from './fixtures/ed25519-cases.js';

const WG = 64;

/** Plain SHA-512 of each message (prefix length 0): 16 big-endian words per item. */
const SHA_WGSL = /* wgsl */ `${HASH_WGSL}
@group(0) @binding(0) var<storage, read> msgData: array<u32>;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read> hashTable: array<u32>;
@group(0) @binding(4) var<storage, read> params: array<u32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params[0]) { return; }
  var ra: array<u32, 16>;
  let h = sha512(&ra, 0u, offsets[i], offsets[i + 1u] - offsets[i]);
  for (var w = 0u; w < 8u; w++) {
    out[16u * i + 2u * w] = h[w].x;
    out[16u * i + 2u * w + 1u] = h[w].y;
  }
}
`;

/** k of each item exactly as the verification shader gets it (challenge()), 8 little-endian words per item. */
const K_WGSL = /* wgsl */ `${HASH_WGSL}
${RAW_INPUT_WGSL}
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
@group(0) @binding(5) var<storage, read> hashTable: array<u32>;
@group(0) @binding(6) var<storage, read> params: array<u32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params[0]) { return; }
  var aw: array<u32, 8>;
  var rw: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) {
    aw[j] = keys[8u * i + j];
    rw[j] = sigs[16u * i + j];
  }
  let k = challenge(i, aw, rw);
  for (var j = 0u; j < 8u; j++) { out[8u * i + j] = k[j]; }
}
`;

/** reduce_digest alone on given digests (16 words each: (hi, lo) of the 8 SHA-512 words). */
const REDUCE_WGSL = /* wgsl */ `${HASH_WGSL}
@group(0) @binding(0) var<storage, read> digests: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> hashTable: array<u32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;
@group(0) @binding(4) var<storage, read> msgData: array<u32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params[0]) { return; }
  var dg: array<vec2<u32>, 8>;
  for (var w = 0u; w < 8u; w++) { dg[w] = vec2<u32>(digests[16u * i + 2u * w], digests[16u * i + 2u * w + 1u]); }
  let k = reduce_digest(dg);
  for (var j = 0u; j < 8u; j++) { out[8u * i + j] = k[j]; }
}
`;

const pipelines = new Map<string, GPUComputePipeline>();

/** Runs `code` once over `items` invocations with read-only inputs at bindings 0.., the output at `outAt`. */
async function dispatch(code: string, inputs: readonly Uint8Array[], outAt: number, outBytes: number, items: number): Promise<Uint8Array> {
  const ctx = await gpuDevices.open();
  if (!ctx) throw new Error(gpuDevices.unavailableReason);
  const { device } = ctx;
  let pipeline = pipelines.get(code);
  if (pipeline === undefined) {
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    pipelines.set(code, pipeline);
  }
  const made: GPUBuffer[] = [];
  const buffer = (size: number, usage: number): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    made.push(b);
    return b;
  };
  const entries: GPUBindGroupEntry[] = [];
  const all = [...inputs.slice(0, outAt), undefined, ...inputs.slice(outAt)];
  let out: GPUBuffer | undefined;
  all.forEach((bytes, binding) => {
    if (bytes === undefined) {
      out = buffer(outBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      entries.push({ binding, resource: { buffer: out } });
      return;
    }
    const b = buffer(bytes.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const padded = new Uint8Array(b.size);
    padded.set(bytes);
    device.queue.writeBuffer(b, 0, padded);
    entries.push({ binding, resource: { buffer: b } });
  });
  const read = buffer(outBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
  pass.dispatchWorkgroups(Math.max(1, Math.ceil(items / WG)));
  pass.end();
  encoder.copyBufferToBuffer(out!, 0, read, 0, read.size);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const result = new Uint8Array(read.getMappedRange(0, outBytes).slice(0));
  read.unmap();
  made.forEach((b) => b.destroy());
  return result;
}

const u32Bytes = (words: ArrayLike<number>): Uint8Array => new Uint8Array(Uint32Array.from(words).buffer);

/** SHA-512 of each message on the GPU. */
async function gpuSha512(messages: readonly Uint8Array[]): Promise<Buffer[]> {
  const cols = toEd25519Columns({ messages, publicKeys: new Uint8Array(32 * messages.length), signatures: new Uint8Array(64 * messages.length) });
  const out = await dispatch(SHA_WGSL, [cols.data, new Uint8Array(cols.offsets.buffer), hashTable(), u32Bytes([messages.length])], 2, 64 * messages.length, messages.length);
  const view = new DataView(out.buffer);
  return messages.map((_, i) => {
    const digest = Buffer.alloc(64);
    for (let w = 0; w < 16; w++) digest.writeUInt32BE(view.getUint32(64 * i + 4 * w, true), 4 * w);
    return digest;
  });
}

/** k of items [start, end) from the kernel's own pack and the shader's challenge(). */
async function gpuK(cols: ReturnType<typeof toEd25519Columns>, start: number, end: number): Promise<Uint8Array> {
  const parts = gpuKernel.pack(cols, start, end);
  return dispatch(K_WGSL, [...parts, hashTable(), u32Bytes([end - start])], 4, 32 * (end - start), end - start);
}

const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SHA-512 constants (FIPS 180-4)', () => {
  test('generated K and H(0) match the printed values at both ends', () => {
    const k = sha512RoundConstants();
    const h = sha512InitialHash();
    assert.equal(k.length, 80);
    assert.equal(k[0], 0x428a2f98d728ae22n);
    assert.equal(k[1], 0x7137449123ef65cdn);
    assert.equal(k[79], 0x6c44198c4a475817n);
    assert.equal(h[0], 0x6a09e667f3bcc908n);
    assert.equal(h[7], 0x5be0cd19137e2179n);
  });
});

describe('ed25519 GPU-hash plan, host side', () => {
  const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

  test('pack uploads views of the columns and offsets rebased to the chunk', () => {
    const cols = toEd25519Columns({ messages: [bytes(3), bytes(0), bytes(7, 2), bytes(5, 3)], publicKeys: bytes(128, 4), signatures: bytes(256, 5) });
    const [keys, sigs, offsets, data] = gpuKernel.pack(cols, 1, 4);
    assert.equal(keys!.buffer, cols.publicKeys.buffer);
    assert.equal(keys!.byteOffset, 32);
    assert.equal(keys!.length, 96);
    assert.equal(sigs!.buffer, cols.signatures.buffer);
    assert.equal(sigs!.length, 192);
    assert.deepEqual(Array.from(new Uint32Array(offsets!.buffer, offsets!.byteOffset, 4)), [0, 0, 7, 12]);
    assert.equal(data!.buffer, cols.data.buffer);
    assert.deepEqual(Array.from(data!), [...bytes(7, 2), ...bytes(5, 3)]);
  });

  test('messages past the cap are hashed on the host: k in their place, flagged on the end offset', () => {
    const long = new Uint8Array(randomBytes(GPU_HASH_MAX_MESSAGE_BYTES + 1));
    const sigs = new Uint8Array(randomBytes(192));
    sigs[63] = 0x0f;
    sigs[127] = 0xff; // S >= L: k is zeros, the shader rejects on S
    sigs[191] = 0x0f;
    const cols = toEd25519Columns({ messages: [long, bytes(GPU_HASH_MAX_MESSAGE_BYTES), long], publicKeys: new Uint8Array(randomBytes(96)), signatures: sigs });
    const [, , offsets, data] = gpuKernel.pack(cols, 0, 3);
    const off = Array.from(new Uint32Array(offsets!.buffer, offsets!.byteOffset, 4));
    assert.deepEqual(off, [0, (32 | 0x8000_0000) >>> 0, 32 + GPU_HASH_MAX_MESSAGE_BYTES, (64 + GPU_HASH_MAX_MESSAGE_BYTES + 0x8000_0000) >>> 0]);
    const records = new Uint8Array(3 * RECORD_BYTES);
    packRange(cols, records, 0, 0, 3);
    assert.equal(hex(data!.subarray(0, 32)), hex(records.subarray(96, 128)));
    assert.deepEqual(data!.subarray(32, 32 + GPU_HASH_MAX_MESSAGE_BYTES), bytes(GPU_HASH_MAX_MESSAGE_BYTES));
    const last = data!.subarray(32 + GPU_HASH_MAX_MESSAGE_BYTES);
    assert.equal(last.length, 32);
    assert.equal(hex(last), hex(records.subarray(2 * RECORD_BYTES + 96, 3 * RECORD_BYTES)));
  });

  test('chunks keep every binding within the limit, counting long messages as 32 bytes', () => {
    const lengths = [100, 100, 9000, 100, 200, 0, 50_000, 300];
    const cols = toEd25519Columns({ messages: lengths.map((n) => bytes(n)), publicKeys: bytes(32 * lengths.length), signatures: bytes(64 * lengths.length) });
    const chunk = (start: number, limit: number): number => gpuKernel.chunkEnd(cols, start, lengths.length, limit);
    assert.equal(chunk(0, 1 << 20), 8);
    assert.equal(chunk(5, 128), 7); // signatures: 64 B per item; data 0 + 32
    assert.equal(chunk(0, 400), 4); // data: 100 + 100 + 32 + 100 <= 400 < 532
    assert.equal(chunk(0, 240), 3); // data: 100 + 100 + 32 <= 240 < 332
    assert.equal(chunk(4, 232), 7); // 200 + 0 + 32
    assert.equal(chunk(4, 231), 6);
    assert.equal(chunk(0, 1), 1);
    for (const limit of [64, 100, 200, 333, 1000]) {
      for (let s = 0; s < lengths.length; ) {
        const e = chunk(s, limit);
        assert.ok(e > s && e <= lengths.length);
        const parts = gpuKernel.pack(cols, s, e);
        if (e - s > 1) parts.forEach((p) => assert.ok(p.byteLength <= limit, `[${s}, ${e}) at ${limit}: ${p.byteLength}`));
        s = e;
      }
    }
  });
});

describe('GPU SHA-512 and k = SHA-512(R || A || M) mod L', { skip: gpuSkip }, () => {
  test('SHA-512 equals node:crypto for 0..300 bytes, the FIPS vectors and long messages', async () => {
    const fips896 = new TextEncoder().encode(
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    );
    assert.equal(fips896.length * 8, 896);
    const messages = [
      ...Array.from({ length: 301 }, (_, n) => new Uint8Array(randomBytes(n))),
      new TextEncoder().encode('abc'),
      fips896,
      new Uint8Array(randomBytes(1000)),
      new Uint8Array(randomBytes(4160)),
      new Uint8Array(randomBytes(9001)),
    ];
    const digests = await gpuSha512(messages);
    messages.forEach((m, i) => assert.equal(digests[i]!.toString('hex'), createHash('sha512').update(m).digest('hex'), `length ${m.length}`));
    // FIPS 180-4 examples (SHA-512 "abc", and the two-block 896-bit message).
    assert.equal(digests[301]!.toString('hex').slice(0, 32), 'ddaf35a193617abacc417349ae204131');
    assert.equal(digests[302]!.toString('hex').slice(0, 32), '8e959b75dae313da8cf4f72814fc143f');
  });

  test('k equals packRange bit for bit on random items (messages 0..600 bytes, and past the GPU cap)', async () => {
    const item = fc.record({
      pk: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      r: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      // S below L (the top byte at most 0x0f) so packRange writes k rather than the S >= L flag.
      s: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((s) => {
        const c = Uint8Array.from(s);
        c[31] = c[31]! & 0x0f;
        return c;
      }),
      msg: fc.oneof({ weight: 12, arbitrary: fc.uint8Array({ maxLength: 600 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: GPU_HASH_MAX_MESSAGE_BYTES - 2, maxLength: GPU_HASH_MAX_MESSAGE_BYTES + 2 }) }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 40 }), fc.nat(3), async (items, skip) => {
        const cols = toEd25519Columns({ messages: items.map((x) => x.msg), publicKeys: items.map((x) => x.pk), signatures: items.map((x) => Uint8Array.from([...x.r, ...x.s])) });
        // A chunk that does not start at item 0: offsets are rebased.
        const start = Math.min(skip, items.length - 1);
        const records = new Uint8Array((items.length - start) * RECORD_BYTES);
        packRange(cols, records, start, start, items.length);
        const k = await gpuK(cols, start, items.length);
        for (let i = 0; i < items.length - start; i++) {
          assert.equal(hex(k.subarray(32 * i, 32 * i + 32)), hex(records.subarray(i * RECORD_BYTES + 96, (i + 1) * RECORD_BYTES)), `item ${start + i}`);
        }
      }),
      { numRuns: 12 },
    );
  });

  test('the reduction equals BigInt mod L on edge digests (0, L - 1, L, multiples of L, 2^512 - 1) and random ones', async () => {
    const edges = [0n, 1n, L - 1n, L, L + 1n, 2n * L - 1n, (1n << 252n) - 1n, 1n << 252n, (1n << 253n) - 1n, (1n << 256n) - 1n, 1n << 256n,
      ((1n << 512n) / L) * L, ((1n << 512n) / L) * L - 1n, (1n << 512n) - 1n, (1n << 511n), (1n << 512n) - (1n << 256n)];
    const values = [...edges, ...Array.from({ length: 100 }, () => BigInt(`0x${randomBytes(64).toString('hex')}`) >> BigInt(Math.floor(Math.random() * 512)))];
    const digests = new Uint8Array(64 * values.length);
    const words = new DataView(digests.buffer);
    values.forEach((v, i) => {
      // Digest bytes are x little-endian; the shader takes them as SHA-512's big-endian (hi, lo) words.
      const le = Buffer.from(v.toString(16).padStart(128, '0'), 'hex').reverse();
      for (let w = 0; w < 16; w++) words.setUint32(64 * i + 4 * w, le.readUInt32BE(4 * w), true);
    });
    const out = await dispatch(REDUCE_WGSL, [digests, hashTable(), u32Bytes([values.length])], 1, 32 * values.length, values.length);
    values.forEach((v, i) => {
      assert.equal(BigInt(`0x${Buffer.from(out.subarray(32 * i, 32 * i + 32)).reverse().toString('hex')}`), v % L, v.toString(16));
    });
  });

  test('the host-packed plan (hostPackedKernel, pool pack) gives the same verdicts as the GPU-hash plan', async () => {
    const cases = [...wycheproof, ...speccheck, ...craftedCases()].filter((c) => c.sig.length === 64 && c.pk.length === 32);
    const cols = toEd25519Columns({ messages: cases.map((c) => c.msg), publicKeys: cases.map((c) => c.pk), signatures: cases.map((c) => c.sig) });
    const hashed = new WebGpuExecutor(kernel, { devices: gpuDevices });
    const packed = new WebGpuExecutor(hostPackedKernel, { devices: gpuDevices, hostPool: pool, minPoolPackNs: 0 });
    const a = await hashed.execute(cols);
    const b = await packed.execute(cols);
    assert.deepEqual(Array.from(b.output), Array.from(a.output));
    assert.ok(a.output.includes(1) && a.output.includes(0));
  });
});
