import { invalidInput } from '../../errors.js';

/** Bytes of an encoded public key (RFC 8032 section 5.1.5). */
export const PUBLIC_KEY_BYTES = 32;
/** Bytes of a signature R || S (RFC 8032 section 5.1.6). */
export const SIGNATURE_BYTES = 64;
/** Largest offset a Uint32Array column can hold. */
const MAX_OFFSET = 0xffff_ffff;

/**
 * A batch of Ed25519 verifications as columns. Item i verifies
 * `signatures[64i, 64i+64)` over `data[offsets[i], offsets[i+1])` under
 * `publicKeys[32i, 32i+32)`.
 */
export type Ed25519Columns = {
  readonly data: Uint8Array;
  readonly offsets: Uint32Array;
  readonly publicKeys: Uint8Array;
  readonly signatures: Uint8Array;
};

/** The object form: each field either one array per item or already packed. */
export interface Ed25519BatchInput {
  messages: readonly Uint8Array[] | { data: Uint8Array; offsets: Uint32Array };
  publicKeys: readonly Uint8Array[] | Uint8Array;
  signatures: readonly Uint8Array[] | Uint8Array;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Checks that `offsets` describes `items` messages inside `data`: the first
 * item whose range is reversed or runs past the data is the offending index.
 */
function checkOffsets(data: Uint8Array, offsets: Uint32Array): void {
  if (offsets.length === 0) throw invalidInput('offsets must have n + 1 entries, got 0');
  let prev = offsets[0] ?? 0;
  if (prev > data.length) throw invalidInput('offsets[0] is beyond the end of data', 0);
  for (let i = 1; i < offsets.length; i++) {
    const next = offsets[i] ?? 0;
    if (next < prev) throw invalidInput(`offsets are not monotonic: offsets[${i}] = ${next} < offsets[${i - 1}] = ${prev}`, i - 1);
    if (next > data.length) throw invalidInput(`message ends at ${next}, beyond data (${data.length} bytes)`, i - 1);
    prev = next;
  }
}

/**
 * Checks a packed column of fixed-width items. A short column names the first
 * item without a full entry; a long one names item n, the first extra.
 */
function checkPacked(column: Uint8Array, width: number, items: number, what: string): void {
  if (column.length === width * items) return;
  const index = column.length < width * items ? Math.floor(column.length / width) : items;
  throw invalidInput(`${what} must be ${width} * ${items} = ${width * items} bytes, got ${column.length}`, index);
}

/** Checks already-columnar input (the kernel's `validate`). Returns it unchanged. */
export function validate(input: unknown): Ed25519Columns {
  if (!isRecord(input)) throw invalidInput('ed25519 input must be an object of columns');
  const { data, offsets, publicKeys, signatures } = input;
  if (!(data instanceof Uint8Array)) throw invalidInput('data must be a Uint8Array');
  if (!(offsets instanceof Uint32Array)) throw invalidInput('offsets must be a Uint32Array');
  if (!(publicKeys instanceof Uint8Array)) throw invalidInput('publicKeys must be a Uint8Array');
  if (!(signatures instanceof Uint8Array)) throw invalidInput('signatures must be a Uint8Array');
  checkOffsets(data, offsets);
  const items = offsets.length - 1;
  checkPacked(publicKeys, PUBLIC_KEY_BYTES, items, 'publicKeys');
  checkPacked(signatures, SIGNATURE_BYTES, items, 'signatures');
  return { data, offsets, publicKeys, signatures };
}

function concatMessages(messages: readonly unknown[]): { data: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(messages.length + 1);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!(m instanceof Uint8Array)) throw invalidInput('messages[i] must be a Uint8Array', i);
    total += m.length;
    if (total > MAX_OFFSET) throw invalidInput(`messages exceed ${MAX_OFFSET} bytes in total`, i);
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < messages.length; i++) data.set(messages[i] as Uint8Array, offsets[i]);
  return { data, offsets };
}

/** One fixed-width field as a packed column, checking the per-item form entry by entry. */
function packFixed(value: unknown, width: number, items: number, what: string): Uint8Array {
  if (value instanceof Uint8Array) {
    checkPacked(value, width, items, what);
    return value;
  }
  if (!Array.isArray(value)) throw invalidInput(`${what} must be a Uint8Array or an array of Uint8Array`);
  const column = new Uint8Array(width * items);
  const n = Math.min(value.length, items);
  for (let i = 0; i < n; i++) {
    const entry: unknown = value[i];
    if (!(entry instanceof Uint8Array)) throw invalidInput(`${what}[i] must be a Uint8Array`, i);
    if (entry.length !== width) throw invalidInput(`${what}[i] must be ${width} bytes, got ${entry.length}`, i);
    column.set(entry, i * width);
  }
  if (value.length !== items) throw invalidInput(`${what} has ${value.length} entries for ${items} messages`, n);
  return column;
}

/**
 * Normalizes `{messages, publicKeys, signatures}` to columns, copying only what
 * is not already packed. Shape errors throw INVALID_INPUT with the item index;
 * a bad key or signature is never an error here, it verifies as 0.
 */
export function toEd25519Columns(input: unknown): Ed25519Columns {
  if (!isRecord(input)) throw invalidInput('ed25519 input must be an object {messages, publicKeys, signatures}');
  const { messages } = input;
  let data: Uint8Array;
  let offsets: Uint32Array;
  if (Array.isArray(messages)) {
    ({ data, offsets } = concatMessages(messages));
  } else if (isRecord(messages) && messages['data'] instanceof Uint8Array && messages['offsets'] instanceof Uint32Array) {
    data = messages['data'];
    offsets = messages['offsets'];
    checkOffsets(data, offsets);
  } else {
    throw invalidInput('messages must be an array of Uint8Array or {data: Uint8Array, offsets: Uint32Array}');
  }
  const items = offsets.length - 1;
  const publicKeys = packFixed(input['publicKeys'], PUBLIC_KEY_BYTES, items, 'publicKeys');
  const signatures = packFixed(input['signatures'], SIGNATURE_BYTES, items, 'signatures');
  return { data, offsets, publicKeys, signatures };
}
