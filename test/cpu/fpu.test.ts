// Tests for the F/D arithmetic: rounding modes, accrued flags, NaN boxing and canonical NaNs, FMA single
// rounding, decode legality (RISC-V unprivileged spec ch.11-12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fpu, boxF32, unboxF32 } from '../../src/cpu/riscv/fpu.js';
import {
  DYN, RDN, RMM, RNE, RTZ, RUP, fadd, fdiv, fmadd, fmsub, fmul, fnmadd, fnmsub, fsgnj, fsgnjn, fsgnjx, fsqrt, fsub,
  fmvXF, fmvFX, opFp, feq,
} from '../../src/cpu/riscv/testing/fpu-asm.js';
import {
  bitsOf, runOp, NV, DZ, OF, UF, NX, QNAN_S, QNAN_D, MAX_S, INF_S, MAX_D, INF_D, S, D,
} from '../../src/cpu/riscv/testing/fpu-bits.js';

const SNAN_S = 0x7f800001n;
const SNAN_D = 0x7ff0000000000001n;

test('boxF32 and unboxF32 follow NaN boxing: improperly boxed values read as the canonical NaN', () => {
  assert.equal(boxF32(0x3f800000), 0xffffffff3f800000n);
  assert.equal(unboxF32(0xffffffff3f800000n), 0x3f800000);
  assert.equal(unboxF32(0x000000003f800000n), 0x7fc00000);
  assert.equal(unboxF32(0xfffffffe3f800000n), 0x7fc00000);
});

test('binary32 tie 1 + 2^-24 rounds per mode (RNE to even, RMM away) in both signs', () => {
  const one = S(1), half = S(2 ** -24), up = S(1 + 2 ** -23);
  const expect: Array<[number, bigint, bigint]> = [
    [RNE, one, S(-1)], [RTZ, one, S(-1)], [RDN, one, S(-(1 + 2 ** -23))], [RUP, up, S(-1)], [RMM, up, S(-(1 + 2 ** -23))],
  ];
  for (const [rm, pos, neg] of expect) {
    const p = runOp(fadd('S', 3, 1, 2, rm), 'S', [one, half]);
    assert.equal(p.bits, pos, `+ rm=${rm}`);
    assert.equal(p.flags, NX);
    const n = runOp(fsub('S', 3, 1, 2, rm), 'S', [S(-1), half]);
    assert.equal(n.bits, neg, `- rm=${rm}`);
  }
  // A tie whose truncation is odd: RNE also rounds up.
  assert.equal(runOp(fadd('S', 3, 1, 2, RNE), 'S', [up, half]).bits, S(1 + 2 ** -22));
});

test('binary64 1/3 and -1/3 in all five rounding modes, static and dynamic', () => {
  const lo = 0x3fd5555555555555n, hi = 0x3fd5555555555556n, sign = 1n << 63n;
  const expect: Array<[number, bigint, bigint]> = [
    [RNE, lo, sign | lo], [RTZ, lo, sign | lo], [RDN, lo, sign | hi], [RUP, hi, sign | lo], [RMM, lo, sign | lo],
  ];
  for (const [rm, pos, neg] of expect) {
    assert.equal(runOp(fdiv('D', 3, 1, 2, rm), 'D', [D(1), D(3)]).bits, pos, `static rm=${rm}`);
    assert.equal(runOp(fdiv('D', 3, 1, 2, DYN), 'D', [D(1), D(3)], [], rm).bits, pos, `dynamic rm=${rm}`);
    const n = runOp(fdiv('D', 3, 1, 2, rm), 'D', [D(-1), D(3)]);
    assert.equal(n.bits, neg, `negative rm=${rm}`);
    assert.equal(n.flags, NX);
  }
});

test('exact results raise no flags; add/sub/mul/div/sqrt basic values', () => {
  for (const fmt of ['S', 'D'] as const) {
    const B = (v: number): bigint => bitsOf(fmt, v);
    assert.deepEqual([runOp(fadd(fmt, 3, 1, 2), fmt, [B(1.5), B(2.25)])].map((o) => [o.bits, o.flags]), [[B(3.75), 0]]);
    assert.equal(runOp(fsub(fmt, 3, 1, 2), fmt, [B(1.5), B(2.25)]).bits, B(-0.75));
    assert.equal(runOp(fmul(fmt, 3, 1, 2), fmt, [B(-1.5), B(2.25)]).bits, B(-3.375));
    assert.equal(runOp(fdiv(fmt, 3, 1, 2), fmt, [B(7), B(2)]).bits, B(3.5));
    const r = runOp(fsqrt(fmt, 3, 1), fmt, [B(6.25)]);
    assert.equal(r.bits, B(2.5));
    assert.equal(r.flags, 0);
    const r2 = runOp(fsqrt(fmt, 3, 1), fmt, [B(2)]);
    assert.equal(r2.bits, fmt === 'S' ? B(Math.fround(Math.SQRT2)) : B(Math.SQRT2));
    assert.equal(r2.flags, NX);
  }
});

test('x + (-x) is +0 except in RDN where it is -0; -0 + -0 is -0', () => {
  for (const rm of [RNE, RTZ, RUP, RMM]) assert.equal(runOp(fsub('D', 3, 1, 2, rm), 'D', [D(5), D(5)]).bits, 0n);
  assert.equal(runOp(fsub('D', 3, 1, 2, RDN), 'D', [D(5), D(5)]).bits, 1n << 63n);
  assert.equal(runOp(fadd('S', 3, 1, 2), 'S', [S(-0), S(-0)]).bits, 0x80000000n);
  assert.equal(runOp(fadd('S', 3, 1, 2), 'S', [S(-0), S(0)]).bits, 0n);
  assert.equal(runOp(fadd('S', 3, 1, 2, RDN), 'S', [S(-0), S(0)]).bits, 0x80000000n);
});

test('overflow: OF|NX, infinity or the largest finite value depending on mode and sign', () => {
  const cases: Array<[number, bigint, bigint]> = [
    [RNE, INF_S, INF_S], [RTZ, MAX_S, MAX_S], [RDN, MAX_S, INF_S], [RUP, INF_S, MAX_S], [RMM, INF_S, INF_S],
  ];
  for (const [rm, pos, negMag] of cases) {
    const p = runOp(fmul('S', 3, 1, 2, rm), 'S', [MAX_S, S(2)]);
    assert.equal(p.bits, pos, `rm=${rm}`);
    assert.equal(p.flags, OF | NX);
    const n = runOp(fmul('S', 3, 1, 2, rm), 'S', [MAX_S, S(-2)]);
    assert.equal(n.bits, 0x80000000n | negMag, `neg rm=${rm}`);
  }
  const d = runOp(fadd('D', 3, 1, 2), 'D', [MAX_D, MAX_D]);
  assert.deepEqual([d.bits, d.flags], [INF_D, OF | NX]);
  // MAX + half an ulp of MAX is a tie that rounds (to even) up past the largest finite value.
  const t = runOp(fadd('D', 3, 1, 2), 'D', [MAX_D, D(2 ** 970)]);
  assert.deepEqual([t.bits, t.flags], [INF_D, OF | NX]);
  // In RTZ the same sum rounds (with unbounded exponent) to MAX itself: inexact but no overflow.
  const t2 = runOp(fadd('D', 3, 1, 2, RTZ), 'D', [MAX_D, D(2 ** 970)]);
  assert.deepEqual([t2.bits, t2.flags], [MAX_D, NX]);
});

test('underflow: UF only when tiny and inexact; exact subnormals raise nothing', () => {
  const minSub = 1n;
  const r = runOp(fmul('D', 3, 1, 2), 'D', [minSub, D(0.5)]);
  assert.deepEqual([r.bits, r.flags], [0n, UF | NX]);
  const up = runOp(fmul('D', 3, 1, 2, RUP), 'D', [minSub, D(0.5)]);
  assert.deepEqual([up.bits, up.flags], [1n, UF | NX]);
  const exact = runOp(fmul('D', 3, 1, 2), 'D', [0x0010000000000000n, D(0.5)]);
  assert.deepEqual([exact.bits, exact.flags], [0x0008000000000000n, 0]);
  const s = runOp(fdiv('S', 3, 1, 2), 'S', [0x00800000n, S(3)]);
  assert.equal(s.flags, UF | NX);
  assert.equal(s.bits, 0x002aaaabn);
});

test('tininess is detected after rounding: (1 - 2^-25)·2^-126 rounds to the smallest normal without UF', () => {
  // FCVT.S.D of a double just below the binary32 normal range.
  const v = (1 - 2 ** -25) * 2 ** -126;
  const cvt = opFp(0x08, 'S', 3, 1, 1, RNE);
  const fpu = new Fpu();
  fpu.f[1] = D(v);
  assert.ok(fpu.exec(cvt, new BigInt64Array(32)));
  assert.equal(unboxF32(fpu.f[3]!), 0x00800000);
  assert.equal(fpu.fflags, NX);
  const fpu2 = new Fpu();
  fpu2.f[1] = D(v);
  assert.ok(fpu2.exec(opFp(0x08, 'S', 3, 1, 1, RTZ), new BigInt64Array(32)));
  assert.equal(unboxF32(fpu2.f[3]!), 0x007fffff);
  assert.equal(fpu2.fflags, UF | NX);
});

test('divide by zero and invalid operations', () => {
  const dz = runOp(fdiv('D', 3, 1, 2), 'D', [D(-1), D(0)]);
  assert.deepEqual([dz.bits, dz.flags], [(1n << 63n) | INF_D, DZ]);
  const zz = runOp(fdiv('D', 3, 1, 2), 'D', [D(0), D(0)]);
  assert.deepEqual([zz.bits, zz.flags], [QNAN_D, NV]);
  const ii = runOp(fsub('S', 3, 1, 2), 'S', [INF_S, INF_S]);
  assert.deepEqual([ii.bits, ii.flags], [QNAN_S, NV]);
  const i0 = runOp(fmul('S', 3, 1, 2), 'S', [INF_S, S(-0)]);
  assert.deepEqual([i0.bits, i0.flags], [QNAN_S, NV]);
  const sq = runOp(fsqrt('D', 3, 1), 'D', [D(-1)]);
  assert.deepEqual([sq.bits, sq.flags], [QNAN_D, NV]);
  const sqz = runOp(fsqrt('D', 3, 1), 'D', [D(-0)]);
  assert.deepEqual([sqz.bits, sqz.flags], [1n << 63n, 0]);
  const infDiv = runOp(fdiv('S', 3, 1, 2), 'S', [INF_S, S(0)]);
  assert.deepEqual([infDiv.bits, infDiv.flags], [INF_S, 0]);
});

test('NaN results are canonical; signalling NaN operands raise NV, quiet ones do not', () => {
  const q = runOp(fadd('S', 3, 1, 2), 'S', [0xffc12345n, S(1)]);
  assert.deepEqual([q.bits, q.flags], [QNAN_S, 0]);
  const s = runOp(fmul('S', 3, 1, 2), 'S', [S(1), SNAN_S]);
  assert.deepEqual([s.bits, s.flags], [QNAN_S, NV]);
  const d = runOp(fsqrt('D', 3, 1), 'D', [SNAN_D]);
  assert.deepEqual([d.bits, d.flags], [QNAN_D, NV]);
  const dq = runOp(fdiv('D', 3, 1, 2), 'D', [0xfff8000000000123n, D(2)]);
  assert.deepEqual([dq.bits, dq.flags], [QNAN_D, 0]);
});

test('binary32 results are NaN-boxed; an improperly boxed operand acts as the canonical NaN', () => {
  const fpu = new Fpu();
  const x = new BigInt64Array(32);
  fpu.f[1] = 0x000000003f800000n; // 1.0 without the box
  fpu.f[2] = boxF32(0x3f800000);
  assert.ok(fpu.exec(fadd('S', 3, 1, 2), x));
  assert.equal(fpu.f[3], 0xffffffff7fc00000n);
  assert.equal(fpu.fflags, 0);
  assert.ok(fpu.exec(fadd('S', 4, 2, 2), x));
  assert.equal(fpu.f[4], 0xffffffff40000000n);
  // FSGNJN.S of an unboxed value: the canonical NaN with the sign negated.
  assert.ok(fpu.exec(fsgnjn('S', 5, 1, 1), x));
  assert.equal(fpu.f[5], 0xffffffffffc00000n);
  // FMV.X.W moves the low 32 bits unchanged (sign-extended), boxed or not.
  assert.ok(fpu.exec(fmvXF('S', 10, 1), x));
  assert.equal(x[10], 0x3f800000n);
  fpu.f[6] = 0x12345678_bf800000n;
  assert.ok(fpu.exec(fmvXF('S', 11, 6), x));
  assert.equal(x[11], BigInt.asIntN(64, 0xffffffffbf800000n));
  x[12] = 0x7777777780000000n;
  assert.ok(fpu.exec(fmvFX('S', 7, 12), x));
  assert.equal(fpu.f[7], 0xffffffff80000000n);
  x[13] = -2n;
  assert.ok(fpu.exec(fmvFX('D', 8, 13), x));
  assert.equal(fpu.f[8], 0xfffffffffffffffen);
  assert.ok(fpu.exec(fmvXF('D', 14, 8), x));
  assert.equal(x[14], -2n);
});

test('sign injection: FSGNJ, FSGNJN, FSGNJX (and FMV/FNEG/FABS idioms) keep NaN payloads', () => {
  for (const fmt of ['S', 'D'] as const) {
    const B = (v: number): bigint => bitsOf(fmt, v);
    assert.equal(runOp(fsgnj(fmt, 3, 1, 2), fmt, [B(3), B(-1)]).bits, B(-3));
    assert.equal(runOp(fsgnjn(fmt, 3, 1, 2), fmt, [B(3), B(-1)]).bits, B(3));
    assert.equal(runOp(fsgnjx(fmt, 3, 1, 2), fmt, [B(-3), B(-1)]).bits, B(3));
    assert.equal(runOp(fsgnjx(fmt, 3, 1, 1), fmt, [B(-3)]).bits, B(3)); // fabs
    assert.equal(runOp(fsgnjn(fmt, 3, 1, 1), fmt, [B(2)]).bits, B(-2)); // fneg
  }
  const nan = runOp(fsgnjn('D', 3, 1, 1), 'D', [SNAN_D]);
  assert.deepEqual([nan.bits, nan.flags], [(1n << 63n) | SNAN_D, 0]);
});

test('FMA rounds once: fused result differs from separate multiply and add', () => {
  const a = D(1 + 2 ** -52), b = D(1 - 2 ** -52), c = D(-1);
  const fused = runOp(fmadd('D', 4, 1, 2, 3), 'D', [a, b, c], [], 0, 4);
  assert.equal(fused.bits, D(-(2 ** -104)));
  assert.equal(fused.flags, 0);
  // Separately: a*b rounds to 1 (NX), then 1 + (-1) = 0.
  const fpu = new Fpu();
  const x = new BigInt64Array(32);
  fpu.f[1] = a; fpu.f[2] = b; fpu.f[3] = c;
  assert.ok(fpu.exec(fmul('D', 4, 1, 2), x));
  assert.ok(fpu.exec(fadd('D', 4, 4, 3), x));
  assert.equal(fpu.f[4], 0n);
  assert.equal(fpu.fflags, NX);
  // Variants: fmsub = a*b - c, fnmsub = -(a*b) + c, fnmadd = -(a*b) - c.
  const ops: bigint[] = [D(2), D(3), D(1)];
  assert.equal(runOp(fmadd('S', 4, 1, 2, 3), 'S', [S(2), S(3), S(1)], [], 0, 4).bits, S(7));
  assert.equal(runOp(fmsub('D', 4, 1, 2, 3), 'D', ops, [], 0, 4).bits, D(5));
  assert.equal(runOp(fnmsub('D', 4, 1, 2, 3), 'D', ops, [], 0, 4).bits, D(-5));
  assert.equal(runOp(fnmadd('D', 4, 1, 2, 3), 'D', ops, [], 0, 4).bits, D(-7));
  // binary32: (1+2^-23)(1-2^-23) - 1 = -2^-46 exactly.
  const s = runOp(fmsub('S', 4, 1, 2, 3), 'S', [S(1 + 2 ** -23), S(1 - 2 ** -23), S(1)], [], 0, 4);
  assert.equal(s.bits, S(-(2 ** -46)));
});

test('FMA special cases: ∞·0 + qNaN is invalid, zero signs, ∞ - ∞', () => {
  const r = runOp(fmadd('D', 4, 1, 2, 3), 'D', [INF_D, D(0), QNAN_D], [], 0, 4);
  assert.deepEqual([r.bits, r.flags], [QNAN_D, NV]);
  const q = runOp(fmadd('D', 4, 1, 2, 3), 'D', [D(1), D(2), QNAN_D], [], 0, 4);
  assert.deepEqual([q.bits, q.flags], [QNAN_D, 0]);
  const ii = runOp(fmsub('S', 4, 1, 2, 3), 'S', [INF_S, S(1), INF_S], [], 0, 4);
  assert.deepEqual([ii.bits, ii.flags], [QNAN_S, NV]);
  assert.equal(runOp(fmadd('D', 4, 1, 2, 3), 'D', [D(0), D(1), D(-0)], [], 0, 4).bits, 0n);
  assert.equal(runOp(fmadd('D', 4, 1, 2, 3, RDN), 'D', [D(0), D(1), D(-0)], [], 0, 4).bits, 1n << 63n);
  assert.equal(runOp(fnmadd('D', 4, 1, 2, 3), 'D', [D(0), D(1), D(0)], [], 0, 4).bits, 1n << 63n);
  // Tiny addend vs huge product: still one rounding (RUP moves one ulp).
  const big = runOp(fmadd('D', 4, 1, 2, 3, RUP), 'D', [D(2 ** 600), D(2 ** 400), 1n], [], 0, 4);
  assert.deepEqual([big.bits, big.flags], [D(2 ** 1000) + 1n, NX]);
});

test('flags accumulate into fflags and are not cleared by later exact operations', () => {
  const fpu = new Fpu();
  const x = new BigInt64Array(32);
  fpu.f[1] = D(1); fpu.f[2] = D(0); fpu.f[3] = D(3);
  assert.ok(fpu.exec(fdiv('D', 4, 1, 2), x));
  assert.ok(fpu.exec(fdiv('D', 4, 1, 3), x));
  assert.ok(fpu.exec(fadd('D', 4, 1, 1), x));
  assert.equal(fpu.fflags, DZ | NX);
  fpu.reset();
  assert.equal(fpu.fflags, 0);
  assert.equal(fpu.f[1], 0n);
});

test('illegal encodings return false and change nothing', () => {
  const fpu = new Fpu();
  const x = new BigInt64Array(32);
  fpu.f[1] = D(1); fpu.f[2] = D(0);
  const illegal = [
    opFp(0x00, 'D', 3, 1, 2, 5), opFp(0x00, 'D', 3, 1, 2, 6),
    (fadd('D', 3, 1, 2) | (2 << 25)) >>> 0, (fadd('D', 3, 1, 2) | (3 << 25)) >>> 0, // fmt H, Q
    fsqrt('D', 3, 1) | (1 << 20), opFp(0x04, 'D', 3, 1, 2, 3), opFp(0x05, 'S', 3, 1, 2, 2),
    opFp(0x14, 'D', 3, 1, 2, 3), opFp(0x18, 'D', 3, 1, 4, 0), opFp(0x1c, 'D', 3, 1, 0, 2),
    opFp(0x1e, 'S', 3, 1, 0, 1), opFp(0x08, 'S', 3, 1, 0, 0), opFp(0x08, 'D', 3, 1, 1, 0),
    opFp(0x06, 'D', 3, 1, 2, 0), fmadd('D', 3, 1, 2, 1, 5), 0x00000013,
  ];
  for (const insn of illegal) {
    assert.equal(fpu.exec(insn, x), false, `0x${insn.toString(16)}`);
  }
  fpu.frm = 5;
  assert.equal(fpu.exec(fdiv('D', 3, 1, 2, DYN), x), false);
  fpu.frm = 7;
  assert.equal(fpu.exec(fmadd('S', 3, 1, 2, 1, DYN), x), false);
  assert.equal(fpu.f[3], 0n);
  assert.equal(fpu.fflags, 0);
  // Instructions without rounding ignore frm.
  assert.equal(fpu.exec(feq('D', 5, 1, 1), x), true);
  assert.equal(x[5], 1n);
});

test('x0 is never written', () => {
  const fpu = new Fpu();
  const x = new BigInt64Array(32);
  fpu.f[1] = D(1);
  assert.ok(fpu.exec(feq('D', 0, 1, 1), x));
  assert.ok(fpu.exec(fmvXF('D', 0, 1), x));
  assert.equal(x[0], 0n);
});
