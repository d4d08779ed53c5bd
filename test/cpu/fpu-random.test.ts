// Random tests of the F/D arithmetic against host IEEE doubles (needs no cross tools): round-to-nearest-even
// results of add/sub/mul/div/sqrt for binary64 and binary32, and the directed modes for binary32 add/mul,
// whose exact results fit in a double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RDN, RMM, RNE, RTZ, RUP, fadd, fdiv, fmul, fsqrt, fsub } from '../../src/cpu/riscv/testing/fpu-asm.js';
import { Rng, bitsOf, f32Value, randomBits, runOp, valueOf } from '../../src/cpu/riscv/testing/fpu-bits.js';

const NX = 1;
const CANONICAL = { S: 0x7fc00000n, D: 0x7ff8000000000000n } as const;

test('RNE add/sub/mul/div/sqrt agree with host IEEE arithmetic on random operands', () => {
  const rng = new Rng(12345n);
  for (const fmt of ['S', 'D'] as const) {
    const round = fmt === 'S' ? Math.fround : (v: number): number => v;
    for (let i = 0; i < 1500; i++) {
      const a = randomBits(rng, fmt);
      const b = randomBits(rng, fmt);
      const va = valueOf(fmt, a);
      const vb = valueOf(fmt, b);
      // For binary32, rounding the double result again is exact-enough (53 >= 2·24 + 2).
      const cases: Array<[number, number, string]> = [
        [fadd(fmt, 3, 1, 2), round(va + vb), 'add'], [fsub(fmt, 3, 1, 2), round(va - vb), 'sub'],
        [fmul(fmt, 3, 1, 2), round(va * vb), 'mul'], [fdiv(fmt, 3, 1, 2), round(va / vb), 'div'],
        [fsqrt(fmt, 3, 1), round(Math.sqrt(va)), 'sqrt'],
      ];
      for (const [insn, want, name] of cases) {
        const got = runOp(insn, fmt, [a, b]).bits;
        const expected = Number.isNaN(want) ? CANONICAL[fmt] : bitsOf(fmt, want);
        assert.equal(got, expected, `${name}.${fmt} 0x${a.toString(16)} 0x${b.toString(16)}`);
      }
    }
  }
});

/** Neighbour of a finite binary32 value towards +∞ (up) or -∞. */
function step32(v: number, up: boolean): number {
  if (v === 0) return up ? 2 ** -149 : -(2 ** -149);
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  const away = (v > 0) === up;
  return f32Value(away ? bits + 1 : bits - 1);
}

test('binary32 directed rounding brackets the exact result of add and mul', () => {
  const rng = new Rng(777n);
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const a = randomBits(rng, 'S');
    const b = randomBits(rng, 'S');
    const va = valueOf('S', a);
    const vb = valueOf('S', b);
    for (const [mk, exact] of [[fadd, va + vb], [fmul, va * vb]] as const) {
      // Only where the double result is exact and the binary32 result stays finite and nonzero.
      if (!Number.isFinite(exact) || exact === 0 || Math.abs(exact) >= 2 ** 127) continue;
      if (mk === fadd && (exact - va !== vb || exact - vb !== va)) continue;
      const res = [RNE, RTZ, RDN, RUP, RMM].map((rm) => runOp(mk('S', 3, 1, 2, rm), 'S', [a, b]));
      const [rne, rtz, rdn, rup, rmm] = res.map((o) => valueOf('S', o.bits)) as [number, number, number, number, number];
      assert.equal(rne, Math.fround(exact));
      if (Math.fround(exact) === exact) {
        for (const o of res) assert.equal(o.flags & NX, 0);
        assert.deepEqual([rtz, rdn, rup, rmm], [exact, exact, exact, exact]);
      } else {
        for (const o of res) assert.equal(o.flags & NX, NX);
        assert.ok(rdn < exact && exact < rup, `rdn ${rdn} < ${exact} < rup ${rup}`);
        assert.equal(step32(rdn, true), rup);
        assert.equal(Math.abs(rtz), Math.min(Math.abs(rdn), Math.abs(rup)));
        const dDown = exact - rdn;
        const dUp = rup - exact;
        assert.equal(rmm, dDown < dUp ? rdn : dUp < dDown ? rup : exact > 0 ? rup : rdn);
      }
      checked++;
    }
  }
  assert.ok(checked > 1000, `only ${checked} cases were checkable`);
});
