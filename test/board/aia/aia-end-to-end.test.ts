// End to end through the bus as the wiring point will connect it: a device's wired line -> APLIC (S domain, MSI
// mode) -> a DMA write on the bus -> the hart's S-level IMSIC page -> SEIP -> the guest's stopei claim and EOI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus } from '../../../src/memory/bus.js';
import { GuestMemory } from '../../../src/memory/guest-memory.js';
import { Metrics } from '../../../src/metrics/counters.js';
import { Aplic } from '../../../src/board/aia/aplic.js';
import { hartIndexBits } from '../../../src/board/aia/aplic-msi.js';
import * as R from '../../../src/board/aia/aplic-regs.js';
import { AIA_CSRS, HartAia, type MajorInterrupts } from '../../../src/board/aia/hart-aia.js';
import { ImsicFile, ImsicPages, IMSIC_EIDELIVERY, IMSIC_EIE0, IMSIC_EITHRESHOLD } from '../../../src/board/aia/imsic.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../../../src/board/irq.js';
import { RecordingHart } from '../../../src/board/testing/recorders.js';

const S = 1;

function board(harts: number) {
  const bus = new Bus(new GuestMemory(0x8000_0000, 1 << 20), new Metrics());
  const cpus = Array.from({ length: harts }, () => {
    const irq = new RecordingHart();
    const view: MajorInterrupts = { mip: () => irq.mip, mie: 1 << IRQ_S_EXT, mideleg: 1 << IRQ_S_EXT };
    const m = new ImsicFile(irq, IRQ_M_EXT, 255, 'imsic-m');
    const s = new ImsicFile(irq, IRQ_S_EXT, 255, 'imsic-s');
    return { irq, m, s, aia: new HartAia(view, m, s) };
  });
  const mPages = new ImsicPages(cpus.map((c) => c.m));
  const sPages = new ImsicPages(cpus.map((c) => c.s));
  bus.addRegion({ name: 'imsic-m', base: R.VIRT_IMSIC_M_BASE, size: mPages.size, exitClass: 'user', handler: mPages, registerName: mPages.registerName, dmaTarget: true });
  const sRegion = bus.addRegion({ name: 'imsic-s', base: R.VIRT_IMSIC_S_BASE, size: sPages.size, exitClass: 'user', handler: sPages, registerName: sPages.registerName, dmaTarget: true });
  const undelivered: Array<[number, number]> = [];
  const aplic = new Aplic({
    harts, machine: { msi: true }, supervisor: { msi: true },
    sendMsi: (address, data) => { if (!bus.dmaWrite32(address, data)) undelivered.push([address, data]); },
    msiAddresses: { mBase: R.VIRT_IMSIC_M_BASE, sBase: R.VIRT_IMSIC_S_BASE, lhxw: hartIndexBits(harts) },
  });
  bus.addRegion({ name: 'aplic-m', base: R.VIRT_APLIC_M_BASE, size: R.VIRT_APLIC_SIZE, exitClass: 'user', handler: aplic.rootMmio, registerName: aplic.rootMmio.registerName });
  bus.addRegion({ name: 'aplic-s', base: R.VIRT_APLIC_S_BASE, size: R.VIRT_APLIC_SIZE, exitClass: 'user', handler: aplic.supervisorMmio!, registerName: aplic.supervisorMmio!.registerName });
  aplic.delegateToSupervisor(); // the builtin SBI's part
  return { bus, cpus, aplic, undelivered, sRegion };
}

/** Linux's S-mode setup: IMSIC delivery on each hart, then the APLIC source in MSI mode. */
function linuxSetup(b: ReturnType<typeof board>, source: number, hart: number, eiid: number): void {
  const { aia } = b.cpus[hart]!;
  for (const [sel, v] of [[IMSIC_EITHRESHOLD, 0n], [IMSIC_EIDELIVERY, 1n], [IMSIC_EIE0, 1n << BigInt(eiid)]] as const) {
    assert.equal(aia.writeCsr(AIA_CSRS.siselect, S, BigInt(sel)), true);
    assert.equal(aia.writeCsr(AIA_CSRS.sireg, S, v), true);
  }
  const w = (off: number, v: number) => assert.equal(b.bus.mmioWrite(R.VIRT_APLIC_S_BASE + off, 4, v), true);
  w(R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM);
  w(R.APLIC_SOURCECFG_BASE + 4 * (source - 1), R.APLIC_SOURCECFG_SM_LEVEL_HIGH);
  w(R.APLIC_TARGET_BASE + 4 * (source - 1), (hart << R.APLIC_TARGET_HART_IDX_SHIFT) | eiid);
  w(R.APLIC_SETIPNUM_LE, source); // retrigger after set_type
  w(R.APLIC_SETIENUM, source);
}

/** The guest's external-interrupt handler: claim with csrrw stopei; EOI the level source with setipnum_le. */
function handle(b: ReturnType<typeof board>, hart: number, source: number): number {
  const { aia } = b.cpus[hart]!;
  const top = aia.readCsr(AIA_CSRS.stopei, S)!;
  assert.equal(aia.writeCsr(AIA_CSRS.stopei, S, 0n), true);
  b.bus.mmioWrite(R.VIRT_APLIC_S_BASE + R.APLIC_SETIPNUM_LE, 4, source);
  return Number(top >> 16n);
}

test('wired level interrupt -> APLIC MSI -> IMSIC page by DMA -> SEIP -> stopei claim; no storm', () => {
  const b = board(2);
  linuxSetup(b, 10, 1, 17);
  const line = b.aplic.irqLine(10);
  assert.equal(b.cpus[1]!.irq.has(IRQ_S_EXT), false);
  line.set(true);
  assert.equal(b.cpus[1]!.irq.has(IRQ_S_EXT), true);
  assert.equal(b.cpus[0]!.irq.has(IRQ_S_EXT), false);
  assert.equal(b.cpus[1]!.aia.readCsr(AIA_CSRS.stopi, S), BigInt((IRQ_S_EXT << 16) | 1));
  // The device is still asserting when the handler runs: its EOI brings exactly one more MSI.
  assert.equal(handle(b, 1, 10), 17);
  assert.equal(b.cpus[1]!.irq.has(IRQ_S_EXT), true);
  line.set(false); // the second pass services the device
  assert.equal(handle(b, 1, 10), 17);
  assert.equal(b.cpus[1]!.irq.has(IRQ_S_EXT), false);
  assert.equal(b.cpus[1]!.aia.readCsr(AIA_CSRS.stopei, S), 0n);
  assert.equal(b.aplic.msisSent, 2);
  assert.equal(b.sRegion.counters.dmaWrites, 2); // MSIs are DMA, not exits
  assert.deepEqual(b.undelivered, []);
});

test('a hart\'s IPI is a store to a page; an MSI to a page no hart has is reported by the bus, not thrown', () => {
  const b = board(3);
  const { aia } = b.cpus[0]!;
  aia.writeCsr(AIA_CSRS.siselect, S, BigInt(IMSIC_EIDELIVERY));
  aia.writeCsr(AIA_CSRS.sireg, S, 1n);
  aia.writeCsr(AIA_CSRS.siselect, S, BigInt(IMSIC_EIE0));
  aia.writeCsr(AIA_CSRS.sireg, S, 1n << 1n);
  assert.equal(b.bus.mmioWrite(R.VIRT_IMSIC_S_BASE, 4, 1), true); // Linux's IPI: identity 1 to hart 0
  assert.equal(b.cpus[0]!.irq.has(IRQ_S_EXT), true);
  // genmsi from the M root: hart index 2 exists; hart index 3 is a page past the three harts (LHXW = 2).
  b.bus.mmioWrite(R.VIRT_APLIC_M_BASE + R.APLIC_MMSICFGADDRH, 4, 0); // hardwired: locked, ignored
  b.bus.mmioWrite(R.VIRT_APLIC_M_BASE + R.APLIC_GENMSI, 4, (2 << R.APLIC_TARGET_HART_IDX_SHIFT) | 5);
  b.bus.mmioWrite(R.VIRT_APLIC_M_BASE + R.APLIC_GENMSI, 4, (3 << R.APLIC_TARGET_HART_IDX_SHIFT) | 6);
  assert.equal(b.cpus[2]!.m.isPending(5), true);
  assert.deepEqual(b.undelivered, [[R.VIRT_IMSIC_M_BASE + 3 * 0x1000, 6]]);
});
