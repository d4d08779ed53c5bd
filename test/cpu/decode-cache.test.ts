// The hart's decoded-instruction cache (hart.ts): stores into code (32-bit word, upper halfword of a 32-bit
// instruction, compressed parcel) take effect at once; FENCE.I drops decodes after writes the hart did not make
// (device DMA); the cache is keyed by physical address, so the same virtual address under another satp runs the
// other page's code (unprivileged spec §5.1 Zifencei; privileged spec §4.1.11 satp).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT, type TestMachine } from '../../src/cpu/riscv/testing/machine.js';
import { PageTables } from '../../src/cpu/riscv/testing/pagetable.js';
import { PTE_R, PTE_W, PTE_X, PTE_A, PTE_D, PTE_G } from '../../src/cpu/riscv/mmu.js';

const { a0, a1, a2, a3, a4, t0, ra } = A.R;
const MTVEC = 0x305, MCAUSE = 0x342, SATP = 0x180;
const L = RAM_BASE + 0x40; // the instruction the programs rewrite

function machine(p: A.Program, priv: 0 | 1 | 3 = 3): TestMachine {
  const m = makeMachine();
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f); // j .
  m.hart.reset(p.base, priv);
  m.hart.writeCsr(MTVEC, BigInt(HALT));
  return m;
}

/** Runs L once, then `patch` (stores into L) and jumps back to L; ends at ebreak. a0 counts what L added. */
function selfModifying(setup: number[][], patch: number[], lInsn: (p: A.Program) => void): TestMachine {
  const p = new A.Program(RAM_BASE).w(...setup, A.li(a3, 0));
  p.w(A.jal(0, L - p.here)).org(L);
  lInsn(p);
  const back = p.here;
  // back: bne; back+4: addi; back+8: the patch; then j L; then ebreak.
  p.w(A.bne(a3, 0, 12 + 4 * patch.length), A.addi(a3, a3, 1), ...patch, A.jal(0, L - (back + 8 + 4 * patch.length)), A.ebreak());
  const m = machine(p);
  runUntil(m.hart, HALT, 1000);
  assert.equal(m.hart.readCsr(MCAUSE), 3n, 'the program ends at its ebreak');
  return m;
}

test('a store over an executed 32-bit instruction takes effect without FENCE.I', () => {
  const m = selfModifying([A.li(a1, L), A.li(a2, A.addi(a0, a0, 100))], [A.sw(a2, a1, 0)], (p) => p.w(A.addi(a0, a0, 1)));
  assert.equal(m.hart.x[a0], 101n);
});

test('a halfword store into the upper half of an executed 32-bit instruction takes effect', () => {
  const m = selfModifying([A.li(a1, L), A.li(a2, A.addi(a0, a0, 100) >>> 16)], [A.sh(a2, a1, 2)], (p) => p.w(A.addi(a0, a0, 1)));
  assert.equal(m.hart.x[a0], 101n);
});

test('a store over an executed compressed instruction takes effect', () => {
  const cAddi = (imm: number): number => (((imm >> 5) & 1) << 12) | (a0 << 7) | ((imm & 31) << 2) | 1; // c.addi a0, imm
  const m = selfModifying([A.li(a1, L), A.li(a2, cAddi(31))], [A.sh(a2, a1, 0)], (p) => p.c(cAddi(1), 0x0001 /* c.nop */));
  assert.equal(m.hart.x[a0], 32n);
});

test('FENCE.I drops decoded instructions after a write the hart did not make (device DMA)', () => {
  const p = new A.Program(RAM_BASE).w(A.li(a3, 0));
  p.w(A.jal(0, L - p.here)).org(L);
  p.w(A.addi(a0, a0, 1), A.bne(a3, 0, 16), A.addi(a3, a3, 1), A.fenceI(), A.jal(0, -16), A.ebreak());
  const m = machine(p);
  runUntil(m.hart, L + 8, 100); // L has run once
  assert.equal(m.hart.x[a0], 1n);
  m.mem.write32(L - RAM_BASE, A.addi(a0, a0, 100)); // behind the hart's back, like DMA
  runUntil(m.hart, HALT, 100);
  assert.equal(m.hart.readCsr(MCAUSE), 3n);
  assert.equal(m.hart.x[a0], 101n);
});

test('decoded code is keyed by physical page: the same virtual address under another satp runs the other code', () => {
  const VA = 0x4000_0000, P1 = RAM_BASE + 0x10_0000, P2 = RAM_BASE + 0x11_0000;
  const flags = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
  const p = new A.Program(RAM_BASE + 0x1000).w(
    A.li(t0, VA), A.jalr(ra, t0, 0),  // runs P1 through VA
    A.csrw(SATP, a4), A.sfenceVma(),
    A.jalr(ra, t0, 0),                // runs P2 through the same VA
    A.ebreak(),
  );
  const m = machine(p, 1);
  const pt1 = new PageTables(m.mem, RAM_BASE + 0x20_0000), pt2 = new PageTables(m.mem, RAM_BASE + 0x28_0000);
  for (const pt of [pt1, pt2]) pt.map(RAM_BASE, RAM_BASE, flags | PTE_G, 2);
  pt1.map(VA, P1, flags);
  pt2.map(VA, P2, flags);
  m.mem.load(P1, new A.Program(P1).w(A.addi(a0, a0, 1), A.jalr(0, ra, 0)).build());
  m.mem.load(P2, new A.Program(P2).w(A.addi(a0, a0, 100), A.jalr(0, ra, 0)).build());
  m.hart.x[a4] = pt2.satp();
  m.hart.writeCsr(SATP, pt1.satp());
  runUntil(m.hart, HALT, 1000);
  assert.equal(m.hart.readCsr(MCAUSE), 3n);
  assert.equal(m.hart.x[a0], 101n);
});
