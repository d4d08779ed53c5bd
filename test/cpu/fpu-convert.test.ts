// Tests for F/D conversions, moves, compares, FMIN/FMAX and FCLASS (RISC-V unprivileged spec §11.6-11.9,
// including the FCVT saturation table "Domains of float-to-integer conversions and behavior for invalid inputs").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RDN, RMM, RNE, RTZ, RUP, fclass, fcvtFF, fcvtFromInt, fcvtToInt, feq, fle, flt, fmax, fmin, type IntKind,
} from '../../src/cpu/riscv/testing/fpu-asm.js';
import {
  bitsOf, runOp, NV, OF, UF, NX, QNAN_S, QNAN_D, INF_S, INF_D, S, D,
} from '../../src/cpu/riscv/testing/fpu-bits.js';

const SNAN_S = 0x7f800001n;
const SNAN_D = 0x7ff4000000000000n;

/** Runs FCVT.<kind>.<fmt> on raw operand bits; returns [x value, flags]. */
function toInt(kind: IntKind, fmt: 'S' | 'D', bits: bigint, rm = RNE): [bigint, number] {
  const o = runOp(fcvtToInt(kind, fmt, 10, 1, rm), fmt, [bits]);
  return [o.x[10]!, o.flags];
}

test('FCVT to integer: saturation table for NaN, infinities and out-of-range values', () => {
  const i32max = 0x7fffffffn, i32min = -0x80000000n, i64max = (1n << 63n) - 1n, i64min = -(1n << 63n);
  for (const [fmt, nan, inf] of [['S', QNAN_S, INF_S], ['D', QNAN_D, INF_D]] as const) {
    const sign = fmt === 'S' ? 0x80000000n : 1n << 63n;
    const B = (v: number): bigint => bitsOf(fmt, v);
    assert.deepEqual(toInt('W', fmt, nan), [i32max, NV]);
    assert.deepEqual(toInt('W', fmt, inf), [i32max, NV]);
    assert.deepEqual(toInt('W', fmt, sign | inf), [i32min, NV]);
    assert.deepEqual(toInt('W', fmt, B(3e9)), [i32max, NV]);
    assert.deepEqual(toInt('W', fmt, B(-3e9)), [i32min, NV]);
    assert.deepEqual(toInt('W', fmt, B(-(2 ** 31))), [i32min, 0]);
    // WU: all-ones saturation is sign-extended to 64 bits.
    assert.deepEqual(toInt('WU', fmt, nan), [-1n, NV]);
    assert.deepEqual(toInt('WU', fmt, inf), [-1n, NV]);
    assert.deepEqual(toInt('WU', fmt, sign | inf), [0n, NV]);
    assert.deepEqual(toInt('WU', fmt, B(2 ** 32)), [-1n, NV]);
    assert.deepEqual(toInt('WU', fmt, B(-1)), [0n, NV]);
    assert.deepEqual(toInt('WU', fmt, B(3e9)), [3000000000n - (1n << 32n), 0]);
    // A negative value that rounds to zero is not invalid, only inexact.
    assert.deepEqual(toInt('WU', fmt, B(-0.5), RTZ), [0n, NX]);
    assert.deepEqual(toInt('WU', fmt, B(-0.5), RDN), [0n, NV]);
    assert.deepEqual(toInt('L', fmt, nan), [i64max, NV]);
    assert.deepEqual(toInt('L', fmt, sign | inf), [i64min, NV]);
    assert.deepEqual(toInt('L', fmt, B(2 ** 63)), [i64max, NV]);
    assert.deepEqual(toInt('L', fmt, B(-(2 ** 63))), [i64min, 0]);
    assert.deepEqual(toInt('LU', fmt, nan), [-1n, NV]);
    assert.deepEqual(toInt('LU', fmt, B(2 ** 64)), [-1n, NV]);
    assert.deepEqual(toInt('LU', fmt, B(2 ** 63)), [i64min, 0]);
    assert.deepEqual(toInt('LU', fmt, B(-1)), [0n, NV]);
    assert.deepEqual(toInt('LU', fmt, sign | inf), [0n, NV]);
    assert.deepEqual(toInt('L', fmt, sign), [0n, 0]);
  }
  assert.deepEqual(toInt('L', 'D', D(2 ** 62 + 2 ** 10)), [(1n << 62n) + 1024n, 0]);
  assert.deepEqual(toInt('W', 'D', D(2147483647.4)), [i32max, NX]);
  assert.deepEqual(toInt('W', 'D', D(2147483647.6)), [i32max, NV]);
  assert.deepEqual(toInt('W', 'D', D(2147483647.6), RTZ), [i32max, NX]);
});

test('FCVT to integer rounds per mode: ±2.5 and ±0.7', () => {
  const cases: Array<[number, number, bigint]> = [
    [2.5, RNE, 2n], [2.5, RTZ, 2n], [2.5, RDN, 2n], [2.5, RUP, 3n], [2.5, RMM, 3n],
    [-2.5, RNE, -2n], [-2.5, RTZ, -2n], [-2.5, RDN, -3n], [-2.5, RUP, -2n], [-2.5, RMM, -3n],
    [3.5, RNE, 4n], [0.7, RNE, 1n], [0.7, RTZ, 0n], [-0.7, RUP, 0n], [-0.7, RDN, -1n], [0.3, RMM, 0n],
  ];
  for (const [v, rm, want] of cases) {
    assert.deepEqual(toInt('W', 'S', S(v), rm), [want, NX], `${v} rm=${rm}`);
    assert.deepEqual(toInt('L', 'D', D(v), rm), [want, NX], `${v} rm=${rm}`);
  }
});

test('FCVT from integer: W sign-extends the low word, WU zero-extends it, rounding per mode', () => {
  const from = (fmt: 'S' | 'D', kind: IntKind, v: bigint, rm = RNE): [bigint, number] => {
    const o = runOp(fcvtFromInt(fmt, kind, 3, 10, rm), fmt, [], [v]);
    return [o.bits, o.flags];
  };
  assert.deepEqual(from('S', 'W', 0x12345678_ffffffffn), [S(-1), 0]);
  assert.deepEqual(from('D', 'WU', -1n), [D(4294967295), 0]);
  assert.deepEqual(from('S', 'WU', -1n), [S(4294967296), NX]);
  assert.deepEqual(from('S', 'WU', -1n, RTZ), [0x4f7fffffn, NX]);
  assert.deepEqual(from('D', 'L', (1n << 53n) + 1n), [D(2 ** 53), NX]);
  assert.deepEqual(from('D', 'L', (1n << 53n) + 1n, RUP), [D(2 ** 53 + 2), NX]);
  assert.deepEqual(from('D', 'L', -(1n << 63n)), [D(-(2 ** 63)), 0]);
  assert.deepEqual(from('D', 'LU', -1n), [D(2 ** 64), NX]);
  assert.deepEqual(from('S', 'LU', -1n, RDN), [S(2 ** 64 - 2 ** 40), NX]);
  assert.deepEqual(from('S', 'L', -3n), [S(-3), 0]);
  assert.deepEqual(from('D', 'W', 0n), [0n, 0]);
});

test('FCVT.S.D rounds and can overflow/underflow; FCVT.D.S is exact; NaNs become canonical', () => {
  const sd = (bits: bigint, rm = RNE): [bigint, number] => {
    const o = runOp(fcvtFF('S', 3, 1, rm), 'D', [bits]);
    const raw = o.fpu.f[3]!;
    assert.equal(raw >> 32n, 0xffffffffn, 'binary32 result is NaN-boxed');
    return [raw & 0xffffffffn, o.flags];
  };
  assert.deepEqual(sd(D(0.1)), [S(0.1), NX]);
  assert.deepEqual(sd(D(0.1), RTZ), [S(0.1) - 1n, NX]);
  assert.deepEqual(sd(D(1e300)), [INF_S, OF | NX]);
  assert.deepEqual(sd(D(1e300), RTZ), [0x7f7fffffn, OF | NX]);
  assert.deepEqual(sd(D(1e-300)), [0n, UF | NX]);
  assert.deepEqual(sd(D(-1e-300), RDN), [0x80000001n, UF | NX]);
  assert.deepEqual(sd(D(2 ** -140)), [S(2 ** -140), 0]);
  assert.deepEqual(sd(SNAN_D), [QNAN_S, NV]);
  assert.deepEqual(sd(0xfff8000000000001n), [QNAN_S, 0]);
  assert.deepEqual(sd(1n << 63n), [0x80000000n, 0]);
  const ds = (bits: bigint): [bigint, number] => {
    const o = runOp(fcvtFF('D', 3, 1), 'S', [bits]);
    return [o.fpu.f[3]!, o.flags];
  };
  assert.deepEqual(ds(S(0.1)), [D(Math.fround(0.1)), 0]);
  assert.deepEqual(ds(1n), [D(2 ** -149), 0]);
  assert.deepEqual(ds(SNAN_S), [QNAN_D, NV]);
  assert.deepEqual(ds(0xffc00001n), [QNAN_D, 0]);
  assert.deepEqual(ds(0x80000000n | INF_S), [(1n << 63n) | INF_D, 0]);
});

test('FEQ is quiet, FLT/FLE signal on any NaN; -0 equals +0', () => {
  for (const [fmt, qnan, snan] of [['S', QNAN_S, SNAN_S], ['D', QNAN_D, SNAN_D]] as const) {
    const B = (v: number): bigint => bitsOf(fmt, v);
    const cmp = (op: typeof feq, a: bigint, b: bigint): [bigint, number] => {
      const o = runOp(op(fmt, 10, 1, 2), fmt, [a, b]);
      return [o.x[10]!, o.flags];
    };
    assert.deepEqual(cmp(feq, B(1), B(1)), [1n, 0]);
    assert.deepEqual(cmp(feq, B(1), B(2)), [0n, 0]);
    assert.deepEqual(cmp(feq, B(-0), B(0)), [1n, 0]);
    assert.deepEqual(cmp(feq, qnan, qnan), [0n, 0]);
    assert.deepEqual(cmp(feq, snan, B(1)), [0n, NV]);
    assert.deepEqual(cmp(flt, B(1), B(2)), [1n, 0]);
    assert.deepEqual(cmp(flt, B(2), B(1)), [0n, 0]);
    assert.deepEqual(cmp(flt, B(-0), B(0)), [0n, 0]);
    assert.deepEqual(cmp(fle, B(-0), B(0)), [1n, 0]);
    assert.deepEqual(cmp(flt, qnan, B(1)), [0n, NV]);
    assert.deepEqual(cmp(fle, B(1), qnan), [0n, NV]);
    assert.deepEqual(cmp(fle, B(-Infinity), B(-1e30)), [1n, 0]);
  }
});

test('FMIN/FMAX: minimumNumber/maximumNumber with NaNs and signed zeros', () => {
  for (const [fmt, qnan, snan] of [['S', QNAN_S, SNAN_S], ['D', QNAN_D, SNAN_D]] as const) {
    const B = (v: number): bigint => bitsOf(fmt, v);
    const mm = (op: typeof fmin, a: bigint, b: bigint): [bigint, number] => {
      const o = runOp(op(fmt, 3, 1, 2), fmt, [a, b]);
      return [o.bits, o.flags];
    };
    assert.deepEqual(mm(fmin, B(1), B(2)), [B(1), 0]);
    assert.deepEqual(mm(fmax, B(1), B(2)), [B(2), 0]);
    assert.deepEqual(mm(fmin, B(-3), B(2)), [B(-3), 0]);
    assert.deepEqual(mm(fmin, qnan, B(2)), [B(2), 0]);
    assert.deepEqual(mm(fmax, B(2), qnan), [B(2), 0]);
    assert.deepEqual(mm(fmin, snan, B(2)), [B(2), NV]);
    assert.deepEqual(mm(fmax, B(-2), snan), [B(-2), NV]);
    assert.deepEqual(mm(fmin, qnan, qnan | 5n), [qnan, 0]);
    assert.deepEqual(mm(fmax, snan, qnan), [qnan, NV]);
    for (const [a, b] of [[B(-0), B(0)], [B(0), B(-0)]]) {
      assert.deepEqual(mm(fmin, a!, b!), [B(-0), 0]);
      assert.deepEqual(mm(fmax, a!, b!), [B(0), 0]);
    }
  }
});

test('FCLASS distinguishes all ten classes', () => {
  const sCases: Array<[bigint, number]> = [
    [0xff800000n, 0], [S(-1), 1], [0x807fffffn, 2], [0x80000000n, 3], [0n, 4], [1n, 5], [S(1), 6],
    [INF_S, 7], [SNAN_S, 8], [QNAN_S, 9],
  ];
  const dCases: Array<[bigint, number]> = [
    [0xfff0000000000000n, 0], [D(-1e300), 1], [0x8000000000000001n, 2], [1n << 63n, 3], [0n, 4],
    [0x000fffffffffffffn, 5], [D(2 ** -1022), 6], [INF_D, 7], [SNAN_D, 8], [QNAN_D | 1n, 9],
  ];
  for (const [fmt, cases] of [['S', sCases], ['D', dCases]] as const) {
    for (const [bits, bit] of cases) {
      const o = runOp(fclass(fmt, 10, 1), fmt, [bits]);
      assert.equal(o.x[10], 1n << BigInt(bit), `${fmt} 0x${bits.toString(16)}`);
      assert.equal(o.flags, 0);
    }
  }
});
