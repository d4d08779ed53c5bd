// Allocation-free fast path for round-to-nearest-even FADD/FSUB/FMUL/FDIV/FSQRT (RISC-V unprivileged spec ch.11
// "F", ch.12 "D") using host doubles, taken only where the host result and its flags are provably exact:
// the result is finite, nonzero and well inside the normal range, so the only possible flag is NX, which is
// decided by error-free transformations (TwoSum, Dekker's TwoProduct) or by exact binary32 products in a double.
// Everything else (NaNs, infinities, zeros, tiny or huge values, other rounding modes) goes to the BigInt path.

import { FFLAG_NX } from './fpu-soft.js';

/** Whether typed-array views of the f registers see binary32 in the low word (little-endian host). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Returned by tryFast when the operation must go to the exact path. */
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

function inRange(v: number): boolean {
  const m = Math.abs(v);
  return m >= D_LOW && m <= D_HIGH;
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

  /** Runs an RNE arithmetic op if the fast path can prove its result and flags; returns the flags or NOT_HANDLED. */
  tryFast(funct5: number, isD: boolean, rd: number, rs1: number, rs2: number): number {
    if (!LITTLE_ENDIAN) return NOT_HANDLED;
    return isD ? this.double(funct5, rd, rs1, rs2) : this.single(funct5, rd, rs1, rs2);
  }

  private double(funct5: number, rd: number, rs1: number, rs2: number): number {
    const a = this.d[rs1]!;
    const b = this.d[rs2]!;
    let r: number;
    let inexact: boolean;
    switch (funct5) {
      case F5_ADD: case F5_SUB: {
        const bb = funct5 === F5_SUB ? -b : b;
        r = a + bb;
        if (!(Math.abs(r) > 2 ** -1022 && Math.abs(r) < Infinity)) return NOT_HANDLED;
        const t = r - a;
        inexact = (a - (r - t)) + (bb - t) !== 0;
        break;
      }
      case F5_MUL:
        r = a * b;
        if (!inRange(r) || !inRange(a) || !inRange(b)) return NOT_HANDLED;
        twoProductErr(a, b, r);
        inexact = prodErr !== 0;
        break;
      case F5_DIV:
        r = a / b;
        if (!inRange(r) || !inRange(a) || !inRange(b)) return NOT_HANDLED;
        twoProductErr(r, b, r * b);
        inexact = r * b !== a || prodErr !== 0;
        break;
      case F5_SQRT:
        if (!inRange(a) || a < 0) return NOT_HANDLED;
        r = Math.sqrt(a);
        twoProductErr(r, r, r * r);
        inexact = r * r !== a || prodErr !== 0;
        break;
      default:
        return NOT_HANDLED;
    }
    this.d[rd] = r;
    return inexact ? FFLAG_NX : 0;
  }

  private single(funct5: number, rd: number, rs1: number, rs2: number): number {
    // Operands must be properly NaN-boxed; otherwise they read as NaN and take the exact path.
    if (this.w[2 * rs1 + 1] !== 0xffffffff || (funct5 !== F5_SQRT && this.w[2 * rs2 + 1] !== 0xffffffff)) return NOT_HANDLED;
    const a = this.s[2 * rs1]!;
    const b = this.s[2 * rs2]!;
    let r: number;
    let inexact: boolean;
    switch (funct5) {
      case F5_ADD: case F5_SUB: {
        const bb = funct5 === F5_SUB ? -b : b;
        const sum = a + bb; // exact unless the exponents are far apart; the double rounding is innocuous
        const t = sum - a;
        const err = (a - (sum - t)) + (bb - t);
        r = Math.fround(sum);
        inexact = err !== 0 || r !== sum;
        break;
      }
      case F5_MUL: {
        const p = a * b; // exact: 24 + 24 bits
        r = Math.fround(p);
        inexact = r !== p;
        break;
      }
      case F5_DIV:
        r = Math.fround(a / b);
        inexact = r * b !== a; // r·b is exact in a double
        break;
      case F5_SQRT:
        r = Math.fround(Math.sqrt(a));
        inexact = r * r !== a;
        break;
      default:
        return NOT_HANDLED;
    }
    if (!(Math.abs(r) > S_MIN_NORMAL && Math.abs(r) < Infinity)) return NOT_HANDLED;
    this.s[2 * rd] = r;
    this.w[2 * rd + 1] = 0xffffffff;
    return inexact ? FFLAG_NX : 0;
  }
}
