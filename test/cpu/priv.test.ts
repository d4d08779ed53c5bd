// Privileged architecture: trap entry/exit, delegation, xRET, CSR access rules, interrupts and priorities, WFI,
// Sstc and the S-mode SBI ecall path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/cpu/riscv/testing/asm.js';
import { makeMachine, runUntil, RAM_BASE, HALT, type TestMachine } from '../../src/cpu/riscv/testing/machine.js';
import type { SbiCaller } from '../../src/cpu/riscv/sbi-types.js';

const { a0, a1, a7, t0 } = A.R;
const MSTATUS = 0x300, MEDELEG = 0x302, MIDELEG = 0x303, MIE = 0x304, MTVEC = 0x305, MEPC = 0x341, MCAUSE = 0x342;
const MTVAL = 0x343, MIP = 0x344, SSTATUS = 0x100, STVEC = 0x105, SEPC = 0x141, SCAUSE = 0x142, SIE = 0x104, SIP = 0x144;
const STIMECMP = 0x14d, MENVCFG = 0x30a, MCOUNTEREN = 0x306, SCOUNTEREN = 0x106;
const S_HALT = RAM_BASE + 0x11000;
const INT = 1n << 63n;

/** A machine with `words` at RAM_BASE + 0x1000, entered at privilege `priv`; M traps park at HALT, S traps at S_HALT. */
function boot(words: (number | number[])[], priv: 0 | 1 | 3, setup?: (m: TestMachine) => void): TestMachine {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE + 0x1000).w(...words);
  m.mem.load(p.base, p.build());
  m.mem.write32(HALT - RAM_BASE, 0x6f);
  m.mem.write32(S_HALT - RAM_BASE, 0x6f);
  m.hart.reset(p.base, priv);
  m.hart.writeCsr(MTVEC, BigInt(HALT));
  m.hart.writeCsr(STVEC, BigInt(S_HALT));
  setup?.(m);
  return m;
}
const go = (m: TestMachine, stop = HALT) => runUntil(m.hart, stop, 10_000);

test('ecall from U, S and M traps to M with causes 8, 9, 11 and MPP = previous privilege', () => {
  for (const [priv, cause] of [[0, 8n], [1, 9n], [3, 11n]] as const) {
    const m = boot([A.addi(a0, 0, 1), A.ecall()], priv);
    go(m);
    assert.equal(m.hart.priv, 3);
    assert.equal(m.hart.readCsr(MCAUSE), cause);
    assert.equal(m.hart.readCsr(MEPC), BigInt(RAM_BASE + 0x1004));
    assert.equal(Number((m.hart.readCsr(MSTATUS) >> 11n) & 3n), priv);
  }
});

test('trap entry moves MIE to MPIE and clears MIE; mret restores and drops to MPP, clearing MPRV', () => {
  const m = boot([A.ecall()], 3, (m) => m.hart.writeCsr(MSTATUS, 1n << 3n));
  go(m);
  let ms = m.hart.readCsr(MSTATUS);
  assert.equal(ms & (1n << 3n), 0n);
  assert.equal(ms & (1n << 7n), 1n << 7n);
  // Now mret to S at a target with MPRV set: MPRV must clear.
  const p = new A.Program(RAM_BASE + 0x3000).w(A.mret());
  m.mem.load(p.base, p.build());
  m.hart.pc = p.base;
  m.hart.writeCsr(MSTATUS, (1n << 11n) | (1n << 7n) | (1n << 17n));
  m.hart.writeCsr(MEPC, BigInt(RAM_BASE + 0x4000));
  m.hart.run(1);
  assert.equal(m.hart.priv, 1);
  assert.equal(m.hart.pc, RAM_BASE + 0x4000);
  ms = m.hart.readCsr(MSTATUS);
  assert.equal(ms & (1n << 17n), 0n, 'MPRV cleared');
  assert.equal(ms & (1n << 3n), 1n << 3n, 'MIE = old MPIE');
  assert.equal((ms >> 11n) & 3n, 0n, 'MPP = U');
});

test('medeleg sends U ecall to S with SPP=0; M-mode exceptions are never delegated', () => {
  const m = boot([A.ecall()], 0, (m) => m.hart.writeCsr(MEDELEG, (1n << 8n) | (1n << 3n) | (1n << 11n)));
  go(m, S_HALT);
  assert.equal(m.hart.priv, 1);
  assert.equal(m.hart.readCsr(SCAUSE), 8n);
  assert.equal(m.hart.readCsr(SEPC), BigInt(RAM_BASE + 0x1000));
  assert.equal(m.hart.readCsr(SSTATUS) & (1n << 8n), 0n);
  assert.equal(m.hart.readCsr(MEDELEG) & (1n << 11n), 0n, 'ecall-from-M is not delegable');
  const m2 = boot([A.ebreak()], 3, (m) => m.hart.writeCsr(MEDELEG, 1n << 3n));
  go(m2);
  assert.equal(m2.hart.priv, 3);
  assert.equal(m2.hart.readCsr(MCAUSE), 3n);
});

test('sret returns to SPP with SIE = SPIE; TSR makes it illegal in S; illegal in U', () => {
  const m = boot([A.sret()], 1, (m) => {
    m.hart.writeCsr(SSTATUS, 1n << 5n); // SPIE=1, SPP=U
    m.hart.writeCsr(SEPC, BigInt(RAM_BASE + 0x5000));
  });
  m.hart.run(1);
  assert.equal(m.hart.priv, 0);
  assert.equal(m.hart.pc, RAM_BASE + 0x5000);
  assert.equal(m.hart.readCsr(SSTATUS) & 2n, 2n);
  const m2 = boot([A.sret()], 1, (m) => m.hart.writeCsr(MSTATUS, 1n << 22n));
  go(m2);
  assert.equal(m2.hart.readCsr(MCAUSE), 2n);
  const m3 = boot([A.sret()], 0);
  go(m3);
  assert.equal(m3.hart.readCsr(MCAUSE), 2n);
});

test('CSR access rules: privilege level, read-only CSRs, counteren, TVM', () => {
  const cases: [number[], 0 | 1 | 3, ((m: TestMachine) => void) | undefined, bigint][] = [
    [[A.csrr(a0, MSTATUS)], 1, undefined, 2n],
    [[A.csrw(0xf11, a0)], 3, undefined, 2n],                    // mvendorid is read-only
    [[A.csrr(a0, 0xf11), A.ebreak()], 3, undefined, 3n],        // but readable
    [[A.csrr(a0, 0xc00)], 0, undefined, 2n],                    // cycle without counteren
    [[A.csrr(a0, 0xc01), A.ebreak()], 0, (m) => { m.hart.writeCsr(MCOUNTEREN, 2n); m.hart.writeCsr(SCOUNTEREN, 2n); }, 3n],
    [[A.csrr(a0, 0xc01)], 1, (m) => m.hart.writeCsr(SCOUNTEREN, 2n), 2n],
    [[A.csrr(a0, 0x180)], 1, (m) => m.hart.writeCsr(MSTATUS, 1n << 20n), 2n],
    [[A.csrr(a0, 0x180), A.ebreak()], 1, undefined, 3n],
    [[A.csrr(a0, 0x7c0)], 3, undefined, 2n],                    // unimplemented CSR
    [[A.csrr(a0, 0x3a1)], 3, undefined, 2n],                    // pmpcfg1 does not exist on RV64
    [[A.csrr(a0, 0x003)], 3, undefined, 2n],                    // fcsr with FS=Off
  ];
  for (const [words, priv, setup, cause] of cases) {
    const m = boot(words, priv, setup);
    go(m);
    assert.equal(m.hart.readCsr(MCAUSE), cause, `0x${(words[0]! >>> 0).toString(16)} at priv ${priv}`);
  }
});

test('CSRRS/CSRRC with x0 do not write; CSRRWI/CSRRSI/CSRRCI', () => {
  const m = boot([
    A.csrrwi(a0, 0x340, 5), A.csrrsi(a1, 0x340, 8), A.csrrci(A.R.a2, 0x340, 1), A.csrrs(A.R.a3, 0xf14, 0), A.ebreak(),
  ], 3);
  go(m);
  assert.equal(m.hart.x[a1], 5n);
  assert.equal(m.hart.x[A.R.a2], 13n);
  assert.equal(m.hart.readCsr(0x340), 12n);
});

test('sstatus is a view of mstatus; UXL/SXL read 2; misa says RV64 with I, M, A, C, S, U', () => {
  const m = makeMachine();
  m.hart.writeCsr(SSTATUS, (1n << 18n) | (1n << 3n)); // SUM, and MIE (not an sstatus bit)
  const ms = m.hart.readCsr(MSTATUS);
  assert.equal(ms & (1n << 18n), 1n << 18n);
  assert.equal(ms & (1n << 3n), 0n);
  assert.equal((ms >> 32n) & 0xfn, 0xan);
  const misa = m.hart.readCsr(0x301);
  assert.equal(misa >> 62n, 2n);
  for (const c of 'IMACSU') assert.ok(misa & (1n << BigInt(c.charCodeAt(0) - 65)), c);
});

test('interrupt priority MEI > MSI > MTI > SEI > SSI > STI and vectored mtvec', () => {
  const m = boot([A.addi(a0, 0, 1), A.addi(a0, 0, 2)], 3, (m) => {
    m.hart.writeCsr(MTVEC, BigInt(RAM_BASE + 0x8000) | 1n);
    m.hart.writeCsr(MIE, 0xaaan);
    m.hart.writeCsr(MSTATUS, 1n << 3n);
  });
  const order = [11, 3, 7, 9, 1, 5];
  for (const b of [5, 1, 9, 7, 3, 11]) {
    if (b === 1 || b === 5 || b === 9) m.hart.writeCsr(MIP, m.hart.readCsr(MIP) | (1n << BigInt(b)));
    else m.hart.setPending(b, true);
  }
  for (const expect of order) {
    m.hart.pc = RAM_BASE + 0x1000;
    m.hart.writeCsr(MSTATUS, 1n << 3n);
    m.hart.run(1);
    assert.equal(m.hart.readCsr(MCAUSE), INT | BigInt(expect));
    assert.equal(m.hart.pc, RAM_BASE + 0x8000 + 4 * expect);
    if (expect === 1 || expect === 5 || expect === 9) m.hart.writeCsr(MIP, m.hart.readCsr(MIP) & ~(1n << BigInt(expect)));
    else m.hart.setPending(expect, false);
  }
});

test('global enables: M interrupts wait for MIE in M but are taken in S regardless; delegated ones never in M', () => {
  const m = boot([A.addi(a0, 0, 1), A.addi(a0, 0, 2), A.addi(a0, 0, 3)], 3, (m) => {
    m.hart.writeCsr(MIE, (1n << 7n) | (1n << 5n));
    m.hart.writeCsr(MIDELEG, 1n << 5n);
    m.hart.writeCsr(MIP, 1n << 5n);   // STIP pending, delegated
  });
  m.hart.writeCsr(MSTATUS, (1n << 3n) | (1n << 1n));
  m.hart.run(1);
  assert.equal(m.hart.pc, RAM_BASE + 0x1004, 'delegated STI not taken in M even with SIE');
  m.hart.setPending(7, true);
  m.hart.writeCsr(MSTATUS, 0n);
  m.hart.run(1);
  assert.equal(m.hart.pc, RAM_BASE + 0x1008, 'MTI waits for MIE in M');
  // Drop to S with MIE=0: MTI is taken to M anyway.
  m.hart.reset(RAM_BASE + 0x1000, 1);
  m.hart.writeCsr(MTVEC, BigInt(HALT));
  m.hart.writeCsr(MIE, 1n << 7n);
  m.hart.run(1);
  assert.equal(m.hart.pc, HALT);
  assert.equal(m.hart.readCsr(MCAUSE), INT | 7n);
});

test('delegated STI is taken in U even with SIE=0, and in S only with SIE', () => {
  const setup = (m: TestMachine) => {
    m.hart.writeCsr(MIE, 1n << 5n);
    m.hart.writeCsr(MIDELEG, 1n << 5n);
    m.hart.writeCsr(MIP, 1n << 5n);
  };
  const mu = boot([A.addi(a0, 0, 1)], 0, setup);
  mu.hart.run(1);
  assert.equal(mu.hart.pc, S_HALT);
  assert.equal(mu.hart.readCsr(SCAUSE), INT | 5n);
  assert.equal(mu.hart.readCsr(SIP) & (1n << 5n), 1n << 5n);
  const ms = boot([A.addi(a0, 0, 1), A.csrrsi(0, SSTATUS, 2), A.addi(a0, 0, 2)], 1, setup);
  ms.hart.run(1);
  assert.equal(ms.hart.pc, RAM_BASE + 0x1004);
  ms.hart.run(2);
  assert.equal(ms.hart.pc, S_HALT);
  assert.equal(ms.hart.readCsr(SEPC), BigInt(RAM_BASE + 0x1008));
  assert.equal(ms.hart.readCsr(SIE), 1n << 5n);
});

test('wakeable() notices a timer deadline that passed while the hart waited (idle skip-ahead wakes WFI)', () => {
  // The VM's idle loop moves time to the next deadline and asks wakeable() before running the hart again.
  for (const sstc of [false, true]) {
    const m = boot([A.wfi(), A.addi(a0, 0, 9), A.ebreak()], 3, (m) => {
      m.hart.writeCsr(MIE, 1n << 5n); // STIE
      if (sstc) { m.hart.writeCsr(MENVCFG, 1n << 63n); m.hart.writeCsr(STIMECMP, 100n); } else m.hart.setSbiTimer(100n);
    });
    assert.equal(m.hart.run(100), 1);
    assert.equal(m.hart.waiting, true);
    assert.equal(m.hart.wakeable(), false);
    m.clock.ticks = 150; // the deadline passes with no instruction run
    assert.equal(m.hart.wakeable(), true, sstc ? 'stimecmp' : 'SBI timer');
    go(m);
    assert.equal(m.hart.x[a0], 9n);
  }
});

test('WFI waits until an interrupt is pending and enabled in mie, regardless of MIE', () => {
  const m = boot([A.wfi(), A.addi(a0, 0, 9), A.ebreak()], 3, (m) => m.hart.writeCsr(MIE, 1n << 11n));
  assert.equal(m.hart.run(100), 1);
  assert.equal(m.hart.waiting, true);
  assert.equal(m.hart.run(100), 0);
  assert.equal(m.hart.wakeable(), false);
  m.hart.setPending(3, true); // MSIP not enabled in mie: still waiting
  assert.equal(m.hart.waiting, true);
  m.hart.setPending(11, true);
  assert.equal(m.hart.waiting, false);
  go(m);
  assert.equal(m.hart.x[a0], 9n, 'MIE=0: execution resumes after wfi without a trap');
  const u = boot([A.wfi()], 0);
  go(u);
  assert.equal(u.hart.readCsr(MCAUSE), 2n, 'wfi in U is illegal');
  const s = boot([A.wfi()], 1, (m) => m.hart.writeCsr(MSTATUS, 1n << 21n));
  go(s);
  assert.equal(s.hart.readCsr(MCAUSE), 2n, 'wfi in S with TW=1 is illegal');
});

test('injectPending(SSIP), as for an SBI IPI: wakes WFI, reads in sip, is taken in S, stays until the guest clears it', () => {
  const m = boot([A.wfi(), A.ebreak()], 1, (m) => {
    m.hart.writeCsr(MIDELEG, 2n);
    m.hart.writeCsr(MIE, 2n);
    m.hart.writeCsr(SSTATUS, 2n); // SIE
  });
  assert.equal(m.hart.run(100), 1);
  assert.equal(m.hart.waiting, true);
  m.hart.injectPending(1);
  assert.equal(m.hart.waiting, false);
  assert.equal(m.hart.readCsr(SIP), 2n);
  go(m, S_HALT);
  assert.equal(m.hart.readCsr(SCAUSE), INT | 1n);
  assert.equal(m.hart.readCsr(SEPC), BigInt(RAM_BASE + 0x1004), 'taken after the wfi');
  assert.equal(m.hart.readCsr(MIP), 2n, 'not a line: still pending after the trap');
  m.hart.writeCsr(SIP, 0n);
  assert.equal(m.hart.readCsr(MIP), 0n, 'the guest clears it through sip');
  m.hart.injectPending(9);
  m.hart.injectPending(5);
  assert.equal(m.hart.readCsr(MIP), (1n << 9n) | (1n << 5n), 'SEIP and (without Sstc) STIP are software-writable too');
  for (const bit of [3, 7, 11, 13, -1, 40]) {
    assert.throws(() => m.hart.injectPending(bit), /is not software-writable/, `bit ${bit}`);
  }
  m.hart.writeCsr(MENVCFG, 1n << 63n);
  assert.throws(() => m.hart.injectPending(5), /is not software-writable/, 'STIP belongs to stimecmp under Sstc');
});

test('the PV event interrupt (local 24, the Xen upcall): delegable, enabled in sie, taken in S, acknowledged through sip', () => {
  const PVI = 1n << 24n;
  const m = boot([A.wfi(), A.ebreak()], 1, (m) => {
    m.hart.writeCsr(MIDELEG, PVI | 2n);
    m.hart.writeCsr(SSTATUS, 2n); // SIE
  });
  assert.equal(m.hart.readCsr(MIDELEG), PVI | 2n, 'mideleg keeps bit 24');
  m.hart.writeCsr(SIE, PVI);
  assert.equal(m.hart.readCsr(SIE), PVI, 'sie takes bit 24 once delegated');
  assert.equal(m.hart.run(100), 1);
  assert.equal(m.hart.waiting, true);
  m.hart.injectPending(24);
  assert.equal(m.hart.waiting, false);
  assert.equal(m.hart.readCsr(SIP), PVI);
  go(m, S_HALT);
  assert.equal(m.hart.readCsr(SCAUSE), INT | 24n);
  assert.equal(m.hart.readCsr(MIP), PVI, 'stays pending until acknowledged');
  m.hart.writeCsr(SIP, 0n);
  assert.equal(m.hart.readCsr(MIP), 0n, 'S-mode clears it through sip, as it clears SSIP');
  const n = makeMachine().hart;
  n.writeCsr(SIE, PVI);
  assert.equal(n.readCsr(SIE), 0n, 'not delegated: sie bit 24 is read-only zero');
});

test('Sstc: stimecmp drives STIP when menvcfg.STCE; S access needs STCE and mcounteren.TM', () => {
  const m = boot([A.csrr(a0, STIMECMP)], 1);
  go(m);
  assert.equal(m.hart.readCsr(MCAUSE), 2n);
  const h = makeMachine().hart;
  h.writeCsr(MENVCFG, 1n << 63n);
  h.writeCsr(STIMECMP, 1000n);
  assert.equal(h.readCsr(MIP) & (1n << 5n), 0n);
  assert.equal(h.nextDeadline(), 1000);
  const m2 = makeMachine();
  m2.hart.writeCsr(MENVCFG, 1n << 63n);
  m2.clock.ticks = 1000;
  m2.hart.writeCsr(STIMECMP, 1000n);
  assert.equal(m2.hart.readCsr(MIP) & (1n << 5n), 1n << 5n);
  m2.hart.writeCsr(MIP, 0n);
  assert.equal(m2.hart.readCsr(MIP) & (1n << 5n), 1n << 5n, 'STIP is read-only under Sstc');
  m2.hart.writeCsr(STIMECMP, 5000n);
  assert.equal(m2.hart.readCsr(MIP) & (1n << 5n), 0n);
  // The hart notices time passing inside run().
  m2.mem.write32(0, A.jal(0, 0));
  m2.clock.perInstret = 1;
  m2.hart.run(8000);
  assert.equal(m2.hart.readCsr(MIP) & (1n << 5n), 1n << 5n);
});

test('S-mode ecall goes to the SBI handler when present: a0/a1 results, pc + 4, set_timer raises STIP', () => {
  const calls: bigint[] = [];
  const sbi = {
    call(h: SbiCaller) {
      calls.push(h.x[a7]!);
      if (h.x[a7] === 0x54494d45n) h.setSbiTimer(h.x[a0]!);
      h.x[a0] = 0n; h.x[a1] = 42n;
    },
  };
  const m = makeMachine({ sbi });
  const p = new A.Program(RAM_BASE).w(A.li(a7, 0x10), A.ecall(), A.li(a7, 0x54494d45), A.li(a0, 50), A.ecall(), A.ecall());
  m.mem.load(RAM_BASE, p.build());
  m.hart.reset(RAM_BASE, 1);
  m.hart.run(2);
  assert.deepEqual(calls, [0x10n]);
  assert.equal(m.hart.x[a1], 42n);
  assert.equal(m.hart.pc, RAM_BASE + 8);
  assert.equal(m.hart.priv, 1);
  m.hart.run(4);
  assert.equal(m.hart.nextDeadline(), 50);
  assert.equal(m.hart.readCsr(SIP) & (1n << 5n), 0n);
  m.clock.ticks = 60;
  m.hart.setSbiTimer(50n);
  assert.equal(m.hart.readCsr(MIP) & (1n << 5n), 1n << 5n);
  m.hart.setSbiTimer(1000n);
  assert.equal(m.hart.readCsr(MIP) & (1n << 5n), 0n);
  // Without an SBI handler, S ecall traps with cause 9.
  const m2 = boot([A.ecall()], 1);
  go(m2);
  assert.equal(m2.hart.readCsr(MCAUSE), 9n);
  // ecall from U still traps even with an SBI handler.
  const m3 = makeMachine({ sbi });
  m3.mem.write32(0, A.ecall());
  m3.hart.reset(RAM_BASE, 0);
  m3.hart.writeCsr(MTVEC, BigInt(HALT));
  m3.hart.run(1);
  assert.equal(m3.hart.readCsr(MCAUSE), 8n);
});

test('requestExit makes run() return after the current instruction', () => {
  const m = makeMachine();
  const p = new A.Program(RAM_BASE).w(A.addi(a0, a0, 1), A.jal(0, -4));
  m.mem.load(RAM_BASE, p.build());
  let n = 0;
  m.hart.env.bus.addRegion({
    name: 'probe', base: 0x1000_0000, size: 8, exitClass: 'user',
    handler: { read: () => { n++; m.hart.requestExit(); return 7; }, write: () => {} },
  });
  const q = new A.Program(RAM_BASE + 0x100).w(A.li(t0, 0x1000_0000), A.lw(a1, t0, 0), A.addi(a0, 0, 3), A.ebreak());
  m.mem.load(q.base, q.build());
  m.hart.pc = q.base;
  const r = m.hart.run(1000);
  assert.equal(r, 2, 'lui + lw retired, then run() returned');
  assert.equal(n, 1, 'device read exactly once');
  assert.equal(m.hart.x[a1], 7n);
});

test('WARL: satp with an unsupported mode is ignored; mtvec modes 2/3 read back as direct', () => {
  const h = makeMachine().hart;
  h.writeCsr(0x180, (8n << 60n) | 0x80001n);
  h.writeCsr(0x180, (10n << 60n) | 5n);
  assert.equal(h.readCsr(0x180), (8n << 60n) | 0x80001n);
  h.writeCsr(MTVEC, 0x80000003n);
  assert.equal(h.readCsr(MTVEC), 0x80000000n);
  h.writeCsr(MEPC, 0x80000003n);
  assert.equal(h.readCsr(MEPC), 0x80000002n);
  assert.equal(h.readCsr(MTVAL), 0n);
});

test('CSR instructions on sstatus (all six forms, rd = rs1, x0) read and write what the CSR table\'s sstatus row does, in S and M', () => {
  // The kernel's most frequent CSR instructions (local_irq_save/restore), against readCsr/writeCsr of the table's row.
  let x = 0x9e3779b9;
  const rnd = (): bigint => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return BigInt(x); };
  const forms: [number, (old: bigint, src: bigint) => bigint, boolean][] = [
    [1, (_o, s) => s, false], [2, (o, s) => o | s, false], [3, (o, s) => o & ~s, false],
    [5, (_o, s) => s, true], [6, (o, s) => o | s, true], [7, (o, s) => o & ~s, true],
  ];
  let checked = 0;
  for (const priv of [1, 3] as const) {
    for (let i = 0; i < 60; i++) {
      const [f3, op, imm] = forms[i % 6]!;
      const rd = i % 5 === 0 ? 0 : a0, rs1 = imm ? Number(rnd() & 31n) : i % 4 === 0 ? a0 : i % 7 === 0 ? 0 : a1;
      const start = (rnd() << 32n | rnd()) & 0x7fffffffffffffffn;
      const src = (rnd() << 32n) | rnd();
      const insn = ((0x100 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x73) >>> 0;
      const m = boot([insn], priv, (mm) => { mm.hart.writeCsr(MSTATUS, start); mm.hart.x[a0] = BigInt.asIntN(64, src); mm.hart.x[a1] = BigInt.asIntN(64, src ^ 0x5555n); });
      const ref = makeMachine();
      ref.hart.writeCsr(MSTATUS, start);
      const old = ref.hart.readCsr(SSTATUS);
      const srcVal = imm ? BigInt(rs1) : BigInt.asUintN(64, m.hart.x[rs1]!) * (rs1 === 0 ? 0n : 1n);
      const writes = (f3 & 3) === 1 || rs1 !== 0;
      if (writes) ref.hart.writeCsr(SSTATUS, BigInt.asUintN(64, op(old, srcVal)));
      m.hart.run(1);
      assert.equal(m.hart.pc, RAM_BASE + 0x1004, `form ${f3} ran`);
      assert.equal(m.hart.readCsr(MSTATUS), ref.hart.readCsr(MSTATUS), `mstatus after form ${f3}, rs1 x${rs1}, priv ${priv}`);
      if (rd !== 0) assert.equal(BigInt.asUintN(64, m.hart.x[rd]!), old, `rd after form ${f3}`);
      checked++;
    }
  }
  assert.equal(checked, 120);
  // from U it is illegal, as the table says
  const u = boot([((0x100 << 20) | (2 << 12) | (a0 << 7) | 0x73) >>> 0], 0);
  go(u);
  assert.equal(u.hart.readCsr(MCAUSE), 2n);
});
