// Sdtrig (src/cpu/riscv/trigger.ts): the trigger CSRs answer from M-mode (one mcontrol6 trigger), are illegal
// below M, and an armed trigger raises a breakpoint before the matching fetch, load, store or AMO, with
// mepc/mtval as the spec says and nothing of the matching instruction done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT, type TestMachine } from '../../src/cpu/riscv/testing/machine.js';

const { a0, a1, a2, a3, a4, t0 } = A.R;
const TSELECT = 0x7a0, TDATA1 = 0x7a1, TDATA2 = 0x7a2, TDATA3 = 0x7a3, TINFO = 0x7a4;
const MSTATUS = 0x300, MTVEC = 0x305, MEPC = 0x341, MCAUSE = 0x342, MTVAL = 0x343, MEDELEG = 0x302;
const CODE = RAM_BASE + 0x1000, DATA = RAM_BASE + 0x8000;
const MC6 = 6n << 60n, LOAD = 1n, STORE = 2n, EXEC = 4n, U = 8n, S = 16n, M = 64n, HIT0 = 1n << 22n;
const matchKind = (k: number): bigint => BigInt(k) << 7n;

/** `words` at CODE, entered at `priv` with mtvec = HALT, run until a trap reaches HALT. */
function run(words: (number | number[])[], priv: 0 | 1 | 3, setup?: (m: TestMachine) => void): TestMachine {
  const m = makeMachine();
  const p = new A.Program(CODE).w(...words);
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.reset(p.base, priv);
  m.hart.writeCsr(MTVEC, BigInt(HALT));
  setup?.(m);
  runUntil(m.hart, HALT, 1000);
  return m;
}

test('the trigger CSRs answer in M-mode: tselect holds only 0, tinfo names mcontrol6, tdata1 = 0 reads back disabled', () => {
  const words = [
    A.csrrwi(a0, TSELECT, 0), A.csrr(a1, TINFO), A.csrrwi(0, TSELECT, 3), A.csrr(a2, TSELECT),
    A.csrw(TDATA1, 0), A.csrr(a3, TDATA1), A.csrrwi(0, TDATA3, 5), A.csrr(a4, TDATA3), A.ebreak(),
  ];
  const m = run(words, 3);
  assert.equal(m.hart.readCsr(MCAUSE), 3n, 'reached the ebreak without an illegal instruction');
  assert.equal(m.hart.readCsr(MEPC), BigInt(CODE + 4 * 8));
  assert.equal(m.hart.x[a0], 0n);
  assert.equal(BigInt.asUintN(64, m.hart.x[a1]!), 0x0100_0040n, 'tinfo: version 1, type 6 only');
  assert.equal(m.hart.x[a2], 0n, 'tselect = 3 reads back 0: there is one trigger');
  assert.equal(BigInt.asUintN(64, m.hart.x[a3]!), MC6, 'disabled mcontrol6');
  assert.equal(m.hart.x[a4], 0n, 'textra64 holds no conditions');
  // tdata2 keeps any 64-bit value exactly.
  m.hart.writeCsr(TDATA2, 0x0123456789abcdefn);
  assert.equal(m.hart.readCsr(TDATA2), 0x0123456789abcdefn);
  // Unsupported configurations read back disabled: select = 1 (data), action = 1 (debug mode), match = 1 (NAPOT).
  for (const bad of [MC6 | (1n << 21n) | M | LOAD, MC6 | (1n << 12n) | M | LOAD, MC6 | matchKind(1) | M | LOAD, (2n << 60n) | M | LOAD]) {
    m.hart.writeCsr(TDATA1, bad);
    assert.equal(m.hart.readCsr(TDATA1), MC6, `0x${bad.toString(16)} is not supported`);
  }
  m.hart.writeCsr(TDATA1, MC6 | matchKind(2) | S | U | STORE);
  assert.equal(m.hart.readCsr(TDATA1), MC6 | matchKind(2) | S | U | STORE);
});

test('trigger CSRs are illegal below M-mode', () => {
  for (const csr of [TSELECT, TDATA1, TDATA2, TDATA3, TINFO]) {
    const m = run([A.csrr(a0, csr)], 1);
    assert.equal(m.hart.readCsr(MCAUSE), 2n, `0x${csr.toString(16)}`);
  }
});

test('an execute trigger fires before the matching instruction: mepc = mtval = its pc, earlier ones retired, hit set', () => {
  const words = [A.addi(a0, 0, 1), A.addi(a1, 0, 2), A.addi(a2, 0, 3), A.ebreak()];
  const target = CODE + 8;
  const m = run(words, 1, (m) => { m.hart.writeCsr(TDATA2, BigInt(target)); m.hart.writeCsr(TDATA1, MC6 | S | EXEC); });
  assert.equal(m.hart.readCsr(MCAUSE), 3n);
  assert.equal(m.hart.readCsr(MEPC), BigInt(target));
  assert.equal(m.hart.readCsr(MTVAL), BigInt(target));
  assert.deepEqual([m.hart.x[a0], m.hart.x[a1], m.hart.x[a2]], [1n, 2n, 0n]);
  assert.equal(m.hart.instret, 2);
  assert.equal(m.hart.readCsr(TDATA1) & HIT0, HIT0);
  // Not enabled in U: the same program in U runs to its ebreak.
  const u = run(words, 0, (m) => { m.hart.writeCsr(TDATA2, BigInt(target)); m.hart.writeCsr(TDATA1, MC6 | S | EXEC); });
  assert.equal(u.hart.readCsr(MEPC), BigInt(CODE + 12));
  assert.equal(u.hart.x[a2], 3n);
});

test('in M-mode a trigger matches only while mstatus.MIE = 1 (the reentrancy rule)', () => {
  const words = [A.addi(a0, 0, 1), A.addi(a1, 0, 2), A.ebreak()];
  const arm = (mie: boolean) => (m: TestMachine): void => {
    m.hart.writeCsr(MSTATUS, mie ? 1n << 3n : 0n);
    m.hart.writeCsr(TDATA2, BigInt(CODE + 4));
    m.hart.writeCsr(TDATA1, MC6 | M | EXEC);
  };
  const off = run(words, 3, arm(false));
  assert.equal(off.hart.readCsr(MEPC), BigInt(CODE + 8), 'MIE = 0: ran to the ebreak');
  const on = run(words, 3, arm(true));
  assert.equal(on.hart.readCsr(MEPC), BigInt(CODE + 4));
  assert.equal(on.hart.readCsr(MCAUSE), 3n);
});

test('load and store triggers fire before the access with mtval = the address; other addresses and kinds pass', () => {
  const words = [
    ...A.li(t0, DATA), A.li(a1, 0x55), A.sw(a1, t0, 0), A.lw(a2, t0, 4), A.lw(a3, t0, 0), A.ebreak(),
  ].flat();
  const at = (i: number): bigint => BigInt(CODE + 4 * words.slice(0, i).length);
  // Load trigger on DATA: the store to DATA passes, the load from DATA + 4 passes, the load from DATA fires.
  const ld = run(words, 1, (m) => { m.hart.writeCsr(TDATA2, BigInt(DATA)); m.hart.writeCsr(TDATA1, MC6 | S | LOAD); });
  assert.equal(ld.hart.readCsr(MCAUSE), 3n);
  const li = A.li(t0, DATA).length;
  assert.equal(ld.hart.readCsr(MEPC), at(li + 3), 'stopped at the lw from DATA');
  assert.equal(ld.hart.readCsr(MTVAL), BigInt(DATA));
  assert.equal(ld.hart.x[a3], 0n, 'the load did not happen');
  assert.equal(ld.mem.read32(DATA - RAM_BASE), 0x55, 'the store before it did');
  // Store trigger with match >= DATA: the sw fires and memory is unchanged.
  const st = run(words, 1, (m) => { m.hart.writeCsr(TDATA2, BigInt(DATA)); m.hart.writeCsr(TDATA1, MC6 | matchKind(2) | S | STORE); });
  assert.equal(st.hart.readCsr(MEPC), at(li + 1));
  assert.equal(st.mem.read32(DATA - RAM_BASE), 0);
  // Breakpoints delegated to S with SIE = 0: the trigger is inhibited in S, the program runs to its ebreak.
  const del = run(words, 1, (m) => {
    m.hart.writeCsr(MEDELEG, 1n << 3n); m.hart.writeCsr(0x105, BigInt(HALT));
    m.hart.writeCsr(TDATA2, BigInt(DATA)); m.hart.writeCsr(TDATA1, MC6 | S | LOAD);
  });
  assert.equal(del.hart.x[a3], 0x55n);
});

test('an AMO is a load and a store for triggers, and its trigger outranks the misaligned-address fault', () => {
  const words = [...A.li(t0, DATA + 2), A.amoadd(a0, 0, t0, true), A.ebreak()].flat();
  const m = run(words, 1, (m) => { m.hart.writeCsr(TDATA2, BigInt(DATA + 2)); m.hart.writeCsr(TDATA1, MC6 | S | STORE); });
  assert.equal(m.hart.readCsr(MCAUSE), 3n, 'breakpoint, not misaligned (6)');
  assert.equal(m.hart.readCsr(MTVAL), BigInt(DATA + 2));
  // Disarmed (tdata1 = 0): the same AMO raises the misaligned fault.
  const d = run(words, 1, (m) => { m.hart.writeCsr(TDATA1, MC6 | S | STORE); m.hart.writeCsr(TDATA1, 0n); });
  assert.equal(d.hart.readCsr(MCAUSE), 6n);
});
