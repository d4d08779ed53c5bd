// MSI-X and MSI: programming the table as Linux does, per-vector and function masking with pending bits, delivery as a
// DMA write through the function's DmaSpace, and what happens when the message cannot be delivered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_DISABLED, DMA_FAULT_UNMAPPED, DMA_OK } from '../../src/memory/dma.js';
import { TestDevice, TD_IRQ, TD_IRQ_STATUS, TD_MSIX_PBA, TD_MSIX_TABLE } from '../../src/pci/test-device.js';
import { MSI_DISABLED, MSI_MASKED, MSI_NO_VECTOR } from '../../src/pci/msix.js';
import type { PciDevice } from '../../src/pci/device.js';
import {
  PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64, PCI_MSI_FLAGS, PCI_MSI_MASK_64, PCI_MSI_PENDING_64, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
} from '../../src/pci/regs.js';
import { DOORBELL, machine, RAM_BASE } from './harness.js';

const F = { bus: 0, device: 2, fn: 0 };

/** A test function brought up and MSI-X enabled the way msix_capability_init does it: all masked, then MASKALL cleared. */
function msixUp() {
  const m = machine();
  const fn = m.host.attach(new TestDevice(), { device: 2 });
  const bar = m.guest.enable(F)[0]!.address;
  const cap = m.guest.findCapability(F, PCI_CAP_ID_MSIX);
  const ctl = () => m.guest.read16(F, cap + PCI_MSIX_FLAGS);
  const setCtl = (v: number) => m.guest.write16(F, cap + PCI_MSIX_FLAGS, v);
  setCtl(ctl() | PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
  const entry = (v: number, off: number) => bar + BigInt(TD_MSIX_TABLE + 16 * v + off);
  for (let v = 0; v < 2; v++) m.guest.mmioWrite32(entry(v, 12), 1);
  for (let v = 0; v < 2; v++) {
    m.guest.mmioWrite32(entry(v, 0), DOORBELL);
    m.guest.mmioWrite32(entry(v, 4), 0);
    m.guest.mmioWrite32(entry(v, 8), 0x20 + v);
  }
  setCtl(ctl() & ~PCI_MSIX_FLAGS_MASKALL);
  const fire = (v: number) => { m.guest.mmioWrite32(bar + BigInt(TD_IRQ), v); return m.guest.mmioRead32(bar + BigInt(TD_IRQ_STATUS))! | 0; };
  const pba = () => m.guest.mmioRead32(bar + BigInt(TD_MSIX_PBA));
  return { m, fn, bar, cap, ctl, setCtl, entry, fire, pba };
}

test('an unmasked vector is delivered as a DMA write of its data to its address', () => {
  const { m, fn, entry, fire } = msixUp();
  assert.equal(fire(0), MSI_MASKED, 'vectors start masked');
  assert.deepEqual(m.msis, []);
  m.guest.mmioWrite32(entry(0, 12), 0); // unmask: the pending vector goes out now
  assert.deepEqual(m.msis, [0x20]);
  assert.equal(fire(0), DMA_OK);
  assert.deepEqual(m.msis, [0x20, 0x20]);
  assert.equal(fn.msix!.counters.sent, 2);
  const dma = (m.metrics.toJSON() as { dma: Record<string, { msis: number }> }).dma['00:02.0']!;
  assert.equal(dma.msis, 2, 'counted by the function DmaSpace');
  assert.equal(m.metrics.regionCountersOf('imsic')!.dmaWrites, 2);
  assert.equal(m.metrics.regions['00:02.0/bar0']?.registers['MSIX_DATA0'], 1);
});

test('a masked vector sets its pending bit; the PBA shows it; unmasking sends it once and clears it', () => {
  const { m, entry, fire, pba, bar } = msixUp();
  m.guest.mmioWrite32(entry(0, 12), 0);
  assert.equal(fire(1), MSI_MASKED);
  assert.equal(fire(1), MSI_MASKED);
  assert.equal(pba(), 0b10);
  assert.equal(m.bus.mmioRead(Number(bar) + TD_MSIX_PBA, 8), 0b10n, 'the PBA qword reads whole too');
  m.guest.mmioWrite32(bar + BigInt(TD_MSIX_PBA), 0xffff_ffff);
  assert.equal(pba(), 0b10, 'the PBA is read-only');
  m.guest.mmioWrite32(entry(1, 12), 0);
  assert.deepEqual(m.msis, [0x21]);
  assert.equal(pba(), 0);
  m.guest.mmioWrite32(entry(1, 12), 0);
  assert.deepEqual(m.msis, [0x21], 'nothing more pending');
});

test('the function mask holds every vector back and releases the pending ones when cleared', () => {
  const { m, entry, fire, ctl, setCtl, pba } = msixUp();
  m.guest.mmioWrite32(entry(0, 12), 0);
  m.guest.mmioWrite32(entry(1, 12), 0);
  setCtl(ctl() | PCI_MSIX_FLAGS_MASKALL);
  assert.equal(fire(0), MSI_MASKED);
  assert.equal(fire(1), MSI_MASKED);
  assert.equal(pba(), 0b11);
  setCtl(ctl() & ~PCI_MSIX_FLAGS_MASKALL);
  assert.deepEqual(m.msis, [0x20, 0x21]);
});

test('with MSI-X disabled nothing is sent or pending and the device falls back to INTx', () => {
  const { m, fn, ctl, setCtl, entry, fire, pba } = msixUp();
  m.guest.mmioWrite32(entry(0, 12), 0);
  setCtl(ctl() & ~PCI_MSIX_FLAGS_ENABLE);
  assert.equal(fn.msix!.notify(0), MSI_DISABLED);
  assert.equal(fire(0), DMA_OK, 'the test device asserted INTA instead');
  assert.equal(pba(), 0);
  assert.deepEqual(m.msis, []);
  assert.equal(fn.msix!.notify(2), MSI_NO_VECTOR);
});

test('table entries read back; reserved bits read 0; QWORD accesses split, narrow ones are refused', () => {
  const { m, bar, entry } = msixUp();
  m.guest.mmioWrite32(entry(1, 0), 0x1234_5677);
  assert.equal(m.guest.mmioRead32(entry(1, 0)), 0x1234_5674, 'address bits 1:0 are 0');
  m.guest.mmioWrite32(entry(1, 12), 0xffff_ffff);
  assert.equal(m.guest.mmioRead32(entry(1, 12)), 1, 'only the mask bit is implemented');
  assert.equal(m.bus.mmioWrite(Number(entry(0, 0)), 8, 0x0000_0001_2800_0000n), true);
  assert.equal(m.guest.mmioRead32(entry(0, 4)), 1);
  assert.equal(m.bus.mmioRead(Number(entry(0, 0)), 8), 0x0000_0001_2800_0000n);
  m.bus.mmioWrite(Number(entry(0, 8)), 2, 0xbeef);
  assert.equal(m.guest.mmioRead32(entry(0, 8)), 0x20, 'a 2-byte write to the data word is dropped');
  void bar;
});

test('writes past the end of the table change nothing; a QWORD straddling its end writes only the table part', () => {
  const { m, fn, bar, entry } = msixUp();
  const tableEnd = bar + BigInt(TD_MSIX_TABLE + 2 * 16);
  for (let off = 0n; off < 64n; off += 4n) m.guest.mmioWrite32(tableEnd + off, 0xffff_ffff);
  assert.deepEqual([0, 1].map((v) => fn.msix!.message(v)), [{ address: BigInt(0x2800_0000), data: 0x20 }, { address: BigInt(0x2800_0000), data: 0x21 }]);
  m.bus.mmioWrite(Number(entry(1, 12)), 8, 0xffff_ffff_0000_0000n);
  assert.equal(fn.msix!.isMasked(1), false, 'the low half (vector control) was written');
  assert.equal(fn.msix!.table.refused > 0, true, 'the half past the table was refused');
});

test('a message to an address that is no interrupt file faults in the DmaSpace and is counted', () => {
  const { m, fn, entry, fire } = msixUp();
  m.guest.mmioWrite32(entry(0, 0), 0x2000_0000); // nothing decodes there
  m.guest.mmioWrite32(entry(0, 12), 0);
  assert.equal(fire(0), DMA_FAULT_UNMAPPED);
  assert.equal(fn.msix!.counters.faults, 1);
  assert.equal(fn.dma.counters.faults, 1);
  assert.deepEqual(fn.dma.lastFault, { addr: 0x2000_0000, len: 4, write: true, code: DMA_FAULT_UNMAPPED });
  m.guest.mmioWrite32(entry(0, 4), 0x0100_0000); // beyond 2^53: not an exact bus address
  assert.ok(fire(0) > 0);
  m.guest.mmioWrite32(entry(0, 4), 0);
  m.guest.mmioWrite32(entry(0, 0), RAM_BASE + 0x40); // RAM: an MSI is just a memory write
  assert.equal(fire(0), DMA_OK);
  assert.equal(m.ram.slice(RAM_BASE + 0x40, 1)[0], 0x20);
});

test('with bus mastering off the message faults and nothing reaches the interrupt file', () => {
  const { m, entry, fire } = msixUp();
  m.guest.mmioWrite32(entry(0, 12), 0);
  m.guest.write16(F, PCI_COMMAND, PCI_COMMAND_MEMORY);
  assert.equal(fire(0), DMA_FAULT_DISABLED);
  assert.deepEqual(m.msis, []);
});

test('function reset masks every vector again and forgets pending ones', () => {
  const { fn, fire, entry, m } = msixUp();
  m.guest.mmioWrite32(entry(0, 12), 0);
  fire(1);
  fn.reset();
  assert.equal(fn.msix!.enabled, false);
  assert.equal(fn.msix!.isMasked(0), true);
  assert.equal(fn.msix!.isPending(1), false);
  assert.deepEqual(fn.msix!.message(0), { address: 0n, data: 0 });
});

test('plain MSI: 64-bit address, one vector, per-vector mask with a pending bit', () => {
  const m = machine();
  const dev: PciDevice = { identity: { vendorId: 0x1af4, deviceId: 0x10f0, classCode: 0xff0000 }, msi: { perVectorMask: true }, reset: () => {} };
  const fn = m.host.attach(dev, { device: 1 });
  const f = { bus: 0, device: 1, fn: 0 };
  const cap = m.guest.findCapability(f, PCI_CAP_ID_MSI);
  assert.equal(m.guest.read16(f, cap + PCI_MSI_FLAGS), 0x0180, '64-bit, maskable, one message');
  m.guest.write16(f, PCI_COMMAND, 0x4);
  m.guest.write32(f, cap + PCI_MSI_ADDRESS_LO, DOORBELL | 3);
  m.guest.write32(f, cap + PCI_MSI_ADDRESS_HI, 0);
  m.guest.write16(f, cap + PCI_MSI_DATA_64, 0x31);
  assert.equal(fn.msi!.notify(), MSI_DISABLED);
  m.guest.write16(f, cap + PCI_MSI_FLAGS, 0x0071); // enable, and try to ask for 8 messages
  assert.equal(m.guest.read16(f, cap + PCI_MSI_FLAGS), 0x0181, 'Multiple Message Enable stays 0');
  assert.equal(fn.msi!.notify(), DMA_OK);
  m.guest.write32(f, cap + PCI_MSI_MASK_64, 1);
  assert.equal(fn.msi!.notify(), MSI_MASKED);
  assert.equal(m.guest.read32(f, cap + PCI_MSI_PENDING_64), 1);
  m.guest.write32(f, cap + PCI_MSI_PENDING_64, 0);
  assert.equal(m.guest.read32(f, cap + PCI_MSI_PENDING_64), 1, 'pending is read-only');
  m.guest.write32(f, cap + PCI_MSI_MASK_64, 0);
  assert.deepEqual(m.msis, [0x31, 0x31]);
  assert.equal(m.guest.read32(f, cap + PCI_MSI_PENDING_64), 0);
});
