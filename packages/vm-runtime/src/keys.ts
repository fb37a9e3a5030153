/** State keys: UTF-8 strings, sorted bytewise for the state root. Values are u64. */
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export const balanceKey = (account: Uint8Array): string => `b/${hex(account)}`;
export const nonceKey = (account: Uint8Array): string => `n/${hex(account)}`;
export const contractKey = (contract: string, key: string): string => `c/${contract}/${key}`;
