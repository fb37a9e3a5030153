export {
  TX_VERSION,
  decodeTransaction,
  encodeTransaction,
  encodeUnsigned,
  signTransaction,
  signerFromSeed,
  transactionId,
  type Payload,
  type Signer,
  type Transaction,
  type UnsignedTransaction,
} from './transaction.js';
export { Chain, transactionToTask, type BlockResult, type BlockStats, type ChainOptions, type ExecuteBlockOptions, type TxTask } from './chain.js';
export { Receipt, receiptName, type ReceiptStatus } from './receipts.js';
export { CONTRACTS, ContractError, OutOfGas, contractId, type Contract, type ContractContext } from './contracts/index.js';
export { balanceKey, contractKey, nonceKey } from './keys.js';
export { stateRoot } from './state-root.js';
export { buildTables, type BlockTables, type TxSlots } from './block-stm/layout.js';
export { executeSequential, type BlockOutcome } from './sequential.js';
export { BlockStmPool } from './block-stm/parallel.js';
export { generateBlock, createAccounts, type Account, type BlockSpec } from './workload.js';
