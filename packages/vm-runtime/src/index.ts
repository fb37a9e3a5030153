export {
  MAX_ARGS_BYTES,
  MAX_CONTRACT_NAME,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
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
export { Chain, type BlockResult, type ChainOptions, type ExecuteBlockOptions } from './chain.js';
export {
  executePrepared,
  executeWithHybrid,
  layoutBlock,
  prepareBlock,
  transactionToTask,
  verifyBlock,
  type BlockStats,
  type HybridOptions,
  type HybridResult,
  type PreparedBlock,
  type StateDelta,
  type TxTask,
} from './hybrid.js';
export { executeReference, verifySignature, type ReferenceOutcome } from './reference.js';
export { Receipt, receiptName, type ReceiptStatus } from './receipts.js';
export { CONTRACTS, ContractError, OutOfGas, contractId, type Contract, type ContractContext } from './contracts/index.js';
export { balanceKey, contractKey, nonceKey } from './keys.js';
export { StateRootCache, stateRoot, type PreparedRoot } from './state-root.js';
export { ChainState, KeyPool } from './state.js';
export { ChainStore, type BlockRecord, type CommitHook, type StateWrites } from './store.js';
export { buildTables, tablesFromColumns, type BlockTables, type TxColumns, type TxSlots } from './block-stm/layout.js';
export { executeSequential, type BlockOutcome } from './sequential.js';
export { BlockStmPool, type BlockStmPoolOptions } from './block-stm/parallel.js';
export { generateBlock, createAccounts, type Account, type BlockSpec } from './workload.js';
export { benchRuntime, type BenchOptions, type BenchRow } from './bench.js';
