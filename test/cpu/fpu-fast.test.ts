// The host-double fast path must agree bit for bit (result and flags) with the exact BigInt path wherever it
// claims an operation, and must decline what it cannot prove (NaNs, tiny results, other rounding modes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastFp, NOT_HANDLED } from '../../src/cpu/riscv/fpu-fast.js';
import { F32, F64, RM_RNE, fAdd, fDiv, fMul, fSqrt, softState } from '../../src/cpu/riscv/fpu-soft.js';
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
