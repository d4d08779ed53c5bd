// PMP (privileged spec §3.7): TOR/NA4/NAPOT matching, lowest entry wins, partial matches fail, lock bit binds M,
// S/U need a matching entry once PMP is active, and page-table walks are checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT, type TestMachine } from '../../src/cpu/riscv/testing/machine.js';
import { PageTables } from '../../src/cpu/riscv/testing/pagetable.js';
import { PTE_R, PTE_W, PTE_X, PTE_A, PTE_D, PTE_G } from '../../src/cpu/riscv/mmu.js';

const { a0, a1, a2 } = A.R;
const PMPCFG0 = 0x3a0, PMPADDR0 = 0x3b0, MCAUSE = 0x342, MTVAL = 0x343;
const R = 1, W = 2, X = 4, TOR = 0x08, NA4 = 0x10, NAPOT = 0x18, L = 0x80;
const napot = (base: number, size: number) => BigInt(base / 4 + size / 8 - 1);
const PROT = RAM_BASE + 0x4000;

function boot(words: (number | number[])[], priv: 0 | 1 | 3, entries: [number, bigint][]): TestMachine {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE + 0x1000).w(...words);
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.reset(p.base, priv);
  m.hart.writeCsr(0x305, BigInt(HALT));
  let cfg = 0n;
  entries.forEach(([c, addr], i) => { cfg |= BigInt(c) << BigInt(8 * i); m.hart.writeCsr(PMPADDR0 + i, addr); });
  m.hart.writeCsr(PMPCFG0, cfg);
  return m;
}
const go = (m: TestMachine) => runUntil(m.hart, HALT, 10_000);
const cause = (m: TestMachine) => m.hart.readCsr(MCAUSE);
const ramAll: [number, bigint] = [NAPOT | R | W | X, napot(RAM_BASE, 16 * 1024 * 1024)];
const st = (addr: number) => [A.li(a0, addr), A.li(a2, 1), A.sd(a2, a0, 0), A.ebreak()];
const ldw = (addr: number) => [A.li(a0, addr), A.ld(a1, a0, 0), A.ebreak()];

test('with no active entry PMP restricts nothing (S-mode boot without firmware)', () => {
  const m = boot(st(PROT), 1, []);
  go(m);
  assert.equal(cause(m), 3n);
});

test('TOR read-only window before a NAPOT RWX entry: S loads ok, S stores fault, M unaffected', () => {
  const entries: [number, bigint][] = [[0, BigInt(PROT / 4)], [TOR | R, BigInt((PROT + 0x1000) / 4)], ramAll];
  const s = boot(ldw(PROT + 8), 1, entries);
  go(s);
  assert.equal(cause(s), 3n);
  const sw = boot(st(PROT + 8), 1, entries);
  go(sw);
  assert.equal(cause(sw), 7n);
  assert.equal(sw.hart.readCsr(MTVAL), BigInt(PROT + 8));
  const outside = boot(st(PROT + 0x1008), 1, entries);
  go(outside);
  assert.equal(cause(outside), 3n);
  const mm = boot(st(PROT + 8), 3, entries);
  go(mm);
  assert.equal(cause(mm), 3n, 'unlocked entries do not bind M');
});

test('locked entries bind M-mode and cannot be rewritten', () => {
  const m = boot(st(PROT), 3, [[NA4 | R | L, BigInt(PROT / 4)], ramAll]);
  go(m);
  assert.equal(cause(m), 7n);
  m.hart.writeCsr(PMPCFG0, BigInt(NAPOT | R | W | X));
  m.hart.writeCsr(PMPADDR0, 0n);
  assert.equal(m.hart.readCsr(PMPCFG0) & 0xffn, BigInt(NA4 | R | L));
  assert.equal(m.hart.readCsr(PMPADDR0), BigInt(PROT / 4));
  const next = boot(st(PROT + 4), 3, [[NA4 | R | L, BigInt(PROT / 4)], ramAll]);
  go(next);
  assert.equal(cause(next), 3n, 'NA4 covers exactly 4 bytes');
});

test('S/U accesses that match no entry fail once PMP is active; M accesses succeed', () => {
  const only: [number, bigint][] = [[NAPOT | R | W | X, napot(RAM_BASE, 0x2000)]]; // code page only
  const s = boot(ldw(PROT), 1, only);
  go(s);
  assert.equal(cause(s), 5n);
  const mm = boot(ldw(PROT), 3, only);
  go(mm);
  assert.equal(cause(mm), 3n);
});

test('an access straddling an entry boundary fails (partial match)', () => {
  // Two entries splitting one page: the page is not cacheable and each access is checked on its own.
  const entries: [number, bigint][] = [[NAPOT | R | W, napot(PROT, 0x800)], [NAPOT | R, napot(PROT + 0x800, 0x800)], [NAPOT | X | R, napot(RAM_BASE, 0x4000)]];
  const m = boot(ldw(PROT + 0x7fc), 1, entries);
  go(m);
  assert.equal(cause(m), 5n);
  const ok = boot(ldw(PROT + 0x7f8), 1, entries);
  go(ok);
  assert.equal(cause(ok), 3n);
});

test('fetching from a region without X is an instruction access fault', () => {
  const m = boot([A.li(a0, PROT), A.jalr(0, a0, 0)], 1, [[NAPOT | R | W, napot(PROT, 0x1000)], ramAll]);
  go(m);
  assert.equal(cause(m), 1n);
  assert.equal(m.hart.readCsr(MTVAL), BigInt(PROT));
});

test('page-table walks are checked against PMP as S-mode reads', () => {
  const m = makeMachine();
  const pt = new PageTables(m.mem, PROT);
  pt.map(RAM_BASE, RAM_BASE, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G, 2);
  const p = new A.Program(RAM_BASE + 0x1000).w(A.li(a0, RAM_BASE + 0x8000), A.ld(a1, a0, 0), A.ebreak());
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.reset(p.base, 1);
  m.hart.writeCsr(0x305, BigInt(HALT));
  m.hart.writeCsr(0x180, pt.satp());
  m.hart.writeCsr(PMPADDR0, napot(PROT, 0x1000));
  m.hart.writeCsr(PMPADDR0 + 1, ramAll[1]);
  m.hart.writeCsr(PMPCFG0, BigInt(NAPOT) | (BigInt(ramAll[0]) << 8n)); // root table page: no access
  go(m);
  assert.equal(cause(m), 1n, 'the first fetch walk already fails');
  assert.equal(m.hart.readCsr(MTVAL), BigInt(RAM_BASE + 0x1000));
});

test('pmpcfg W-without-R is stored with W cleared; NAPOT decoding of the whole address space', () => {
  const h = makeMachine().hart;
  h.writeCsr(PMPCFG0, BigInt(NAPOT | W));
  assert.equal(h.readCsr(PMPCFG0) & 0xffn, BigInt(NAPOT));
  h.writeCsr(PMPADDR0, (1n << 54n) - 1n);
  assert.equal(h.readCsr(PMPADDR0), (1n << 54n) - 1n);
});
