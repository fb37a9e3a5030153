/**
 * WGSL arithmetic mod p = 2^255 - 19 in 20 limbs of 13 bits, u32 only (WGSL has
 * no 64-bit integers). 13-bit limbs let a whole schoolbook column (20 products
 * of < 2^26) accumulate in a u32 with no carries inside the product; ZPrize's
 * WebGPU MSM entries found 13-16 bit limbs fastest on NVIDIA for the same reason.
 * The straight-line code is generated here so that every limb index is a
 * constant and limbs stay in registers. A field element is a struct of five
 * vec4<u32> (limbs 4q..4q+3 in l<q>), not an array: shader compilers treat
 * vectors as values, where arrays become variables to split (Mesa compiles the
 * array form ~10x slower).
 *
 * Bounds ("loose" form, what every function takes and returns): limbs 0..18
 * <= 8320 (2^13 + 2^7), limb 19 <= 264 (2^8 + 8), so values < 2^255 + 2^248.
 *  - mul/sq: a column is <= 20 * 8320^2 < 1.39e9; folding the top columns adds
 *    <= 608 * (1.39e9 >> 13) + 608 * 8191 < 1.1e8; then one carry chain.
 *  - add: limbs <= 16640, sub: a + 4p - b with 4p's limbs all >= 8320 (limb
 *    19: 1022 >= 264), limbs <= 24702; one parallel carry step brings both back.
 */
import { LIMBS, LIMB_BITS, P, D, SQRT_M1, toLimbs } from './constants.js';

const MASK = (1 << LIMB_BITS) - 1;
/** 2^260 = 2^5 * 2^255 = 32 * 19 = 608 (mod p): folds columns 20..38 down. */
const FOLD_260 = 608;
const VECS = LIMBS / 4;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** Limb i of the Fe named `v`. */
const limb = (v: string, i: number): string => `${v}.l${i >> 2}.${'xyzw'[i & 3]}`;
/** An Fe built from 20 u32 expressions. */
const feOf = (limbs: readonly string[]): string =>
  `Fe(${range(VECS).map((q) => `vec4<u32>(${limbs.slice(4 * q, 4 * q + 4).join(', ')})`).join(', ')})`;
const feConst = (value: bigint): string => feOf(toLimbs(value).map((l) => `${l}u`));
const vec4 = (limbs: readonly number[]): string => `vec4<u32>(${limbs.map((l) => `${l}u`).join(', ')})`;

/** 4p with each limb borrowed up so that limb i >= any loose limb: a + 4p - b never underflows. */
function fourP(): number[] {
  const limbs = toLimbs(4n * P);
  limbs[LIMBS - 1] = Number((4n * P) >> BigInt(LIMB_BITS * (LIMBS - 1)));
  for (let i = 0; i < LIMBS - 1; i++) {
    limbs[i] = (limbs[i] ?? 0) + (1 << LIMB_BITS);
    limbs[i + 1] = (limbs[i + 1] ?? 0) - 1;
  }
  const value = limbs.reduce((acc, l, i) => acc + (BigInt(l) << BigInt(LIMB_BITS * i)), 0n);
  if (value !== 4n * P) throw new Error('4p limbs do not add up');
  return limbs;
}

/** Column sums of a*b (or a*a) as WGSL `var cK = ...;` lines, K = 0..38. */
function columns(square: boolean): string[] {
  const lines: string[] = [];
  for (let k = 0; k < 2 * LIMBS - 1; k++) {
    const terms: string[] = [];
    const lo = Math.max(0, k - (LIMBS - 1));
    const hi = Math.min(k, LIMBS - 1);
    if (!square) {
      for (let i = lo; i <= hi; i++) terms.push(`${limb('a', i)} * ${limb('b', k - i)}`);
      lines.push(`  var c${k} = ${terms.join(' + ')};`);
      continue;
    }
    for (let i = lo; i < k - i; i++) terms.push(`${limb('a', i)} * ${limb('a', k - i)}`);
    const cross = terms.length > 0 ? `((${terms.join(' + ')}) << 1u)` : '';
    const diag = k % 2 === 0 ? `${limb('a', k / 2)} * ${limb('a', k / 2)}` : '';
    lines.push(`  var c${k} = ${[cross, diag].filter((s) => s !== '').join(' + ')};`);
  }
  return lines;
}

/** Serial carry chain over the scalars c0..c19; bits of limb 19 from 2^255 up wrap as 19 (2^255 = 19 mod p). */
function chain(): string[] {
  const lines = range(LIMBS - 1).map((i) => `  c${i + 1} += c${i} >> ${LIMB_BITS}u; c${i} &= ${MASK}u;`);
  return lines;
}
const wrapTop = `  c0 += 19u * (c19 >> 8u); c19 &= 255u;`;
const scalarsOut = `  return ${feOf(range(LIMBS).map((i) => `c${i}`))};`;

/** Folds columns 20..38 into 0..19, carries, and returns a loose Fe. */
function reduceColumns(): string[] {
  const lines: string[] = [];
  for (let k = LIMBS; k < 2 * LIMBS - 1; k++) {
    lines.push(`  c${k - LIMBS} += ${FOLD_260}u * (c${k} & ${MASK}u); c${k - LIMBS + 1} += ${FOLD_260}u * (c${k} >> ${LIMB_BITS}u);`);
  }
  lines.push(...chain(), wrapTop);
  lines.push(`  c1 += c0 >> ${LIMB_BITS}u; c0 &= ${MASK}u;`);
  lines.push(`  c2 += c1 >> ${LIMB_BITS}u; c1 &= ${MASK}u;`);
  lines.push(scalarsOut);
  return lines;
}

/** One parallel carry step over t (limbs < 2^15), back to loose form. */
function carryStep(): string {
  const prev = (q: number): string =>
    q === 0 ? `vec4<u32>(19u * (t.l4.w >> 8u), t.l0.xyz >> SH3)` : `(vec4<u32>(t.l${q - 1}.w, t.l${q}.xyz) >> SH4)`;
  const mask = (q: number): string => (q === VECS - 1 ? 'MASK_TOP' : 'MASK4');
  return `  return Fe(${range(VECS).map((q) => `(t.l${q} & ${mask(q)}) + ${prev(q)}`).join(',\n    ')});`;
}

const P4 = fourP();
const fields = (f: (q: number) => string): string => range(VECS).map(f).join(', ');

export const FIELD_WGSL = /* wgsl */ `
struct Fe { ${range(VECS).map((q) => `l${q}: vec4<u32>`).join(', ')} }

const SH3 = vec3<u32>(${LIMB_BITS}u);
const SH4 = vec4<u32>(${LIMB_BITS}u);
const MASK4 = vec4<u32>(${MASK}u);
const MASK_TOP = vec4<u32>(${MASK}u, ${MASK}u, ${MASK}u, 255u);
const FE_ZERO = ${feConst(0n)};
const FE_ONE = ${feConst(1n)};
// d = -121665/121666 and 2d (RFC 8032 section 5.1)
const FE_D = ${feConst(D)};
const FE_D2 = ${feConst((2n * D) % P)};
// sqrt(-1) = 2^((p-1)/4) (RFC 8032 section 5.1.3)
const FE_SQRT_M1 = ${feConst(SQRT_M1)};

fn fe_mul(a: Fe, b: Fe) -> Fe {
${columns(false).join('\n')}
${reduceColumns().join('\n')}
}

fn fe_sq(a: Fe) -> Fe {
${columns(true).join('\n')}
${reduceColumns().join('\n')}
}

fn fe_sqn(a: Fe, n: u32) -> Fe {
  var r = a;
  for (var i = 0u; i < n; i++) { r = fe_sq(r); }
  return r;
}

fn fe_add(a: Fe, b: Fe) -> Fe {
  let t = Fe(${fields((q) => `a.l${q} + b.l${q}`)});
${carryStep()}
}

fn fe_sub(a: Fe, b: Fe) -> Fe {
  let t = Fe(${fields((q) => `a.l${q} + ${vec4(P4.slice(4 * q, 4 * q + 4))} - b.l${q}`)});
${carryStep()}
}

fn fe_neg(a: Fe) -> Fe { return fe_sub(FE_ZERO, a); }

// The unique representative in [0, p), limbs < 2^13 (ref10 fe_tobytes).
fn fe_canon(a: Fe) -> Fe {
${range(LIMBS).map((i) => `  var c${i} = ${limb('a', i)};`).join('\n')}
${chain().join('\n')}
${wrapTop}
${chain().join('\n')}
  // Now c < 2^255 + 2^247 < 2p; q = 1 iff c >= p iff c + 19 >= 2^255.
  var q = (c0 + 19u) >> ${LIMB_BITS}u;
${range(LIMBS - 2).map((i) => `  q = (c${i + 1} + q) >> ${LIMB_BITS}u;`).join('\n')}
  q = (c19 + q) >> 8u;
  c0 += 19u * q;
${chain().join('\n')}
  c19 &= 255u;
${scalarsOut}
}

fn fe_eq_canon(a: Fe, b: Fe) -> bool {
  return ${range(VECS).map((q) => `all(a.l${q} == b.l${q})`).join(' && ')};
}

fn fe_is_zero(a: Fe) -> bool { return fe_eq_canon(fe_canon(a), FE_ZERO); }

// "Negative" = odd canonical value (RFC 8032 section 5.1.2).
fn fe_is_odd(a: Fe) -> u32 { return fe_canon(a).l0.x & 1u; }

// Low 255 bits of 8 little-endian words as limbs (bit 255 is not part of y).
fn fe_from_words(w: array<u32, 8>) -> Fe {
  return ${feOf(
    range(LIMBS).map((i) => {
      const bit = LIMB_BITS * i;
      const word = bit >> 5;
      const shift = bit & 31;
      const width = i === LIMBS - 1 ? 8 : LIMB_BITS;
      const lo = shift === 0 ? `w[${word}]` : `(w[${word}] >> ${shift}u)`;
      const expr = shift + width > 32 ? `(${lo} | (w[${word + 1}] << ${32 - shift}u))` : lo;
      return `${expr} & ${(1 << width) - 1}u`;
    }),
  )};
}

struct Pow250 { p: Fe, z11: Fe }

// z^(2^250 - 1) and z^11: the shared prefix of ref10's fe_invert and fe_pow22523.
fn fe_pow250(z: Fe) -> Pow250 {
  let z2 = fe_sq(z);
  let z9 = fe_mul(z, fe_sqn(z2, 2u));
  let z11 = fe_mul(z2, z9);
  let e5 = fe_mul(z9, fe_sq(z11));        // 2^5 - 1
  let e10 = fe_mul(fe_sqn(e5, 5u), e5);   // 2^10 - 1
  let e20 = fe_mul(fe_sqn(e10, 10u), e10);
  let e40 = fe_mul(fe_sqn(e20, 20u), e20);
  let e50 = fe_mul(fe_sqn(e40, 10u), e10);
  let e100 = fe_mul(fe_sqn(e50, 50u), e50);
  let e200 = fe_mul(fe_sqn(e100, 100u), e100);
  return Pow250(fe_mul(fe_sqn(e200, 50u), e50), z11);
}

// z^(p-2) = z^((2^250-1) 2^5 + 11) = 1/z (Fermat); 0 maps to 0.
fn fe_invert(z: Fe) -> Fe {
  let t = fe_pow250(z);
  return fe_mul(fe_sqn(t.p, 5u), t.z11);
}

// z^((p-5)/8) = z^((2^250-1) 2^2 + 1), for the square root in decoding (RFC 8032 section 5.1.3).
fn fe_pow22523(z: Fe) -> Fe { return fe_mul(fe_sqn(fe_pow250(z).p, 2u), z); }
`;
