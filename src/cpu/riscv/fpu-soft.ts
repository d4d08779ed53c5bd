// Exact IEEE 754-2008 binary32/binary64 arithmetic in BigInt with a single rounding step (RISC-V unprivileged
// spec ch.11 "F" §11.2 fcsr/rounding modes/flags, ch.12 "D"): add, mul, div, sqrt, fused multiply-add.
// Values are raw bit patterns as bigint (binary32 in the low 32 bits). NaN results are the canonical NaN.
// Tininess is detected after rounding (RISC-V choice), so UF = tiny-after-rounding && inexact.

/** fflags bits (spec §11.2, Table "Accrued exception flag encoding"). */
export const FFLAG_NX = 1;
export const FFLAG_UF = 2;
export const FFLAG_OF = 4;
export const FFLAG_DZ = 8;
export const FFLAG_NV = 16;

/** Rounding modes (spec §11.2, Table "Rounding mode encoding"). */
export const RM_RNE = 0;
export const RM_RTZ = 1;
export const RM_RDN = 2;
export const RM_RUP = 3;
export const RM_RMM = 4;
export const RM_DYN = 7;

export interface FloatFormat {
  readonly name: 'S' | 'D';
  readonly expBits: number;
  readonly fracBits: number;
  /** Precision p = fracBits + 1. */
  readonly precision: number;
  readonly bias: number;
  /** Exponent of the smallest normal number (1 - bias). */
  readonly eminNormal: number;
  /** Weight (power of two) of the least significant bit of a subnormal: 1 - bias - fracBits. */
  readonly eminLsb: number;
  readonly fracBitsN: bigint;
  readonly fracMask: bigint;
  readonly hiddenBit: bigint;
  readonly signBit: bigint;
  /** Bits of +infinity; also the first overflowing encoding. */
  readonly infBits: bigint;
  readonly maxFinite: bigint;
  readonly canonicalNaN: bigint;
  readonly quietBit: bigint;
  readonly expAllOnes: number;
}

function makeFormat(name: 'S' | 'D', expBits: number, fracBits: number): FloatFormat {
  const bias = (1 << (expBits - 1)) - 1;
  const fracBitsN = BigInt(fracBits);
  const expAllOnes = (1 << expBits) - 1;
  const infBits = BigInt(expAllOnes) << fracBitsN;
  return {
    name, expBits, fracBits, precision: fracBits + 1, bias,
    eminNormal: 1 - bias, eminLsb: 1 - bias - fracBits,
    fracBitsN, fracMask: (1n << fracBitsN) - 1n, hiddenBit: 1n << fracBitsN,
    signBit: 1n << BigInt(expBits + fracBits), infBits, maxFinite: infBits - 1n,
    canonicalNaN: infBits | (1n << (fracBitsN - 1n)), quietBit: 1n << (fracBitsN - 1n), expAllOnes,
  };
}

export const F32: FloatFormat = makeFormat('S', 8, 23);
export const F64: FloatFormat = makeFormat('D', 11, 52);

/** Flags raised by the operations since the caller last cleared them. */
export const softState = { flags: 0 };

export const CLS_ZERO = 0;
export const CLS_FINITE = 1; // normal or subnormal, nonzero
export const CLS_INF = 2;
export const CLS_QNAN = 3;
export const CLS_SNAN = 4;

/** An operand taken apart: value = (-1)^sign * sig * 2^exp when finite. */
export class Unpacked {
  cls = CLS_ZERO;
  sign = 0;
  exp = 0;
  sig = 0n;
  subnormal = false;
}

export function unpack(raw: bigint, fmt: FloatFormat, out: Unpacked): Unpacked {
  out.sign = (raw & fmt.signBit) !== 0n ? 1 : 0;
  const e = Number((raw >> fmt.fracBitsN) & BigInt(fmt.expAllOnes));
  const frac = raw & fmt.fracMask;
  out.subnormal = false;
  if (e === fmt.expAllOnes) {
    out.cls = frac === 0n ? CLS_INF : (frac & fmt.quietBit) !== 0n ? CLS_QNAN : CLS_SNAN;
    out.sig = 0n;
    out.exp = 0;
  } else if (e === 0) {
    out.cls = frac === 0n ? CLS_ZERO : CLS_FINITE;
    out.subnormal = frac !== 0n;
    out.sig = frac;
    out.exp = fmt.eminLsb;
  } else {
    out.cls = CLS_FINITE;
    out.sig = frac | fmt.hiddenBit;
    out.exp = e - fmt.bias - fmt.fracBits;
  }
  return out;
}

export function isNaNCls(c: number): boolean {
  return c === CLS_QNAN || c === CLS_SNAN;
}

export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Set by roundShift: whether the bits shifted out were nonzero. */
let lastInexact = false;

/**
 * Rounds sig / 2^shift to an integer in mode rm for a value of the given sign. `sticky` says the true value
 * is slightly above sig (nonzero bits below sig's lsb); callers keep shift >= 2 whenever sticky is set.
 */
export function roundShift(sig: bigint, shift: number, sticky: boolean, sign: number, rm: number): bigint {
  if (shift <= 0) {
    lastInexact = sticky;
    const q = shift === 0 ? sig : sig << BigInt(-shift);
    // Below half an ulp but nonzero: only the directed modes can move.
    if (sticky && ((rm === RM_RDN && sign) || (rm === RM_RUP && !sign))) return q + 1n;
    return q;
  }
  const s = BigInt(shift);
  const q = sig >> s;
  const rem = sig & ((1n << s) - 1n);
  const half = 1n << (s - 1n);
  const inexact = rem !== 0n || sticky;
  lastInexact = inexact;
  if (!inexact) return q;
  let inc: boolean;
  switch (rm) {
    case RM_RNE: inc = rem > half || (rem === half && (sticky || (q & 1n) === 1n)); break;
    case RM_RTZ: inc = false; break;
    case RM_RDN: inc = sign !== 0; break;
    case RM_RUP: inc = sign === 0; break;
    default: inc = rem >= half; break; // RMM: ties (and above) away from zero
  }
  return inc ? q + 1n : q;
}

/** Whether the last roundShift discarded nonzero bits. */
export function roundWasInexact(): boolean {
  return lastInexact;
}

export function packZero(sign: number, fmt: FloatFormat): bigint {
  return sign ? fmt.signBit : 0n;
}

export function packInf(sign: number, fmt: FloatFormat): bigint {
  return sign ? fmt.signBit | fmt.infBits : fmt.infBits;
}

/**
 * Rounds the exact value (-1)^sign * (sig + sticky·ε) * 2^exp to fmt in mode rm and packs it, raising NX, UF
 * (tininess after rounding) and OF. sig must be > 0; with sticky set, sig must carry at least p+2 bits.
 */
export function roundPack(sign: number, exp: number, sig: bigint, sticky: boolean, fmt: FloatFormat, rm: number): bigint {
  const bl = bitLength(sig);
  const msbExp = exp + bl - 1;
  let tiny = false;
  if (msbExp < fmt.eminNormal) {
    // Round to p bits as if the exponent range were unbounded; tiny if the result is still below 2^emin.
    const qU = roundShift(sig, bl - fmt.precision, sticky, sign, rm);
    const carried = (qU >> BigInt(fmt.precision)) !== 0n;
    tiny = msbExp + (carried ? 1 : 0) < fmt.eminNormal;
  }
  let lsbExp = msbExp - fmt.fracBits;
  if (lsbExp < fmt.eminLsb) lsbExp = fmt.eminLsb;
  const q = roundShift(sig, lsbExp - exp, sticky, sign, rm);
  const inexact = lastInexact;
  // Encoding = (lsbExp - eminLsb) * 2^fracBits + q works for subnormals, normals and a carry out of the
  // significand alike (the carry bumps the exponent field).
  const enc = (BigInt(lsbExp - fmt.eminLsb) << fmt.fracBitsN) + q;
  if (enc >= fmt.infBits) {
    softState.flags |= FFLAG_OF | FFLAG_NX;
    const toInf = rm === RM_RNE || rm === RM_RMM || (rm === RM_RDN && sign !== 0) || (rm === RM_RUP && sign === 0);
    const mag = toInf ? fmt.infBits : fmt.maxFinite;
    return sign ? fmt.signBit | mag : mag;
  }
  if (inexact) {
    softState.flags |= tiny ? FFLAG_NX | FFLAG_UF : FFLAG_NX;
  }
  return sign ? fmt.signBit | enc : enc;
}

/** Exact sum of two finite (possibly zero) terms, rounded once. */
function addTerms(sa: number, ea: number, ma: bigint, sb: number, eb: number, mb: bigint,
  fmt: FloatFormat, rm: number): bigint {
  if (ma === 0n && mb === 0n) return packZero(sa === sb ? sa : (rm === RM_RDN ? 1 : 0), fmt);
  if (ma === 0n) return roundPack(sb, eb, mb, false, fmt, rm);
  if (mb === 0n) return roundPack(sa, ea, ma, false, fmt, rm);
  const e = Math.min(ea, eb);
  let a = ma << BigInt(ea - e);
  let b = mb << BigInt(eb - e);
  if (sa) a = -a;
  if (sb) b = -b;
  const s = a + b;
  if (s === 0n) return packZero(rm === RM_RDN ? 1 : 0, fmt);
  return s < 0n ? roundPack(1, e, -s, false, fmt, rm) : roundPack(0, e, s, false, fmt, rm);
}

const ua = new Unpacked();
const ub = new Unpacked();
const uc = new Unpacked();

/** Returns the canonical NaN, raising NV when either operand is signalling. */
function nanResult(fmt: FloatFormat, ...classes: number[]): bigint {
  for (const c of classes) if (c === CLS_SNAN) softState.flags |= FFLAG_NV;
  return fmt.canonicalNaN;
}

/** a + b, or a - b when negB. */
export function fAdd(a: bigint, b: bigint, negB: boolean, fmt: FloatFormat, rm: number): bigint {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  const sb = negB ? ub.sign ^ 1 : ub.sign;
  if (isNaNCls(ua.cls) || isNaNCls(ub.cls)) return nanResult(fmt, ua.cls, ub.cls);
  if (ua.cls === CLS_INF) {
    if (ub.cls === CLS_INF && ua.sign !== sb) { softState.flags |= FFLAG_NV; return fmt.canonicalNaN; }
    return packInf(ua.sign, fmt);
  }
  if (ub.cls === CLS_INF) return packInf(sb, fmt);
  return addTerms(ua.sign, ua.exp, ua.sig, sb, ub.exp, ub.sig, fmt, rm);
}

export function fMul(a: bigint, b: bigint, fmt: FloatFormat, rm: number): bigint {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  if (isNaNCls(ua.cls) || isNaNCls(ub.cls)) return nanResult(fmt, ua.cls, ub.cls);
  const sign = ua.sign ^ ub.sign;
  if (ua.cls === CLS_INF || ub.cls === CLS_INF) {
    if (ua.cls === CLS_ZERO || ub.cls === CLS_ZERO) { softState.flags |= FFLAG_NV; return fmt.canonicalNaN; }
    return packInf(sign, fmt);
  }
  if (ua.cls === CLS_ZERO || ub.cls === CLS_ZERO) return packZero(sign, fmt);
  return roundPack(sign, ua.exp + ub.exp, ua.sig * ub.sig, false, fmt, rm);
}

export function fDiv(a: bigint, b: bigint, fmt: FloatFormat, rm: number): bigint {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  if (isNaNCls(ua.cls) || isNaNCls(ub.cls)) return nanResult(fmt, ua.cls, ub.cls);
  const sign = ua.sign ^ ub.sign;
  if (ua.cls === CLS_INF) {
    if (ub.cls === CLS_INF) { softState.flags |= FFLAG_NV; return fmt.canonicalNaN; }
    return packInf(sign, fmt);
  }
  if (ub.cls === CLS_INF) return packZero(sign, fmt);
  if (ub.cls === CLS_ZERO) {
    if (ua.cls === CLS_ZERO) { softState.flags |= FFLAG_NV; return fmt.canonicalNaN; }
    softState.flags |= FFLAG_DZ;
    return packInf(sign, fmt);
  }
  if (ua.cls === CLS_ZERO) return packZero(sign, fmt);
  // sig_a * 2^k / sig_b has at least p+2 integer bits, since sig_a >= 1 and sig_b < 2^p.
  const k = 2 * fmt.precision + 2;
  const num = ua.sig << BigInt(k);
  const q = num / ub.sig;
  const sticky = q * ub.sig !== num;
  return roundPack(sign, ua.exp - ub.exp - k, q, sticky, fmt, rm);
}

/** Integer square root: floor(sqrt(n)) for n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1); // >= sqrt(n)
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function fSqrt(a: bigint, fmt: FloatFormat, rm: number): bigint {
  unpack(a, fmt, ua);
  if (isNaNCls(ua.cls)) return nanResult(fmt, ua.cls);
  if (ua.cls === CLS_ZERO) return a;
  if (ua.sign) { softState.flags |= FFLAG_NV; return fmt.canonicalNaN; }
  if (ua.cls === CLS_INF) return a;
  let sig = ua.sig;
  let exp = ua.exp;
  if (exp & 1) { sig <<= 1n; exp -= 1; }
  // Scale by 2^(2k) so the root has at least p+2 bits (sig >= 1).
  const k = fmt.precision + 2;
  const n = sig << BigInt(2 * k);
  const r = isqrt(n);
  return roundPack(0, (exp - 2 * k) / 2, r, r * r !== n, fmt, rm);
}

/** (±a·b) ± c with a single rounding: negProd negates the product, negC the addend. */
export function fFma(a: bigint, b: bigint, c: bigint, negProd: boolean, negC: boolean,
  fmt: FloatFormat, rm: number): bigint {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  unpack(c, fmt, uc);
  // ∞·0 is invalid even when the addend is a quiet NaN (spec §11.6).
  if ((ua.cls === CLS_INF && ub.cls === CLS_ZERO) || (ua.cls === CLS_ZERO && ub.cls === CLS_INF)) {
    softState.flags |= FFLAG_NV;
    return fmt.canonicalNaN;
  }
  if (isNaNCls(ua.cls) || isNaNCls(ub.cls) || isNaNCls(uc.cls)) return nanResult(fmt, ua.cls, ub.cls, uc.cls);
  const ps = ua.sign ^ ub.sign ^ (negProd ? 1 : 0);
  const cs = uc.sign ^ (negC ? 1 : 0);
  if (ua.cls === CLS_INF || ub.cls === CLS_INF) {
    if (uc.cls === CLS_INF && cs !== ps) { softState.flags |= FFLAG_NV; return fmt.canonicalNaN; }
    return packInf(ps, fmt);
  }
  if (uc.cls === CLS_INF) return packInf(cs, fmt);
  return addTerms(ps, ua.exp + ub.exp, ua.sig * ub.sig, cs, uc.exp, uc.sig, fmt, rm);
}
