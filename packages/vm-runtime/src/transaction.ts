import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { ExecutorError } from '@supervm/gpu-executor';

/**
 * Canonical binary encoding (little-endian integers):
 *   version u8 (=1) | sender 32 | nonce u64 | kind u8 | payload | signature 64
 *   transfer (kind 1): recipient 32 | amount u64
 *   call     (kind 2): gas limit u32 | name length u8 | name (ASCII) | args length u32 | args
 * The signature is Ed25519 over everything before it; the id is SHA-256 of all of it.
 */
export const TX_VERSION = 1;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Longest contract name; names are ASCII. */
export const MAX_CONTRACT_NAME = 64;
export const MAX_ARGS_BYTES = 64 * 1024;

export type Payload =
  | { kind: 'transfer'; to: Uint8Array; amount: bigint }
  | { kind: 'call'; contract: string; gasLimit: number; args: Uint8Array };

export interface UnsignedTransaction {
  sender: Uint8Array;
  nonce: bigint;
  payload: Payload;
}

export interface Transaction extends UnsignedTransaction {
  signature: Uint8Array;
}

const U64_MAX = (1n << 64n) - 1n;

function malformed(message: string, index?: number): ExecutorError {
  return new ExecutorError('INVALID_INPUT', index === undefined ? `transaction: ${message}` : `transaction ${index}: ${message}`, { index });
}

function checkUnsigned(tx: UnsignedTransaction, index?: number): void {
  if (!(tx.sender instanceof Uint8Array) || tx.sender.length !== PUBLIC_KEY_BYTES) throw malformed('sender must be 32 bytes', index);
  if (typeof tx.nonce !== 'bigint' || tx.nonce < 0n || tx.nonce > U64_MAX) throw malformed('nonce must be a u64 bigint', index);
  const p = tx.payload;
  if (p?.kind === 'transfer') {
    if (!(p.to instanceof Uint8Array) || p.to.length !== PUBLIC_KEY_BYTES) throw malformed('recipient must be 32 bytes', index);
    if (typeof p.amount !== 'bigint' || p.amount < 0n || p.amount > U64_MAX) throw malformed('amount must be a u64 bigint', index);
  } else if (p?.kind === 'call') {
    if (typeof p.contract !== 'string' || p.contract.length === 0 || p.contract.length > MAX_CONTRACT_NAME || !/^[\x20-\x7e]+$/.test(p.contract)) {
      throw malformed(`contract name must be 1..${MAX_CONTRACT_NAME} ASCII characters`, index);
    }
    if (!Number.isInteger(p.gasLimit) || p.gasLimit < 0 || p.gasLimit > 0xffffffff) throw malformed('gasLimit must be a u32', index);
    if (!(p.args instanceof Uint8Array) || p.args.length > MAX_ARGS_BYTES) throw malformed(`args must be a Uint8Array of at most ${MAX_ARGS_BYTES} bytes`, index);
  } else {
    throw malformed('payload kind must be transfer or call', index);
  }
}

/** The bytes a sender signs. */
export function encodeUnsigned(tx: UnsignedTransaction): Uint8Array {
  checkUnsigned(tx);
  const p = tx.payload;
  const size = 1 + 32 + 8 + 1 + (p.kind === 'transfer' ? 40 : 4 + 1 + p.contract.length + 4 + p.args.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = TX_VERSION;
  out.set(tx.sender, 1);
  view.setBigUint64(33, tx.nonce, true);
  let at = 42;
  if (p.kind === 'transfer') {
    out[41] = 1;
    out.set(p.to, at);
    view.setBigUint64(at + 32, p.amount, true);
  } else {
    out[41] = 2;
    view.setUint32(at, p.gasLimit, true);
    out[at + 4] = p.contract.length;
    at += 5;
    for (let i = 0; i < p.contract.length; i++) out[at + i] = p.contract.charCodeAt(i);
    at += p.contract.length;
    view.setUint32(at, p.args.length, true);
    out.set(p.args, at + 4);
  }
  return out;
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  if (!(tx.signature instanceof Uint8Array) || tx.signature.length !== SIGNATURE_BYTES) throw malformed('signature must be 64 bytes');
  const unsigned = encodeUnsigned(tx);
  const out = new Uint8Array(unsigned.length + SIGNATURE_BYTES);
  out.set(unsigned);
  out.set(tx.signature, unsigned.length);
  return out;
}

/** Decodes one transaction; truncated, oversized or unknown encodings are INVALID_INPUT (with `index` when given). */
export function decodeTransaction(bytes: Uint8Array, index?: number): Transaction {
  if (!(bytes instanceof Uint8Array)) throw malformed('encoding must be a Uint8Array', index);
  const need = (at: number, n: number): void => {
    if (at + n > bytes.length) throw malformed(`truncated at byte ${at} (needs ${n} more of ${bytes.length})`, index);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  need(0, 42);
  if (bytes[0] !== TX_VERSION) throw malformed(`unknown version ${bytes[0]}`, index);
  const sender = bytes.slice(1, 33);
  const nonce = view.getBigUint64(33, true);
  const kind = bytes[41];
  let at = 42;
  let payload: Payload;
  if (kind === 1) {
    need(at, 40);
    payload = { kind: 'transfer', to: bytes.slice(at, at + 32), amount: view.getBigUint64(at + 32, true) };
    at += 40;
  } else if (kind === 2) {
    need(at, 5);
    const gasLimit = view.getUint32(at, true);
    const nameLength = bytes[at + 4]!;
    at += 5;
    need(at, nameLength + 4);
    const contract = String.fromCharCode(...bytes.subarray(at, at + nameLength));
    at += nameLength;
    const argsLength = view.getUint32(at, true);
    at += 4;
    need(at, argsLength);
    payload = { kind: 'call', contract, gasLimit, args: bytes.slice(at, at + argsLength) };
    at += argsLength;
  } else {
    throw malformed(`unknown payload kind ${kind}`, index);
  }
  need(at, SIGNATURE_BYTES);
  const signature = bytes.slice(at, at + SIGNATURE_BYTES);
  if (at + SIGNATURE_BYTES !== bytes.length) throw malformed(`${bytes.length - at - SIGNATURE_BYTES} trailing bytes`, index);
  const tx = { sender, nonce, payload, signature };
  checkUnsigned(tx, index);
  return tx;
}

export function transactionId(encoded: Uint8Array): Uint8Array {
  return createHash('sha256').update(encoded).digest();
}

/** An Ed25519 signer: the 32-byte seed's public key and a way to sign. */
export interface Signer {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The key is imported as a JWK (RFC 8037: `d` is the seed) rather than as
 * PKCS#8 DER: OpenSSL 3's DER decoder took ~316 us a key here, the JWK path
 * ~35 us, and `supervm run --accounts 100000` spent 34 s creating signers.
 * Node derives the public key from `d` and ignores the empty `x`; a test holds
 * the result equal to the DER import's.
 */

export function signerFromSeed(seed: Uint8Array): Signer {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes');
  const key: KeyObject = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x: '' }, format: 'jwk' });
  const jwk = key.export({ format: 'jwk' });
  const publicKey = new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
  return { publicKey, sign: (message) => new Uint8Array(sign(null, message, key)) };
}

export function signTransaction(tx: UnsignedTransaction, signer: Signer): Transaction {
  return { ...tx, signature: signer.sign(encodeUnsigned(tx)) };
}
