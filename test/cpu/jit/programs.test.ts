// Whole programs under the block translator: the bare-metal self-checking programs (guest/tests/*.c) pass with
// --cpu jit and stay in lockstep with the interpreter (same pc, instret and registers after every chunk of a
// run cut at odd points); the CPU benchmark's workloads (integer, memcpy, sort, floating point) likewise; and
// the differential test against qemu-riscv64 (random RV64IMAFDC sequences) with every sequence translated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareMetalMachine, buildBareMetal, missingCrossGcc, runBareMetal } from '../../../src/cpu/riscv/testing/baremetal.js';
import { missingTools } from '../../../src/cpu/riscv/testing/diff-build.js';
import { runDiff, describeFailures } from '../../../src/cpu/riscv/testing/diff-run.js';
import { hartState } from '../../../src/cpu/riscv/jit/testing.js';
import type { Jit } from '../../../src/cpu/riscv/jit/engine.js';

const missingGcc = missingCrossGcc();
const dir = mkdtempSync(join(tmpdir(), 'vmio-jit-programs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const PROGRAMS = ['traps.c', 'deleg.c', 'mmu.c', 'interrupts.c'];

/** Runs `elf` on an interpreting and a translating machine in chunks of `chunk`; returns the first difference. */
function lockstep(elf: Uint8Array, chunk: number, max: number): { diff: string | null; translated: number; total: number } {
  const a = bareMetalMachine(elf, 8 << 20), b = bareMetalMachine(elf, 8 << 20, 'jit');
  let total = 0;
  while (total < max && a.finisher() === null) {
    const ra = a.hart.run(chunk), rb = b.hart.run(chunk);
    total += ra;
    const sa = hartState(a.hart), sb = hartState(b.hart);
    if (sa !== sb || ra !== rb) return { diff: `after ${total} instructions: ${sa} (interpreter) vs ${sb} (translator)`, translated: 0, total };
    if (ra === 0) break;
  }
  assert.equal(b.finisher(), a.finisher(), 'both wrote the same to the test finisher');
  return { diff: null, translated: (b.hart.jit as Jit).stats.retired, total };
}

for (const p of PROGRAMS) {
  test(`bare-metal ${p} passes under --cpu jit and in lockstep with the interpreter`, { skip: missingGcc ?? false }, () => {
    const elfPath = buildBareMetal(p, join(dir, p));
    const r = runBareMetal(elfPath, 20_000_000, 'jit');
    assert.equal(r.verdict, 'pass', `${p}: ${r.verdict} ${r.code} at pc 0x${r.pc.toString(16)}`);
    const l = lockstep(new Uint8Array(readFileSync(elfPath)), 997, 20_000_000);
    assert.equal(l.diff, null, l.diff ?? '');
  });
}

test('the CPU benchmark workloads run in lockstep with the interpreter, mostly translated', { skip: missingGcc ?? false }, () => {
  for (const w of [1, 2, 3, 4]) {
    const elfPath = buildBareMetal('bench/cpu.c', join(dir, `bench${w}`), [`-DWORKLOAD=${w}`, '-DSCALE=1', '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-fno-math-errno']);
    const l = lockstep(new Uint8Array(readFileSync(elfPath)), 1013, 50_000_000);
    assert.equal(l.diff, null, `workload ${w}: ${l.diff}`);
    assert.ok(l.translated > l.total * 0.5, `workload ${w}: ${l.translated} of ${l.total} instructions translated`);
  }
});

const missingDiff = missingTools();
test('3000 random sequences (integer, AMO, compressed, F/D) match qemu-riscv64 with every sequence translated', { skip: missingDiff ?? false }, () => {
  const work = mkdtempSync(join(tmpdir(), 'vmio-jit-diff-'));
  try {
    const r = runDiff({ seed: 20240601, count: 3000, batchSize: 1000, length: 30, fp: true, dir: work, cpu: 'jit' });
    assert.equal(r.sequences, 3000);
    assert.equal(r.failures.length, 0, `${r.failures.length} sequences differ:\n${describeFailures(r)}`);
    assert.ok(r.translated > r.instructions * 0.6, `only ${r.translated} of ${r.instructions} instructions ran translated`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('2000 random sequences match qemu-riscv64 under --cpu jit as vmio runs it (the WebAssembly tier, blocks for hot code)', { skip: missingDiff ?? false }, () => {
  const work = mkdtempSync(join(tmpdir(), 'vmio-tier-diff-'));
  try {
    const r = runDiff({ seed: 20261201, count: 2000, batchSize: 1000, length: 30, fp: true, dir: work, cpu: 'jit-tier' });
    assert.equal(r.sequences, 2000);
    assert.equal(r.failures.length, 0, `${r.failures.length} sequences differ:\n${describeFailures(r)}`);
    assert.ok(r.tier > r.instructions * 0.3, `only ${r.tier} of ${r.instructions} instructions ran in the tier`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
