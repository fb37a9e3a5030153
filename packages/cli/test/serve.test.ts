import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, verify, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer, encodeEd25519Binary, encodeSha256Binary } from '../src/server/index.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): any;
}

/** One request on its own connection; `hold` sends the body in two parts, the second when `release` is called. */
function call(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  hold?: { started: () => void; release: Promise<void> },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = httpRequest(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString('utf8')) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload === undefined) req.end();
    else if (hold === undefined) req.end(payload);
    else {
      const cut = Math.max(1, Math.floor(payload.length / 2));
      req.write(payload.subarray(0, cut), () => hold.started());
      void hold.release.then(() => req.end(payload.subarray(cut)));
    }
  });
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const keys = generateKeyPairSync('ed25519');
const rawPublic = keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
function signed(n: number): Array<{ message: Buffer; publicKey: Buffer; signature: Buffer }> {
  return Array.from({ length: n }, (_, i) => {
    const message = randomBytes(i * 7);
    return { message, publicKey: Buffer.from(rawPublic), signature: sign(null, message, keys.privateKey) };
  });
}
/** node:crypto's verdict for a raw 32-byte key. */
function nodeVerify(message: Buffer, publicKey: Buffer, signature: Buffer): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** Every non-comment line of a Prometheus text is `name{labels} value`. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('supervm serve (in process)', () => {
  const app = createServer({ runtimeOptions: { threads: 1, models: false }, maxInFlight: 8 });
  let base = '';
  before(async () => {
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());

  test('POST /v1/sha256: JSON hex in and out, equal to node:crypto', async () => {
    const messages = [Buffer.alloc(0), Buffer.from('abc'), randomBytes(1000), randomBytes(55), randomBytes(64)];
    const res = await call(base, 'POST', '/v1/sha256', JSON.stringify({ messages: messages.map((m) => m.toString('hex')) }));
    assert.equal(res.status, 200, res.body.toString());
    const { digests, stats } = res.json();
    assert.deepEqual(digests, messages.map(sha));
    assert.equal(digests[1], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.ok(stats.device === 'cpu' || stats.device === 'gpu');
  });

  test('POST /v1/sha256: binary in, binary out', async () => {
    const messages = Array.from({ length: 50 }, (_, i) => randomBytes(i * 3));
    const res = await call(base, 'POST', '/v1/sha256', encodeSha256Binary(messages), { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' });
    assert.equal(res.status, 200, res.body.toString());
    assert.match(String(res.headers['content-type']), /application\/octet-stream/);
    assert.equal(res.body.length, 32 * 50);
    assert.deepEqual(Array.from({ length: 50 }, (_, i) => res.body.subarray(32 * i, 32 * i + 32).toString('hex')), messages.map(sha));
  });

  test('POST /v1/ed25519/verify: items and columns, verdicts equal to node:crypto', async () => {
    const items = signed(6);
    items[2]!.signature[5]! ^= 1; // bad signature
    items[4]!.message = Buffer.concat([items[4]!.message, Buffer.from('x')]); // other message
    const expected = items.map((it) => nodeVerify(it.message, it.publicKey, it.signature));
    assert.deepEqual(expected, [true, true, false, true, false, true]);
    const hex = (b: Buffer): string => b.toString('hex');
    const byItems = await call(base, 'POST', '/v1/ed25519/verify', JSON.stringify({ items: items.map((it) => ({ message: hex(it.message), publicKey: hex(it.publicKey), signature: hex(it.signature) })) }));
    assert.equal(byItems.status, 200, byItems.body.toString());
    assert.deepEqual(byItems.json().valid, expected);
    const byColumns = await call(
      base,
      'POST',
      '/v1/ed25519/verify',
      JSON.stringify({ messages: items.map((it) => hex(it.message)), publicKeys: items.map((it) => hex(it.publicKey)), signatures: items.map((it) => hex(it.signature)) }),
    );
    assert.equal(byColumns.status, 200, byColumns.body.toString());
    assert.deepEqual(byColumns.json().valid, expected);
    const binary = await call(base, 'POST', '/v1/ed25519/verify', encodeEd25519Binary(items), { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' });
    assert.equal(binary.status, 200);
    assert.deepEqual([...binary.body], expected.map((v) => (v ? 1 : 0)));
    const binaryJson = await call(base, 'POST', '/v1/ed25519/verify', encodeEd25519Binary(items), { 'content-type': 'application/octet-stream' });
    assert.deepEqual(binaryJson.json().valid, expected);
  });

  test('GET /metrics parses and counts the batches; GET /healthz answers', async () => {
    await call(base, 'POST', '/v1/sha256?device=cpu', JSON.stringify({ messages: ['00', '01', '02'] }));
    const res = await call(base, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    const samples = parseMetrics(res.body.toString('utf8'));
    const cpuTasks = samples.get('supervm_tasks_total{kernel="sha256",device="cpu"}') ?? 0;
    const gpuTasks = samples.get('supervm_tasks_total{kernel="sha256",device="gpu"}') ?? 0;
    assert.ok(cpuTasks + gpuTasks >= 5 + 50 + 3, `sha256 tasks ${cpuTasks} + ${gpuTasks}`);
    assert.ok((samples.get('supervm_routing_decisions_total{kernel="ed25519-verify",device="cpu",strategy="cost-model"}') ?? 0) + (samples.get('supervm_routing_decisions_total{kernel="ed25519-verify",device="gpu",strategy="cost-model"}') ?? 0) >= 4);
    assert.ok(samples.has('supervm_worker_utilization'));
    assert.ok(samples.has('supervm_gpu_buffer_bytes{state="held"}'));
    assert.ok(samples.has('process_resident_memory_bytes'));
    const health = await call(base, 'GET', '/healthz');
    assert.equal(health.status, 200);
    const h = health.json();
    assert.equal(h.ok, true);
    assert.equal(typeof h.gpu.available, 'boolean');
    if (!h.gpu.available) assert.ok(h.gpu.reason.length > 0);
    assert.equal(h.queue.inFlight, 0);
    assert.equal(h.queue.limit, 8);
  });

  test('bad bodies get 400 with {error, message, index?}', async () => {
    const cases: Array<[string, string | Buffer, Record<string, string>, number, string, number | undefined]> = [
      ['/v1/sha256', JSON.stringify({ messages: ['00', 'zz'] }), {}, 400, 'INVALID_BODY', 1],
      ['/v1/sha256', JSON.stringify({ messages: ['abc'] }), {}, 400, 'INVALID_BODY', 0],
      ['/v1/sha256', JSON.stringify({ message: [] }), {}, 400, 'INVALID_BODY', undefined],
      ['/v1/sha256', '{"messages": [', {}, 400, 'INVALID_JSON', undefined],
      ['/v1/sha256', 'hello', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE', undefined],
      ['/v1/sha256?device=tpu', JSON.stringify({ messages: [] }), {}, 400, 'INVALID_BODY', undefined],
      ['/v1/ed25519/verify', JSON.stringify({ items: [{ message: '', publicKey: '00'.repeat(32), signature: '00'.repeat(64) }, { message: '', publicKey: '00', signature: '00'.repeat(64) }] }), {}, 400, 'INVALID_BODY', 1],
      ['/v1/ed25519/verify', JSON.stringify({ messages: ['', ''], publicKeys: ['00'.repeat(32)], signatures: ['00'.repeat(64), '00'.repeat(64)] }), {}, 400, 'INVALID_BODY', 1],
      ['/v1/ed25519/verify', JSON.stringify({}), {}, 400, 'INVALID_BODY', undefined],
      ['/v1/sha256', Buffer.from([1, 0]), { 'content-type': 'application/octet-stream' }, 400, 'INVALID_BINARY', undefined],
      // Offsets that decrease at message 1: the kernel's INVALID_INPUT, with its index.
      ['/v1/sha256', Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6]), { 'content-type': 'application/octet-stream' }, 400, 'INVALID_INPUT', 1],
      ['/v1/ed25519/verify', Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { 'content-type': 'application/octet-stream' }, 400, 'INVALID_BINARY', undefined],
    ];
    for (const [path, body, headers, status, error, index] of cases) {
      const res = await call(base, 'POST', path, body, headers);
      const what = `${path} ${String(body).slice(0, 60)}`;
      assert.equal(res.status, status, `${what}: ${res.body.toString()}`);
      const json = res.json();
      assert.equal(json.error, error, what);
      assert.equal(typeof json.message, 'string');
      assert.equal(json.index, index, `${what}: ${JSON.stringify(json)}`);
    }
  });
});

describe('supervm serve limits', () => {
  const app = createServer({ runtimeOptions: { threads: 1, models: false, gpu: false }, maxInFlight: 1, bodyLimit: 4096, retryAfterSeconds: 2 });
  let base = '';
  before(async () => {
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());

  test('a body over the limit gets 413 BODY_TOO_LARGE', async () => {
    const res = await call(base, 'POST', '/v1/sha256', JSON.stringify({ messages: ['00'.repeat(4096)] }));
    assert.equal(res.status, 413);
    assert.equal(res.json().error, 'BODY_TOO_LARGE');
  });

  test('past the in-flight limit: 429 with Retry-After; the accepted batch still completes', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const sent = new Promise<void>((r) => (started = r));
    const body = JSON.stringify({ messages: ['61', '6263'] });
    const first = call(base, 'POST', '/v1/sha256', body, {}, { started, release: released });
    await sent;
    await until(async () => (await call(base, 'GET', '/healthz')).json().queue.inFlight === 1, 'the first batch to be admitted');
    const second = await call(base, 'POST', '/v1/sha256', body);
    assert.equal(second.status, 429);
    assert.equal(second.headers['retry-after'], '2');
    assert.equal(second.json().error, 'OVERLOADED');
    release();
    const done = await first;
    assert.equal(done.status, 200);
    assert.deepEqual(done.json().digests, [sha(Buffer.from('a')), sha(Buffer.from('bc'))]);
    // Room again.
    assert.equal((await call(base, 'POST', '/v1/sha256', body)).status, 200);
  });
});

describe('supervm serve as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'supervm-serve-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('SIGTERM: accepted batches all complete, then the process exits 0', async () => {
    const main = new URL('../src/main.js', import.meta.url).pathname;
    const models = join(dir, 'models.json');
    const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--host', '127.0.0.1', '--threads', '1', '--no-gpu'], {
      env: { ...process.env, SUPERVM_COST_MODEL_PATH: models },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until(async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.test(stdout), `the server to listen (stderr: ${stderr})`);
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;

      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const batches = Array.from({ length: 5 }, (_, i) => Array.from({ length: 20 + i }, (_, j) => randomBytes(j * 11)));
      const sent: Array<Promise<void>> = [];
      const answers = batches.map((messages) => {
        let started!: () => void;
        sent.push(new Promise<void>((r) => (started = r)));
        return call(base, 'POST', '/v1/sha256', JSON.stringify({ messages: messages.map((m) => m.toString('hex')) }), {}, { started, release: released });
      });
      await Promise.all(sent);
      await until(async () => (await call(base, 'GET', '/healthz')).json().queue.inFlight === batches.length, 'every batch to be admitted');

      child.kill('SIGTERM');
      await until(async () => stdout.includes('SIGTERM'), 'the server to start shutting down');
      // No new connections once shutting down.
      const late = await call(base, 'GET', '/healthz').then((r) => r.status, () => 'refused');
      assert.ok(late === 'refused' || late === 503, `a request after SIGTERM got ${late}`);
      // Accepted before SIGTERM, their bodies finish arriving after it.
      release();
      const results = await Promise.all(answers);
      results.forEach((res, i) => {
        assert.equal(res.status, 200, res.body.toString());
        assert.deepEqual(res.json().digests, batches[i]!.map(sha));
      });
      assert.equal(await exited, 0, stderr);
      assert.match(stdout, /stopped/);
      // The runtime was closed: its cost models were saved.
      assert.ok(existsSync(models));
      await assert.rejects(call(base, 'GET', '/healthz'));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
