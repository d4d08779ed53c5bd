// The 82540EM as Linux's e1000 probe sees it, through the PCI host bridge and the bus: identity and BARs, reset
// values, CTRL.RST through the I/O BAR, read-to-clear ICR and INTA, the EEPROM by bit-banging and EERD (checksum
// 0xBABA, MAC in words 0..2), the M88 PHY over MDIC, link-state changes, statistics read-to-clear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID } from '../../../src/pci/regs.js';
import {
  E1000_CTRL, E1000_CTRL_SLU, E1000_ICR, E1000_ICR_INT_ASSERTED, E1000_ICR_LSC, E1000_ICR_TXDW, E1000_ICS,
  E1000_IMC, E1000_IMS, E1000_MDIC, E1000_MDIC_ERROR, E1000_PBA, E1000_RA, E1000_RAH_AV, E1000_RCTL, E1000_STATUS,
  E1000_STATUS_FD, E1000_STATUS_LU, E1000_STATUS_SPEED_1000, E1000_TCTL, E1000_VET, EEPROM_CHECKSUM_REG,
  EEPROM_DEVICE_ID, EEPROM_SUM, EEPROM_VENDOR_ID, M88E1000_PHY_SPEC_STATUS, M88E1000_PSSR_1000MBS, MII_CR_POWER_DOWN,
  MII_SR_AUTONEG_COMPLETE, MII_SR_LINK_STATUS, PHY_1000T_STATUS, PHY_CTRL, PHY_ID1, PHY_ID2, PHY_STATUS,
  SR_1000T_LP_FD_CAPS, E1000_TPR, E1000_GPRC, E1000_GORCL, E1000_GORCH,
} from '../../../src/devices/e1000/regs.js';
import { E1000 } from '../../../src/devices/e1000/device.js';
import { e1000Machine, F, upMachine } from '../../../src/devices/e1000/testing/machine.js';
import { GUEST_MAC } from './packets.js';

test('PCI identity: 8086:100E, class 020000, conventional PCI, INTA, BAR0 128 KiB memory, BAR1 64-byte I/O', () => {
  const m = e1000Machine();
  assert.equal(m.pci.read32(F, PCI_VENDOR_ID), 0x100e_8086);
  assert.equal(m.pci.read32(F, 0x08 /* PCI_CLASS_REVISION */) >>> 8, 0x02_00_00);
  assert.equal(m.pci.read16(F, PCI_SUBSYSTEM_VENDOR_ID), 0x8086);
  assert.equal(m.pci.read16(F, PCI_SUBSYSTEM_ID), 0x001e);
  const bars = m.pci.readBases(F);
  assert.deepEqual(bars.map((b) => [b.index, b.io, Number(b.size), b.is64]), [[0, false, 0x20000, false], [1, true, 64, false]]);
  assert.equal(m.pci.findCapability(F, 0x10), 0, 'no PCI Express capability: the 82540EM is a PCI part');
});

test('reset values: STATUS full duplex at 1000 Mb/s, RAR0 from the EEPROM with AV, PBA 48K, VET 0x8100, interrupts masked', () => {
  const m = e1000Machine();
  const d = m.drv;
  assert.equal(d.er32(E1000_STATUS) & (E1000_STATUS_FD | E1000_STATUS_SPEED_1000), E1000_STATUS_FD | E1000_STATUS_SPEED_1000);
  assert.equal(d.er32(E1000_STATUS) & E1000_STATUS_LU, 0, 'no link before the driver sets CTRL.SLU');
  assert.equal(d.er32(E1000_RA), 0x1200_5452);
  assert.equal(d.er32(E1000_RA + 4), (0x5634 | E1000_RAH_AV) >>> 0);
  assert.equal(d.er32(E1000_PBA), 0x30);
  assert.equal(d.er32(E1000_VET), 0x8100);
  assert.equal(d.er32(E1000_IMS), 0);
  assert.equal(d.er32(E1000_RCTL), 0);
});

test('CTRL.RST issued through IOADDR/IODATA self-clears and returns the MAC registers to their reset values', () => {
  const m = e1000Machine();
  const d = m.drv;
  d.ew32(E1000_RCTL, 0x8002);
  d.ew32(E1000_IMS, 0x9d);
  d.resetHw();
  assert.equal(m.dev.counters.resets, 1, 'the reset reached the device through BAR 1');
  assert.equal(d.er32(E1000_CTRL) & 0x0400_0000, 0, 'RST self-clears');
  assert.equal(d.er32(E1000_RCTL), 0);
  assert.equal(d.er32(E1000_IMS), 0);
});

test('ICR is read-to-clear, drives INTA while ICR & IMS, and ICS/IMS/IMC behave as the driver expects', () => {
  const m = e1000Machine();
  const d = m.drv;
  d.ew32(E1000_ICS, E1000_ICR_TXDW);
  assert.equal(m.irq.level, false, 'masked causes do not interrupt');
  d.ew32(E1000_IMS, E1000_ICR_TXDW);
  assert.equal(m.irq.level, true);
  d.ew32(E1000_IMC, E1000_ICR_TXDW);
  assert.equal(m.irq.level, false, 'IMC masks the pending cause');
  d.ew32(E1000_IMS, E1000_ICR_TXDW | E1000_ICR_LSC);
  assert.equal(m.irq.level, true);
  const icr = d.er32(E1000_ICR);
  assert.equal(icr, (E1000_ICR_TXDW | E1000_ICR_INT_ASSERTED) >>> 0);
  assert.equal(m.irq.level, false, 'reading ICR deasserts INTA');
  assert.equal(d.er32(E1000_ICR), 0, 'and cleared it');
  assert.equal(d.er32(E1000_IMS), E1000_ICR_TXDW | E1000_ICR_LSC);
});

test('EEPROM: bit-banged Microwire reads and EERD give the same words; the checksum is 0xBABA; the MAC is in words 0..2', () => {
  const m = e1000Machine({ mac: GUEST_MAC });
  const d = m.drv;
  const viaEecd = Array.from({ length: 64 }, (_, i) => d.readEeprom(i));
  d.eepromVia = 'eerd';
  const viaEerd = Array.from({ length: 64 }, (_, i) => d.readEeprom(i));
  assert.deepEqual(viaEecd, viaEerd);
  assert.deepEqual(viaEecd, [...m.dev.eeprom.words]);
  assert.equal(viaEecd.reduce((s, w) => (s + w) & 0xffff, 0), EEPROM_SUM);
  assert.equal(viaEecd[EEPROM_DEVICE_ID], 0x100e);
  assert.equal(viaEecd[EEPROM_VENDOR_ID], 0x8086);
  d.eepromVia = 'eecd';
  assert.equal(d.probe(), true);
  assert.deepEqual([...d.mac], [...GUEST_MAC]);
});

test('the checksum oracle can fail: a corrupted EEPROM word is caught, and the driver zeroes the MAC as e1000_probe does', () => {
  const m = e1000Machine();
  m.dev.eeprom.words[EEPROM_CHECKSUM_REG] = m.dev.eeprom.words[EEPROM_CHECKSUM_REG]! ^ 1;
  assert.equal(m.drv.eepromChecksumOk(), false);
  assert.equal(m.drv.probe(), false);
  assert.deepEqual([...m.drv.mac], [0, 0, 0, 0, 0, 0]);
});

test('PHY over MDIC: M88E1011 ID, autonegotiation complete and link up at 1000 full; wrong PHY address errors', () => {
  const m = e1000Machine();
  const d = m.drv;
  assert.equal(d.readPhy(PHY_ID1), 0x0141);
  assert.equal(d.readPhy(PHY_ID2) & 0xfff0, 0x0c20);
  d.probe();
  const bmsr = d.readPhy(PHY_STATUS);
  assert.equal(bmsr & (MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE), MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE);
  assert.ok((d.readPhy(PHY_1000T_STATUS) & SR_1000T_LP_FD_CAPS) !== 0);
  assert.ok((d.readPhy(M88E1000_PHY_SPEC_STATUS) & M88E1000_PSSR_1000MBS) !== 0);
  assert.equal(d.readPhy(PHY_ID1, 2), -1, 'nothing answers at PHY address 2');
  assert.ok((d.er32(E1000_MDIC) & E1000_MDIC_ERROR) !== 0);
  assert.ok((d.er32(E1000_STATUS) & E1000_STATUS_LU) !== 0, 'SLU set by setup_link: the MAC reports link');
});

test('link state: carrier loss and PHY power-down raise LSC and clear STATUS.LU; carrier back raises LSC again', () => {
  const m = upMachine();
  const d = m.drv;
  d.er32(E1000_ICR);
  m.link.linkUp = false;
  m.dev.update(0);
  assert.equal(d.er32(E1000_STATUS) & E1000_STATUS_LU, 0);
  assert.equal(m.irq.level, true, 'LSC is enabled in IMS_ENABLE_MASK');
  assert.ok((d.er32(E1000_ICR) & E1000_ICR_LSC) !== 0);
  assert.equal(d.watchdog(), false);
  m.link.linkUp = true;
  m.dev.pollCarrier();
  assert.ok((d.er32(E1000_ICR) & E1000_ICR_LSC) !== 0);
  assert.equal(d.watchdog(), true);
  d.writePhy(PHY_CTRL, d.readPhy(PHY_CTRL) | MII_CR_POWER_DOWN);
  assert.equal(d.er32(E1000_STATUS) & E1000_STATUS_LU, 0, 'e1000_power_down_phy takes the link down');
  d.ew32(E1000_CTRL, d.er32(E1000_CTRL) & ~E1000_CTRL_SLU);
  assert.equal(m.dev.counters.linkChanges >= 4, true);
});

test('statistics: counted per frame, read-to-clear; the 64-bit octet counters clear when their high half is read', () => {
  const m = upMachine();
  const d = m.drv;
  const f = new Uint8Array(100);
  f.set(GUEST_MAC, 0);
  assert.equal(m.dev.receive(f), true);
  assert.equal(m.dev.receive(f), true);
  assert.equal(d.er32(E1000_GPRC), 2);
  assert.equal(d.er32(E1000_GPRC), 0, 'read to clear');
  assert.equal(d.er32(E1000_TPR), 2);
  assert.equal(d.er32(E1000_GORCL), 2 * 104, 'octets with FCS');
  assert.equal(d.er32(E1000_GORCL), 2 * 104, 'the low half alone does not clear');
  assert.equal(d.er32(E1000_GORCH), 0);
  assert.equal(d.er32(E1000_GORCL), 0);
  assert.equal(d.er32(E1000_TCTL) & 2, 2);
});

test('the options are reported, and the register table marks what coalesced MMIO may buffer', () => {
  const dev = new E1000({ coalesceMmio: true, notifyTdt: true, inKernel: true });
  assert.deepEqual(dev.counters.optimizations, { coalesceMmio: 1, txBatching: 0, itrModeration: 0, notifyTdt: 1, inKernel: 1 });
  assert.equal(dev.barExitClass(), 'kernel');
  const classes = dev.barClasses();
  assert.deepEqual(classes[0], { offset: 0x3818, size: 4, exitClass: 'notify' });
  assert.ok(classes.slice(1).every((c) => c.exitClass === 'kernel' && c.writesOnly === true), 'coalesced writes exit only into the hypervisor');
  assert.deepEqual(new E1000({ notifyTdt: true }).barClasses(), [{ offset: 0x3818, size: 4, exitClass: 'notify' }]);
  const plain = dev.plainWriteRanges();
  const inPlain = (o: number) => plain.some((r) => o >= r.offset && o < r.offset + r.size);
  for (const o of [0x5200, 0x53fc, 0x5400, 0x5600, 0x2800, 0x3808, 0x00c4, 0x4000]) assert.ok(inPlain(o), `0x${o.toString(16)} is plain`);
  for (const o of [E1000_CTRL, 0x10, 0x20, E1000_ICR, E1000_ICS, E1000_IMS, E1000_IMC, 0x3818, 0x2818, E1000_RCTL, E1000_TCTL]) {
    assert.ok(!inPlain(o), `0x${o.toString(16)} has side effects`);
  }
  assert.equal(dev.classify(0x5200, true), 'coalesced');
  assert.equal(dev.classify(0x5200, false), 'kernel', 'reads are never coalesced');
  assert.equal(dev.classify(0x3818, true), 'notify');
  assert.equal(new E1000().classify(0x5200, true), 'user');
});
