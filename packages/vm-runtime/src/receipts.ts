/** Receipt codes, stored per transaction; a rejected transaction changes no state. */
export const Receipt = {
  ok: 0,
  bad_signature: 1,
  bad_nonce: 2,
  insufficient_balance: 3,
  contract_error: 4,
  out_of_gas: 5,
} as const;

export type ReceiptStatus = keyof typeof Receipt;

const NAMES = Object.keys(Receipt) as ReceiptStatus[];

export function receiptName(code: number): ReceiptStatus {
  const name = NAMES[code];
  if (name === undefined) throw new RangeError(`unknown receipt code ${code}`);
  return name;
}
