/**
 * Curve constants of edwards25519 (RFC 8032 section 5.1) as BigInt, and their
 * conversion to the GPU's 20 x 13-bit limbs. BigInt is used only here, once per
 * process, to generate shader constants and the base-point table.
 */

/** p = 2^255 - 19 (RFC 8032 section 5.1). */
export const P = (1n << 255n) - 19n;
/** L = 2^252 + 27742317777372353535851937790883648493, order of B (RFC 8032 section 5.1). */
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** Limb layout of a field element on the GPU: 20 limbs of 13 bits (260 bits). */
export const LIMBS = 20;
export const LIMB_BITS = 13;

function mod(a: bigint, m: bigint = P): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = mod(b);
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
  }
  return r;
}

const inv = (a: bigint): bigint => pow(a, P - 2n);

/** d = -121665 / 121666 (RFC 8032 section 5.1). */
export const D = mod(-121665n * inv(121666n));
/** sqrt(-1) = 2^((p-1)/4) (RFC 8032 section 5.1.3, step 3). */
export const SQRT_M1 = pow(2n, (P - 1n) / 4n);
/** B = (x, 4/5) with x even (RFC 8032 section 5.1). */
export const BASE_Y = mod(4n * inv(5n));

function baseX(): bigint {
  // x^2 = (y^2 - 1) / (d y^2 + 1) (RFC 8032 section 5.1.3, steps 2-4).
  const y2 = (BASE_Y * BASE_Y) % P;
  const x2 = mod((y2 - 1n) * inv(D * y2 + 1n));
  let x = pow(x2, (P + 3n) / 8n);
  if (mod(x * x - x2) !== 0n) x = (x * SQRT_M1) % P;
  return x & 1n ? P - x : x;
}

/** The canonical value's limbs (each < 2^13). */
export function toLimbs(value: bigint): number[] {
  const limbs: number[] = [];
  for (let i = 0; i < LIMBS; i++) limbs.push(Number((value >> BigInt(LIMB_BITS * i)) & 0x1fffn));
  return limbs;
}

/** Affine points, added with the twisted Edwards law (RFC 8032 section 5.1.4, a = -1). */
type Affine = readonly [x: bigint, y: bigint];

function addAffine([x1, y1]: Affine, [x2, y2]: Affine): Affine {
  const t = (D * x1 * x2 * y1 * y2) % P;
  return [mod((x1 * y2 + y1 * x2) * inv(1n + t)), mod((y1 * y2 + x1 * x2) * inv(1n - t))];
}

/** Entries in the base-point table: j*B for j = 0..128, signed radix-256 digits of S. */
export const BASE_TABLE_ENTRIES = 129;
/** u32 words per table entry: (y+x, y-x, 2dxy), 20 limbs each. */
export const BASE_TABLE_ENTRY_WORDS = 3 * LIMBS;

/**
 * The static GPU table: j*B (j = 0..128) in "precomputed" (Niels) form
 * (y+x, y-x, 2dxy) of ref10's ge_precomp, as canonical 13-bit limbs in u32 words.
 */
export function baseTable(): Uint8Array {
  const words = new Uint32Array(BASE_TABLE_ENTRIES * BASE_TABLE_ENTRY_WORDS);
  const base: Affine = [baseX(), BASE_Y];
  let point: Affine = [0n, 1n];
  for (let j = 0; j < BASE_TABLE_ENTRIES; j++) {
    const [x, y] = point;
    const fields = [mod(y + x), mod(y - x), mod(2n * D * x * y)];
    fields.forEach((f, n) => words.set(toLimbs(f), j * BASE_TABLE_ENTRY_WORDS + n * LIMBS));
    point = addAffine(point, base);
  }
  return new Uint8Array(words.buffer);
}
