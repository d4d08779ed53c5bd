// RV64A (LR/SC reservation, AMOs incl. .W sign extension, misalignment) and RV64C (expansion, illegal 16-bit
// encodings with 16-bit tval, 32-bit instructions straddling a page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { runProgram, makeMachine, runUntil, RAM_BASE, HALT } from '../../src/cpu/riscv/testing/machine.js';
import { expandCompressed } from '../../src/cpu/riscv/rvc.js';

const { a0, a1, a2, a3, a4, t0 } = A.R;
const MCAUSE = 0x342, MTVAL = 0x343;
const ADDR = RAM_BASE + 0x4000;

test('LR/SC: success after LR, failure without reservation, reservation cleared by SC', () => {
  const m = runProgram([
    A.li(a0, ADDR), A.li(a1, 5),
    A.lr(a2, a0), A.sc(a3, a1, a0), // succeeds: a3 = 0
    A.sc(a4, a1, a0),               // no reservation: a4 = 1
    A.lr(t0, a0, true), A.addi(A.R.t1, a0, 8), A.sc(A.R.t2, a1, A.R.t1), // different address: fails
    A.ebreak(),
  ]);
  assert.equal(m.hart.x[a3], 0n);
  assert.equal(m.hart.x[a4], 1n);
  assert.equal(m.hart.x[A.R.t2], 1n);
  assert.equal(m.mem.read64(ADDR - RAM_BASE), 5n);
  assert.equal(m.mem.read64(ADDR + 8 - RAM_BASE), 0n);
});

test('a trap between LR and SC clears the reservation', () => {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE).w(A.li(a0, ADDR), A.lr(a2, a0), A.ecall(), A.sc(a3, a0, a0), A.ebreak());
  m.mem.load(RAM_BASE, p.build());
  // ecall handler: mepc += 4; mret
  const h = new A.Program(RAM_BASE + 0x8000).w(A.csrr(t0, 0x341), A.addi(t0, t0, 4), A.csrw(0x341, t0), A.li(t0, 3 << 11), A.csrrs(0, 0x300, t0), A.mret());
  m.mem.load(h.base, h.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.writeCsr(0x305, BigInt(h.base));
  runUntil(m.hart, RAM_BASE + 0x14, 100);
  m.hart.writeCsr(0x305, BigInt(HALT));
  runUntil(m.hart, HALT, 100);
  assert.equal(m.hart.readCsr(MCAUSE), 3n);
  assert.equal(m.hart.x[a3], 1n);
});

/** Every AMO with its reference on signed 64-bit values (the .W forms compare the sign-extended words). */
const AMO_OPS: [(rd: number, rs2: number, rs1: number, w?: boolean) => number, (a: bigint, b: bigint) => bigint][] = [
  [A.amoswap, (_a, b) => b], [A.amoadd, (a, b) => a + b], [A.amoxor, (a, b) => a ^ b], [A.amoand, (a, b) => a & b],
  [A.amoor, (a, b) => a | b], [A.amomin, (a, b) => (a < b ? a : b)], [A.amomax, (a, b) => (a > b ? a : b)],
  [A.amominu, (a, b) => (BigInt.asUintN(64, a) < BigInt.asUintN(64, b) ? a : b)],
  [A.amomaxu, (a, b) => (BigInt.asUintN(64, a) > BigInt.asUintN(64, b) ? a : b)],
];

test('AMOs: every operation on .D and .W; .W results sign-extend', () => {
  const ops = AMO_OPS;
  for (const w of [false, true]) {
    const bits = w ? 32 : 64;
    const init = w ? BigInt.asIntN(32, 0x80000005n) : -0x7ffffffffffffff0n;
    const b = 7n;
    for (const [op, f] of ops) {
      const m = runProgram([A.li(a0, ADDR), A.li(a1, b), op(a2, a1, a0, w), A.ebreak()], (m) => {
        if (w) m.mem.write32(ADDR - RAM_BASE, Number(BigInt.asUintN(32, init))); else m.mem.write64(ADDR - RAM_BASE, init);
      });
      assert.equal(m.hart.x[a2], init, `${op.name} old value`);
      const mem = w ? BigInt.asIntN(32, BigInt(m.mem.read32(ADDR - RAM_BASE))) : BigInt.asIntN(64, m.mem.read64(ADDR - RAM_BASE));
      assert.equal(mem, BigInt.asIntN(bits, f(init, b)), `${w ? 'W' : 'D'} op ${ops.findIndex((o) => o[0] === op)}`);
    }
  }
});

test('AMOs on word halves: every operation, .D and .W, at the 32/64-bit boundaries, through the walk and then the TLB', () => {
  const ops = AMO_OPS;
  const edges = [0n, 1n, -1n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn,
    -0x8000000000000000n, 0x123456789abcdef0n, -0x123456789abcdefn];
  for (const w of [false, true]) {
    const bits = w ? 32 : 64;
    const sx = (v: bigint): bigint => BigInt.asIntN(bits, v);
    for (const [op, f] of ops) {
      for (const a of edges) {
        for (const b of edges) {
          // the load fills the load TLB; the first AMO walks and fills the store TLB, the second finds both
          const m = runProgram([A.li(a0, ADDR), A.ld(t0, a0, 0), A.li(a1, b), op(a2, a1, a0, w), op(a3, a1, a0, w), A.ebreak()], (m) => {
            m.mem.write64(ADDR - RAM_BASE, BigInt.asUintN(64, a));
          });
          const what = `${w ? 'W' : 'D'} op ${ops.findIndex((o) => o[0] === op)} a=${a} b=${b}`;
          const once = sx(f(sx(a), sx(b)));
          assert.equal(m.hart.x[a2], sx(a), `${what}: old value`);
          assert.equal(m.hart.x[a3], once, `${what}: value after one`);
          const mem = w ? BigInt.asIntN(32, BigInt(m.mem.read32(ADDR - RAM_BASE))) : BigInt.asIntN(64, m.mem.read64(ADDR - RAM_BASE));
          assert.equal(mem, sx(f(once, sx(b))), `${what}: memory after two`);
          if (w) assert.equal(m.mem.read32(ADDR + 4 - RAM_BASE), Number(BigInt.asUintN(32, a >> 32n)), `${what}: the next word untouched`);
        }
      }
    }
  }
});

test('LR/SC on word halves: SC.D fails when only the high word changed, SC.W compares the sign-extended word', () => {
  const m = runProgram([
    A.li(a0, ADDR), A.lr(a2, a0), A.li(t0, 1), A.sw(t0, a0, 4), A.sc(a3, a1, a0), // high word changed: fails
    A.lr(a4, a0, true), A.sc(A.R.t1, a1, a0, true), A.ebreak(),                    // word: succeeds
  ], (m) => { m.mem.write64(ADDR - RAM_BASE, 0x80000000n); });
  assert.equal(m.hart.x[a2], 0x80000000n);
  assert.equal(m.hart.x[a3], 1n, 'SC.D after the high word changed');
  assert.equal(m.hart.x[a4], -0x80000000n, 'LR.W sign-extends');
  assert.equal(m.hart.x[A.R.t1], 0n);
});

test('misaligned LR/AMO raise address-misaligned with tval = address', () => {
  const m = runProgram([A.li(a0, ADDR + 4), A.lr(a1, a0)]);
  assert.equal(m.hart.readCsr(MCAUSE), 4n);
  assert.equal(m.hart.readCsr(MTVAL), BigInt(ADDR + 4));
  const m2 = runProgram([A.li(a0, ADDR + 2), A.amoadd(a1, a1, a0, true)]);
  assert.equal(m2.hart.readCsr(MCAUSE), 6n);
  const m3 = runProgram([A.li(a0, 0x1000_0000), A.amoadd(a1, a1, a0, true)]);
  assert.equal(m3.hart.readCsr(MCAUSE), 7n, 'AMO outside RAM is a store access fault');
});

test('RVC: compressed arithmetic, loads/stores, jumps and branches execute like their expansions', () => {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE)
    .w(A.li(A.R.s0, ADDR), A.li(A.R.s1, 0x11223344))
    .c(A.cLi(a0, -3), A.cAddi(a0, 10), A.cMv(a1, a0), A.cAdd(a1, a0), A.cSd(A.R.s1, A.R.s0, 8), A.cLw(A.R.a5, A.R.s0, 8),
      A.cLd(A.R.a4, A.R.s0, 8), A.cSub(A.R.a4, A.R.s1), A.cBeqz(A.R.a4, 4), A.cLi(a2, 1), A.cJ(4), A.cLi(a3, 1), A.cEbreak());
  m.mem.load(RAM_BASE, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.writeCsr(0x305, BigInt(HALT));
  runUntil(m.hart, HALT, 100);
  assert.equal(m.hart.readCsr(MCAUSE), 3n);
  assert.equal(m.hart.x[a0], 7n);
  assert.equal(m.hart.x[a1], 14n);
  assert.equal(m.hart.x[A.R.a5], 0x11223344n);
  assert.equal(m.hart.x[A.R.a4], 0n);
  assert.equal(m.hart.x[a2], 0n, 'c.beqz taken skips c.li a2');
  assert.equal(m.hart.x[a3], 0n, 'c.j skips c.li a3');
});

test('RVC expansion table: spot checks against known encodings', () => {
  assert.equal(expandCompressed(0x0001), 0x00000013);          // c.nop -> addi x0,x0,0
  assert.equal(expandCompressed(0x4501) >>> 0, 0x00000513);    // c.li a0,0 -> addi a0,x0,0
  assert.equal(expandCompressed(0x8082) >>> 0, 0x00008067);    // c.jr ra -> jalr x0,0(ra)
  assert.equal(expandCompressed(0x1141) >>> 0, 0xff010113);    // c.addi sp,-16
  assert.equal(expandCompressed(0xe406) >>> 0, 0x00113423);    // c.sdsp ra,8(sp)
  assert.equal(expandCompressed(0x60a2) >>> 0, 0x00813083);    // c.ldsp ra,8(sp)
  assert.equal(expandCompressed(0x0800) >>> 0, 0x01010413); // c.addi4spn s0,sp,16
  assert.equal(expandCompressed(0x2018) >>> 0, 0x00043707); // c.fld fa4,0(s0)
  assert.equal(expandCompressed(0x0000), 0, 'all-zero halfword is illegal');
  assert.equal(expandCompressed(0x6101) >>> 0, 0, 'c.addi16sp with 0 is reserved');
  assert.equal(expandCompressed(0x4002), 0, 'c.lwsp x0 is reserved');
});

test('illegal compressed instruction reports the 16-bit encoding in mtval', () => {
  const m = makeMachine();
  m.mem.write16(0, 0x0000);
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.writeCsr(0x305, BigInt(HALT));
  m.hart.run(1);
  assert.equal(m.hart.readCsr(MCAUSE), 2n);
  assert.equal(m.hart.readCsr(MTVAL), 0n);
  m.mem.write16(0, 0x6101);
  m.hart.pc = RAM_BASE;
  m.hart.run(1);
  assert.equal(m.hart.readCsr(MTVAL), 0x6101n);
});

test('a 32-bit instruction straddling a page boundary is fetched from both pages', () => {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE + 0xffa).c(A.cNop(), A.cNop(), A.cNop()).w(A.addi(a0, 0, 123), A.ebreak());
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.writeCsr(0x305, BigInt(HALT));
  m.hart.pc = p.base;
  runUntil(m.hart, HALT, 100);
  assert.equal(m.hart.x[a0], 123n);
  assert.equal(m.hart.readCsr(0x341), BigInt(RAM_BASE + 0x1004));
});

test('fetch from MMIO or unmapped space is an instruction access fault', () => {
  const m = makeMachine();
  m.mem.write32(0, A.jalr(0, t0, 0));
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.writeCsr(0x305, BigInt(HALT));
  m.hart.x[t0] = 0x1000n;
  m.hart.run(2);
  assert.equal(m.hart.readCsr(MCAUSE), 1n);
  assert.equal(m.hart.readCsr(MTVAL), 0x1000n);
});

test('SC fails when another agent changed the reserved word between slices; survives a slice boundary otherwise', () => {
  for (const [poke, expect] of [[false, 0n], [true, 1n]] as const) {
    const m = makeMachine();
    const p = new A.Program(RAM_BASE).w(A.lr(a2, a0), A.li(a1, 9), A.sc(a3, a1, a0), A.ebreak());
    m.mem.load(RAM_BASE, p.build());
    m.hart.x[a0] = BigInt(ADDR);
    m.hart.run(1); // lr
    if (poke) m.mem.write64(ADDR - RAM_BASE, 77n); // "another hart" stores
    m.hart.run(2);
    assert.equal(m.hart.x[a3], expect, poke ? 'changed: SC fails' : 'unchanged: SC succeeds');
  }
});
