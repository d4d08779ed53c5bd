// Differential tests: random RV64IMAFDC user-mode sequences run on qemu-riscv64 and on vmio's hart must leave
// identical integer and FP registers, fcsr and scratch memory. Skipped when qemu-riscv64 or the cross gcc is missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTools, buildBatch, runQemu, INIT_BYTES, OUT_X, REGION_BYTES } from '../../src/cpu/riscv/testing/diff-build.js';
import { Rng, SequenceGenerator } from '../../src/cpu/riscv/testing/diff-gen.js';
import { compareBatch, formatMismatch } from '../../src/cpu/riscv/testing/diff-compare.js';
import { runDiff, runVmio, describeFailures } from '../../src/cpu/riscv/testing/diff-run.js';

const missing = missingTools();
if (missing !== null) console.log(`# skipping differential tests: ${missing}`);
const opts = { skip: missing ?? false };

test('3000 random sequences (integer, AMO, compressed, F/D) match qemu-riscv64', opts, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-diff-'));
  try {
    const r = runDiff({ seed: 20240601, count: 3000, batchSize: 1000, length: 30, fp: true, dir });
    assert.equal(r.sequences, 3000);
    assert.ok(r.instructions > 3000 * 30, `only ${r.instructions} instructions ran`);
    assert.equal(r.failures.length, 0, `${r.failures.length} sequences differ:\n${describeFailures(r)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the comparison finds a wrong register and reports it with the disassembly', opts, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-diff-'));
  try {
    const gen = new SequenceGenerator(new Rng(5), { length: 12, fp: true });
    const batch = buildBatch([0, 1, 2].map((i) => gen.generate(i)), dir);
    const expected = runQemu(batch);
    const vm = runVmio(batch);
    assert.deepEqual(compareBatch(batch, expected, vm.out, vm.trapped), []);
    // Flip one bit of a0 after sequence 2, and one scratch byte after sequence 1.
    const bad = vm.out.slice();
    const flip = (at: number, bit: number): void => { bad[at] = bad[at]! ^ bit; };
    flip(2 * REGION_BYTES + INIT_BYTES + OUT_X + 10 * 8, 1);
    flip(1 * REGION_BYTES + INIT_BYTES + 17, 0x80);
    const m = compareBatch(batch, expected, bad, new Map([[0, 'illegal instruction at pc 0x0']]));
    assert.deepEqual(m.map((x) => [x.index, x.what]), [[0, 'trap'], [1, 'scratch+0x10'], [2, 'x10 (a0)']]);
    const text = formatMismatch(batch, m[2]!);
    assert.match(text, /sequence 2: x10 \(a0\) expected 0x[0-9a-f]{16}, vmio has 0x[0-9a-f]{16}/);
    assert.match(text, /disassembly/);
    assert.match(text, /^\s+[0-9a-f]+:\s+[0-9a-f]+\s+\S+/m); // at least one objdump line
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
