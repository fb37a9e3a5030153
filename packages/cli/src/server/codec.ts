/**
 * Request and response encodings of the batch routes.
 *
 * JSON: hex strings in, hex strings or booleans out.
 *
 * Binary (`Content-Type: application/octet-stream`), every integer a
 * little-endian u32:
 *
 *   SHA-256:  count | offsets[count + 1] | message bytes
 *   Ed25519:  count | offsets[count + 1] | public keys (32 * count) | signatures (64 * count) | message bytes
 *
 * Message i is bytes [offsets[i], offsets[i + 1]) of the message bytes, so
 * offsets[0] is 0 and offsets[count] their length. Binary answers (with
 * `Accept: application/octet-stream`): 32 bytes per digest; one byte per
 * verdict, 1 valid and 0 invalid.
 */
import type { Ed25519Columns, Sha256Columns } from '@supervm/gpu-executor/kernels';
import { badRequest } from './errors.js';

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

function hexBytes(hex: string): Uint8Array {
  return Buffer.from(hex, 'hex');
}

/** Packs messages end to end with n + 1 offsets. */
function pack(messages: readonly Uint8Array[]): { data: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(messages.length + 1);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    total += messages[i]!.length;
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < messages.length; i++) data.set(messages[i]!, offsets[i]!);
  return { data, offsets };
}

function concatFixed(values: readonly string[], width: number): Uint8Array {
  const out = new Uint8Array(values.length * width);
  for (let i = 0; i < values.length; i++) out.set(hexBytes(values[i]!), i * width);
  return out;
}

export function sha256FromJson(body: { messages: string[] }): Sha256Columns {
  return pack(body.messages.map(hexBytes));
}

export interface Ed25519Json {
  items?: Array<{ message: string; publicKey: string; signature: string }>;
  messages?: string[];
  publicKeys?: string[];
  signatures?: string[];
}

export function ed25519FromJson(body: Ed25519Json): Ed25519Columns {
  const { items, messages, publicKeys, signatures } = body;
  const columns = messages !== undefined || publicKeys !== undefined || signatures !== undefined;
  if (items !== undefined) {
    if (columns) throw badRequest('INVALID_BODY', 'give either items or the columns messages, publicKeys, signatures, not both');
    const { data, offsets } = pack(items.map((it) => hexBytes(it.message)));
    return {
      data,
      offsets,
      publicKeys: concatFixed(items.map((it) => it.publicKey), PUBLIC_KEY_BYTES),
      signatures: concatFixed(items.map((it) => it.signature), SIGNATURE_BYTES),
    };
  }
  if (messages === undefined || publicKeys === undefined || signatures === undefined) {
    throw badRequest('INVALID_BODY', 'body needs items, or all three columns messages, publicKeys and signatures');
  }
  if (publicKeys.length !== messages.length) {
    throw badRequest('INVALID_BODY', `publicKeys has ${publicKeys.length} entries for ${messages.length} messages`, Math.min(publicKeys.length, messages.length));
  }
  if (signatures.length !== messages.length) {
    throw badRequest('INVALID_BODY', `signatures has ${signatures.length} entries for ${messages.length} messages`, Math.min(signatures.length, messages.length));
  }
  const { data, offsets } = pack(messages.map(hexBytes));
  return { data, offsets, publicKeys: concatFixed(publicKeys, PUBLIC_KEY_BYTES), signatures: concatFixed(signatures, SIGNATURE_BYTES) };
}

/** Reads `count | offsets[count + 1]`; returns them and where the rest starts. */
function readHeader(body: Buffer, maxItems: number): { count: number; offsets: Uint32Array; at: number } {
  if (body.length < 4) throw badRequest('INVALID_BINARY', 'a binary body starts with a 4-byte little-endian item count');
  const count = body.readUInt32LE(0);
  if (count > maxItems) throw badRequest('TOO_MANY_ITEMS', `${count} items; at most ${maxItems} per request`);
  const at = 4 + 4 * (count + 1);
  if (body.length < at) throw badRequest('INVALID_BINARY', `${count} items need ${count + 1} offsets (${at} header bytes), the body has ${body.length}`);
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i <= count; i++) offsets[i] = body.readUInt32LE(4 + 4 * i);
  return { count, offsets, at };
}

/** `count | offsets | data`; offset errors are left to the kernel's validation (INVALID_INPUT with the index). */
export function sha256FromBinary(body: Buffer, maxItems: number): Sha256Columns {
  const { offsets, at } = readHeader(body, maxItems);
  return { data: new Uint8Array(body.buffer, body.byteOffset + at, body.length - at), offsets };
}

export function ed25519FromBinary(body: Buffer, maxItems: number): Ed25519Columns {
  const { count, offsets, at } = readHeader(body, maxItems);
  const keysAt = at;
  const sigsAt = keysAt + PUBLIC_KEY_BYTES * count;
  const dataAt = sigsAt + SIGNATURE_BYTES * count;
  if (body.length < dataAt) {
    throw badRequest('INVALID_BINARY', `${count} items need ${PUBLIC_KEY_BYTES * count} key and ${SIGNATURE_BYTES * count} signature bytes after the offsets; the body ends first`);
  }
  const view = (from: number, to: number): Uint8Array => new Uint8Array(body.buffer, body.byteOffset + from, to - from);
  return { data: view(dataAt, body.length), offsets, publicKeys: view(keysAt, sigsAt), signatures: view(sigsAt, dataAt) };
}

/** Builds the SHA-256 binary body (for clients and tests). */
export function encodeSha256Binary(messages: readonly Uint8Array[]): Buffer {
  const { data, offsets } = pack(messages);
  const out = Buffer.alloc(4 + 4 * offsets.length + data.length);
  out.writeUInt32LE(messages.length, 0);
  offsets.forEach((o, i) => out.writeUInt32LE(o, 4 + 4 * i));
  out.set(data, 4 + 4 * offsets.length);
  return out;
}

/** Builds the Ed25519 binary body (for clients and tests). */
export function encodeEd25519Binary(items: ReadonlyArray<{ message: Uint8Array; publicKey: Uint8Array; signature: Uint8Array }>): Buffer {
  const { data, offsets } = pack(items.map((it) => it.message));
  const n = items.length;
  const head = 4 + 4 * offsets.length;
  const out = Buffer.alloc(head + (PUBLIC_KEY_BYTES + SIGNATURE_BYTES) * n + data.length);
  out.writeUInt32LE(n, 0);
  offsets.forEach((o, i) => out.writeUInt32LE(o, 4 + 4 * i));
  items.forEach((it, i) => {
    out.set(it.publicKey, head + PUBLIC_KEY_BYTES * i);
    out.set(it.signature, head + PUBLIC_KEY_BYTES * n + SIGNATURE_BYTES * i);
  });
  out.set(data, head + (PUBLIC_KEY_BYTES + SIGNATURE_BYTES) * n);
  return out;
}

/** The bytes of a (possibly shared-memory) typed array, without copying. */
export function bytesOf(output: Uint8Array): Buffer {
  return Buffer.from(output.buffer, output.byteOffset, output.byteLength);
}

/** Digests as hex strings, 32 bytes each. */
export function digestsToHex(output: Uint8Array): string[] {
  const hex = bytesOf(output).toString('hex');
  const out = new Array<string>(output.length / 32);
  for (let i = 0; i < out.length; i++) out[i] = hex.slice(i * 64, i * 64 + 64);
  return out;
}
