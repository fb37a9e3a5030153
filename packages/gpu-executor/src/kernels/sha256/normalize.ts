import { invalidInput } from '../../errors.js';

/** Messages packed end to end: message i is data[offsets[i] .. offsets[i+1]). */
export type Sha256Columns = {
  readonly data: Uint8Array;
  readonly offsets: Uint32Array;
};

/** Checks columnar input: offsets start at 0, never decrease and end at data.length. */
export function validate(input: unknown): Sha256Columns {
  if (typeof input !== 'object' || input === null) throw invalidInput('sha256 input must be {data, offsets}');
  const { data, offsets } = input as { data?: unknown; offsets?: unknown };
  if (!(data instanceof Uint8Array)) throw invalidInput('data must be a Uint8Array');
  if (!(offsets instanceof Uint32Array)) throw invalidInput('offsets must be a Uint32Array');
  if (offsets.length === 0) throw invalidInput('offsets needs n + 1 entries (at least [0])');
  if (offsets[0] !== 0) throw invalidInput(`offsets[0] must be 0, got ${offsets[0]}`, 0);
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! < offsets[i - 1]!) throw invalidInput(`offsets decrease at message ${i - 1}`, i - 1);
  }
  const last = offsets[offsets.length - 1]!;
  if (last !== data.length) throw invalidInput(`the last offset is ${last} but data has ${data.length} bytes`, offsets.length - 2);
  return { data, offsets };
}

/** Accepts `Uint8Array[]` (packed with one copy) or columns `{data, offsets}`. */
export function toSha256Columns(messages: unknown): Sha256Columns {
  if (!Array.isArray(messages)) return validate(messages);
  let total = 0;
  messages.forEach((m: unknown, i) => {
    if (!(m instanceof Uint8Array)) throw invalidInput('each message must be a Uint8Array', i);
    total += m.length;
  });
  if (total > 0xffffffff) throw invalidInput(`messages total ${total} bytes; at most 4 GiB - 1 per batch`);
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(messages.length + 1);
  let at = 0;
  (messages as Uint8Array[]).forEach((m, i) => {
    data.set(m, at);
    at += m.length;
    offsets[i + 1] = at;
  });
  return { data, offsets };
}
