/** Raised by a contract for a call that must be rejected (receipt `contract_error`). */
export class ContractError extends Error {
  override readonly name = 'ContractError';
}

/** Raised when a call uses more gas than its limit (receipt `out_of_gas`). */
export class OutOfGas extends Error {
  override readonly name = 'OutOfGas';
}

/** What a contract sees: only the storage keys it declared, by their index in that list. */
export interface ContractContext {
  readonly sender: Uint8Array;
  read(key: number): bigint;
  write(key: number, value: bigint): void;
  useGas(units: number): void;
}

/**
 * A deterministic contract, loaded by the main thread and by every worker.
 * Its storage keys are declared from the call alone (sender and args), before
 * execution, which is what lets the parallel executor lay the block out in
 * shared memory; values are u64.
 */
export interface Contract {
  readonly name: string;
  keys(sender: Uint8Array, args: Uint8Array): string[];
  execute(ctx: ContractContext, args: Uint8Array): void;
}
