// Allocation-free fast path for F/D arithmetic (RISC-V unprivileged spec ch.11 "F", ch.12 "D") using host doubles,
// taken only where the host result and its flags are provably exact, in every rounding mode: FADD/FSUB/FMUL/
// FDIV/FSQRT, the fused multiply-adds, and FCVT from integers.
//
// How: the host computes r = the round-to-nearest-even result, and an error-free transformation (TwoSum, Dekker's
// TwoProduct, the exact remainder of a quotient or square root) gives the exact difference `diff` between the
// true result and r (or just its sign). Then NX = diff != 0, and the directed modes follow from r, diff: RDN/RUP/
// RTZ step to the neighbour of r when the true value lies on the other side, RMM differs from RNE only on an exact
// tie (impossible for a quotient or a square root). The operands and results must be finite, nonzero and well
// inside the normal range, so no other flag is possible; everything else (NaNs, infinities, zeros, tiny or huge
// values, a fused multiply-add whose error terms do not sum exactly) goes to the BigInt path.

import { FFLAG_NX, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP } from './fpu-soft.js';

/** Whether typed-array views of the f registers see binary32 in the low word (little-endian host). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Returned by the fast paths when the operation must go to the exact path. */
export const NOT_HANDLED = -1;

const F5_ADD = 0x00;
const F5_SUB = 0x01;
const F5_MUL = 0x02;
const F5_DIV = 0x03;
const F5_SQRT = 0x0b;

const SPLITTER = 134217729; // 2^27 + 1 (Veltkamp split of a double into two 26-bit halves)
const D_LOW = 2 ** -900; // products' rounding errors are representable above this
const D_HIGH = 2 ** 990; // splitting cannot overflow below this
const S_MIN_NORMAL = 2 ** -126;
const S_MAX = 3.4028234663852886e38;

let prodErr = 0;

/** Sets prodErr to a·b - fl(a·b) exactly (valid when the guards in the callers hold). */
function twoProductErr(a: number, b: number, p: number): void {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  prodErr = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** The exact error of fl(a + b) = s (TwoSum). */
function twoSumErr(a: number, b: number, s: number): number {
  const t = s - a;
  return (a - (s - t)) + (b - t);
}

function inRange(v: number): boolean {
  const m = Math.abs(v);
  return m >= D_LOW && m <= D_HIGH;
}

// Neighbours of finite nonzero doubles and binary32 values (bit steps through scratch views).
const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The next double after nonzero finite `v` towards +∞ (`up`) or -∞. */
function step64(v: number, up: boolean): number {
  f64[0] = v;
  i64[0] = i64[0]! + ((v > 0) === up ? 1n : -1n);
  return f64[0]!;
}

/** The next binary32 after nonzero finite `v` (a binary32 value) towards +∞ (`up`) or -∞. */
function step32(v: number, up: boolean): number {
  f32[0] = v;
  u32[0] = (v > 0) === up ? u32[0]! + 1 : u32[0]! - 1;
  return f32[0]!;
}

/**
 * The result in rounding mode `rm` of a true value that RNE rounds to `r` and lies on the side `sign` of it
 * (-1, 0 exact, +1); `tie` when it is exactly halfway to that neighbour. `step` gives neighbours in the format.
 */
function directed(r: number, sign: number, tie: boolean, rm: number, step: (v: number, up: boolean) => number): number {
  if (sign === 0 || rm === RM_RNE) return r;
  switch (rm) {
    case RM_RDN: return sign < 0 ? step(r, false) : r;
    case RM_RUP: return sign > 0 ? step(r, true) : r;
    case RM_RTZ: return (sign < 0) === (r > 0) ? step(r, sign > 0) : r;
    case RM_RMM: { // away from zero on a tie
      if (!tie) return r;
      const n = step(r, sign > 0);
      return Math.abs(n) > Math.abs(r) ? n : r;
    }
    default: return r;
  }
}

/** Whether `diff` (the exact true value minus r) is exactly half the distance to r's neighbour on its side. */
function isTie(r: number, diff: number, step: (v: number, up: boolean) => number): boolean {
  return diff !== 0 && Math.abs(step(r, diff > 0) - r) === 2 * Math.abs(diff);
}

/** Views over the f register file: binary64 values, binary32 low halves, and the 32-bit words (for boxes). */
export class FastFp {
  private readonly d: Float64Array;
  private readonly s: Float32Array;
  private readonly w: Uint32Array;

  constructor(f: BigUint64Array) {
    this.d = new Float64Array(f.buffer, f.byteOffset, 32);
    this.s = new Float32Array(f.buffer, f.byteOffset, 64);
    this.w = new Uint32Array(f.buffer, f.byteOffset, 64);
  }

  /**
   * Runs an arithmetic op in rounding mode `rm` if the fast path can prove its result and flags; the flags or
   * NOT_HANDLED. `nxSet`: NX is already accrued in fflags, so in RNE (where the host's result is the answer) whether
   * this op is inexact need not be worked out.
   */
  tryFast(funct5: number, isD: boolean, rd: number, rs1: number, rs2: number, rm = RM_RNE, nxSet = false): number {
    if (!LITTLE_ENDIAN) return NOT_HANDLED;
    if (nxSet && rm === RM_RNE && isD) return this.doubleNx(funct5, rd, rs1, rs2);
    return isD ? this.double(funct5, rd, rs1, rs2, rm) : this.single(funct5, rd, rs1, rs2, rm);
  }

  /** binary64 RNE with NX already set: the host's correctly rounded result, when it is normal and finite. */
  private doubleNx(funct5: number, rd: number, rs1: number, rs2: number): number {
    const a = this.d[rs1]!, b = this.d[rs2]!;
    let r: number;
    switch (funct5) {
      case F5_ADD: r = a + b; break;
      case F5_SUB: r = a - b; break;
      case F5_MUL: r = a * b; if (!inRange(a) || !inRange(b)) return NOT_HANDLED; break;
      case F5_DIV: r = a / b; if (!inRange(a) || !inRange(b)) return NOT_HANDLED; break;
      case F5_SQRT: if (!(a > 0)) return NOT_HANDLED; r = Math.sqrt(a); break;
      default: return NOT_HANDLED;
    }
    // Only NX is possible in this range (no overflow, underflow or invalid), and it is set already.
    if (!(Math.abs(r) > 2 ** -1022 && Math.abs(r) < 2 ** 1023)) return NOT_HANDLED;
    this.d[rd] = r;
    return FFLAG_NX;
  }

  private boxed(r: number): boolean { return this.w[2 * r + 1] === 0xffffffff; }

  private double(funct5: number, rd: number, rs1: number, rs2: number, rm: number): number {
    const a = this.d[rs1]!;
    const b = this.d[rs2]!;
    let r: number;
    let sign: number; // of (true result - r)
    let tie = false;
    switch (funct5) {
      case F5_ADD: case F5_SUB: {
        const bb = funct5 === F5_SUB ? -b : b;
        r = a + bb;
        if (!(Math.abs(r) > 2 ** -1022 && Math.abs(r) < 2 ** 1023)) return NOT_HANDLED;
        const err = twoSumErr(a, bb, r);
        sign = Math.sign(err);
        if (rm === RM_RMM) tie = isTie(r, err, step64);
        break;
      }
      case F5_MUL:
        r = a * b;
        if (!inRange(r) || !inRange(a) || !inRange(b)) return NOT_HANDLED;
        twoProductErr(a, b, r);
        sign = Math.sign(prodErr);
        if (rm === RM_RMM) tie = isTie(r, prodErr, step64);
        break;
      case F5_DIV: {
        r = a / b;
        if (!inRange(r) || !inRange(a) || !inRange(b)) return NOT_HANDLED;
        // a/b - r has the sign of (a - r·b)·b; that remainder is exact: r·b = p + prodErr, a - p by Sterbenz.
        const p = r * b;
        twoProductErr(r, b, p);
        sign = Math.sign((a - p) - prodErr) * Math.sign(b);
        break;
      }
      case F5_SQRT: {
        if (!inRange(a) || a < 0) return NOT_HANDLED;
        r = Math.sqrt(a);
        const p = r * r;
        twoProductErr(r, r, p);
        sign = Math.sign((a - p) - prodErr);
        break;
      }
      default:
        return NOT_HANDLED;
    }
    this.d[rd] = directed(r, sign, tie, rm, step64);
    return sign !== 0 ? FFLAG_NX : 0;
  }

  private single(funct5: number, rd: number, rs1: number, rs2: number, rm: number): number {
    // Operands must be properly NaN-boxed; otherwise they read as NaN and take the exact path.
    if (!this.boxed(rs1) || (funct5 !== F5_SQRT && !this.boxed(rs2))) return NOT_HANDLED;
    const a = this.s[2 * rs1]!;
    const b = this.s[2 * rs2]!;
    let r: number;
    let sign: number;
    let tie = false;
    switch (funct5) {
      case F5_ADD: case F5_SUB: {
        const bb = funct5 === F5_SUB ? -b : b;
        const sum = a + bb; // exact unless the exponents are far apart
        const err = twoSumErr(a, bb, sum);
        r = Math.fround(sum);
        // RNE through a double is innocuous (53 >= 2·24 + 2); the directed modes need the double sum exact.
        if (err !== 0 && rm !== RM_RNE) return NOT_HANDLED;
        const diff = sum - r; // exact (Sterbenz)
        sign = err !== 0 ? 1 : Math.sign(diff); // err != 0: RNE only, where the sign only decides NX
        if (rm === RM_RMM) tie = isTie(r, diff, step32);
        break;
      }
      case F5_MUL: {
        const p = a * b; // exact: 24 + 24 bits
        r = Math.fround(p);
        const diff = p - r;
        sign = Math.sign(diff);
        if (rm === RM_RMM) tie = isTie(r, diff, step32);
        break;
      }
      case F5_DIV:
        r = Math.fround(a / b);
        sign = Math.sign(a - r * b) * Math.sign(b); // r·b is exact in a double
        break;
      case F5_SQRT:
        if (!(a > 0)) return NOT_HANDLED;
        r = Math.fround(Math.sqrt(a));
        sign = Math.sign(a - r * r);
        break;
      default:
        return NOT_HANDLED;
    }
    if (!(Math.abs(r) > S_MIN_NORMAL && Math.abs(r) < S_MAX)) return NOT_HANDLED;
    this.s[2 * rd] = directed(r, sign, tie, rm, step32);
    this.w[2 * rd + 1] = 0xffffffff;
    return sign !== 0 ? FFLAG_NX : 0;
  }

  /**
   * FMADD/FMSUB/FNMSUB/FNMADD (rs1·rs2 ± rs3, the product negated for the N forms) in mode `rm`: the flags, or
   * NOT_HANDLED. For binary64 the product is TwoProduct p + e, the sum TwoSum s + t; when t + e is exact the true
   * value is u = fl(s + (t + e)) plus an exact TwoSum error, so one rounding is known. For binary32 the product
   * is exact in a double and the double sum must be exact too.
   */
  tryFma(isD: boolean, rd: number, rs1: number, rs2: number, rs3: number, negProd: boolean, negC: boolean, rm: number): number {
    if (!LITTLE_ENDIAN) return NOT_HANDLED;
    if (!isD) {
      if (!this.boxed(rs1) || !this.boxed(rs2) || !this.boxed(rs3)) return NOT_HANDLED;
      let a = this.s[2 * rs1]!;
      const b = this.s[2 * rs2]!;
      let c = this.s[2 * rs3]!;
      if (negProd) a = -a;
      if (negC) c = -c;
      const p = a * b; // exact
      const sum = p + c;
      if (c !== 0 && twoSumErr(p, c, sum) !== 0) return NOT_HANDLED;
      const r = Math.fround(sum);
      if (!(Math.abs(r) > S_MIN_NORMAL && Math.abs(r) < S_MAX)) return NOT_HANDLED;
      const diff = sum - r;
      const sign = Math.sign(diff);
      this.s[2 * rd] = directed(r, sign, rm === RM_RMM && isTie(r, diff, step32), rm, step32);
      this.w[2 * rd + 1] = 0xffffffff;
      return sign !== 0 ? FFLAG_NX : 0;
    }
    let a = this.d[rs1]!;
    const b = this.d[rs2]!;
    let c = this.d[rs3]!;
    if (negProd) a = -a;
    if (negC) c = -c;
    const p = a * b;
    if (!inRange(a) || !inRange(b) || !inRange(p) || !(inRange(c) || c === 0)) return NOT_HANDLED;
    twoProductErr(a, b, p);
    const e = prodErr;
    const s = p + c;
    const t = twoSumErr(p, c, s);
    const te = t + e;
    if (twoSumErr(t, e, te) !== 0) return NOT_HANDLED; // the error terms do not sum exactly
    const r = s + te;
    if (!inRange(r) || !inRange(s)) return NOT_HANDLED;
    const v = twoSumErr(s, te, r); // true value = r + v exactly, r = RNE(true value)
    const sign = Math.sign(v);
    this.d[rd] = directed(r, sign, rm === RM_RMM && isTie(r, v, step64), rm, step64);
    return sign !== 0 ? FFLAG_NX : 0;
  }

  /**
   * FCVT.D/S.W/WU/L/LU of the integer whose 64 bits are hi:lo (int32 words) in mode `rm`: exact when it fits in
   * 53 bits (then binary32 rounds it once); the flags, or NOT_HANDLED for wider values.
   */
  tryFromInt(isD: boolean, rd: number, lo: number, hi: number, signed: boolean, rm: number): number {
    if (!LITTLE_ENDIAN) return NOT_HANDLED;
    const hv = signed ? hi : hi >>> 0;
    if (hv >= 0x200000 || hv < -0x200000) return NOT_HANDLED; // |v| >= 2^53
    const v = hv * 4294967296 + (lo >>> 0);
    if (isD) { this.d[rd] = v; return 0; }
    const r = Math.fround(v);
    const diff = v - r; // exact: both are integers below 2^54
    const sign = Math.sign(diff);
    this.s[2 * rd] = r === 0 ? r : directed(r, sign, rm === RM_RMM && isTie(r, diff, step32), rm, step32);
    this.w[2 * rd + 1] = 0xffffffff;
    return sign !== 0 ? FFLAG_NX : 0;
  }
}
