// RV64M MUL/MULH/MULHSU/MULHU/DIV/DIVU/REM/REMU on 32-bit register halves (RISC-V unprivileged spec §7.1, §7.2).
// The hart's hot path: products are built from 16/32-bit partial products in doubles (all exact), and
// division uses doubles when both operands are within ±2^53; only wider divisions fall back to bigint.

const TWO32 = 4294967296;
const SAFE_HI = 0x200000; // |value| <= 2^53 when the high word is in [-2^21, 2^21)
const U64_MASK = (1n << 64n) - 1n;

/** High 32 bits of the unsigned product of two 32-bit words (int32 bit patterns in, int32 bit pattern out). */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/**
 * Executes one OP-funct7=1 instruction (funct3 `f3`) with register pair indices d = 2*rd, s1 = 2*rs1, s2 = 2*rs2
 * into the Int32Array view `x32` of the registers; `x` is the BigInt64Array over the same buffer (wide division).
 */
export function mulDiv64(x32: Int32Array, x: BigInt64Array, d: number, s1: number, s2: number, f3: number): void {
  const al = x32[s1]!, ah = x32[s1 | 1]!, bl = x32[s2]!, bh = x32[s2 | 1]!;
  if (f3 === 0) { // MUL: low 64 bits
    const hi = (mulhu32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
    x32[d] = Math.imul(al, bl); x32[d | 1] = hi;
    return;
  }
  if (f3 < 4) { // MULH (1), MULHSU (2), MULHU (3): bits 64..127 of the product
    const llH = mulhu32(al, bl) >>> 0;
    const lhL = Math.imul(al, bh) >>> 0, lhH = mulhu32(al, bh) >>> 0;
    const hlL = Math.imul(ah, bl) >>> 0, hlH = mulhu32(ah, bl) >>> 0;
    const hhL = Math.imul(ah, bh) >>> 0, hhH = mulhu32(ah, bh) >>> 0;
    const carry = Math.floor((llH + lhL + hlL) / TWO32);
    const uL = hhL + lhH + hlH + carry;
    let lo = uL >>> 0 | 0, hi = (hhH + Math.floor(uL / TWO32)) | 0;
    // Signed corrections (mod 2^64): a signed negative operand contributes -(other operand) * 2^64.
    if (f3 !== 3 && ah < 0) { const t = (lo >>> 0) - (bl >>> 0); lo = t | 0; hi = (hi - bh - (t < 0 ? 1 : 0)) | 0; }
    if (f3 === 1 && bh < 0) { const t = (lo >>> 0) - (al >>> 0); lo = t | 0; hi = (hi - ah - (t < 0 ? 1 : 0)) | 0; }
    x32[d] = lo; x32[d | 1] = hi;
    return;
  }
  const signed = (f3 & 1) === 0; // DIV 4, DIVU 5, REM 6, REMU 7
  if (signed ? ah >= -SAFE_HI && ah < SAFE_HI && bh >= -SAFE_HI && bh < SAFE_HI
    : (ah >>> 0) < SAFE_HI && (bh >>> 0) < SAFE_HI) {
    const a = signed ? ah * TWO32 + (al >>> 0) : (ah >>> 0) * TWO32 + (al >>> 0);
    const b = signed ? bh * TWO32 + (bl >>> 0) : (bh >>> 0) * TWO32 + (bl >>> 0);
    let v: number;
    if (b === 0) v = f3 < 6 ? -1 : a;
    else {
      const r = a % b; // exact; takes the dividend's sign, as RISC-V REM does
      v = f3 < 6 ? (a - r) / b : r;
    }
    x32[d] = v | 0; x32[d | 1] = Math.floor(v / TWO32) | 0;
    return;
  }
  const a = x[s1 >> 1]!, b = x[s2 >> 1]!;
  switch (f3) {
    case 4: x[d >> 1] = b === 0n ? -1n : BigInt.asIntN(64, a / b); break;
    case 5: x[d >> 1] = b === 0n ? -1n : BigInt.asIntN(64, (a & U64_MASK) / (b & U64_MASK)); break;
    case 6: x[d >> 1] = b === 0n ? a : a % b; break;
    default: x[d >> 1] = b === 0n ? a : BigInt.asIntN(64, (a & U64_MASK) % (b & U64_MASK)); break;
  }
}
