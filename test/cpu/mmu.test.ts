// Sv39/Sv48 translation: every permission rule, A/D updates in hardware, superpages, canonical checks, MPRV,
// and TLB flush semantics of SFENCE.VMA with addresses, ASIDs and global mappings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT, type TestMachine } from '../../src/cpu/riscv/testing/machine.js';
import { PageTables } from '../../src/cpu/riscv/testing/pagetable.js';
import { PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D } from '../../src/cpu/riscv/mmu.js';

const { a0, a1, a2, t0 } = A.R;
const MSTATUS = 0x300, MTVEC = 0x305, MCAUSE = 0x342, MTVAL = 0x343, SATP = 0x180;
const RW = PTE_R | PTE_W, RWX = PTE_R | PTE_W | PTE_X;
const VA = 0x4000_0000;          // test pages live here (Sv39 level-2 index 1)
const DATA = RAM_BASE + 0x30_0000; // physical data pages
const SUM = 1n << 18n, MXR = 1n << 19n;

interface Env { m: TestMachine; pt: PageTables }

/** S-mode (or `priv`) code at RAM_BASE+0x1000, RAM identity-mapped by a global RWX gigapage (+U when user). */
function env(words: (number | number[])[], priv: 0 | 1 | 3 = 1, levels: 3 | 4 = 3, asid = 0): Env {
  const m = makeMachine();
  const pt = new PageTables(m.mem, RAM_BASE + 0x20_0000, levels);
  pt.map(RAM_BASE, RAM_BASE, RWX | PTE_A | PTE_D | PTE_G | (priv === 0 ? PTE_U : 0), 2);
  const p = new A.Program(RAM_BASE + 0x1000).w(...words);
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.reset(p.base, priv);
  m.hart.writeCsr(MTVEC, BigInt(HALT));
  m.hart.writeCsr(SATP, pt.satp(asid));
  return { m, pt };
}
const go = (e: Env) => runUntil(e.m.hart, HALT, 10_000);
const cause = (e: Env) => e.m.hart.readCsr(MCAUSE);
const tval = (e: Env) => BigInt.asIntN(64, e.m.hart.readCsr(MTVAL));
const load = (va: number) => [A.li(a0, va), A.ld(a1, a0, 0), A.ebreak()];
const store = (va: number) => [A.li(a0, va), A.li(a2, 0x55), A.sd(a2, a0, 0), A.ebreak()];

test('a mapped page translates; A is set on load, A and D on store (hardware A/D update)', () => {
  const e = env(load(VA + 0x18));
  e.m.mem.write64(DATA + 0x18 - RAM_BASE, 0x1234n);
  e.pt.map(VA, DATA, RW);
  go(e);
  assert.equal(cause(e), 3n);
  assert.equal(e.m.hart.x[a1], 0x1234n);
  assert.equal(Number(e.pt.read(VA)) & (PTE_A | PTE_D), PTE_A);
  const s = env(store(VA + 8));
  s.pt.map(VA, DATA, RW);
  go(s);
  assert.equal(cause(s), 3n);
  assert.equal(s.m.mem.read64(DATA + 8 - RAM_BASE), 0x55n);
  assert.equal(Number(s.pt.read(VA)) & (PTE_A | PTE_D), PTE_A | PTE_D);
});

test('faults: invalid, read-only store, no-X fetch, W-without-R, PBMT bits; tval is the VA', () => {
  const cases: [string, (number | number[])[], (pt: PageTables) => void, bigint][] = [
    ['invalid', load(VA + 4), () => {}, 13n],
    ['store to R page', store(VA + 4), (pt) => pt.map(VA, DATA, PTE_R), 15n],
    ['fetch from RW page', [A.li(a0, VA + 4), A.jalr(0, a0, 0)], (pt) => pt.map(VA, DATA, RW), 12n],
    ['W without R', load(VA + 4), (pt) => pt.map(VA, DATA, PTE_W), 13n],
    ['PBMT set', load(VA + 4), (pt) => pt.setRaw(VA, (1n << 61n) | (BigInt(DATA / 4096) << 10n) | 0xcfn), 13n],
    ['N set', load(VA + 4), (pt) => pt.setRaw(VA, (1n << 63n) | (BigInt(DATA / 4096) << 10n) | 0xcfn), 13n],
    ['pointer at level 0', load(VA + 4), (pt) => pt.setRaw(VA, (BigInt(DATA / 4096) << 10n) | 1n), 13n],
  ];
  for (const [name, words, setup, c] of cases) {
    const e = env(words);
    setup(e.pt);
    go(e);
    assert.equal(cause(e), c, name);
    assert.equal(tval(e), BigInt(VA + 4), name);
  }
});

test('U bit rules: S needs SUM for U data, never executes U pages; U cannot touch S pages', () => {
  const noSum = env(load(VA));
  noSum.pt.map(VA, DATA, RW | PTE_U);
  go(noSum);
  assert.equal(cause(noSum), 13n);
  const withSum = env(load(VA));
  withSum.pt.map(VA, DATA, RW | PTE_U);
  withSum.m.hart.writeCsr(MSTATUS, SUM);
  go(withSum);
  assert.equal(cause(withSum), 3n);
  const fetch = env([A.li(a0, VA), A.jalr(0, a0, 0)]);
  fetch.pt.map(VA, DATA, RWX | PTE_U);
  fetch.m.hart.writeCsr(MSTATUS, SUM);
  go(fetch);
  assert.equal(cause(fetch), 12n);
  const user = env(load(VA), 0);
  user.pt.map(VA, DATA, RW);
  go(user);
  assert.equal(cause(user), 13n);
  const userOk = env(load(VA), 0);
  userOk.pt.map(VA, DATA, RW | PTE_U);
  go(userOk);
  assert.equal(cause(userOk), 3n);
});

test('MXR makes execute-only pages readable', () => {
  const e = env(load(VA));
  e.pt.map(VA, DATA, PTE_X);
  go(e);
  assert.equal(cause(e), 13n);
  const f = env(load(VA));
  f.pt.map(VA, DATA, PTE_X);
  f.m.hart.writeCsr(MSTATUS, MXR);
  go(f);
  assert.equal(cause(f), 3n);
});

test('superpages: a megapage maps 2 MiB; a misaligned megapage faults', () => {
  const e = env(load(VA + 0x12_3458));
  e.m.mem.write64(RAM_BASE + 0x40_0000 + 0x12_3458 - RAM_BASE, 77n);
  e.pt.map(VA, RAM_BASE + 0x40_0000, RW, 1);
  go(e);
  assert.equal(e.m.hart.x[a1], 77n);
  const bad = env(load(VA + 8));
  bad.pt.map(VA, RAM_BASE + 0x40_1000, RW, 1);
  go(bad);
  assert.equal(cause(bad), 13n);
  assert.equal(tval(bad), BigInt(VA + 8));
});

test('non-canonical virtual addresses fault with tval = VA (Sv39 and Sv48)', () => {
  const nc = 0x40_0000_0000; // bit 38 set, upper bits clear: not canonical in Sv39
  const e = env([A.li(a0, nc), A.ld(a1, a0, 0), A.ebreak()]);
  go(e);
  assert.equal(cause(e), 13n);
  assert.equal(tval(e), BigInt(nc));
  const e48 = env([A.li(a0, 0x8000_0000_0000), A.sd(a1, a0, 0), A.ebreak()], 1, 4);
  go(e48);
  assert.equal(cause(e48), 15n);
});

test('Sv48 walks four levels; high canonical addresses work', () => {
  const hiVa = -0x10_0000_0000; // 0xffff_fff0_0000_0000
  const e = env([A.li(a0, hiVa), A.ld(a1, a0, 16), A.ebreak()], 1, 4);
  e.pt.map(hiVa, DATA, RW);
  e.m.mem.write64(DATA + 16 - RAM_BASE, 0xabcn);
  go(e);
  assert.equal(cause(e), 3n);
  assert.equal(e.m.hart.x[a1], 0xabcn);
});

test('a PTE outside RAM raises an access fault, not a page fault', () => {
  const e = env(load(VA));
  e.pt.setRaw(VA, (0x1000n << 10n) | 1n, 1); // level-1 pointer to physical 0x100_0000 (not RAM)
  go(e);
  assert.equal(cause(e), 5n);
  assert.equal(tval(e), BigInt(VA));
});

test('MPRV: M-mode loads and stores translate with MPP privilege', () => {
  const e = env([A.li(a0, VA), A.ld(a1, a0, 0), A.ebreak()], 3);
  e.pt.map(VA, DATA, RW);
  e.m.mem.write64(DATA - RAM_BASE, 99n);
  e.m.hart.writeCsr(MSTATUS, (1n << 17n) | (1n << 11n)); // MPRV, MPP=S
  go(e);
  assert.equal(cause(e), 3n);
  assert.equal(e.m.hart.x[a1], 99n);
  const u = env([A.li(a0, VA), A.ld(a1, a0, 0), A.ebreak()], 3);
  u.pt.map(VA, DATA, RW); // not U: an MPP=U access faults
  u.m.hart.writeCsr(MSTATUS, 1n << 17n);
  go(u);
  assert.equal(cause(u), 13n);
});

/** Loads VA into a1, changes the PTE behind the hart's back, runs `fence`, and loads again into a2. */
function staleTest(fence: (number | number[])[], asid: number, global: boolean, probeVa = VA): bigint {
  const p = [A.li(a0, VA), A.li(t0, probeVa), A.li(A.R.t1, asid), A.ld(a1, a0, 0), A.ebreak()];
  const e = env(p, 1, 3, asid);
  const mega = RAM_BASE + 0x40_0000; // 2 MiB aligned, for the megapage variant
  if (probeVa === VA) e.pt.map(VA, DATA, RW | PTE_A | (global ? PTE_G : 0));
  else e.pt.map(VA, mega, RW | PTE_A | (global ? PTE_G : 0), 1);
  e.m.mem.write64(DATA - RAM_BASE, 1n);
  e.m.mem.write64(DATA + 0x1000 - RAM_BASE, 2n);
  e.m.mem.write64(mega - RAM_BASE, 1n);
  e.m.mem.write64(mega + 0x20_0000 - RAM_BASE, 3n);
  go(e);
  assert.equal(e.m.hart.x[a1], 1n);
  // Remap VA to another page without telling the hart.
  if (probeVa === VA) e.pt.map(VA, DATA + 0x1000, RW | PTE_A | (global ? PTE_G : 0));
  else e.pt.map(VA, mega + 0x20_0000, RW | PTE_A | (global ? PTE_G : 0), 1);
  const q = new A.Program(RAM_BASE + 0x2000).w(...fence, A.ld(a2, a0, 0), A.ebreak());
  e.m.mem.load(q.base, q.build());
  e.m.hart.pc = q.base;
  e.m.hart.writeCsr(MSTATUS, 0n);
  e.m.hart.writeCsr(0x341, BigInt(q.base));
  e.m.hart.writeCsr(MSTATUS, 1n << 11n);
  const r = new A.Program(RAM_BASE + 0x3000).w(A.mret());
  e.m.mem.load(r.base, r.build());
  e.m.hart.pc = r.base; // back to S via mret
  go(e);
  assert.equal(cause(e), 3n);
  return e.m.hart.x[a2]!;
}

test('TLB: stale translation until SFENCE.VMA; rs1 flushes only that page (whole superpage)', () => {
  assert.equal(staleTest([A.addi(0, 0, 0)], 0, false), 1n, 'no fence: cached translation is used');
  assert.equal(staleTest([A.sfenceVma(0, 0)], 0, false), 2n, 'sfence.vma x0,x0 flushes');
  assert.equal(staleTest([A.sfenceVma(a0, 0)], 0, false), 2n, 'sfence.vma va flushes that page');
  assert.equal(staleTest([A.addi(A.R.t2, a0, 0), A.li(t0, VA + 0x5000), A.sfenceVma(t0, 0)], 0, false), 1n,
    'another page is not flushed');
  assert.equal(staleTest([A.li(t0, VA + 0x1f_f000), A.sfenceVma(t0, 0)], 0, false, VA + 0x1f_f000), 3n,
    'an address elsewhere in a megapage flushes it');
});

test('TLB: ASID-specific SFENCE.VMA spares global entries and other ASIDs', () => {
  assert.equal(staleTest([A.sfenceVma(0, A.R.t1)], 5, false), 2n, 'same ASID, non-global: flushed');
  assert.equal(staleTest([A.sfenceVma(0, A.R.t1)], 5, true), 1n, 'global entry survives an ASID flush');
  assert.equal(staleTest([A.addi(A.R.t1, 0, 6), A.sfenceVma(0, A.R.t1)], 5, false), 1n, 'other ASID: not flushed');
  assert.equal(staleTest([A.sfenceVma(0, 0)], 5, true), 2n, 'global flushed by sfence.vma x0,x0');
});

test('SFENCE.VMA is illegal in U and in S with TVM; satp writes change the address space', () => {
  const u = env([A.sfenceVma(0, 0)], 0);
  go(u);
  assert.equal(cause(u), 2n);
  const s = env([A.sfenceVma(0, 0)], 1);
  s.m.hart.writeCsr(MSTATUS, 1n << 20n);
  go(s);
  assert.equal(cause(s), 2n);
  // Two tables mapping VA differently; switching satp switches the view without a fence.
  const e = env([A.li(a0, VA), A.ld(a1, a0, 0), A.csrw(SATP, A.R.s2), A.ld(a2, a0, 0), A.ebreak()]);
  e.pt.map(VA, DATA, RW | PTE_A);
  const pt2 = new PageTables(e.m.mem, RAM_BASE + 0x28_0000);
  pt2.map(RAM_BASE, RAM_BASE, RWX | PTE_A | PTE_D | PTE_G, 2);
  pt2.map(VA, DATA + 0x1000, RW | PTE_A);
  e.m.mem.write64(DATA - RAM_BASE, 10n);
  e.m.mem.write64(DATA + 0x1000 - RAM_BASE, 20n);
  e.m.hart.x[A.R.s2] = BigInt.asIntN(64, pt2.satp(3));
  go(e);
  assert.equal(e.m.hart.x[a1], 10n);
  assert.equal(e.m.hart.x[a2], 20n);
});

test('MMIO behind a translation is accessed every time (never cached as RAM)', () => {
  let reads = 0;
  const e = env([A.li(a0, VA), A.lw(a1, a0, 0), A.lw(a1, a0, 0), A.lw(a1, a0, 0), A.ebreak()]);
  e.m.bus.addRegion({ name: 'dev', base: 0x1000_0000, size: 0x1000, exitClass: 'user', handler: { read: () => ++reads, write: () => {} } });
  e.pt.map(VA, 0x1000_0000, RW);
  go(e);
  assert.equal(reads, 3);
  assert.equal(e.m.hart.x[a1], 3n);
  assert.equal(e.m.metrics.exits, 3);
});
