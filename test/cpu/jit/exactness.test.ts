// The block translator's exactness rules, each checked against the interpreter as oracle (jit/testing.ts: the
// same program on an interpreting and a translating hart, stepped with the same budgets -- many cut points -- and
// compared after every step: pc, instret, privilege, registers, trap CSRs, all of RAM). Each test also asserts
// that translated code really ran, so none can pass by leaving everything to the interpreter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../../src/cpu/riscv/testing/asm.js';
import { RAM_BASE, HALT } from '../../../src/cpu/riscv/testing/machine.js';
import { PageTables } from '../../../src/cpu/riscv/testing/pagetable.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_W, PTE_X } from '../../../src/cpu/riscv/mmu.js';
import { mixedBudgets, runBoth, snapshot, twins } from '../../../src/cpu/riscv/jit/testing.js';

const { a0, a1, a2, a3, s0, s1, t0, t1, t2, t3, sp, ra } = A.R;
const CODE = RAM_BASE + 0x1000, DATA = RAM_BASE + 0x8000;
const MCAUSE = 0x342, MEPC = 0x341, MTVAL = 0x343;

/** Asserts the twins agree through `total` instructions cut by mixed budgets (or `budgets`), and that translated code ran. */
function agree(t: ReturnType<typeof twins>, total: number, seed = 1, minTranslated = 0.3, given?: number[]): void {
  const budgets = given ?? mixedBudgets(total, seed);
  const diff = runBoth(t, budgets);
  assert.equal(diff, null, diff ?? '');
  const share = t.engine.stats.retired / Math.max(1, t.jit.hart.instret);
  assert.ok(share >= minTranslated, `only ${(share * 100).toFixed(0)}% of the instructions ran translated (${JSON.stringify(t.engine.stats)})`);
}

/** A counted loop around `body`: s1 = iterations, then `tail`. */
function loop(p: A.Program, iterations: number, body: (p: A.Program) => void, tail: (number | number[])[] = [A.ebreak()]): A.Program {
  p.w(A.li(s1, iterations));
  const top = p.here;
  body(p);
  p.w(A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here));
  return p.w(...tail);
}

test('the oracle can fail: a register changed on the translating hart is reported', () => {
  const p = loop(new A.Program(CODE), 50, (q) => q.w(A.addi(a0, a0, 3), A.xor(a1, a1, a0)));
  const t = twins(p);
  const diff = runBoth(t, [40, 40], (m) => { if (m === t.jit) m.hart.x[a1] = m.hart.x[a1]! ^ 1n; });
  assert.match(diff ?? '', /step 0 .*x11=/);
  const u = twins(p);
  const mem = runBoth(u, [40], (m) => { if (m === u.jit) m.mem.write8(DATA - RAM_BASE, 1); });
  assert.match(mem ?? '', /ram=/);
});

test('integer ALU, branches, loads and stores (RV64IMC) agree at every cut', () => {
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(a0, 0x123456789n), A.li(a1, -7));
  loop(p, 300, (q) => {
    q.w(A.mul(a2, a0, a1), A.mulh(a3, a0, a1), A.add(a0, a0, a2), A.srai(a3, a3, 3), A.sd(a0, s0, 8), A.lw(t0, s0, 8));
    q.w(A.sltu(t1, t0, a1), A.sub(a1, a1, t1), A.divu(t2, a0, a1), A.remw(t3, a0, a1), A.sh(t3, s0, 18), A.lhu(t1, s0, 18));
    q.c(A.cAdd(a0, t1), A.cMv(t2, a0)).w(A.sllw(t2, t2, a1), A.sraiw(t2, t2, 2), A.sb(t2, s0, 31), A.lbu(t0, s0, 31));
    q.w(A.blt(a0, a1, 8), A.xori(a0, a0, 0x55), A.andi(a3, a0, -16), A.srl(a2, a0, a1), A.sll(a3, a3, t1));
  });
  agree(twins(p), 12_000, 7);
});

test('64-bit arithmetic across the 32-bit halves: carries, borrows, shifts and compares at the boundaries', () => {
  const p = new A.Program(CODE).w(A.li(a0, 0xfffffff0n), A.li(a1, 0x100000005n), A.li(a2, -3), A.li(a3, 0x7fffffffffffffffn));
  loop(p, 64, (q) => {
    q.w(A.addi(a0, a0, 1), A.addi(a1, a1, -1), A.add(t0, a0, a2), A.sub(t1, a1, a0), A.addiw(t2, a0, 7));
    q.w(A.slli(t3, a0, 31), A.srli(t3, t3, 33), A.srai(t1, t1, 63), A.sltu(t2, a0, a1), A.slt(t0, a3, a2));
    q.w(A.add(a3, a3, t2), A.mulhu(t0, a0, a3), A.mulhsu(t1, a2, a0), A.sra(t2, a3, a0), A.sd(t0, sp, 0));
  });
  const t = twins(p, (m) => { m.hart.x[sp] = BigInt(DATA); });
  agree(t, 3_000, 41);
  assert.equal(t.jit.hart.x[a0], 0xfffffff0n + 64n);
});

test('linked exits notice invalidation: a store into a linked block, and FENCE.I after code changed behind the hart', () => {
  const TARGET = CODE + 0x400; // same page: the jal exit is linked after the first time
  const p = new A.Program(CODE).w(A.li(s0, TARGET), A.li(s1, 300), A.li(t2, 0x00050513));
  const top = p.here;
  p.w(A.jal(ra, TARGET - p.here));
  p.w(A.andi(t1, s1, 31), A.slli(t1, t1, 20), A.or(t1, t1, t2), A.sw(t1, s0, 4)); // TARGET+4: addi a0, a0, s1 & 31
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 4)), A.ebreak());
  p.org(TARGET).w(A.addi(a1, a1, 1), A.addi(a0, a0, 0), A.addi(a2, a2, 2), A.jalr(0, ra, 0));
  // the JavaScript generator's blocks store into code themselves (a wasm block leaves that to the interpreter)
  const t = twins(p, undefined, { eager: true, backend: 'js' });
  agree(t, 6_000, 43);
  assert.ok(t.engine.stats.linked > 0 && t.engine.stats.invalidatedByStore > 0, JSON.stringify(t.engine.stats));
  let sum = 0n;
  for (let i = 300; i >= 1; i--) sum += BigInt(i & 31);
  assert.equal(t.jit.hart.x[a0], sum - 1n, 'each call ran the code the previous iteration wrote (the first: the original 0)');
  // Behind the hart's back (DMA), then FENCE.I: the linked block must be checked against its bytes again.
  const q = new A.Program(CODE).w(A.li(s1, 300));
  const top2 = q.here;
  q.w(A.jal(ra, TARGET - q.here), A.andi(t0, s1, 15), A.bne(t0, 0, 8), A.fenceI()); // FENCE.I every 16th time
  q.w(A.addi(s1, s1, -1), A.bne(s1, 0, top2 - (q.here + 4)), A.ebreak());
  q.org(TARGET).w(A.addi(a0, a0, 1), A.jalr(0, ra, 0));
  const u = twins(q);
  let step = 0;
  const diff = runBoth(u, new Array<number>(40).fill(50), () => {
    step++;
    if (step === 10) for (const x of [u.interp, u.jit]) x.mem.write32(TARGET - RAM_BASE, A.addi(a0, a0, 1000));
  });
  assert.equal(diff, null, diff ?? '');
  assert.ok(u.engine.stats.linked > 0, JSON.stringify(u.engine.stats));
  assert.ok(u.jit.hart.x[a0]! > 10_000n, 'the code written behind the hart ran after FENCE.I');
});

test('guest instructions with the markers\' encoding (major opcode 31) are illegal, with their own bits in mtval', () => {
  // Fetched through the decode cache, and through the slow path (the first instruction of a page, straddling).
  for (const bad of [0xffffffff, 0x0000007f, 0x1234567f]) {
    const p = new A.Program(CODE).w(A.addi(a0, a0, 1), bad, A.ebreak());
    const t = twins(p);
    agree(t, 20, 3, 0);
    assert.equal(t.jit.hart.readCsr(MCAUSE), 2n);
    assert.equal(t.jit.hart.readCsr(MTVAL), BigInt(bad >>> 0));
    const q = new A.Program(CODE).w(bad >>> 0);
    const u = twins(q);
    agree(u, 10, 5, 0);
    assert.equal(u.jit.hart.readCsr(MTVAL), BigInt(bad >>> 0), `first instruction 0x${(bad >>> 0).toString(16)}`);
  }
});

test('inner loops inside a block (back edges to a later instruction, two sharing a head, a skip inside, a jump back) count and stop exactly', () => {
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(s1, 60));
  const outer = p.here;
  p.w(A.addi(a0, a0, 1), A.li(t0, 7));
  const inner = p.here; // inner loop: 7 turns, with a forward skip inside it on odd a1
  p.w(A.addi(a1, a1, 3), A.andi(t1, a1, 1), A.bne(t1, 0, 8), A.addi(a2, a2, 1), A.sd(a1, s0, 0), A.addi(t0, t0, -1));
  p.w(A.bne(t0, 0, inner - p.here));
  const retry = p.here; // two back edges to one head: a retry on a counter, then the plain jump back
  p.w(A.addi(a3, a3, 1), A.andi(t2, a3, 3), A.bne(t2, 0, retry - (p.here + 8)));
  p.w(A.addi(t3, t3, 1), A.andi(t2, t3, 1), A.beq(t2, 0, 8), A.jal(0, retry - (p.here + 12)));
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, outer - (p.here + 4)), A.ebreak());
  const t = twins(p, undefined, { eager: true, backend: 'js' }); // inner loops are the JavaScript generator's
  agree(t, 12_000, 61, 0.8);
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n, 'ran to the ebreak');
  assert.equal(t.jit.hart.x[a0], 60n);
  const st = t.engine.stats;
  // Without inner loops each turn of one is a block-to-block transition: ~420 of them here, ~140 with.
  assert.ok(st.linked + st.lookedUp < t.jit.hart.instret / 60, `inner loops stayed in their block (${JSON.stringify(st)})`);
});

test('a fault in the middle of a block leaves pc, registers, memory and instret as the interpreter does', () => {
  // Three ways to fault after translated work in the same block: a load from no memory (the interpreter does
  // it), a misaligned AMO (a helper reports it) and a CSR that does not exist (SYSTEM reports it).
  for (const faulting of [A.ld(a3, t0, 0), A.amoadd(a3, a1, s0, true), A.csrr(a3, 0x7ff)]) {
    const p = new A.Program(CODE).w(A.li(s0, DATA + 2), A.li(t0, 0x1000));
    loop(p, 40, (q) => q.w(A.addi(a0, a0, 5), A.sd(a0, s0, 6), A.addi(a1, a0, 1)), []);
    p.w(A.addi(a2, a0, 9), A.sw(a2, s0, 14), faulting, A.addi(a3, a3, 1), A.ebreak());
    const t = twins(p);
    agree(t, 400, 3);
    for (const m of [t.interp, t.jit]) assert.equal(m.hart.pc, HALT);
    assert.notEqual(t.jit.hart.readCsr(MCAUSE), 3n, 'it stopped at the fault, not the ebreak');
    assert.equal(t.jit.hart.readCsr(MEPC), t.interp.hart.readCsr(MEPC));
  }
});

test('a timer interrupt is taken at the same instruction as in the interpreter (Sstc, S-mode loop)', () => {
  const S_HANDLER = RAM_BASE + 0x3000;
  const p = new A.Program(CODE).w(A.li(s0, DATA));
  loop(p, 100_000, (q) => q.w(A.addi(a0, a0, 1), A.sd(a0, s0, 0), A.ld(a1, s0, 0), A.add(a2, a2, a1)));
  p.org(S_HANDLER).w(A.csrr(t0, 0x142), A.addi(t1, t1, 1), A.li(t2, 0), A.csrw(0x14d, t2), A.csrrci(0, 0x100, 2), A.jal(0, 0));
  const setup = (m: ReturnType<typeof twins>['interp']): void => {
    m.clock.perInstret = 1;
    m.hart.writeCsr(0x30a, 1n << 63n); // menvcfg.STCE
    m.hart.writeCsr(0x306, 2n); // mcounteren.TM
    m.hart.writeCsr(0x303, 1n << 5n); // mideleg STIP
    m.hart.writeCsr(0x304, 1n << 5n); // mie STIE
    m.hart.writeCsr(0x105, BigInt(S_HANDLER));
    m.hart.writeCsr(0x14d, 5_000n); // stimecmp
    m.hart.writeCsr(0x100, 2n); // sstatus.SIE
    m.hart.writeCsr(0x300, (1n << 11n) | (1n << 13n)); // MPP = S, FS
    m.hart.writeCsr(0x341, BigInt(CODE));
    m.hart.reset(CODE, 1);
    m.hart.writeCsr(0x30a, 1n << 63n); m.hart.writeCsr(0x306, 2n); m.hart.writeCsr(0x303, 1n << 5n);
    m.hart.writeCsr(0x304, 1n << 5n); m.hart.writeCsr(0x105, BigInt(S_HANDLER)); m.hart.writeCsr(0x14d, 5_000n);
    m.hart.writeCsr(0x100, 2n); m.hart.writeCsr(0x300, 1n << 13n | 2n);
  };
  const t = twins(p, setup);
  agree(t, 9_000, 11);
  assert.equal(t.jit.hart.readCsr(0x142), (1n << 63n) | 5n, 'the supervisor timer interrupt was taken');
  assert.equal(t.jit.hart.readCsr(0x141), t.interp.hart.readCsr(0x141), 'at the same pc');
  // Long budgets span several timer checks; translated code skips only those that change nothing, so the
  // interrupt still comes at the first check past the deadline, wherever the deadline falls.
  for (const deadline of [1_500n, 2_100n, 3_000n, 4_200n, 5_000n]) {
    const u = twins(p, (m) => { setup(m); m.hart.writeCsr(0x14d, deadline); });
    agree(u, 12_000, 0, 0.3, [4_000, 4_000, 4_000]);
    assert.equal(u.jit.hart.readCsr(0x142), (1n << 63n) | 5n, `deadline ${deadline}`);
  }
});

test('self-modifying code: a store into the running block changes the next instruction, as in the interpreter', () => {
  // The loop body rewrites its own `addi a0, a0, K` with K = iteration count, a few instructions ahead.
  const p = new A.Program(CODE).w(A.li(s0, 0));
  p.w(A.li(s1, 60));
  const top = p.here;
  p.w(A.auipc(t0, 0)); // t0 = top
  p.w(A.slli(t1, s1, 20), A.li(t2, 0x00050513), A.or(t1, t1, t2)); // addi a0, a0, s1
  const store = p.here;
  p.w(A.sw(t1, t0, store + 8 - top)); // the addi two instructions ahead
  p.w(A.addi(a1, a1, 1));
  p.w(A.addi(a0, a0, 1)); // rewritten
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 4)), A.ebreak()); // the bne is 4 bytes after here
  const t = twins(p);
  agree(t, 3_000, 5, 0.1);
  assert.ok(t.engine.stats.invalidatedByStore > 0, 'stores dropped the block they overwrote');
  let sum = 0n;
  for (let i = 60; i >= 1; i--) sum += BigInt(i);
  assert.equal(t.jit.hart.x[a0], sum);
});

test('self-modifying code across pages and a store into a code page outside any instruction', () => {
  const CALLEE = CODE + 0x2000, CALLEE_DATA = CALLEE + 0x800;
  const p = new A.Program(CODE).w(A.li(s0, CALLEE), A.li(s1, 200), A.li(sp, DATA + 0x400));
  const top = p.here;
  p.w(A.slli(t1, s1, 20), A.li(t2, 0x00050513), A.or(t1, t1, t2), A.sw(t1, s0, 4)); // callee's second insn: addi a0, a0, s1
  p.w(A.sd(s1, s0, CALLEE_DATA - CALLEE)); // data in the callee's page, no instruction there
  p.w(A.jalr(ra, s0, 0), A.addi(s1, s1, -1), A.bne(s1, 0, top - p.here - 8), A.ebreak());
  p.org(CALLEE).w(A.addi(a1, a1, 3), A.addi(a0, a0, 0), A.ld(a2, s0, CALLEE_DATA - CALLEE), A.add(a3, a3, a2), A.jalr(0, ra, 0));
  const t = twins(p);
  agree(t, 6_000, 9, 0.2);
  assert.ok(t.engine.stats.invalidatedByStore > 0, JSON.stringify(t.engine.stats));
  assert.equal(t.jit.hart.x[a0], 200n * 201n / 2n);
});

test('FENCE.I: code written behind the hart\'s back (DMA) is seen after FENCE.I; unchanged code is kept and re-verified', () => {
  const TARGET = CODE + 0x1000;
  const p = new A.Program(CODE).w(A.li(s0, TARGET), A.li(s1, 400));
  const top = p.here;
  p.w(A.jalr(ra, s0, 0), A.fenceI(), A.addi(s1, s1, -1), A.bne(s1, 0, top - p.here - 12), A.ebreak());
  p.org(TARGET).w(A.addi(a0, a0, 1), A.addi(a1, a1, 2), A.jalr(0, ra, 0));
  const t = twins(p);
  let step = 0;
  const budgets = mixedBudgets(3_000, 13);
  const diff = runBoth(t, budgets, (m) => {
    if (m !== t.jit) return;
    step++;
    if (step === 5) for (const x of [t.interp, t.jit]) x.mem.write32(TARGET - RAM_BASE, A.addi(a0, a0, 100)); // "DMA"
  });
  assert.equal(diff, null, diff ?? '');
  assert.ok(t.engine.stats.flushes > 0 && t.engine.stats.reverified > 0, JSON.stringify(t.engine.stats));
  assert.ok(t.jit.hart.x[a0]! > 400n, 'the new code ran');
});

test('a satp switch with the same virtual addresses runs the code of the new mapping', () => {
  const VA = 0x4000_0000, P1 = RAM_BASE + 0x20_0000, P2 = RAM_BASE + 0x20_1000;
  const p = new A.Program(CODE).w(A.li(s0, VA), A.li(s1, 300));
  const top = p.here;
  p.w(A.jalr(ra, s0, 0), A.csrr(t0, 0x180), A.xor(t0, t0, t3), A.csrw(0x180, t0), A.sfenceVma());
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - p.here - 4), A.ecall());
  const setup = (m: ReturnType<typeof twins>['interp']): void => {
    m.mem.load(P1, new A.Program(P1).w(A.addi(a0, a0, 1), A.addi(a2, a2, 1), A.jalr(0, ra, 0)).build());
    m.mem.load(P2, new A.Program(P2).w(A.addi(a1, a1, 1), A.addi(a2, a2, 2), A.jalr(0, ra, 0)).build());
    const tables = [RAM_BASE + 0x40_0000, RAM_BASE + 0x50_0000].map((arena, i) => {
      const pt = new PageTables(m.mem, arena);
      pt.map(RAM_BASE, RAM_BASE, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G, 2);
      pt.map(VA, i === 0 ? P1 : P2, PTE_R | PTE_X | PTE_A);
      return pt.satp();
    });
    m.hart.x[t3] = BigInt.asIntN(64, tables[0]! ^ tables[1]!);
    m.hart.writeCsr(0x300, (1n << 11n) | (1n << 13n));
    m.hart.reset(CODE, 1);
    m.hart.writeCsr(0x300, 1n << 13n);
    m.hart.writeCsr(0x305, BigInt(HALT));
    m.hart.writeCsr(0x180, tables[0]!);
  };
  const t = twins(p, setup);
  agree(t, 5_000, 17);
  assert.equal(t.jit.hart.x[a0], 150n);
  assert.equal(t.jit.hart.x[a1], 150n);
});

test('SFENCE.VMA of one page after its PTE changes: loads in the tier and in blocks read the new page', () => {
  const VA = 0x4000_0000, D1 = RAM_BASE + 0x20_0000, D2 = RAM_BASE + 0x20_1000, TABLES = RAM_BASE + 0x40_0000;
  let pteAt = 0, flip = 0n;
  const setup = (m: ReturnType<typeof twins>['interp']): void => {
    m.mem.write32(D1 - RAM_BASE, 1);
    m.mem.write32(D2 - RAM_BASE, 2);
    const pt = new PageTables(m.mem, TABLES);
    pt.map(RAM_BASE, RAM_BASE, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G, 2);
    pt.map(VA, D1, PTE_R | PTE_A);
    const before = pt.read(VA);
    pt.map(VA, D2, PTE_R | PTE_A);
    flip = before ^ pt.read(VA);
    pt.map(VA, D1, PTE_R | PTE_A);
    pteAt = pt.pteAddr(VA);
    m.hart.x[t3] = BigInt.asIntN(64, flip);
    m.hart.writeCsr(0x300, (1n << 11n) | (1n << 13n));
    m.hart.reset(CODE, 1);
    m.hart.writeCsr(0x300, 1n << 13n);
    m.hart.writeCsr(0x305, BigInt(HALT));
    m.hart.writeCsr(0x180, pt.satp());
  };
  const body = (q: A.Program): void => {
    q.w(A.lw(a1, s0, 0), A.add(a0, a0, a1)); // the page at VA: D1, then D2, then D1 ...
    q.w(A.ld(t0, t2, 0), A.xor(t0, t0, t3), A.sd(t0, t2, 0), A.sfenceVma(s0, 0)); // remap VA, fence that page only
  };
  const p = loop(new A.Program(CODE).w(A.li(s0, VA)), 300, body, [A.ecall()]);
  const t = twins(p, (m) => { setup(m); m.hart.x[t2] = BigInt(pteAt); }); // the PTE's address, known once set up
  agree(t, 8_000, 29, 0);
  assert.equal(t.jit.hart.x[a0], 150n * 1n + 150n * 2n);
  const st = t.engine.stats;
  assert.ok(st.tier + st.retired > 6 * 300, `the loads ran in wasm: ${JSON.stringify(st)}`);
});

test('MMIO is never cached: a device register read in a translated loop is read once per load', () => {
  const DEV = 0x1000_0000;
  const p = new A.Program(CODE).w(A.li(s0, DEV), A.li(t2, DATA));
  loop(p, 500, (q) => q.w(A.lw(a1, s0, 4), A.add(a0, a0, a1), A.sd(a0, t2, 0)));
  const reads: number[] = [];
  const t = twins(p, (m) => {
    let n = 0, id = reads.length;
    reads.push(0);
    m.bus.addRegion({ name: 'counter', base: DEV, size: 0x1000, exitClass: 'user',
      handler: { read: () => { reads[id]!++; return ++n; }, write: () => {} } });
  });
  agree(t, 4_000, 19, 0.5);
  assert.deepEqual(reads, [500, 500]);
  assert.equal(t.jit.hart.x[a0], 500n * 501n / 2n);
});

test('LR/SC and AMOs in translated loops', () => {
  const p = new A.Program(CODE).w(A.li(s0, DATA));
  loop(p, 300, (q) => {
    const retry = q.here;
    q.w(A.lr(a0, s0), A.addi(a0, a0, 3), A.sc(a1, a0, s0), A.bne(a1, 0, retry - (q.here + 12)));
    q.w(A.amoadd(a2, s1, s0, true), A.amomaxu(a3, s1, s0));
  });
  agree(twins(p), 5_000, 23);
});

test('PMP: a translated load from a page PMP forbids in S-mode faults exactly as interpreted', () => {
  const DENY = RAM_BASE + 0x9000;
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(t2, DENY));
  loop(p, 200, (q) => q.w(A.ld(a0, s0, 0), A.addi(a0, a0, 1), A.sd(a0, s0, 0)), [A.ld(a1, t2, 8), A.ebreak()]);
  const setup = (m: ReturnType<typeof twins>['interp']): void => {
    // pmp0 = NAPOT 4 KiB at DENY (no permissions), pmp1 = NAPOT over everything, RWX.
    const pmp = (): void => {
      m.hart.writeCsr(0x3b0, BigInt(Math.floor(DENY / 4) + 0x1ff));
      m.hart.writeCsr(0x3b1, (1n << 54n) - 1n);
      m.hart.writeCsr(0x3a0, 0x18n | (0x1fn << 8n));
    };
    m.hart.reset(CODE, 1);
    pmp();
    m.hart.writeCsr(0x305, BigInt(HALT));
    m.hart.writeCsr(0x300, 1n << 13n);
  };
  const t = twins(p, setup);
  agree(t, 3_000, 29);
  assert.equal(t.jit.hart.readCsr(MCAUSE), 5n, 'load access fault');
  assert.equal(t.jit.hart.readCsr(MTVAL), BigInt(DENY + 8));
});

/** OP-FP (fmt 0 S, 1 D) and the fused multiply-adds (opcode 0x43/0x47/0x4b/0x4f). */
const fop = (f5: number, fmt: number, rd: number, rs1: number, rs2: number, rm: number): number => A.rType((f5 << 2) | fmt, rs2, rs1, rm, rd, 0x53);
const ffma = (opc: number, fmt: number, rd: number, rs1: number, rs2: number, rs3: number, rm: number): number =>
  ((rs3 << 27) | (fmt << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | opc) >>> 0;
const FFLAGS = 0x001, FRM = 0x002;

test('F/D in translated code: FLD/FSD/FLW/FSW, arithmetic in every rounding mode, FMAs, conversions, sign injection, NaN compares', () => {
  // Operands at DATA: 1.5, 1/3, a quiet NaN, a signaling NaN, -0, 1e300, a subnormal, and a binary32 3.0 (boxed by FLW).
  const data = new Float64Array([1.5, 1 / 3, NaN, 0, -0, 1e300, 1e-310, 0]);
  const bytes = new Uint8Array(data.buffer);
  new DataView(data.buffer).setBigUint64(24, 0x7ff4000000000000n, true);
  new DataView(data.buffer).setFloat32(56, 3, true);
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(a0, -5));
  loop(p, 150, (q) => {
    q.w(A.andi(t0, s1, 3), A.csrw(FRM, t0), A.andi(t1, s1, 1), A.bne(t1, 0, 8), A.csrw(FFLAGS, 0)); // vary frm; clear flags half the time
    q.w(A.fld(1, s0, 0), A.fld(2, s0, 8), A.fld(3, s0, 16), A.fld(15, s0, 24), A.fld(16, s0, 40), A.fld(17, s0, 48), A.flw(13, s0, 56));
    for (const rm of [0, 1, 2, 3, 4, 7]) q.w(fop(0x00, 1, 4, 1, 2, rm), fop(0x03, 1, 5, 4, 2, rm), fop(0x02, 1, 6, 5, 2, rm));
    q.w(fop(0x0b, 1, 7, 5, 0, 7), fop(0x01, 1, 8, 7, 16, 2), fop(0x02, 1, 9, 16, 17, 0), fop(0x00, 1, 10, 3, 1, 0));
    q.w(ffma(0x43, 1, 11, 1, 2, 4, 7), ffma(0x47, 1, 12, 2, 4, 1, 3), ffma(0x4b, 1, 14, 5, 5, 6, 1), ffma(0x4f, 1, 18, 16, 1, 2, 0));
    q.w(fop(0x1a, 1, 19, s1, 2, 7), fop(0x1a, 1, 20, a0, 1, 1), fop(0x1a, 1, 21, a0, 0, 0), fop(0x1a, 0, 22, s1, 3, 7));
    q.w(fop(0x04, 1, 23, 1, 16, 0), fop(0x04, 1, 23, 23, 23, 1), fop(0x04, 1, 24, 23, 16, 2), fop(0x04, 0, 25, 13, 1, 0));
    q.w(fop(0x14, 1, a1, 1, 2, 0), fop(0x14, 1, a2, 2, 1, 1), fop(0x14, 1, a3, 16, 16, 2), fop(0x14, 1, t2, 1, 3, 2));
    q.w(fop(0x14, 1, t3, 15, 1, 2), fop(0x14, 1, t1, 3, 1, 1), A.add(sp, sp, a1), A.add(sp, sp, a2), A.add(sp, sp, a3));
    q.w(fop(0x14, 1, a1, 16, 16, 0), fop(0x14, 1, a2, 16, 16, 1), A.slli(a3, a2, 1), A.add(sp, sp, a1), A.add(sp, sp, a3));
    // The flags of single fast-path operations, summed in ra: clear, operate, read.
    for (const x of [fop(0x00, 1, 4, 1, 2, 0), fop(0x03, 1, 5, 1, 2, 3), fop(0x0b, 1, 6, 2, 0, 1), ffma(0x43, 1, 11, 1, 2, 4, 2), fop(0x1a, 1, 19, a0, 2, 0)]) {
      q.w(A.csrw(FFLAGS, 0), x, A.csrr(t1, FFLAGS), A.add(ra, ra, t1));
    }
    q.w(fop(0x1c, 1, t0, 4, 0, 0), fop(0x1e, 1, 26, t0, 0, 0), fop(0x00, 0, 27, 13, 13, 0), fop(0x0b, 0, 28, 13, 0, 7));
    q.w(A.fsd(4, s0, 64), A.fsw(5, s0, 72), A.flw(29, s0, 72), A.fsd(29, s0, 80), A.addi(a0, a0, 37));
    q.w(fop(0x00, 1, 1, 1, 2, 0), A.fsd(1, s0, 0)); // the operands drift: flags and roundings change
  });
  const t = twins(p, (m) => { m.mem.load(DATA, bytes); });
  agree(t, 30_000, 13, 0.5);
  assert.notEqual(t.jit.hart.readCsr(FFLAGS), 0n, 'flags were raised');
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n, 'ran to the ebreak');
  // The FS gate: with mstatus.FS = Off an F/D instruction in the middle of a block raises illegal instruction.
  for (const insn of [fop(0x00, 1, 4, 1, 2, 0), A.fld(1, s0, 0), A.fsd(1, s0, 0), fop(0x04, 1, 5, 1, 1, 0), ffma(0x43, 1, 6, 1, 1, 1, 0)]) {
    const r = new A.Program(CODE).w(A.li(s0, DATA), A.li(t0, 3 << 13), A.csrrc(0, 0x300, t0), A.addi(a0, a0, 1), insn, A.addi(a0, a0, 1), A.ebreak());
    const u = twins(r);
    agree(u, 40, 3, 0.1);
    assert.equal(u.jit.hart.readCsr(MCAUSE), 2n);
    assert.equal(u.jit.hart.readCsr(MTVAL), BigInt(insn));
  }
  // A reserved rounding mode in frm makes a DYN instruction illegal; a static one runs.
  const d = new A.Program(CODE).w(A.li(t0, 5), A.csrw(FRM, t0), fop(0x00, 1, 4, 1, 2, 1), A.addi(a0, a0, 1), fop(0x00, 1, 4, 1, 2, 7), A.ebreak());
  const v = twins(d);
  agree(v, 40, 5, 0.1);
  assert.equal(v.jit.hart.readCsr(MCAUSE), 2n);
});

test('accesses through one base register (grouped, one TLB lookup): across a page end, straddling it, into a part of a page PMP forbids', () => {
  // Loads and stores around the end of a data page, with a misaligned one straddling it; then the same pattern
  // into a page whose upper half PMP forbids (such a page is never cached, so each access is checked).
  const END = DATA + 0x1000, PART = RAM_BASE + 0xa000;
  const p = new A.Program(CODE).w(A.li(s0, END - 16), A.li(t2, PART + 0x7f0));
  loop(p, 120, (q) => {
    q.w(A.ld(a0, s0, 0), A.ld(a1, s0, 8), A.ld(a2, s0, 16), A.addi(a0, a0, 1), A.lw(a3, s0, -4), A.ld(t0, s0, 12));
    q.w(A.sd(a0, s0, 0), A.sd(a1, s0, 16), A.sw(a2, s0, 14), A.sd(a3, s0, 24), A.add(t1, t1, t0));
    q.w(A.ld(a0, t2, 0), A.addi(a0, a0, 3), A.sd(a0, t2, 0), A.sd(a0, t2, 8));
  }, [A.ld(a0, t2, 8), A.ld(a1, t2, 16), A.ebreak()]); // PART + 0x800: forbidden, right after an allowed load
  const setup = (m: ReturnType<typeof twins>['interp']): void => {
    // pmp0 = NAPOT 2 KiB at PART + 0x800 (no permissions), pmp1 = NAPOT over everything, RWX; run in S-mode.
    m.hart.reset(CODE, 1);
    m.hart.writeCsr(0x3b0, BigInt(Math.floor((PART + 0x800) / 4) + 0xff));
    m.hart.writeCsr(0x3b1, (1n << 54n) - 1n);
    m.hart.writeCsr(0x3a0, 0x18n | (0x1fn << 8n));
    m.hart.writeCsr(0x305, BigInt(HALT));
    m.hart.writeCsr(0x300, 1n << 13n);
  };
  const t = twins(p, setup);
  agree(t, 5_000, 37, 0.5);
  assert.equal(t.jit.hart.readCsr(MCAUSE), 5n, 'load access fault');
  assert.equal(t.jit.hart.readCsr(MTVAL), BigInt(PART + 0x800));
  assert.equal(t.jit.hart.x[a0], 120n * 3n, 'the allowed half of the PMP page was read and written');
});

test('the translation cache stays within its bound: the oldest blocks are evicted and code still agrees', () => {
  const p = new A.Program(CODE).w(A.li(s0, DATA));
  // Many distinct small loops, run one after another, twice.
  p.w(A.li(s1, 2));
  const outer = p.here;
  for (let i = 0; i < 40; i++) {
    p.w(A.li(t0, 20));
    const top = p.here;
    p.w(A.addi(a0, a0, i + 1), A.xor(a1, a1, a0), A.addi(t0, t0, -1), A.bne(t0, 0, top - (p.here + 12)));
  }
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, outer - (p.here + 4)), A.ebreak());
  const t = twins(p, undefined, { eager: true, maxCost: 20_000 });
  agree(t, 8_000, 31, 0.3, new Array<number>(40).fill(500));
  assert.equal(t.jit.hart.readCsr(MEPC), BigInt(p.here - 4), 'it ran to the ebreak');
  assert.ok(t.engine.stats.evicted > 0, 'blocks were evicted');
  assert.ok(t.engine.stats.liveCost <= 20_000, `live cost ${t.engine.stats.liveCost}`);
});

test('an execute trigger (Sdtrig) fires at the same instruction in translated code', () => {
  const p = new A.Program(CODE);
  loop(p, 100, (q) => q.w(A.addi(a0, a0, 1), A.addi(a1, a1, 2), A.add(a2, a0, a1)));
  const target = CODE + A.li(s1, 100).length * 4 + 4; // the second addi of the body
  const t = twins(p);
  // Let the loop run translated first, then arm the trigger on both.
  const before = runBoth(t, [300]);
  assert.equal(before, null, before ?? '');
  for (const m of [t.interp, t.jit]) {
    m.hart.writeCsr(0x300, m.hart.readCsr(0x300) | 8n); // MIE: M-mode triggers need it
    m.hart.writeCsr(0x7a2, BigInt(target));
    m.hart.writeCsr(0x7a1, (6n << 60n) | 64n | 4n); // mcontrol6, M, execute
  }
  const diff = runBoth(t, mixedBudgets(200, 37));
  assert.equal(diff, null, diff ?? '');
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n);
  assert.equal(t.jit.hart.readCsr(MEPC), BigInt(target));
  assert.ok(snapshot(t.jit).includes('pc='));
});

test('a computed jump to an address above 2^53 leaves pc, mepc and mtval as the interpreter rounds them', () => {
  // The interpreter keeps pc as a double: t itself, not vbase + (t - vbase), which rounds differently up there.
  for (const target of [0xe000000000000100n, 0x0020000000000006n, -0x7ffffffffffff0fcn]) {
    const p = new A.Program(CODE).w(A.li(a0, target), A.addi(a1, a1, 1), A.jalr(0, a0, 0), A.ebreak());
    const t = twins(p);
    agree(t, 40, 9, 0);
    assert.equal(t.jit.hart.readCsr(MEPC), t.interp.hart.readCsr(MEPC));
    assert.ok(t.engine.stats.blocks > 0, JSON.stringify(t.engine.stats));
  }
});
