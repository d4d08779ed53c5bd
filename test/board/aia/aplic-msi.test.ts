// Unit tests for APLIC MSI delivery: addresses from the MSI address configuration, data from target EIIDs,
// IE/enable gating, genmsi, and level-sensitive sources that must not storm (AIA spec "Special consideration
// for level-sensitive interrupt sources"; the EOI protocol of Linux irq-riscv-aplic-msi.c).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aplic } from '../../../src/board/aia/aplic.js';
import { AplicMsiConfig, hartIndexBits } from '../../../src/board/aia/aplic-msi.js';
import * as R from '../../../src/board/aia/aplic-regs.js';
import type { RegisterTable } from '../../../src/memory/register-table.js';

interface Msi { address: number; data: number }
const rd = (t: RegisterTable, off: number) => t.read(off, 4) as number;
const wr = (t: RegisterTable, off: number, v: number) => t.write(off, 4, v);
const target = (hart: number, eiid: number) => ((hart << R.APLIC_TARGET_HART_IDX_SHIFT) | eiid) >>> 0;

/** An APLIC as the builtin SBI leaves it for Linux: S domain in MSI mode, every source delegated to it. */
function make(harts = 4, hardwired = true) {
  const msis: Msi[] = [];
  const aplic = new Aplic({
    harts, machine: { msi: true }, supervisor: { msi: true },
    sendMsi: (address, data) => msis.push({ address, data }),
    msiAddresses: hardwired ? { mBase: R.VIRT_IMSIC_M_BASE, sBase: R.VIRT_IMSIC_S_BASE, lhxw: hartIndexBits(harts) } : null,
  });
  aplic.delegateToSupervisor();
  const s = aplic.supervisorMmio!;
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM);
  /** Linux's setup of one source: sourcecfg, target (hart, EIID), unmask. */
  const source = (i: number, sm: number, hart: number, eiid: number) => {
    wr(s, R.APLIC_SOURCECFG_BASE + 4 * (i - 1), sm);
    wr(s, R.APLIC_TARGET_BASE + 4 * (i - 1), target(hart, eiid));
    wr(s, R.APLIC_SETIENUM, i);
  };
  return { aplic, s, m: aplic.rootMmio, msis, source };
}

test('hart index bits: ceil(log2(harts))', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9].map(hartIndexBits), [0, 1, 2, 2, 3, 3, 4]);
});

test('an edge source forwards one MSI to the target hart\'s S-level IMSIC page with the EIID as data', () => {
  const { aplic, s, msis, source } = make();
  source(10, R.APLIC_SOURCECFG_SM_EDGE_RISE, 3, 42);
  aplic.irqLine(10).set(true);
  assert.deepEqual(msis, [{ address: R.VIRT_IMSIC_S_BASE + 3 * 0x1000, data: 42 }]);
  assert.equal(rd(s, R.APLIC_SETIP_BASE), 0); // pending cleared by forwarding
  aplic.irqLine(10).set(false);
  aplic.irqLine(10).set(true);
  assert.equal(msis.length, 2);
  assert.equal(aplic.supervisor!.msisForwarded, 2);
});

test('IE = 0 or a masked source holds the pending bit; the MSI leaves when both allow it', () => {
  const { aplic, s, msis, source } = make();
  source(5, R.APLIC_SOURCECFG_SM_EDGE_RISE, 0, 7);
  wr(s, R.APLIC_CLRIENUM, 5);
  aplic.irqLine(5).set(true);
  assert.equal(msis.length, 0);
  assert.equal(rd(s, R.APLIC_SETIP_BASE), 1 << 5);
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_DM); // IE off
  wr(s, R.APLIC_SETIENUM, 5);
  assert.equal(msis.length, 0);
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM);
  assert.deepEqual(msis, [{ address: R.VIRT_IMSIC_S_BASE, data: 7 }]);
});

test('level source held high: exactly one MSI until the guest re-triggers with setipnum while still high', () => {
  const { aplic, s, msis, source } = make();
  source(10, R.APLIC_SOURCECFG_SM_LEVEL_HIGH, 1, 33);
  const line = aplic.irqLine(10);
  line.set(true);
  assert.equal(msis.length, 1);
  // The line stays high while the guest is busy: nothing the APLIC sees may produce a second MSI.
  for (let k = 0; k < 100; k++) {
    line.set(true);
    wr(s, R.APLIC_SETIENUM, 10);
    wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM);
    wr(s, R.APLIC_TARGET_BASE + 4 * 9, target(1, 33));
    rd(s, R.APLIC_SETIP_BASE);
    rd(s, R.APLIC_CLRIP_BASE);
  }
  assert.equal(msis.length, 1, 'a level source held high must not storm');
  assert.equal(rd(s, R.APLIC_CLRIP_BASE), 1 << 10); // the guest can see the wire is still asserted
  // Linux's EOI (aplic_msi_irq_eoi): setipnum_le while the device still asserts -> one more MSI.
  wr(s, R.APLIC_SETIPNUM_LE, 10);
  assert.equal(msis.length, 2);
  // The device drops the line; the next EOI re-triggers nothing.
  line.set(false);
  wr(s, R.APLIC_SETIPNUM_LE, 10);
  assert.equal(msis.length, 2);
  // A new assertion is a new interrupt.
  line.set(true);
  assert.deepEqual(msis[2], { address: R.VIRT_IMSIC_S_BASE + 0x1000, data: 33 });
  assert.equal(msis.length, 3);
});

test('level source asserted while masked: one MSI at unmask; dropping the line first withdraws it', () => {
  const { aplic, s, msis, source } = make();
  source(12, R.APLIC_SOURCECFG_SM_LEVEL_LOW, 2, 9);
  assert.equal(msis.length, 1); // level-low with a low wire is asserted as soon as it is configured
  wr(s, R.APLIC_CLRIENUM, 12);
  const line = aplic.irqLine(12);
  line.set(true);  // de-asserted
  line.set(false); // asserted again, masked: pending
  assert.equal(msis.length, 1);
  line.set(true);  // withdrawn before unmask
  wr(s, R.APLIC_SETIENUM, 12);
  assert.equal(msis.length, 1);
  line.set(false);
  assert.equal(msis.length, 2);
});

test('DM switch from direct to MSI forwards a level source that is asserted, once', () => {
  const { aplic, s, msis } = make();
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_DM); // IE off, MSI mode
  wr(s, R.APLIC_SOURCECFG_BASE + 4 * 2, R.APLIC_SOURCECFG_SM_LEVEL_HIGH);
  wr(s, R.APLIC_TARGET_BASE + 4 * 2, target(0, 11));
  wr(s, R.APLIC_SETIENUM, 3);
  aplic.irqLine(3).set(true);
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM);
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM);
  assert.equal(msis.length, 1);
});

test('target: guest index is read-only 0, EIID 11 bits; targets of absent harts never throw', () => {
  const { aplic, s, msis, source } = make(2);
  source(4, R.APLIC_SOURCECFG_SM_EDGE_RISE, 0, 0);
  wr(s, R.APLIC_TARGET_BASE + 4 * 3, 0xffff_ffff);
  assert.equal(rd(s, R.APLIC_TARGET_BASE + 4 * 3), ((0x3fff << 18) | 0x7ff) >>> 0);
  aplic.irqLine(4).set(true);
  // Hart index 0x3fff with LHXW = 1 aliases hart 1 by the spec's formula; the MSI still goes out (and the bus
  // drops it if nothing decodes there).
  assert.deepEqual(msis, [{ address: R.VIRT_IMSIC_S_BASE + 0x1000, data: 0x7ff }]);
});

test('genmsi sends an extempore MSI even with IE = 0; Busy reads 0; direct mode makes it read-only zero', () => {
  const { aplic, s, msis } = make();
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_DM);
  wr(s, R.APLIC_GENMSI, target(2, 100) | R.APLIC_GENMSI_BUSY);
  assert.deepEqual(msis, [{ address: R.VIRT_IMSIC_S_BASE + 0x2000, data: 100 }]);
  assert.equal(rd(s, R.APLIC_GENMSI), target(2, 100));
  assert.equal(aplic.supervisor!.msisForwarded, 0);
  const direct = new Aplic({ harts: 1, machine: { direct: [] } });
  wr(direct.rootMmio, R.APLIC_GENMSI, target(0, 5));
  assert.equal(rd(direct.rootMmio, R.APLIC_GENMSI), 0);
});

test('root domain MSIs go to the M-level page; the root\'s own sources are its own', () => {
  const { aplic, m, msis } = make();
  wr(m, R.APLIC_SOURCECFG_BASE, R.APLIC_SOURCECFG_SM_EDGE_RISE); // source 1 back to M
  wr(m, R.APLIC_TARGET_BASE, target(1, 3));
  wr(m, R.APLIC_SETIENUM, 1);
  wr(m, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE);
  aplic.irqLine(1).set(true);
  assert.deepEqual(msis, [{ address: R.VIRT_IMSIC_M_BASE + 0x1000, data: 3 }]);
});

test('writable MSI address registers: programmed as OpenSBI does, locked by L, reset to 0', () => {
  const { aplic, m, s, msis, source } = make(4, false);
  assert.equal(rd(m, R.APLIC_MMSICFGADDRH), 0);
  wr(m, R.APLIC_MMSICFGADDR, R.VIRT_IMSIC_M_BASE >>> 12);
  wr(m, R.APLIC_MMSICFGADDRH, 2 << R.APLIC_xMSICFGADDRH_LHXW_SHIFT);
  wr(m, R.APLIC_SMSICFGADDR, R.VIRT_IMSIC_S_BASE >>> 12);
  wr(m, R.APLIC_SMSICFGADDRH, 0xffff_ffff); // only LHXS and the high PPN exist
  assert.equal(rd(m, R.APLIC_SMSICFGADDRH), ((7 << 20) | 0xfff) >>> 0);
  source(2, R.APLIC_SOURCECFG_SM_EDGE_RISE, 3, 1);
  aplic.irqLine(2).set(true);
  assert.equal(msis.length, 0); // address past 2^53: dropped and counted
  assert.equal(aplic.msisDropped, 1);
  wr(m, R.APLIC_SMSICFGADDRH, 0);
  wr(m, R.APLIC_MMSICFGADDRH, (R.APLIC_xMSICFGADDRH_L | (2 << R.APLIC_xMSICFGADDRH_LHXW_SHIFT)) >>> 0);
  wr(m, R.APLIC_SMSICFGADDR, 0); // locked: ignored
  wr(s, R.APLIC_SMSICFGADDR, 0); // the S domain has no such register
  aplic.irqLine(2).set(false);
  aplic.irqLine(2).set(true);
  assert.deepEqual(msis, [{ address: R.VIRT_IMSIC_S_BASE + 3 * 0x1000, data: 1 }]);
  aplic.reset();
  assert.equal(rd(m, R.APLIC_MMSICFGADDRH), 0);
  assert.equal(rd(s, R.APLIC_DOMAINCFG), 0x8000_0004);
});

test('address formula with groups and guest files (spec "Addresses and data for outgoing MSIs")', () => {
  const c = new AplicMsiConfig({ mBase: 0x2400_0000, sBase: 0x2800_0000, lhxw: 2, hhxw: 1, hhxs: 4, mLhxs: 0, sLhxs: 2 });
  // Hart index 5 = group 1, hart 1.
  assert.equal(c.address('M', 5, 0), 0x3400_1000n);
  assert.equal(c.address('S', 5, 3), ((0x28000n | (1n << 16n) | (1n << 2n) | 3n) << 12n));
  assert.equal(c.locked, true);
  c.writeMcfg(0);
  assert.equal(c.address('M', 0, 0), 0x2400_0000n);
});
