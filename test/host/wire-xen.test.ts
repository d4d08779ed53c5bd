// The Xen wiring's hypercall-pointer translator: the hart's own Sv39 walk, S-mode permissions, -1 instead of a trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMachine, RAM_BASE } from '../../src/cpu/riscv/testing/machine.js';
import { PageTables } from '../../src/cpu/riscv/testing/pagetable.js';
import { PTE_A, PTE_D, PTE_R, PTE_W, PTE_U } from '../../src/cpu/riscv/mmu.js';
import { HartTranslator } from '../../src/host/wire-xen.js';

const SATP = 0x180, SCAUSE = 0x142, MCAUSE = 0x342;
const VA = 0x4000_0000, DATA = RAM_BASE + 0x30_0000;

test('translates a kernel pointer through satp; unmapped, read-only-for-write and user pages give -1 without a trap', () => {
  const m = makeMachine();
  const t = new HartTranslator(m.hart);
  assert.equal(t.translate(RAM_BASE + 0x123, true), RAM_BASE + 0x123, 'satp = Bare: pointers are physical');
  const pt = new PageTables(m.mem, RAM_BASE + 0x20_0000, 3);
  pt.map(VA, DATA, PTE_R | PTE_W | PTE_A | PTE_D, 0);
  pt.map(VA + 0x1000, DATA + 0x1000, PTE_R | PTE_A, 0);
  pt.map(VA + 0x2000, DATA + 0x2000, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D, 0);
  m.hart.reset(RAM_BASE, 1);
  m.hart.writeCsr(SATP, pt.satp(0));
  assert.equal(t.translate(VA + 0x18, false), DATA + 0x18);
  assert.equal(t.translate(VA + 0x18, true), DATA + 0x18);
  assert.equal(t.translate(VA + 0x1008, false), DATA + 0x1008, 'a read-only page reads');
  assert.equal(t.translate(VA + 0x1008, true), -1, 'but is not written');
  assert.equal(t.translate(VA + 0x2000, false), -1, 'a user page with SUM clear is not the kernel\'s');
  assert.equal(t.translate(VA + 0x5000, false), -1, 'unmapped');
  assert.equal(t.translate(-0x1000, false), -1, 'an upper-half address with no mapping');
  assert.equal(t.translate(2 ** 50, false), -1, 'non-canonical');
  assert.equal(m.hart.readCsr(SCAUSE), 0n, 'no trap was taken');
  assert.equal(m.hart.readCsr(MCAUSE), 0n);
});
