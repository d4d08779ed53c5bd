// RV64I + M unit tests: hand-assembled programs run on the hart, results checked in registers and memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { runProgram, RAM_BASE, HALT } from '../../src/cpu/riscv/testing/machine.js';

const { a0, a1, a2, a3, t0 } = A.R;
const reg = (m: ReturnType<typeof runProgram>, r: number) => m.hart.x[r]!;

test('li builds 64-bit constants and ebreak stops at the handler with mcause 3', () => {
  const m = runProgram([A.li(a0, 0x123456789abcdef0n), A.li(a1, -5), A.li(a2, 0x7fffffff), A.li(a3, -0x80000000), A.ebreak()]);
  assert.equal(m.hart.pc, HALT);
  assert.equal(reg(m, a0), 0x123456789abcdef0n);
  assert.equal(reg(m, a1), -5n);
  assert.equal(reg(m, a2), 0x7fffffffn);
  assert.equal(reg(m, a3), -0x80000000n);
  assert.equal(m.hart.readCsr(0x342), 3n);
});

test('ADD/SUB carry and borrow across the 32-bit halves; x0 stays zero', () => {
  const m = runProgram([
    A.li(a0, 0xffffffffn), A.addi(a1, a0, 1), A.li(a2, 0x100000000n), A.addi(a3, a2, -1),
    A.add(t0, a0, a0), A.addi(0, a0, 5), A.sub(A.R.t1, 0, a2), A.ebreak(),
  ]);
  assert.equal(reg(m, a1), 0x100000000n);
  assert.equal(reg(m, a3), 0xffffffffn);
  assert.equal(reg(m, t0), 0x1fffffffen);
  assert.equal(reg(m, 0), 0n);
  assert.equal(reg(m, A.R.t1), -0x100000000n);
});

test('shifts by 0, <32, 32 and >32 in both directions', () => {
  const m = runProgram([
    A.li(a0, -0x8000000000000000n + 0x12345n),
    A.slli(A.R.s2, a0, 0), A.slli(A.R.s3, a0, 4), A.slli(A.R.s4, a0, 32), A.slli(A.R.s5, a0, 40),
    A.srli(A.R.s6, a0, 4), A.srli(A.R.s7, a0, 36), A.srai(A.R.s8, a0, 4), A.srai(A.R.s9, a0, 63),
    A.addi(t0, 0, 33), A.sll(A.R.s10, a0, t0), A.sra(A.R.s11, a0, t0), A.srl(A.R.t3, a0, t0), A.ebreak(),
  ]);
  const v = BigInt.asUintN(64, -0x8000000000000000n + 0x12345n);
  const sx = (b: bigint) => BigInt.asIntN(64, b);
  assert.equal(reg(m, A.R.s2), sx(v));
  assert.equal(reg(m, A.R.s3), sx(v << 4n));
  assert.equal(reg(m, A.R.s4), sx(v << 32n));
  assert.equal(reg(m, A.R.s5), sx(v << 40n));
  assert.equal(reg(m, A.R.s6), sx(v >> 4n));
  assert.equal(reg(m, A.R.s7), sx(v >> 36n));
  assert.equal(reg(m, A.R.s8), sx(v) >> 4n);
  assert.equal(reg(m, A.R.s9), -1n);
  assert.equal(reg(m, A.R.s10), sx(v << 33n));
  assert.equal(reg(m, A.R.s11), sx(v) >> 33n);
  assert.equal(reg(m, A.R.t3), v >> 33n);
});

test('compares and logic with sign-extended immediates', () => {
  const m = runProgram([
    A.li(a0, -1), A.li(a1, 1),
    A.slt(A.R.s2, a0, a1), A.sltu(A.R.s3, a0, a1), A.slti(A.R.s4, a1, -1), A.sltiu(A.R.s5, a1, -1),
    A.xori(A.R.s6, a1, -1), A.ori(A.R.s7, 0, -16), A.andi(A.R.s8, a0, 0x7f0), A.ebreak(),
  ]);
  assert.deepEqual([2, 3, 4, 5].map((i) => reg(m, A.R[`s${i}` as 's2'])), [1n, 0n, 0n, 1n]);
  assert.equal(reg(m, A.R.s6), -2n);
  assert.equal(reg(m, A.R.s7), -16n);
  assert.equal(reg(m, A.R.s8), 0x7f0n);
});

test('W instructions sign-extend 32-bit results', () => {
  const m = runProgram([
    A.li(a0, 0x7fffffff), A.addiw(A.R.s2, a0, 1), A.addw(A.R.s3, a0, a0), A.subw(A.R.s4, 0, a0),
    A.slliw(A.R.s5, a0, 1), A.li(a1, -8), A.srliw(A.R.s6, a1, 1), A.sraiw(A.R.s7, a1, 1),
    A.li(a2, 0x1_0000_0005n), A.addiw(A.R.s8, a2, 0), A.ebreak(),
  ]);
  assert.equal(reg(m, A.R.s2), -0x80000000n);
  assert.equal(reg(m, A.R.s3), -2n);
  assert.equal(reg(m, A.R.s4), -0x7fffffffn);
  assert.equal(reg(m, A.R.s5), -2n);
  assert.equal(reg(m, A.R.s6), 0x7ffffffcn);
  assert.equal(reg(m, A.R.s7), -4n);
  assert.equal(reg(m, A.R.s8), 5n);
});

test('branches: signed vs unsigned, taken and not taken', () => {
  // Each branch skips one `addi s2, s2, 1` when taken.
  const prog = [A.li(a0, -1), A.li(a1, 1), A.addi(A.R.s2, 0, 0)];
  const br = [A.blt(a0, a1, 8), A.bltu(a0, a1, 8), A.bge(a1, a0, 8), A.bgeu(a1, a0, 8), A.beq(a0, a0, 8), A.bne(a0, a0, 8)];
  for (const b of br) prog.push([b, A.addi(A.R.s2, A.R.s2, 1)]);
  const m = runProgram([...prog, A.ebreak()]);
  // taken: blt, bge, beq -> 3 skipped; not taken: bltu, bgeu, bne -> 3 counted
  assert.equal(reg(m, A.R.s2), 3n);
});

test('JAL/JALR link, JALR clears bit 0, AUIPC', () => {
  const m = runProgram([
    A.auipc(a0, 0),            // 0: a0 = base
    A.jal(A.R.ra, 8),          // 4: -> 12, ra = 8
    A.ebreak(),                // 8
    A.addi(a1, a0, 25),        // 12: a1 = base + 25 (odd)
    A.jalr(a2, a1, -1),        // 16: -> base + 24, a2 = base + 20
    A.ebreak(),                // 20
    A.addi(a3, 0, 7),          // 24
    A.ebreak(),                // 28
  ]);
  assert.equal(reg(m, a0), BigInt(RAM_BASE));
  assert.equal(reg(m, A.R.ra), BigInt(RAM_BASE + 8));
  assert.equal(reg(m, a2), BigInt(RAM_BASE + 20));
  assert.equal(reg(m, a3), 7n);
  assert.equal(m.hart.readCsr(0x341), BigInt(RAM_BASE + 28));
});

test('loads and stores of every width, sign and zero extension, misaligned in RAM', () => {
  const m = runProgram([
    A.li(a0, RAM_BASE + 0x2000), A.li(a1, 0x8899aabbccddeeffn),
    A.sd(a1, a0, 0), A.lb(A.R.s2, a0, 0), A.lbu(A.R.s3, a0, 0), A.lh(A.R.s4, a0, 0), A.lhu(A.R.s5, a0, 0),
    A.lw(A.R.s6, a0, 4), A.lwu(A.R.s7, a0, 4), A.ld(A.R.s8, a0, 0),
    A.sw(a1, a0, 9), A.lwu(A.R.s9, a0, 9), A.sh(a1, a0, 0x1ff), A.ld(A.R.s10, a0, 0x1fb), A.sb(a1, a0, 3), A.ebreak(),
  ]);
  assert.equal(reg(m, A.R.s2), -1n);
  assert.equal(reg(m, A.R.s3), 0xffn);
  assert.equal(reg(m, A.R.s4), BigInt.asIntN(16, 0xeeffn));
  assert.equal(reg(m, A.R.s5), 0xeeffn);
  assert.equal(reg(m, A.R.s6), BigInt.asIntN(32, 0x8899aabbn));
  assert.equal(reg(m, A.R.s7), 0x8899aabbn);
  assert.equal(reg(m, A.R.s8), BigInt.asIntN(64, 0x8899aabbccddeeffn));
  assert.equal(reg(m, A.R.s9), 0xccddeeffn);
  assert.equal(m.mem.read16(0x21ff), 0xeeff);
  assert.equal(reg(m, A.R.s10) >> 32n & 0xffffn, 0xeeffn);
  assert.equal(m.mem.read8(0x2003), 0xff);
});

test('misaligned access that crosses a page boundary works in RAM', () => {
  const m = runProgram([
    A.li(a0, RAM_BASE + 0x2ffd), A.li(a1, 0x1122334455667788n), A.sd(a1, a0, 0), A.ld(a2, a0, 0), A.lw(a3, a0, 1), A.ebreak(),
  ]);
  assert.equal(reg(m, a2), 0x1122334455667788n);
  assert.equal(reg(m, a3), 0x44556677n);
  assert.equal(m.mem.read8(0x3004), 0x11);
});

test('RV64M: products, high halves, division edge cases', () => {
  const min = -0x8000000000000000n;
  const m = runProgram([
    A.li(a0, min), A.li(a1, -1), A.li(a2, 0), A.li(a3, 7), A.li(t0, -3),
    A.mul(A.R.s2, a3, t0), A.mulh(A.R.s3, a0, a0), A.mulhu(A.R.s4, a1, a1), A.mulhsu(A.R.s5, a1, a1),
    A.div(A.R.s6, a0, a1), A.rem(A.R.s7, a0, a1), A.div(A.R.s8, a3, a2), A.divu(A.R.s9, a3, a2), A.rem(A.R.s10, a3, a2),
    A.div(A.R.s11, a3, t0), A.rem(A.R.t3, a3, t0), A.remu(A.R.t4, a3, t0), A.ebreak(),
  ]);
  assert.equal(reg(m, A.R.s2), -21n);
  assert.equal(reg(m, A.R.s3), 0x4000000000000000n);
  assert.equal(reg(m, A.R.s4), -2n); // 0xffff...fffe
  assert.equal(reg(m, A.R.s5), -1n);
  assert.equal(reg(m, A.R.s6), min);
  assert.equal(reg(m, A.R.s7), 0n);
  assert.equal(reg(m, A.R.s8), -1n);
  assert.equal(reg(m, A.R.s9), -1n);
  assert.equal(reg(m, A.R.s10), 7n);
  assert.equal(reg(m, A.R.s11), -2n);
  assert.equal(reg(m, A.R.t3), 1n);
  assert.equal(reg(m, A.R.t4), 7n);
});

test('RV64M W forms', () => {
  const m = runProgram([
    A.li(a0, -0x80000000), A.li(a1, -1), A.li(a2, 0), A.li(a3, 0x10000), A.li(t0, 7),
    A.mulw(A.R.s2, a3, a3), A.divw(A.R.s3, a0, a1), A.remw(A.R.s4, a0, a1), A.divw(A.R.s5, t0, a2), A.remw(A.R.s6, t0, a2),
    A.divuw(A.R.s7, a1, t0), A.remuw(A.R.s8, a1, t0), A.divw(A.R.s9, a0, t0), A.ebreak(),
  ]);
  assert.equal(reg(m, A.R.s2), 0n);
  assert.equal(reg(m, A.R.s3), -0x80000000n);
  assert.equal(reg(m, A.R.s4), 0n);
  assert.equal(reg(m, A.R.s5), -1n);
  assert.equal(reg(m, A.R.s6), 7n);
  assert.equal(reg(m, A.R.s7), BigInt(Math.floor(0xffffffff / 7)));
  assert.equal(reg(m, A.R.s8), BigInt(0xffffffff % 7));
  assert.equal(reg(m, A.R.s9), BigInt(Math.trunc(-0x80000000 / 7)));
});

test('illegal instructions trap with tval = the instruction bits', () => {
  for (const bad of [0x00000000, 0xffffffff, A.rType(0x40, 1, 1, 0, 1, 0x33), A.slli(a0, a0, 0) | (1 << 31) >>> 0]) {
    const m = runProgram([bad >>> 0]);
    assert.equal(m.hart.readCsr(0x342), 2n, `cause for 0x${(bad >>> 0).toString(16)}`);
    assert.equal(m.hart.readCsr(0x343), BigInt(bad >>> 0));
    assert.equal(m.hart.readCsr(0x341), BigInt(RAM_BASE));
  }
});

test('instret counts retired instructions; fence and pause are no-ops', () => {
  const m = runProgram([A.fence(), A.pause(), A.fenceI(), A.addi(a0, 0, 1), A.ebreak()]);
  assert.equal(m.hart.instret, 4);
  assert.equal(reg(m, a0), 1n);
});

test('a CSR write to minstret/mcycle replaces the writing instruction\'s increment; reads see the value before it', () => {
  const MINSTRET = 0xb02, MCYCLE = 0xb00;
  const m = runProgram([
    A.csrrwi(0, MINSTRET, 0), A.csrr(a0, MINSTRET), // written 0: the next instruction reads 0
    A.csrrwi(0, MCYCLE, 7), A.csrr(a1, MCYCLE),
    A.csrrwi(a2, MINSTRET, 20), A.addi(0, 0, 0), A.csrr(a3, MINSTRET), // a2 = value before the write; a3 = 20 + 1
    A.ebreak(),
  ]);
  assert.equal(reg(m, a0), 0n);
  assert.equal(reg(m, a1), 7n);
  assert.equal(reg(m, a2), 3n, 'csrrw reads the count before its own retirement (3 retired since the write)');
  assert.equal(reg(m, a3), 21n);
  assert.equal(m.hart.instret, 7, 'instret itself is the plain retirement count');
  // A raw write (no instruction) sets the value as given.
  m.hart.writeCsr(MINSTRET, 1000n);
  assert.equal(m.hart.readCsr(MINSTRET), 1000n);
});
