// Bare-metal self-checking programs (guest/tests/*.c) run in M-mode on vmio's hart and report through the SiFive
// test finisher: traps, delegation, Sv39 and interrupts as a guest kernel sees them. Built at test time with the
// cross gcc (skipped when it is missing). The same ELFs are also run on qemu-system-riscv64's virt board, when
// installed, to show the programs themselves are right.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBareMetal, missingCrossGcc, runBareMetal } from '../../src/cpu/riscv/testing/baremetal.js';

const PROGRAMS = ['traps.c', 'deleg.c', 'mmu.c', 'interrupts.c'];
const missing = missingCrossGcc();
if (missing !== null) console.log(`# skipping bare-metal tests: ${missing}`);
const dir = mkdtempSync(join(tmpdir(), 'vmio-baremetal-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const elfs = new Map<string, string>();
function elf(p: string): string {
  let e = elfs.get(p);
  if (e === undefined) { e = buildBareMetal(p, dir); elfs.set(p, e); }
  return e;
}

for (const p of PROGRAMS) {
  test(`bare-metal ${p} passes on vmio's hart`, { skip: missing ?? false }, () => {
    const r = runBareMetal(elf(p));
    assert.equal(r.verdict, 'pass', `${p}: ${r.verdict}${r.verdict === 'fail' ? ` at check ${r.code}` : ''} ` +
      `after ${r.instructions} instructions, pc 0x${r.pc.toString(16)} (the check numbers are in guest/tests/${p})`);
  });
}

test('a failing check is reported with its code', { skip: missing ?? false }, () => {
  // traps.c built to expect mhartid 1 must fail its check 24 on hart 0.
  const bad = buildBareMetal('traps.c', join(dir, 'bad'), ['-DEXPECTED_HARTID=1']);
  const r = runBareMetal(bad);
  assert.equal(r.verdict, 'fail');
  assert.equal(r.code, 24);
});

const qemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
test('the programs pass on qemu-system-riscv64 (oracle for the programs themselves)', { skip: missing ?? (qemu ? false : 'qemu-system-riscv64 is not installed') }, () => {
  for (const p of PROGRAMS) {
    const r = spawnSync('qemu-system-riscv64', ['-machine', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none',
      '-serial', 'none', '-kernel', elf(p)], { timeout: 20_000 });
    assert.equal(r.status, 0, `${p} on QEMU exited with ${r.status ?? r.signal} (the failing check number)`);
  }
});
