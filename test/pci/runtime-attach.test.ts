// Functions that come and go while the guest runs (SR-IOV VFs, PCIe 4.0 §9.3.3.3.1): a function attached with its BARs
// placed from outside (its own BAR registers read-only zero, its Memory Space Enable ignored) and detached again, with
// config space, BAR decoding, DMA, INTx, the multi-function bit and the metrics names following.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_DISABLED } from '../../src/memory/dma.js';
import { VIRT } from '../../src/board/virt-map.js';
import { TestDevice, TD_DMA_CMD, TD_DMA_CMD_FILL, TD_DMA_LEN, TD_DMA_STATUS, TD_IRQ, TD_MAGIC, TD_MAGIC_VALUE } from '../../src/pci/test-device.js';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_HEADER_TYPE, PCI_HEADER_TYPE_MFD, PCI_VENDOR_ID } from '../../src/pci/regs.js';
import { machine, RAM_BASE } from './harness.js';

const VF = { bus: 0, device: 0x11, fn: 0 };
const HIGH = 0x4_0000_0000n;

test('an externally placed BAR decodes where the placement says, without Memory Space Enable, and follows it on relayout', () => {
  const m = machine();
  let at: bigint | null = null;
  const fn = m.host.attach(new TestDevice(), VF, { barPlacement: () => at });
  assert.equal(fn.region(0)!.mapped, false, 'no placement yet: nothing decodes');
  assert.equal(m.guest.read32(VF, PCI_BASE_ADDRESS_0), 0, 'a VF BAR register reads zero');
  m.guest.write32(VF, PCI_BASE_ADDRESS_0, 0xffff_ffff);
  assert.equal(m.guest.read32(VF, PCI_BASE_ADDRESS_0), 0, 'and ignores writes (sizing it finds nothing)');
  at = HIGH + 0x4000n;
  m.host.relayout();
  assert.equal(m.guest.read16(VF, PCI_COMMAND), 0, 'Memory Space Enable was never set');
  assert.equal(fn.region(0)!.base, Number(HIGH + 0x4000n));
  assert.equal(fn.barAddress(0), HIGH + 0x4000n);
  assert.equal(m.guest.mmioRead32(HIGH + 0x4000n + BigInt(TD_MAGIC)), TD_MAGIC_VALUE);
  at = HIGH + 0x8000n;
  m.host.relayout();
  assert.equal(m.guest.mmioRead32(HIGH + 0x4000n), null, 'the old placement no longer decodes');
  assert.equal(m.guest.mmioRead32(HIGH + 0x8000n + BigInt(TD_MAGIC)), TD_MAGIC_VALUE);
  at = null;
  m.host.relayout();
  assert.equal(fn.region(0)!.mapped, false, 'VF MSE cleared: the BAR stops decoding');
  assert.equal(fn.barAddress(0), 0n);
});

test('a placement onto RAM or outside the windows does not decode', () => {
  const m = machine();
  let at: bigint | null = BigInt(RAM_BASE);
  const fn = m.host.attach(new TestDevice(), VF, { barPlacement: () => at });
  assert.equal(fn.region(0)!.mapped, false, 'on RAM');
  at = 0x1000n;
  m.host.relayout();
  assert.equal(fn.region(0)!.mapped, false, 'outside every window');
});

test('detach: config accesses master-abort, BARs stop decoding, DMA and INTx are cut', () => {
  const m = machine();
  const f = { bus: 0, device: 2, fn: 0 };
  const fn = m.host.attach(new TestDevice(), { device: 2 });
  const bar = m.guest.enable(f)[0]!.address;
  m.guest.mmioWrite32(bar + BigInt(TD_IRQ), 0); // MSI-X off: asserts INTA (slot 2 -> source 2)
  const line = m.lines.get(VIRT.pcieIrq + 2)!;
  assert.equal(line.level, true);
  const dma = fn.dma;
  assert.equal(dma.enabled, true);
  m.host.detach(fn);
  assert.equal(m.guest.read32(f, PCI_VENDOR_ID), 0xffff_ffff, 'no function there any more');
  assert.equal(m.guest.mmioRead32(bar + BigInt(TD_MAGIC)), null);
  assert.equal(line.level, false, 'its INTx is released');
  assert.equal(dma.enabled, false);
  assert.equal(fn.isDetached, true);
  assert.equal(m.host.find(0, 2, 0), null);
  assert.throws(() => m.host.detach(fn), /not attached/);
  m.guest.write16(f, PCI_COMMAND, PCI_COMMAND_MASTER); // dropped: nothing answers
  assert.equal(dma.enabled, false);
});

test('a detached function that still runs cannot master the bus', () => {
  const m = machine();
  const dev = new TestDevice();
  const fn = m.host.attach(dev, { device: 2 });
  const bar = m.guest.enable({ bus: 0, device: 2, fn: 0 })[0]!.address;
  m.guest.mmioWrite32(bar + BigInt(TD_DMA_LEN), 16);
  m.host.detach(fn);
  // The device model is still reachable by whoever holds it (the wiring): its DMA now faults.
  fn.region(0)!.handler.write(TD_DMA_CMD, 4, TD_DMA_CMD_FILL);
  assert.equal(fn.region(0)!.handler.read(TD_DMA_STATUS, 4), DMA_FAULT_DISABLED);
});

test('the multi-function bit follows attach and detach; a BDF attached again gets fresh counter names', () => {
  const m = machine();
  const place = () => null;
  const a = m.host.attach(new TestDevice(), VF, { barPlacement: place });
  assert.equal(m.guest.read8(VF, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MFD, 0);
  const b = m.host.attach(new TestDevice(), { bus: 0, device: 0x11, fn: 2 }, { barPlacement: place });
  assert.equal(m.guest.read8(VF, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MFD, PCI_HEADER_TYPE_MFD);
  m.host.detach(b);
  assert.equal(m.guest.read8(VF, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MFD, 0);
  m.host.detach(a);
  const again = m.host.attach(new TestDevice(), VF, { barPlacement: place });
  assert.equal(again.name, '00:11.0#2');
  assert.equal(again.region(0)!.name, '00:11.0#2/bar0');
  assert.ok(m.metrics.regions['00:11.0/bar0'] !== undefined && m.metrics.regions['00:11.0#2/bar0'] !== undefined, 'both lifetimes keep their counters');
  assert.equal(m.guest.read16(VF, PCI_VENDOR_ID), 0x1b36, 'config space reaches the new function');
});

test('a host reset during which one function detaches another resets the rest and skips the detached one', () => {
  const m = machine();
  let resets = 0;
  let vf: ReturnType<typeof m.host.attach> | null = null;
  // The PF is attached (so reset) first; its reset clears VF Enable, which detaches the VF.
  const pf = { identity: { vendorId: 0x8086, deviceId: 0x10c9, classCode: 0x020000 }, reset: () => { if (vf !== null && !vf.isDetached) m.host.detach(vf); } };
  m.host.attach(pf, { device: 1 });
  vf = m.host.attach({ identity: { vendorId: 0x8086, deviceId: 0x10ca, classCode: 0x020000 }, reset: () => { resets++; } }, VF, { barPlacement: () => null });
  m.host.reset();
  assert.equal(vf.isDetached, true);
  assert.equal(resets, 0, 'the detached function was not reset after it left (a snapshot of the functions would reset it)');
  assert.deepEqual(m.host.functions.map((f) => f.name), ['00:01.0']);
});
