// Test helpers for the FPU: JS number <-> IEEE 754 binary32/binary64 bit patterns, a seeded PRNG, and a driver
// that loads operands into an Fpu, runs one instruction word and reads the result and the flags it raised.

import { Fpu, boxF32, unboxF32 } from '../fpu.js';
import type { Fmt } from './fpu-asm.js';

const dv = new DataView(new ArrayBuffer(8));

export function f32Bits(v: number): number {
  dv.setFloat32(0, v, true);
  return dv.getUint32(0, true);
}
export function f32Value(bits: number): number {
  dv.setUint32(0, bits >>> 0, true);
  return dv.getFloat32(0, true);
}
export function f64Bits(v: number): bigint {
  dv.setFloat64(0, v, true);
  return dv.getBigUint64(0, true);
}
export function f64Value(bits: bigint): number {
  dv.setBigUint64(0, BigInt.asUintN(64, bits), true);
  return dv.getFloat64(0, true);
}

/** Raw operand bits for fmt from a JS number (binary32 as a 32-bit pattern). */
export function bitsOf(fmt: Fmt, v: number): bigint {
  return fmt === 'S' ? BigInt(f32Bits(v)) : f64Bits(v);
}
export function valueOf(fmt: Fmt, bits: bigint): number {
  return fmt === 'S' ? f32Value(Number(bits)) : f64Value(bits);
}

/** xorshift64* PRNG so random tests repeat. */
export class Rng {
  private s: bigint;
  constructor(seed: bigint) { this.s = seed === 0n ? 1n : seed; }
  next64(): bigint {
    let s = this.s;
    s ^= s >> 12n;
    s ^= BigInt.asUintN(64, s << 25n);
    s ^= s >> 27n;
    this.s = s;
    return BigInt.asUintN(64, s * 0x2545f4914f6cdd1dn);
  }
  int(n: number): number { return Number(this.next64() % BigInt(n)); }
}

/** A random bit pattern of fmt, biased towards zeros, subnormals, extremes, infinities and NaNs. */
export function randomBits(rng: Rng, fmt: Fmt): bigint {
  const expBits = fmt === 'S' ? 8 : 11;
  const fracBits = fmt === 'S' ? 23 : 52;
  const maxExp = (1 << expBits) - 1;
  const bias = maxExp >> 1;
  const sign = BigInt(rng.int(2));
  let exp: number;
  switch (rng.int(10)) {
    case 0: exp = 0; break;
    case 1: exp = maxExp; break;
    case 2: exp = 1 + rng.int(4); break;
    case 3: exp = maxExp - 1 - rng.int(4); break;
    case 4: case 5: case 6: exp = bias - 4 + rng.int(9); break;
    default: exp = rng.int(maxExp + 1);
  }
  let frac = rng.next64() & ((1n << BigInt(fracBits)) - 1n);
  const r = rng.int(6);
  if (r === 0) frac = 0n;
  else if (r === 1) frac &= ~0n << BigInt(fracBits - 3); // few significant bits
  else if (r === 2) frac |= ((1n << BigInt(fracBits)) - 1n) >> 3n; // long run of ones
  return (sign << BigInt(expBits + fracBits)) | (BigInt(exp) << BigInt(fracBits)) | frac;
}

export interface Outcome { bits: bigint; flags: number; x: BigInt64Array; fpu: Fpu }

/**
 * Loads f1, f2, f3 with the raw operands (binary32 NaN-boxed), x10/x11 with the integer operands, runs insn
 * and returns f[rd] (unboxed for 'S' — asserting it is boxed is the caller's business via fpu.f), fflags, x.
 */
export function runOp(insn: number, fmt: Fmt, ops: bigint[], xs: bigint[] = [], frm = 0, rd = 3): Outcome {
  const fpu = new Fpu();
  fpu.frm = frm;
  ops.forEach((v, i) => { fpu.f[i + 1] = fmt === 'S' ? boxF32(Number(v)) : BigInt.asUintN(64, v); });
  const x = new BigInt64Array(32);
  xs.forEach((v, i) => { x[10 + i] = BigInt.asIntN(64, v); });
  if (!fpu.exec(insn, x)) throw new Error(`instruction 0x${insn.toString(16)} reported illegal`);
  const raw = fpu.f[rd]!;
  const bits = fmt === 'S' ? BigInt(unboxF32(raw)) : raw;
  return { bits, flags: fpu.fflags, x, fpu };
}

// Shared constants for the FPU tests: fflags bits (RISC-V unprivileged spec §11.2) and special encodings.
export const NV = 16, DZ = 8, OF = 4, UF = 2, NX = 1;
export const QNAN_S = 0x7fc00000n;
export const QNAN_D = 0x7ff8000000000000n;
export const INF_S = 0x7f800000n;
export const INF_D = 0x7ff0000000000000n;
export const MAX_S = 0x7f7fffffn;
export const MAX_D = 0x7fefffffffffffffn;
/** Raw bits of a JS number as binary32 / binary64. */
export const S = (v: number): bigint => bitsOf('S', v);
export const D = (v: number): bigint => bitsOf('D', v);
