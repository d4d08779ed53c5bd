// RV64M on register halves (src/cpu/riscv/muldiv.ts) checked against bigint arithmetic (unprivileged spec §7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulDiv64 } from '../../src/cpu/riscv/muldiv.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => v & M64;

function reference(f3: number, a: bigint, b: bigint): bigint {
  switch (f3) {
    case 0: return s64(a * b);
    case 1: return s64((a * b) >> 64n);
    case 2: return s64((a * u64(b)) >> 64n);
    case 3: return s64((u64(a) * u64(b)) >> 64n);
    case 4: return b === 0n ? -1n : s64(a / b);
    case 5: return b === 0n ? -1n : s64(u64(a) / u64(b));
    case 6: return b === 0n ? a : s64(a % b);
    default: return b === 0n ? a : s64(u64(a) % u64(b));
  }
}

const EDGE = [0n, 1n, -1n, 2n, -2n, 3n, 7n, -7n, 0x7fffffffn, -0x80000000n, 0xffffffffn, 0x100000000n, (1n << 53n) - 1n,
  -(1n << 53n), 1n << 53n, (1n << 63n) - 1n, -(1n << 63n), 0x123456789abcdefn, -0x0fedcba987654321n, 0xffffn, 0x10000n];

function rand64(seed: { s: bigint }): bigint {
  seed.s = (seed.s * 6364136223846793005n + 1442695040888963407n) & M64;
  const v = seed.s ^ (seed.s >> 29n);
  const shift = BigInt(Number(seed.s >> 58n)); // vary magnitudes so the double fast paths and the bigint path both run
  return s64(v >> shift);
}

test('mulDiv64 matches bigint arithmetic for MUL/MULH/MULHSU/MULHU/DIV/DIVU/REM/REMU', () => {
  const x = new BigInt64Array(32);
  const x32 = new Int32Array(x.buffer);
  const seed = { s: 42n };
  const vals = [...EDGE];
  for (let i = 0; i < 400; i++) vals.push(rand64(seed));
  let checked = 0;
  for (let i = 0; i < vals.length; i++) {
    for (let j = 0; j < vals.length; j += (i % 7) + 1) {
      const a = vals[i]!, b = vals[j]!;
      for (let f3 = 0; f3 < 8; f3++) {
        x[5] = a; x[6] = b; x[7] = 0x5555n;
        mulDiv64(x32, x, 14, 10, 12, f3);
        assert.equal(x[7], reference(f3, a, b), `f3=${f3} a=${a} b=${b}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 100000);
});

test('mulDiv64 works when rd aliases a source register', () => {
  const x = new BigInt64Array(32);
  const x32 = new Int32Array(x.buffer);
  for (let f3 = 0; f3 < 8; f3++) {
    x[5] = -123456789012345n; x[6] = 987654321n;
    mulDiv64(x32, x, 10, 10, 12, f3);
    assert.equal(x[5], reference(f3, -123456789012345n, 987654321n), `f3=${f3}`);
  }
});
