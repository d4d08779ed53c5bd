// The CSR table seen from an extension (src/cpu/riscv/csr.ts): CSRs registered on a hart from outside are reached
// by the Zicsr instructions and by readCsr/writeCsr, with the privilege, read-only, guard and hook rules, and
// registration refuses definitions that contradict the CSR number's encoding (privileged spec §2.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT, type TestMachine } from '../../src/cpu/riscv/testing/machine.js';
import type { CsrDef } from '../../src/cpu/riscv/csr.js';

const { a0, a1, a2, a3 } = A.R;
const MTVEC = 0x305, MCAUSE = 0x342, MTVAL = 0x343;
const CODE = RAM_BASE + 0x1000;
/** The AIA's S-level indirect access pair and a read-only top-interrupt CSR, implemented by a fake IMSIC. */
const SISELECT = 0x150, SIREG = 0x151, STOPI = 0xdb0;
/** Custom CSR numbers (privileged spec Table 2.1 custom ranges): M-level read/write and S-level read/write. */
const CUSTOM_M = 0x7c0, CUSTOM_S = 0x5c0;

/** A fake IMSIC interrupt file: siselect picks one of the registers 0x70..0xff through sireg. */
class FakeImsic {
  select = 0;
  readonly regs = new Map<number, bigint>();
  resets = 0;
  defs(): CsrDef[] {
    return [
      { num: SISELECT, name: 'siselect', read: () => BigInt(this.select), write: (_h, v) => { this.select = Number(v & 0xfffn); },
        reset: () => { this.select = 0; this.resets++; } },
      { num: SIREG, name: 'sireg', guard: () => this.select >= 0x70 && this.select <= 0xff,
        read: () => this.regs.get(this.select) ?? 0n, write: (_h, v) => { this.regs.set(this.select, v); } },
      { num: STOPI, name: 'stopi', read: () => 0x0009_0001n },
    ];
  }
}

/** Runs `words` at CODE in privilege `priv` until the trap handler (HALT) after `register` added CSRs. */
function run(words: (number | number[])[], priv: 0 | 1 | 3, register: (m: TestMachine) => void): TestMachine {
  const m = makeMachine();
  register(m);
  const p = new A.Program(CODE).w(...words);
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.hart.reset(p.base, priv);
  m.hart.writeCsr(MTVEC, BigInt(HALT));
  runUntil(m.hart, HALT, 1000);
  return m;
}

/** Asserts the program stopped on illegal instruction at word `index`, with tval = that instruction. */
function assertIllegalAt(m: TestMachine, words: (number | number[])[], index: number, what: string): void {
  const flat = words.flat();
  assert.equal(m.hart.readCsr(MCAUSE), 2n, `${what}: cause`);
  assert.equal(m.hart.readCsr(MTVAL), BigInt(flat[index]! >>> 0), `${what}: tval`);
  assert.equal(m.hart.readCsr(0x341), BigInt(CODE + 4 * index), `${what}: mepc`);
}

test('an external CSR pair (siselect/sireg) is reached by csrw/csrr in S-mode and by readCsr/writeCsr', () => {
  const imsic = new FakeImsic();
  const words = [A.li(a0, 0x70), A.csrw(SISELECT, a0), A.li(a1, 0x1234), A.csrw(SIREG, a1), A.csrr(a2, SIREG),
    A.csrr(a3, SISELECT), A.ebreak()];
  const m = run(words, 1, (m) => { for (const d of imsic.defs()) m.hart.registerCsr(d); });
  assert.equal(m.hart.readCsr(MCAUSE), 3n, 'reached the ebreak');
  assert.equal(m.hart.x[a2], 0x1234n);
  assert.equal(m.hart.x[a3], 0x70n);
  assert.equal(imsic.regs.get(0x70), 0x1234n);
  m.hart.writeCsr(SIREG, 0xabcdn);
  assert.equal(m.hart.readCsr(SIREG), 0xabcdn);
  assert.equal(imsic.regs.get(0x70), 0xabcdn);
});

test('a guard refuses the access with illegal instruction (sireg with a reserved siselect); raw access skips it', () => {
  const imsic = new FakeImsic();
  const words = [A.li(a0, 0x30), A.csrw(SISELECT, a0), A.csrr(a2, SIREG), A.ebreak()];
  const m = run(words, 1, (m) => { for (const d of imsic.defs()) m.hart.registerCsr(d); });
  assertIllegalAt(m, words, 2, 'csrr sireg with siselect 0x30');
  assert.equal(imsic.select, 0x30, 'the siselect write before it happened');
  assert.equal(m.hart.readCsr(SIREG), 0n);
});

test('a guard is told whether the instruction writes (a CSR readable only with a read-write instruction)', () => {
  const seedLike: CsrDef = { num: CUSTOM_S, name: 'custom-s', minPriv: 1, guard: (_h, writes) => writes, read: () => 42n, write: () => {} };
  const ok = run([A.csrrw(a0, CUSTOM_S, 0), A.ebreak()], 1, (m) => m.hart.registerCsr(seedLike));
  assert.equal(ok.hart.readCsr(MCAUSE), 3n);
  assert.equal(ok.hart.x[a0], 42n);
  const words = [A.csrr(a0, CUSTOM_S), A.ebreak()];
  assertIllegalAt(run(words, 1, (m) => m.hart.registerCsr(seedLike)), words, 0, 'csrr (no write)');
});

test('minPriv: an M-level CSR is illegal from S and U; a minPriv raised above the encoding is enforced', () => {
  let value = 7n;
  const mCsr: CsrDef = { num: CUSTOM_M, name: 'custom-m', read: () => value, write: (_h, v) => { value = v; } };
  const words = [A.csrr(a0, CUSTOM_M), A.ebreak()];
  for (const priv of [0, 1] as const) {
    assertIllegalAt(run(words, priv, (m) => m.hart.registerCsr(mCsr)), words, 0, `custom M CSR from privilege ${priv}`);
  }
  const inM = run([A.li(a1, 9), A.csrrw(a0, CUSTOM_M, a1), A.ebreak()], 3, (m) => m.hart.registerCsr(mCsr));
  assert.equal(inM.hart.readCsr(MCAUSE), 3n);
  assert.equal(inM.hart.x[a0], 7n);
  assert.equal(value, 9n);

  const raised: CsrDef = { num: CUSTOM_S, name: 'custom-s', minPriv: 3, read: () => 1n, write: () => {} };
  const sWords = [A.csrr(a0, CUSTOM_S), A.ebreak()];
  assertIllegalAt(run(sWords, 1, (m) => m.hart.registerCsr(raised)), sWords, 0, 'S-numbered CSR with minPriv M, from S');
  const fromM = run(sWords, 3, (m) => m.hart.registerCsr(raised));
  assert.equal(fromM.hart.readCsr(MCAUSE), 3n);
  assert.equal(fromM.hart.x[a0], 1n);
});

test('a read-only CSR (number bits [11:10] = 3): reads work, every writing form is illegal, raw writes throw', () => {
  const imsic = new FakeImsic();
  const reg = (m: TestMachine) => { for (const d of imsic.defs()) m.hart.registerCsr(d); };
  const read = run([A.csrr(a0, STOPI), A.csrrsi(a1, STOPI, 0), A.csrrc(a2, STOPI, 0), A.ebreak()], 1, reg);
  assert.equal(read.hart.readCsr(MCAUSE), 3n);
  assert.deepEqual([read.hart.x[a0], read.hart.x[a1], read.hart.x[a2]], [0x90001n, 0x90001n, 0x90001n]);
  for (const w of [A.csrw(STOPI, a1), A.csrrs(a0, STOPI, a1), A.csrrc(a0, STOPI, a1), A.csrrwi(a0, STOPI, 0), A.csrrsi(a0, STOPI, 1)]) {
    const words = [A.li(a1, 1), w, A.ebreak()];
    assertIllegalAt(run(words, 1, reg), words, 1, `0x${(w >>> 0).toString(16)}`);
  }
  assert.throws(() => read.hart.writeCsr(STOPI, 0n), /CSR 0xdb0 is not implemented or not writable/);
});

test('a CSR without a write: reads work, writes are illegal; an unregistered number is illegal', () => {
  const words = [A.csrr(a0, CUSTOM_S), A.csrw(CUSTOM_S, a0), A.ebreak()];
  const m = run(words, 1, (m) => m.hart.registerCsr({ num: CUSTOM_S, name: 'custom-s', read: () => 5n }));
  assert.equal(m.hart.x[a0], 5n);
  assertIllegalAt(m, words, 1, 'csrw to a CSR with no write');
  const none = [A.csrr(a0, CUSTOM_S), A.ebreak()];
  assertIllegalAt(run(none, 1, () => {}), none, 0, 'csrr of an unregistered CSR');
});

test('afterInsnWrite runs after an instruction write, not after writeCsr; reset hooks run on hart.reset()', () => {
  const seen: string[] = [];
  const imsic = new FakeImsic();
  const m = run([A.li(a0, 3), A.csrw(CUSTOM_S, a0), A.csrr(a1, CUSTOM_S), A.ebreak()], 1, (m) => {
    let v = 0n;
    m.hart.registerCsr({ num: CUSTOM_S, name: 'custom-s', read: () => v, write: (_h, n) => { v = n; seen.push(`write ${n}`); },
      afterInsnWrite: () => seen.push('after') });
    for (const d of imsic.defs()) m.hart.registerCsr(d);
  });
  assert.deepEqual(seen, ['write 3', 'after']);
  m.hart.writeCsr(CUSTOM_S, 4n);
  assert.deepEqual(seen, ['write 3', 'after', 'write 4']);
  assert.equal(imsic.resets, 1, 'the reset in run()');
  imsic.select = 0x80;
  m.hart.reset(CODE, 1);
  assert.equal(imsic.resets, 2);
  assert.equal(imsic.select, 0);
  assert.equal(m.hart.readCsr(CUSTOM_S), 4n, 'registered rows survive reset');
});

test('registration refuses a taken number, a write on a read-only number, a minPriv below the encoding, bad numbers', () => {
  const m = makeMachine();
  const h = m.hart;
  assert.throws(() => h.registerCsr({ num: 0x180, name: 'mine', read: () => 0n }), /CSR 0x180 \(mine\) is already implemented by this hart as satp/);
  assert.throws(() => h.registerCsr({ num: STOPI, name: 'stopi', read: () => 0n, write: () => {} }), /read-only by its number/);
  assert.throws(() => h.registerCsr({ num: CUSTOM_M, name: 'm', minPriv: 1, read: () => 0n }), /below the level its number encodes \(3\)/);
  assert.throws(() => h.registerCsr({ num: CUSTOM_S, name: 's', minPriv: 2, read: () => 0n }), /not a privilege level/);
  assert.throws(() => h.registerCsr({ num: 4096, name: 'big', read: () => 0n }), /not a 12-bit CSR number/);
  assert.throws(() => h.registerCsr({ num: -1, name: 'neg', read: () => 0n }), /not a 12-bit CSR number/);
  h.registerCsr({ num: CUSTOM_S, name: 's', read: () => 0n });
  assert.throws(() => h.registerCsr({ num: CUSTOM_S, name: 's2', read: () => 0n }), /already implemented by this hart as s;/);
  // Another hart's table is its own.
  makeMachine().hart.registerCsr({ num: CUSTOM_S, name: 's', read: () => 0n });
});
