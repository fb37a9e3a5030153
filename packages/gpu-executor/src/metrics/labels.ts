import type { ExecutorErrorCode } from '../errors.js';

/** Every label value outside a known set becomes this, so series stay bounded. */
export const OTHER = 'other';

/** The built-in kernels' names. */
export const BUILTIN_KERNELS = ['vector-add', 'sha256', 'ed25519-verify'] as const;

/** The strategies this package ships. */
export const BUILTIN_STRATEGIES = ['threshold', 'adaptive', 'cost-model'] as const;

/** ExecutorError codes: the only fallback reasons a label may carry. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'INVALID_OPTION',
  'BACKEND_UNAVAILABLE',
  'KERNEL_FAILED',
  'DEVICE_LOST',
  'OUT_OF_MEMORY',
  'TIMEOUT',
  'ABORTED',
  'QUEUE_FULL',
  'CLOSED',
] as const satisfies readonly ExecutorErrorCode[];

/** Maps a value to itself when it is in `allowed`, else to `other`. */
export function bounded(value: string | undefined, allowed: ReadonlySet<string>): string {
  return value !== undefined && allowed.has(value) ? value : OTHER;
}

/** The ExecutorError code at the start of a fallback reason (`DEVICE_LOST: ...`), else `other`. */
export function reasonCode(fallbackReason: string | undefined): string {
  const code = /^([A-Z_]+):/.exec(fallbackReason ?? '')?.[1];
  return (ERROR_CODES as readonly string[]).includes(code ?? '') ? code! : OTHER;
}
