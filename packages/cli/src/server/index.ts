import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { Runtime, createMetrics, isExecutorError, type DeviceChoice, type ExecResult, type ExecutorMetrics, type RuntimeOptions } from '@supervm/gpu-executor';
import { ed25519Kernel, sha256Kernel, type Ed25519Columns, type Sha256Columns } from '@supervm/gpu-executor/kernels';
import {
  bytesOf,
  digestsToHex,
  ed25519FromBinary,
  ed25519FromJson,
  sha256FromBinary,
  sha256FromJson,
  type Ed25519Json,
} from './codec.js';
import { HttpError, type ErrorBody } from './errors.js';
import { DEVICE_QUERY, ed25519JsonSchema, sha256JsonSchema } from './schemas.js';

export { encodeEd25519Binary, encodeSha256Binary } from './codec.js';
export { HttpError, type ErrorBody } from './errors.js';

export interface ServerOptions {
  /** The runtime that runs batches. Default: a new one, owned by the server and closed with it. */
  runtime?: Runtime;
  /** Options of the runtime the server creates (ignored with `runtime`). */
  runtimeOptions?: RuntimeOptions;
  /** Metrics to expose at /metrics. Default: the runtime's, else new ones on `registry` (wired into the runtime the server creates). */
  metrics?: ExecutorMetrics;
  /** Registry for the metrics the server creates. Default: a new one. */
  registry?: Registry;
  /** Largest request body, bytes. Default 16 MiB. */
  bodyLimit?: number;
  /** Batches accepted at once (running or waiting); past it, 429 with Retry-After. Default 32. */
  maxInFlight?: number;
  /** The Retry-After of a 429, seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Items per request. Default 1,000,000. */
  maxItems?: number;
  /** Fastify's logger option. Default false. */
  logger?: boolean;
}

export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Batches in flight, for /healthz and the 429 rule. */
interface Admission {
  inFlight: number;
  readonly limit: number;
  shuttingDown: boolean;
  idle: Array<() => void>;
}

const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_VALIDATION: 'INVALID_BODY',
};

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** The item index in an Ajv path such as `/items/3/publicKey`. */
function indexOf(instancePath: string | undefined): number | undefined {
  const m = /^\/[^/]+\/(\d+)(?:\/|$)/.exec(instancePath ?? '');
  return m ? Number(m[1]) : undefined;
}

function wantsBinary(request: FastifyRequest): boolean {
  return /application\/octet-stream/i.test(request.headers.accept ?? '');
}

function statsOf<O>(result: ExecResult<O>): Record<string, unknown> {
  const { device, backend, durationMs, split, fellBack, strategy } = result.stats;
  return { device, backend, durationMs, ...(split ? { split } : {}), ...(fellBack ? { fellBack } : {}), ...(strategy ? { strategy } : {}) };
}

/**
 * The HTTP front of the executor: `POST /v1/sha256`, `POST /v1/ed25519/verify`,
 * `GET /metrics`, `GET /healthz`. Not listening yet: call `listen` (port 0 picks
 * a free one). `close()` stops accepting, lets accepted batches finish, then
 * closes the runtime it owns.
 */
export function createServer(options: ServerOptions = {}): FastifyInstance {
  const bodyLimit = positive(options.bodyLimit ?? DEFAULT_BODY_LIMIT, 'bodyLimit');
  const maxItems = positive(options.maxItems ?? 1_000_000, 'maxItems');
  const retryAfter = positive(options.retryAfterSeconds ?? 1, 'retryAfterSeconds');
  const admission: Admission = { inFlight: 0, limit: positive(options.maxInFlight ?? 32, 'maxInFlight'), shuttingDown: false, idle: [] };

  const ownsRuntime = options.runtime === undefined;
  let metrics = options.metrics ?? options.runtime?.metrics;
  if (metrics === undefined) metrics = createMetrics({ registry: options.registry ?? new Registry() });
  const runtime = options.runtime ?? new Runtime({ ...options.runtimeOptions, metrics });
  if (options.runtime === undefined || options.runtime.metrics === undefined) metrics.bind(runtime);
  const exposed = metrics;

  const app = Fastify({ logger: options.logger ?? false, bodyLimit });
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError | HttpError | Error, _request, reply) => {
    let status = 500;
    let body: ErrorBody;
    if (error instanceof HttpError) {
      status = error.statusCode;
      body = { error: error.code, message: error.message, ...(error.index === undefined ? {} : { index: error.index }) };
      for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
    } else if (isExecutorError(error)) {
      const map: Record<string, number> = { INVALID_INPUT: 400, INVALID_OPTION: 400, QUEUE_FULL: 429, CLOSED: 503, BACKEND_UNAVAILABLE: 503, ABORTED: 503 };
      status = map[error.code] ?? 500;
      if (status === 429) reply.header('retry-after', String(retryAfter));
      body = { error: error.code, message: error.message, ...(error.index === undefined ? {} : { index: error.index }) };
    } else if ('validation' in error && Array.isArray(error.validation)) {
      status = 400;
      const index = indexOf(error.validation[0]?.instancePath);
      body = { error: 'INVALID_BODY', message: error.message, ...(index === undefined ? {} : { index }) };
    } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
      body = { error: fastifyCodes[code] ?? 'BAD_REQUEST', message: error.message };
    } else {
      _request.log.error(error);
      body = { error: 'INTERNAL', message: error.message };
    }
    return reply.code(status).send(body);
  });

  /** Admits a batch or answers 429; an admitted one counts until its response is done. */
  const admit = async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (admission.inFlight >= admission.limit) {
      reply.code(429).header('retry-after', String(retryAfter));
      await reply.send({ error: 'OVERLOADED', message: `${admission.inFlight} batches in flight (limit ${admission.limit}); retry after ${retryAfter} s` } satisfies ErrorBody);
      return;
    }
    admission.inFlight++;
    reply.raw.once('close', () => {
      admission.inFlight--;
      if (admission.inFlight === 0) for (const wake of admission.idle.splice(0)) wake();
    });
  };

  // While shutting down, answers close their connection so the server can finish closing.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (admission.shuttingDown) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('preClose', async () => {
    admission.shuttingDown = true;
  });
  app.addHook('onClose', async () => {
    // Fastify waits for in-flight requests before onClose; this also covers batches whose client went away.
    if (admission.inFlight > 0) await new Promise<void>((resolve) => admission.idle.push(resolve));
    if (ownsRuntime) await runtime.close();
  });

  const run = async <I, O>(kernel: typeof sha256Kernel | typeof ed25519Kernel, input: I, device: DeviceChoice | undefined): Promise<ExecResult<O>> => {
    const scheduler = await runtime.scheduler(kernel as unknown as Parameters<Runtime['scheduler']>[0]);
    return scheduler.execute(input as never, device ? { device } : {}) as unknown as Promise<ExecResult<O>>;
  };

  const bodyCheck = (request: FastifyRequest): Buffer | object => {
    const body = request.body;
    if (body === undefined || body === null) throw new HttpError(400, 'INVALID_BODY', 'a JSON or application/octet-stream body is required');
    return body as Buffer | object;
  };

  app.post<{ Querystring: { device?: DeviceChoice } }>(
    '/v1/sha256',
    {
      onRequest: admit,
      schema: {
        querystring: DEVICE_QUERY,
        body: { content: { 'application/json': { schema: sha256JsonSchema(maxItems) }, 'application/octet-stream': { schema: {} } } },
      },
    },
    async (request, reply) => {
      const body = bodyCheck(request);
      const input: Sha256Columns = Buffer.isBuffer(body) ? sha256FromBinary(body, maxItems) : sha256FromJson(body as { messages: string[] });
      const result = await run<Sha256Columns, Uint8Array>(sha256Kernel, input, request.query.device);
      if (wantsBinary(request)) return reply.type('application/octet-stream').send(bytesOf(result.output));
      return { digests: digestsToHex(result.output), stats: statsOf(result) };
    },
  );

  app.post<{ Querystring: { device?: DeviceChoice } }>(
    '/v1/ed25519/verify',
    {
      onRequest: admit,
      schema: {
        querystring: DEVICE_QUERY,
        body: { content: { 'application/json': { schema: ed25519JsonSchema(maxItems) }, 'application/octet-stream': { schema: {} } } },
      },
    },
    async (request, reply) => {
      const body = bodyCheck(request);
      const input: Ed25519Columns = Buffer.isBuffer(body) ? ed25519FromBinary(body, maxItems) : ed25519FromJson(body as Ed25519Json);
      const result = await run<Ed25519Columns, Uint8Array>(ed25519Kernel, input, request.query.device);
      if (wantsBinary(request)) return reply.type('application/octet-stream').send(bytesOf(result.output));
      return { valid: Array.from(result.output, (v) => v === 1), stats: statsOf(result) };
    },
  );

  app.get('/metrics', async (_request, reply) => {
    const text = await exposed.text();
    return reply.type(exposed.contentType).send(text);
  });

  app.get('/healthz', async () => {
    const info = await runtime.info();
    return {
      ok: !admission.shuttingDown,
      gpu: info.gpu.available
        ? { available: true, adapter: [info.gpu.adapter.vendor, info.gpu.adapter.device, info.gpu.adapter.description].filter(Boolean).join(' '), backend: info.gpu.adapter.backend, software: info.gpu.adapter.software }
        : { available: false, reason: info.gpu.reason },
      queue: { inFlight: admission.inFlight, limit: admission.limit, workerQueue: runtime.pool.queueSize },
      cpu: info.cpu,
    };
  });

  return app;
}
