// Tiny encoder for RISC-V F/D instruction words (unprivileged spec ch.11-12, opcode map ch.34) used by the FPU
// tests and the differential harness: OP-FP (0x53) and the R4-type fused multiply-adds.

export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;
export const DYN = 7;

export type Fmt = 'S' | 'D';

const fmtBits = (fmt: Fmt): number => (fmt === 'S' ? 0 : 1);

/** R-type OP-FP word: funct5 | fmt | rs2 | rs1 | rm | rd | 0x53. */
export function opFp(funct5: number, fmt: Fmt, rd: number, rs1: number, rs2: number, rm: number): number {
  return (((funct5 << 27) | (fmtBits(fmt) << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | 0x53) >>> 0);
}

/** R4-type fused multiply-add word. */
function r4(opcode: number, fmt: Fmt, rd: number, rs1: number, rs2: number, rs3: number, rm: number): number {
  return (((rs3 << 27) | (fmtBits(fmt) << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | opcode) >>> 0);
}

export const fadd = (f: Fmt, rd: number, a: number, b: number, rm = RNE): number => opFp(0x00, f, rd, a, b, rm);
export const fsub = (f: Fmt, rd: number, a: number, b: number, rm = RNE): number => opFp(0x01, f, rd, a, b, rm);
export const fmul = (f: Fmt, rd: number, a: number, b: number, rm = RNE): number => opFp(0x02, f, rd, a, b, rm);
export const fdiv = (f: Fmt, rd: number, a: number, b: number, rm = RNE): number => opFp(0x03, f, rd, a, b, rm);
export const fsqrt = (f: Fmt, rd: number, a: number, rm = RNE): number => opFp(0x0b, f, rd, a, 0, rm);
export const fsgnj = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x04, f, rd, a, b, 0);
export const fsgnjn = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x04, f, rd, a, b, 1);
export const fsgnjx = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x04, f, rd, a, b, 2);
export const fmin = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x05, f, rd, a, b, 0);
export const fmax = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x05, f, rd, a, b, 1);
/** FCVT.S.D (to='S') or FCVT.D.S (to='D'). */
export const fcvtFF = (to: Fmt, rd: number, a: number, rm = RNE): number => opFp(0x08, to, rd, a, to === 'S' ? 1 : 0, rm);
export const feq = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x14, f, rd, a, b, 2);
export const flt = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x14, f, rd, a, b, 1);
export const fle = (f: Fmt, rd: number, a: number, b: number): number => opFp(0x14, f, rd, a, b, 0);

export type IntKind = 'W' | 'WU' | 'L' | 'LU';
const intCode = (k: IntKind): number => ({ W: 0, WU: 1, L: 2, LU: 3 })[k];
/** FCVT.<k>.<f>: float register -> integer register. */
export const fcvtToInt = (k: IntKind, f: Fmt, rd: number, a: number, rm = RNE): number => opFp(0x18, f, rd, a, intCode(k), rm);
/** FCVT.<f>.<k>: integer register -> float register. */
export const fcvtFromInt = (f: Fmt, k: IntKind, rd: number, a: number, rm = RNE): number => opFp(0x1a, f, rd, a, intCode(k), rm);
export const fmvXF = (f: Fmt, rd: number, a: number): number => opFp(0x1c, f, rd, a, 0, 0);
export const fclass = (f: Fmt, rd: number, a: number): number => opFp(0x1c, f, rd, a, 0, 1);
export const fmvFX = (f: Fmt, rd: number, a: number): number => opFp(0x1e, f, rd, a, 0, 0);

export const fmadd = (f: Fmt, rd: number, a: number, b: number, c: number, rm = RNE): number => r4(0x43, f, rd, a, b, c, rm);
export const fmsub = (f: Fmt, rd: number, a: number, b: number, c: number, rm = RNE): number => r4(0x47, f, rd, a, b, c, rm);
export const fnmsub = (f: Fmt, rd: number, a: number, b: number, c: number, rm = RNE): number => r4(0x4b, f, rd, a, b, c, rm);
export const fnmadd = (f: Fmt, rd: number, a: number, b: number, c: number, rm = RNE): number => r4(0x4f, f, rd, a, b, c, rm);
