// RISC-V F/D non-arithmetic operations on raw bit patterns (unprivileged spec §11.7 conversions and moves,
// §11.8 compares, §11.9 FCLASS, §11.6 FMIN/FMAX): float<->integer with the saturation table, float<->float,
// FEQ/FLT/FLE, FMIN/FMAX (IEEE 754-2019 minimumNumber/maximumNumber), FCLASS.

import {
  CLS_FINITE, CLS_INF, CLS_QNAN, CLS_SNAN, CLS_ZERO, F32, FFLAG_NV, FFLAG_NX, type FloatFormat, isNaNCls,
  packInf, packZero, roundPack, roundShift, roundWasInexact, softState, Unpacked, unpack,
} from './fpu-soft.js';

const ua = new Unpacked();
const ub = new Unpacked();

const scratch = new DataView(new ArrayBuffer(8));

/** The value of a non-NaN raw pattern as a JS number (exact for both formats). */
function toNumber(raw: bigint, fmt: FloatFormat): number {
  if (fmt === F32) {
    scratch.setUint32(0, Number(raw), true);
    return scratch.getFloat32(0, true);
  }
  scratch.setBigUint64(0, raw, true);
  return scratch.getFloat64(0, true);
}

/** FEQ: quiet compare, NV only for signalling NaNs. Returns 1 or 0. */
export function fEq(a: bigint, b: bigint, fmt: FloatFormat): number {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  if (isNaNCls(ua.cls) || isNaNCls(ub.cls)) {
    if (ua.cls === CLS_SNAN || ub.cls === CLS_SNAN) softState.flags |= FFLAG_NV;
    return 0;
  }
  return toNumber(a, fmt) === toNumber(b, fmt) ? 1 : 0;
}

/** FLT (orEqual=false) / FLE (orEqual=true): signalling compare, NV for any NaN. Returns 1 or 0. */
export function fLess(a: bigint, b: bigint, orEqual: boolean, fmt: FloatFormat): number {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  if (isNaNCls(ua.cls) || isNaNCls(ub.cls)) {
    softState.flags |= FFLAG_NV;
    return 0;
  }
  const x = toNumber(a, fmt);
  const y = toNumber(b, fmt);
  return (orEqual ? x <= y : x < y) ? 1 : 0;
}

/** FMIN/FMAX: a NaN operand yields the other operand; -0 is below +0; NV for any signalling NaN. */
export function fMinMax(a: bigint, b: bigint, isMax: boolean, fmt: FloatFormat): bigint {
  unpack(a, fmt, ua);
  unpack(b, fmt, ub);
  const aNaN = isNaNCls(ua.cls);
  const bNaN = isNaNCls(ub.cls);
  if (ua.cls === CLS_SNAN || ub.cls === CLS_SNAN) softState.flags |= FFLAG_NV;
  if (aNaN && bNaN) return fmt.canonicalNaN;
  if (aNaN) return b;
  if (bNaN) return a;
  const x = toNumber(a, fmt);
  const y = toNumber(b, fmt);
  if (x === y) {
    // Equal values differ only for ±0: min takes the negative one, max the positive one.
    return (ua.sign === 1) === isMax ? b : a;
  }
  return (x < y) !== isMax ? a : b;
}

/** FCLASS: one-hot 10-bit mask (spec Table "Format of result of FCLASS instruction"). */
export function fClass(a: bigint, fmt: FloatFormat): number {
  unpack(a, fmt, ua);
  const neg = ua.sign === 1;
  switch (ua.cls) {
    case CLS_INF: return neg ? 1 << 0 : 1 << 7;
    case CLS_ZERO: return neg ? 1 << 3 : 1 << 4;
    case CLS_FINITE:
      if (ua.subnormal) return neg ? 1 << 2 : 1 << 5;
      return neg ? 1 << 1 : 1 << 6;
    case CLS_SNAN: return 1 << 8;
    default: return 1 << 9;
  }
}

/**
 * FCVT.{W,WU,L,LU}.{S,D}: rounds to an integer of `bits` (32 or 64) bits, saturating with NV for NaN
 * (→ largest), out-of-range values and infinities (→ nearest bound). Returns the x-register value: 32-bit
 * results (signed or not) are sign-extended to 64 bits.
 */
export function fToInt(a: bigint, fmt: FloatFormat, rm: number, bits: 32 | 64, unsigned: boolean): bigint {
  unpack(a, fmt, ua);
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
  let val: bigint;
  if (isNaNCls(ua.cls)) {
    softState.flags |= FFLAG_NV;
    val = max;
  } else if (ua.cls === CLS_INF) {
    softState.flags |= FFLAG_NV;
    val = ua.sign ? min : max;
  } else if (ua.cls === CLS_ZERO) {
    val = 0n;
  } else {
    let mag: bigint;
    let inexact = false;
    if (ua.exp >= 0) {
      mag = ua.sig << BigInt(ua.exp);
    } else {
      mag = roundShift(ua.sig, -ua.exp, false, ua.sign, rm);
      inexact = roundWasInexact();
    }
    val = ua.sign ? -mag : mag;
    if (val > max || val < min) {
      softState.flags |= FFLAG_NV;
      val = val > max ? max : min;
    } else if (inexact) {
      softState.flags |= FFLAG_NX;
    }
  }
  return bits === 32 ? BigInt.asIntN(64, BigInt.asIntN(32, val)) : BigInt.asIntN(64, val);
}

/** FCVT.{S,D}.{W,WU,L,LU}: `val` is the exact integer (already sign- or zero-extended by the caller). */
export function fFromInt(val: bigint, fmt: FloatFormat, rm: number): bigint {
  if (val === 0n) return 0n;
  return val < 0n ? roundPack(1, 0, -val, false, fmt, rm) : roundPack(0, 0, val, false, fmt, rm);
}

/** FCVT.S.D (narrowing, rounded) and FCVT.D.S (exact); NaN becomes the canonical NaN of the target. */
export function fConvert(a: bigint, from: FloatFormat, to: FloatFormat, rm: number): bigint {
  unpack(a, from, ua);
  switch (ua.cls) {
    case CLS_QNAN: return to.canonicalNaN;
    case CLS_SNAN: softState.flags |= FFLAG_NV; return to.canonicalNaN;
    case CLS_INF: return packInf(ua.sign, to);
    case CLS_ZERO: return packZero(ua.sign, to);
    default: return roundPack(ua.sign, ua.exp, ua.sig, false, to, rm);
  }
}
