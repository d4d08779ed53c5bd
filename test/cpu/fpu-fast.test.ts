// The host-double fast path must agree bit for bit (result and flags) with the exact BigInt path wherever it
// claims an operation -- arithmetic and fused multiply-adds in all five rounding modes, conversions from
// integers -- and must decline what it cannot prove (NaNs, tiny results, zeros).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastFp, NOT_HANDLED } from '../../src/cpu/riscv/fpu-fast.js';
import { F32, F64, RM_RNE, fAdd, fDiv, fFma, fMul, fSqrt, softState } from '../../src/cpu/riscv/fpu-soft.js';
import { fFromInt } from '../../src/cpu/riscv/fpu-convert.js';
import { Rng, randomBits } from '../../src/cpu/riscv/testing/fpu-bits.js';

const OPS = [0x00, 0x01, 0x02, 0x03, 0x0b];

function exact(op: number, a: bigint, b: bigint, isD: boolean): bigint {
  const fmt = isD ? F64 : F32;
  switch (op) {
    case 0x00: return fAdd(a, b, false, fmt, RM_RNE);
    case 0x01: return fAdd(a, b, true, fmt, RM_RNE);
    case 0x02: return fMul(a, b, fmt, RM_RNE);
    case 0x03: return fDiv(a, b, fmt, RM_RNE);
    default: return fSqrt(a, fmt, RM_RNE);
  }
}

test('fast path results and flags equal the exact path on random operands', () => {
  const rng = new Rng(99n);
  const f = new BigUint64Array(32);
  const fast = new FastFp(f);
  let handled = 0;
  for (let i = 0; i < 20000; i++) {
    const isD = rng.int(2) === 1;
    const fmt = isD ? 'D' : 'S';
    let a = randomBits(rng, fmt);
    let b = randomBits(rng, fmt);
    if (rng.int(2) === 0) {
      // Ordinary magnitudes, where the fast path is meant to apply.
      const fb = isD ? 52n : 23n;
      const bias = isD ? 1023n : 127n;
      const mk = (): bigint => (BigInt(rng.int(2)) << (fb + (isD ? 11n : 8n))) |
        ((bias - 30n + BigInt(rng.int(60))) << fb) | (rng.next64() & ((1n << fb) - 1n));
      a = mk();
      b = mk();
    }
    const op = OPS[rng.int(OPS.length)]!;
    f[1] = isD ? a : 0xffffffff00000000n | a;
    f[2] = isD ? b : 0xffffffff00000000n | b;
    f[3] = 0n;
    const flags = fast.tryFast(op, isD, 3, 1, 2);
    if (flags === NOT_HANDLED) {
      assert.equal(f[3], 0n, 'a declined operation writes nothing');
      continue;
    }
    handled++;
    softState.flags = 0;
    const want = exact(op, a, b, isD);
    assert.equal(f[3], isD ? want : 0xffffffff00000000n | want, `op ${op} ${fmt} 0x${a.toString(16)} 0x${b.toString(16)}`);
    assert.equal(flags, softState.flags);
  }
  assert.ok(handled > 8000, `fast path took only ${handled} operations`);
});

test('fast path declines NaN, improperly boxed, tiny and overflowing cases', () => {
  const f = new BigUint64Array(32);
  const fast = new FastFp(f);
  f[1] = 0x7ff4000000000000n; f[2] = 0x3ff0000000000000n;
  assert.equal(fast.tryFast(0x00, true, 3, 1, 2), NOT_HANDLED);
  f[1] = 0x000000003f800000n; f[2] = 0xffffffff3f800000n;
  assert.equal(fast.tryFast(0x00, false, 3, 1, 2), NOT_HANDLED);
  f[1] = 0x0010000000000000n; f[2] = 0x3fe0000000000000n; // min normal · 0.5
  assert.equal(fast.tryFast(0x02, true, 3, 1, 2), NOT_HANDLED);
  f[1] = 0xffffffff7f7fffffn; f[2] = 0xffffffff40000000n; // max · 2 (binary32)
  assert.equal(fast.tryFast(0x02, false, 3, 1, 2), NOT_HANDLED);
  f[1] = 0x4000000000000000n; f[2] = 0x4000000000000000n; // 2 - 2 = +0: zero signs go to the exact path
  assert.equal(fast.tryFast(0x01, true, 3, 1, 2), NOT_HANDLED);
  assert.equal(f[3], 0n);
});

/** A random value of ordinary magnitude (where the fast paths are meant to apply), as raw bits. */
function ordinary(rng: Rng, isD: boolean, spread = 60): bigint {
  const fb = isD ? 52n : 23n;
  const bias = isD ? 1023n : 127n;
  return (BigInt(rng.int(2)) << (fb + (isD ? 11n : 8n))) | ((bias - BigInt(spread >> 1) + BigInt(rng.int(spread))) << fb) |
    (rng.next64() & ((1n << fb) - 1n));
}

/** A value with few significant bits (so that sums, products and ties are often exact). */
function short(rng: Rng, isD: boolean): bigint {
  const fb = isD ? 52n : 23n;
  const keep = BigInt(1 + rng.int(8));
  const v = ordinary(rng, isD, 12);
  return v & ~((1n << (fb - keep)) - 1n);
}

test('all five rounding modes: arithmetic results and flags equal the exact path', () => {
  const rng = new Rng(4242n);
  const f = new BigUint64Array(32);
  const fast = new FastFp(f);
  const handled = [0, 0, 0, 0, 0];
  for (let i = 0; i < 40000; i++) {
    const isD = rng.int(2) === 1;
    const fmt = isD ? F64 : F32;
    const pick = (): bigint => (rng.int(3) === 0 ? short(rng, isD) : ordinary(rng, isD));
    const a = pick(), b = pick();
    const op = OPS[rng.int(OPS.length)]!;
    const rm = rng.int(5);
    f[1] = isD ? a : 0xffffffff00000000n | a;
    f[2] = isD ? b : 0xffffffff00000000n | b;
    f[3] = 0n;
    const flags = fast.tryFast(op, isD, 3, 1, 2, rm);
    if (flags === NOT_HANDLED) { assert.equal(f[3], 0n); continue; }
    handled[rm]!++;
    softState.flags = 0;
    const want = op === 0x00 ? fAdd(a, b, false, fmt, rm) : op === 0x01 ? fAdd(a, b, true, fmt, rm)
      : op === 0x02 ? fMul(a, b, fmt, rm) : op === 0x03 ? fDiv(a, b, fmt, rm) : fSqrt(a, fmt, rm);
    const what = `op ${op} rm ${rm} ${isD ? 'D' : 'S'} 0x${a.toString(16)} 0x${b.toString(16)}`;
    assert.equal(f[3], isD ? want : 0xffffffff00000000n | want, what);
    assert.equal(flags, softState.flags, what);
  }
  for (let rm = 0; rm < 5; rm++) assert.ok(handled[rm]! > 4000, `rounding mode ${rm}: only ${handled[rm]} taken`);
});

test('fused multiply-adds (all four, all modes): results and flags equal the exact path where taken', () => {
  const rng = new Rng(777n);
  const f = new BigUint64Array(32);
  const fast = new FastFp(f);
  let handled = 0, inexact = 0;
  for (let i = 0; i < 40000; i++) {
    const isD = rng.int(2) === 1;
    const fmt = isD ? F64 : F32;
    const pick = (): bigint => (rng.int(3) === 0 ? short(rng, isD) : ordinary(rng, isD, 20));
    const a = pick(), b = pick(), c = pick();
    const negProd = rng.int(2) === 1, negC = rng.int(2) === 1;
    const rm = rng.int(5);
    const box = (v: bigint): bigint => (isD ? v : 0xffffffff00000000n | v);
    f[1] = box(a); f[2] = box(b); f[4] = box(c); f[3] = 0n;
    const flags = fast.tryFma(isD, 3, 1, 2, 4, negProd, negC, rm);
    if (flags === NOT_HANDLED) { assert.equal(f[3], 0n); continue; }
    handled++;
    if (flags !== 0) inexact++;
    softState.flags = 0;
    const want = fFma(a, b, c, negProd, negC, fmt, rm);
    const what = `fma rm ${rm} ${isD ? 'D' : 'S'} 0x${a.toString(16)} 0x${b.toString(16)} 0x${c.toString(16)} ${negProd} ${negC}`;
    assert.equal(f[3], box(want), what);
    assert.equal(flags, softState.flags, what);
  }
  assert.ok(handled > 15000 && inexact > 5000, `fast FMA took ${handled} (${inexact} inexact)`);
});

test('conversions from 32- and 64-bit integers equal the exact path (all modes), wide values declined', () => {
  const rng = new Rng(31337n);
  const f = new BigUint64Array(32);
  const fast = new FastFp(f);
  let handled = 0;
  for (let i = 0; i < 20000; i++) {
    const isD = rng.int(2) === 1;
    const kind = rng.int(4); // W, WU, L, LU
    const bits = BigInt(1 + rng.int(kind < 2 ? 32 : 64));
    let v = rng.next64() & ((1n << bits) - 1n);
    if (kind === 0) v = BigInt.asIntN(32, v); else if (kind === 2) v = BigInt.asIntN(64, v | (rng.int(2) === 1 ? -(1n << (bits - 1n)) : 0n));
    const u = BigInt.asUintN(64, v);
    const lo = Number(BigInt.asIntN(32, u)), hi = kind === 0 ? lo >> 31 : kind === 1 ? 0 : Number(BigInt.asIntN(32, u >> 32n));
    const rm = rng.int(5);
    f[3] = 0n;
    const flags = fast.tryFromInt(isD, 3, lo, hi, kind === 0 || kind === 2, rm);
    if (flags === NOT_HANDLED) { assert.ok(v >= 1n << 53n || v < -(1n << 53n), `declined ${v}`); continue; }
    handled++;
    softState.flags = 0;
    const want = fFromInt(kind === 1 ? BigInt.asUintN(32, v) : kind === 3 ? BigInt.asUintN(64, v) : v, isD ? F64 : F32, rm);
    assert.equal(f[3], isD ? want : 0xffffffff00000000n | want, `${v} rm ${rm} ${isD ? 'D' : 'S'}`);
    assert.equal(flags, softState.flags, `${v} rm ${rm}`);
  }
  assert.ok(handled > 10000, `only ${handled} taken`);
});

test('with NX already accrued, binary64 RNE results equal the exact path and the accrued flags are the same', () => {
  const rng = new Rng(2718n);
  const f = new BigUint64Array(32);
  const fast = new FastFp(f);
  let handled = 0;
  for (let i = 0; i < 20000; i++) {
    const a = rng.int(3) === 0 ? short(rng, true) : ordinary(rng, true);
    const b = rng.int(3) === 0 ? short(rng, true) : ordinary(rng, true);
    const op = OPS[rng.int(OPS.length)]!;
    f[1] = a; f[2] = b; f[3] = 0n;
    const flags = fast.tryFast(op, true, 3, 1, 2, RM_RNE, true);
    if (flags === NOT_HANDLED) { assert.equal(f[3], 0n); continue; }
    handled++;
    softState.flags = 0;
    const want = exact(op, a, b, true);
    assert.equal(f[3], want, `op ${op} 0x${a.toString(16)} 0x${b.toString(16)}`);
    assert.equal(flags | 1, softState.flags | 1, 'fflags after accruing, NX being set already');
  }
  assert.ok(handled > 10000, `only ${handled} taken`);
});
