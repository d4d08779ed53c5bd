// Differential test of the F/D unit against qemu-riscv64 on random OP-FP and FMA cases (skipped when the
// cross compiler or qemu-user is missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingQemuTools, randomCase, runOnFpu, runOnQemu } from '../../src/cpu/riscv/testing/fpu-qemu.js';
import { Rng } from '../../src/cpu/riscv/testing/fpu-bits.js';

const missing = missingQemuTools();
if (missing !== null) console.log(`# skipping FPU differential test: ${missing}`);

test('random F/D operations match qemu-riscv64 bit for bit, flags included', { skip: missing ?? false }, () => {
  const rng = new Rng(0x5eed_f00dn);
  const cases = Array.from({ length: 3000 }, () => randomCase(rng));
  const want = runOnQemu(cases);
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const got = runOnFpu(c);
    const w = want[i]!;
    const same = got.fflags === w.fflags && (c.intResult ? got.x11 === w.x11 : got.f4 === w.f4);
    if (!same && bad.length < 10) {
      const hex = (v: bigint): string => BigInt.asUintN(64, v).toString(16);
      bad.push(`${c.text} frm=${c.frm} f1=${hex(c.f[0])} f2=${hex(c.f[1])} f3=${hex(c.f[2])} x10=${hex(c.x10)}: ` +
        `qemu ${c.intResult ? hex(w.x11) : hex(w.f4)}/${w.fflags} vmio ${c.intResult ? hex(got.x11) : hex(got.f4)}/${got.fflags}`);
    }
  });
  assert.deepEqual(bad, []);
});
