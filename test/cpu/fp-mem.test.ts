// F/D integration in the hart: FLW/FLD/FSW/FSD (and C.FLD/C.FSD), mstatus.FS Off -> illegal, Dirty after FP
// instructions and FP CSR writes, fcsr/frm/fflags mapping onto the Fpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT } from '../../src/cpu/riscv/testing/machine.js';

const { a0, a1 } = A.R;
const MSTATUS = 0x300, MCAUSE = 0x342, FS_INITIAL = 1n << 13n, FS_DIRTY = 3n << 13n, SD = 1n << 63n;
const faddD = (rd: number, rs1: number, rs2: number) => A.rType(0x01, rs2, rs1, 0, rd, 0x53); // fadd.d rm=RNE

function machine(words: (number | number[])[], fs: bigint) {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE).w(...words);
  m.mem.load(RAM_BASE, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.writeCsr(0x305, BigInt(HALT));
  m.hart.writeCsr(MSTATUS, fs);
  return m;
}

test('FP loads/stores and an FP op; FS becomes Dirty and SD reads 1', () => {
  const data = RAM_BASE + 0x2000;
  const m = machine([A.li(a0, data), A.fld(1, a0, 0), A.fld(2, a0, 8), faddD(3, 1, 2), A.fsd(3, a0, 16),
    A.flw(4, a0, 24), A.fsw(4, a0, 28), A.ebreak()], FS_INITIAL);
  const dv = new DataView(m.mem.buffer);
  dv.setFloat64(0x2000, 1.5, true);
  dv.setFloat64(0x2008, 2.25, true);
  dv.setFloat32(0x2018, 3.5, true);
  runUntil(m.hart, HALT, 100);
  assert.equal(m.hart.readCsr(MCAUSE), 3n);
  assert.equal(dv.getFloat64(0x2010, true), 3.75);
  assert.equal(m.hart.fpu.f[4]! >> 32n, 0xffffffffn, 'flw NaN-boxes');
  assert.equal(dv.getFloat32(0x201c, true), 3.5);
  const ms = m.hart.readCsr(MSTATUS);
  assert.equal(ms & FS_DIRTY, FS_DIRTY);
  assert.equal(ms & SD, SD);
});

test('with FS=Off every FP instruction and FP CSR is illegal', () => {
  for (const w of [A.fld(1, a0, 0), A.fsd(1, a0, 0), faddD(3, 1, 2), A.csrr(a1, 0x003), A.csrr(a1, 0x001)]) {
    const m = machine([A.li(a0, RAM_BASE + 0x2000), w], 0n);
    runUntil(m.hart, HALT, 100);
    assert.equal(m.hart.readCsr(MCAUSE), 2n, `0x${(w >>> 0).toString(16)}`);
    assert.equal(m.hart.readCsr(0x343), BigInt(w >>> 0));
  }
});

test('fcsr, frm and fflags map onto the Fpu fields; writing them dirties FS', () => {
  const m = machine([A.li(a0, 0xff), A.csrw(0x003, a0), A.csrr(a1, 0x002), A.csrrwi(0, 0x001, 3), A.ebreak()], FS_INITIAL);
  runUntil(m.hart, HALT, 100);
  assert.equal(m.hart.x[a1], 7n);
  assert.equal(m.hart.fpu.frm, 7);
  assert.equal(m.hart.fpu.fflags, 3);
  assert.equal(m.hart.readCsr(0x003), 0xe3n);
  assert.equal(m.hart.readCsr(MSTATUS) & FS_DIRTY, FS_DIRTY);
});
