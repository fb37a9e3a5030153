// The SHA-256 workload the scripts share: n messages of 64 bytes (each byte 5), packed
// with offsets, as plain columns (wrap in shareColumns for the pool's shared memory).
export function sha256Batch(n) {
  return { data: new Uint8Array(n * 64).fill(5), offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i * 64) };
}
