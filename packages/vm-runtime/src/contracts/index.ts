import type { Contract } from './contract.js';
import { counter } from './counter.js';
import { work } from './work.js';

export { ContractError, OutOfGas, type Contract, type ContractContext } from './contract.js';

/** Built-in contracts by id (their index): ids travel to workers instead of names. */
export const CONTRACTS: readonly Contract[] = [counter, work];

export function contractId(name: string): number {
  return CONTRACTS.findIndex((c) => c.name === name);
}
