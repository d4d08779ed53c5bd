// The F and D extensions' register file and OP-FP / fused multiply-add execution (RISC-V unprivileged spec
// ch.11 "F" and ch.12 "D", §12.2 NaN boxing). The hart does FLW/FLD/FSW/FSD, mstatus.FS and the fcsr CSRs;
// this unit decodes opcodes 0x53 (OP-FP), 0x43/0x47/0x4b/0x4f (FMADD/FMSUB/FNMSUB/FNMADD) for fmt S and D.

import {
  F32, F64, type FloatFormat, RM_DYN, fAdd, fDiv, fFma, fMul, fSqrt, softState,
} from './fpu-soft.js';
import { fClass, fConvert, fEq, fFromInt, fLess, fMinMax, fToInt } from './fpu-convert.js';
import { FastFp, NOT_HANDLED } from './fpu-fast.js';

const BOX = 0xffff_ffff_0000_0000n;
const LOW32 = 0xffff_ffffn;
const CANONICAL_NAN_F32 = 0x7fc0_0000;

/** NaN-boxes a binary32 bit pattern into a 64-bit f register (§12.2). */
export function boxF32(bits: number): bigint {
  return BOX | BigInt(bits >>> 0);
}

/** The binary32 held in a 64-bit f register, or the canonical NaN when it is not properly NaN-boxed. */
export function unboxF32(raw: bigint): number {
  return (raw & BOX) === BOX ? Number(raw & LOW32) : CANONICAL_NAN_F32;
}

const OPC_MADD = 0x43;
const OPC_MSUB = 0x47;
const OPC_NMSUB = 0x4b;
const OPC_NMADD = 0x4f;
const OPC_OP_FP = 0x53;

// OP-FP funct5 (insn[31:27]) values.
const F5_ADD = 0x00;
const F5_SUB = 0x01;
const F5_MUL = 0x02;
const F5_DIV = 0x03;
const F5_SGNJ = 0x04;
const F5_MINMAX = 0x05;
const F5_CVT_FF = 0x08;
const F5_SQRT = 0x0b;
const F5_CMP = 0x14;
const F5_CVT_IF = 0x18; // FCVT.int.fmt
const F5_CVT_FI = 0x1a; // FCVT.fmt.int
const F5_MV_X_CLASS = 0x1c;
const F5_MV_F = 0x1e;

export class Fpu {
  /** 32 raw 64-bit FP registers; single-precision values are NaN-boxed. Never replace the array (the fast
      path keeps typed-array views of its buffer); write its elements. */
  readonly f = new BigUint64Array(32);
  /** Accrued exceptions NV(16) DZ(8) OF(4) UF(2) NX(1). */
  fflags = 0;
  /** Dynamic rounding mode 0..4 (RNE RTZ RDN RUP RMM); 5..7 reserved. */
  frm = 0;
  /** @internal The fast paths, and the registers as int32 words and as doubles (views of `f`), for translated
      code (jit/). */
  readonly fast = new FastFp(this.f);
  /** @internal */ readonly fw = new Int32Array(this.f.buffer, this.f.byteOffset, 64);
  /** @internal */ readonly fd = new Float64Array(this.f.buffer, this.f.byteOffset, 32);

  reset(): void {
    this.f.fill(0n);
    this.fflags = 0;
    this.frm = 0;
  }

  /** The integer registers as int32 words (a view over `x`'s buffer, made once). */
  private words(x: BigInt64Array): Int32Array {
    if (this.xwOf !== x) { this.xw = new Int32Array(x.buffer, x.byteOffset, 64); this.xwOf = x; }
    return this.xw;
  }
  private xw: Int32Array = new Int32Array(64);
  private xwOf: BigInt64Array | null = null;

  /** Effective rounding mode for an instruction's rm field, or -1 when illegal. */
  private roundingMode(rm: number): number {
    if (rm === RM_DYN) return this.frm <= 4 ? this.frm : -1;
    return rm <= 4 ? rm : -1;
  }

  /** Operand register r read as fmt (binary32 unboxed; improperly boxed reads as the canonical NaN). */
  private read(r: number, fmt: FloatFormat): bigint {
    const raw = this.f[r]!;
    return fmt === F32 ? BigInt(unboxF32(raw)) : raw;
  }

  private write(r: number, fmt: FloatFormat, v: bigint): void {
    this.f[r] = fmt === F32 ? BOX | v : v;
  }

  /**
   * Executes one OP-FP or fused multiply-add instruction word. Returns false, changing nothing, when the
   * encoding is illegal.
   */
  // guest-controlled: insn is a guest instruction word; x holds guest integer registers.
  exec(insn: number, x: BigInt64Array): boolean {
    const opcode = insn & 0x7f;
    const fmtCode = (insn >>> 25) & 3;
    if (fmtCode > 1) return false;
    const fmt = fmtCode === 0 ? F32 : F64;
    const rd = (insn >>> 7) & 31;
    const rm3 = (insn >>> 12) & 7;
    const rs1 = (insn >>> 15) & 31;
    const rs2 = (insn >>> 20) & 31;
    if (opcode !== OPC_OP_FP) {
      if (opcode !== OPC_MADD && opcode !== OPC_MSUB && opcode !== OPC_NMSUB && opcode !== OPC_NMADD) return false;
      const rm = this.roundingMode(rm3);
      if (rm < 0) return false;
      const rs3 = insn >>> 27;
      const negProd = opcode === OPC_NMSUB || opcode === OPC_NMADD;
      const negC = opcode === OPC_MSUB || opcode === OPC_NMADD;
      const fl = this.fast.tryFma(fmt === F64, rd, rs1, rs2, rs3, negProd, negC, rm);
      if (fl !== NOT_HANDLED) { this.fflags |= fl; return true; }
      softState.flags = 0;
      const r = fFma(this.read(rs1, fmt), this.read(rs2, fmt), this.read(rs3, fmt), negProd, negC, fmt, rm);
      this.write(rd, fmt, r);
      this.fflags |= softState.flags;
      return true;
    }
    const funct5 = insn >>> 27;
    softState.flags = 0;
    switch (funct5) {
      case F5_ADD: case F5_SUB: case F5_MUL: case F5_DIV: case F5_SQRT: {
        const rm = this.roundingMode(rm3);
        if (rm < 0 || (funct5 === F5_SQRT && rs2 !== 0)) return false;
        const fl = this.fast.tryFast(funct5, fmt === F64, rd, rs1, rs2, rm, (this.fflags & 1) !== 0);
        if (fl !== NOT_HANDLED) { this.fflags |= fl; return true; }
        const a = this.read(rs1, fmt);
        let r: bigint;
        if (funct5 === F5_SQRT) r = fSqrt(a, fmt, rm);
        else if (funct5 === F5_MUL) r = fMul(a, this.read(rs2, fmt), fmt, rm);
        else if (funct5 === F5_DIV) r = fDiv(a, this.read(rs2, fmt), fmt, rm);
        else r = fAdd(a, this.read(rs2, fmt), funct5 === F5_SUB, fmt, rm);
        this.write(rd, fmt, r);
        break;
      }
      case F5_SGNJ: {
        if (rm3 > 2) return false;
        const a = this.read(rs1, fmt);
        const b = this.read(rs2, fmt);
        const sbit = fmt.signBit;
        const s = rm3 === 0 ? b & sbit : rm3 === 1 ? (b & sbit) ^ sbit : (a ^ b) & sbit;
        this.write(rd, fmt, (a & ~sbit) | s);
        break;
      }
      case F5_MINMAX: {
        if (rm3 > 1) return false;
        this.write(rd, fmt, fMinMax(this.read(rs1, fmt), this.read(rs2, fmt), rm3 === 1, fmt));
        break;
      }
      case F5_CVT_FF: {
        // FCVT.S.D: fmt=S, rs2=1 (source D); FCVT.D.S: fmt=D, rs2=0 (source S).
        const rm = this.roundingMode(rm3);
        if (rm < 0 || rs2 !== (fmt === F32 ? 1 : 0)) return false;
        const from = fmt === F32 ? F64 : F32;
        this.write(rd, fmt, fConvert(this.read(rs1, from), from, fmt, rm));
        break;
      }
      case F5_CMP: {
        if (rm3 > 2) return false;
        const a = this.read(rs1, fmt);
        const b = this.read(rs2, fmt);
        const r = rm3 === 2 ? fEq(a, b, fmt) : fLess(a, b, rm3 === 0, fmt);
        if (rd !== 0) x[rd] = BigInt(r);
        break;
      }
      case F5_CVT_IF: {
        const rm = this.roundingMode(rm3);
        if (rm < 0 || rs2 > 3) return false;
        const r = fToInt(this.read(rs1, fmt), fmt, rm, rs2 < 2 ? 32 : 64, (rs2 & 1) === 1);
        if (rd !== 0) x[rd] = r;
        break;
      }
      case F5_CVT_FI: {
        const rm = this.roundingMode(rm3);
        if (rm < 0 || rs2 > 3) return false;
        const xw = this.words(x);
        const lo = xw[2 * rs1]!;
        const hi = rs2 === 0 ? lo >> 31 : rs2 === 1 ? 0 : xw[2 * rs1 + 1]!; // W: sign- or zero-extended low word
        const fl = this.fast.tryFromInt(fmt === F64, rd, lo, hi, rs2 !== 1 && rs2 !== 3, rm);
        if (fl !== NOT_HANDLED) { this.fflags |= fl; return true; }
        const xv = x[rs1]!;
        const v = rs2 === 0 ? BigInt.asIntN(32, xv) : rs2 === 1 ? BigInt.asUintN(32, xv)
          : rs2 === 2 ? xv : BigInt.asUintN(64, xv);
        this.write(rd, fmt, fFromInt(v, fmt, rm));
        break;
      }
      case F5_MV_X_CLASS: {
        if (rs2 !== 0 || rm3 > 1) return false;
        let r: bigint;
        if (rm3 === 1) r = BigInt(fClass(this.read(rs1, fmt), fmt));
        // FMV.X.W moves the low 32 bits as they are (no unboxing), sign-extended.
        else r = fmt === F32 ? BigInt.asIntN(32, this.f[rs1]!) : BigInt.asIntN(64, this.f[rs1]!);
        if (rd !== 0) x[rd] = r;
        break;
      }
      case F5_MV_F: {
        if (rs2 !== 0 || rm3 !== 0) return false;
        const xv = x[rs1]!;
        this.f[rd] = fmt === F32 ? BOX | BigInt.asUintN(32, xv) : BigInt.asUintN(64, xv);
        break;
      }
      default:
        return false;
    }
    this.fflags |= softState.flags;
    return true;
  }
}
