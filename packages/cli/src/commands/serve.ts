import type { Command } from 'commander';
import { positiveInteger, nonNegativeInteger } from '../options.js';
import { DEFAULT_BODY_LIMIT, createServer } from '../server/index.js';

interface ServeOptions {
  port: number;
  host: string;
  bodyLimit: number;
  maxInFlight: number;
  retryAfter: number;
  maxItems: number;
  threads?: number;
  gpu: boolean;
  log?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('HTTP API over the executor: POST /v1/sha256, POST /v1/ed25519/verify, GET /metrics (Prometheus), GET /healthz')
    .option('--port <n>', 'TCP port (0: any free port)', nonNegativeInteger, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--body-limit <bytes>', 'largest request body in bytes', positiveInteger, DEFAULT_BODY_LIMIT)
    .option('--max-in-flight <n>', 'batches accepted at once; more get 429 with Retry-After', positiveInteger, 32)
    .option('--retry-after <seconds>', 'Retry-After of a 429', positiveInteger, 1)
    .option('--max-items <n>', 'items per request', positiveInteger, 1_000_000)
    .option('--threads <n>', 'CPU worker threads (default: all cores)', positiveInteger)
    .option('--no-gpu', 'run everything on the CPU')
    .option('--log', 'log every request (fastify/pino JSON lines on stdout)')
    .action(async (options: ServeOptions) => {
      const app = createServer({
        bodyLimit: options.bodyLimit,
        maxInFlight: options.maxInFlight,
        retryAfterSeconds: options.retryAfter,
        maxItems: options.maxItems,
        logger: options.log === true,
        runtimeOptions: { ...(options.threads ? { threads: options.threads } : {}), ...(options.gpu ? {} : { gpu: false }) },
      });
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) {
          console.error(`${signal} again: exiting without waiting`);
          process.exit(1);
        }
        stopping = true;
        console.log(`${signal}: no new requests; finishing accepted batches`);
        // close(): stop listening, wait for in-flight requests, then close the runtime (and save its cost models).
        app.close().then(
          () => {
            console.log('stopped');
            process.exit(0);
          },
          (err: unknown) => {
            console.error(`shutdown failed: ${(err as Error).message}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      const address = await app.listen({ port: options.port, host: options.host });
      console.log(`supervm serve listening on ${address}`);
    });
}
