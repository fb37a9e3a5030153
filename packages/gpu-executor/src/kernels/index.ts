/** The built-in kernels, each a self-contained module (CPU path, WGSL program, cost hint). */
export { kernel as vectorAddKernel, type VectorAddInput } from './vector-add/index.js';
export { kernel as sha256Kernel, toSha256Columns, type Sha256Columns } from './sha256/index.js';
export { kernel as ed25519Kernel, toEd25519Columns, type Ed25519Columns } from './ed25519/index.js';
