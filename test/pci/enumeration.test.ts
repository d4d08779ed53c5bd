// Enumeration as Linux does it: slot scan with multi-function devices, BAR sizing exactly as __pci_read_base,
// the header's identity and read-only fields, and the capabilities Linux looks for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDevice, TD_BAR_SIZE } from '../../src/pci/test-device.js';
import { gpexRootDevice } from '../../src/pci/gpex-root.js';
import type { BarSpec, PciDevice } from '../../src/pci/device.js';
import { pciSize } from '../../src/pci/testing/mock-guest.js';
import {
  PCI_CAP_ID_EXP, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_ID_PM, PCI_CLASS_PROG, PCI_COMMAND, PCI_EXP_FLAGS,
  PCI_EXT_CAP_ID_SRIOV, PCI_HEADER_TYPE, PCI_INTERRUPT_PIN, PCI_MSIX_FLAGS, PCI_MSIX_PBA, PCI_MSIX_TABLE,
  PCI_ROM_ADDRESS, PCI_STATUS, PCI_SUBSYSTEM_VENDOR_ID,
} from '../../src/pci/regs.js';
import { machine } from './harness.js';

const plain = (bars: BarSpec[], extra: Partial<PciDevice> = {}): PciDevice => ({
  identity: { vendorId: 0x8086, deviceId: 0x100e, classCode: 0x02_00_00, revision: 3, subsystemVendorId: 0x1af4, subsystemId: 0x1100 },
  bars, reset: () => {}, ...extra,
});

test('slot scan finds the host bridge, a single-function device and every function of a multi-function device', () => {
  const m = machine();
  m.host.attach(gpexRootDevice(), { device: 0 });
  m.host.attach(new TestDevice(), { device: 2 });
  for (const fn of [0, 1, 3]) m.host.attach(plain([]), { device: 4, fn });
  m.host.attach(plain([]), { device: 6, fn: 1 }); // no function 0: Linux does not look further in the slot
  const found = m.guest.scan().map((f) => `${f.device}.${f.fn}`);
  assert.deepEqual(found, ['0.0', '2.0', '4.0', '4.1', '4.3']);
  for (const fn of [0, 1, 3]) assert.equal(m.guest.read8({ bus: 0, device: 4, fn }, PCI_HEADER_TYPE), 0x80, 'every function of the slot says multi-function');
  assert.equal(m.guest.read8({ bus: 0, device: 2, fn: 0 }, PCI_HEADER_TYPE), 0x00);
  const root = { bus: 0, device: 0, fn: 0 };
  assert.equal(m.guest.read32(root, 0), 0x0008_1b36);
  assert.equal(m.guest.read32(root, 8) >>> 8, 0x06_00_00, 'class: host bridge');
  assert.equal(m.guest.findCapability(root, PCI_CAP_ID_EXP), 0, 'the gpex root is conventional PCI');
  assert.throws(() => m.host.attach(plain([]), { device: 4, fn: 1 }), /already attached/);
});

test('identity registers are read-only; status RW1C and command masks follow what the function implements', () => {
  const m = machine();
  m.host.attach(plain([{ size: 0x2_0000 }]), { device: 3 });
  const f = { bus: 0, device: 3, fn: 0 };
  for (const reg of [0, 8, PCI_SUBSYSTEM_VENDOR_ID]) {
    const before = m.guest.read32(f, reg);
    m.guest.write32(f, reg, ~before);
    assert.equal(m.guest.read32(f, reg), before);
  }
  assert.equal(m.guest.read32(f, 8), 0x0200_0003);
  assert.equal(m.guest.read8(f, PCI_CLASS_PROG), 0);
  assert.equal(m.guest.read32(f, PCI_SUBSYSTEM_VENDOR_ID), 0x1100_1af4);
  m.guest.write16(f, PCI_COMMAND, 0xffff);
  assert.equal(m.guest.read16(f, PCI_COMMAND), 0x0546, 'memory, master, parity, SERR, INTx disable; no I/O BAR so no I/O enable');
  assert.equal(m.guest.read8(f, PCI_INTERRUPT_PIN), 0);
  m.host.find(0, 3, 0)!.config.set16(PCI_STATUS, 0xf910 | 0x0100);
  m.guest.write16(f, PCI_STATUS, 0x2100);
  assert.equal(m.guest.read16(f, PCI_STATUS), 0xd810, 'master abort and parity cleared, capability list kept');
  m.guest.write32(f, PCI_ROM_ADDRESS, 0xffff_f801);
  assert.equal(m.guest.read32(f, PCI_ROM_ADDRESS), 0, 'no expansion ROM: sizes to 0');
});

test('BAR sizing exactly as __pci_read_base: 32-bit, 64-bit prefetchable, I/O, a 64-bit BAR above 4 GiB', () => {
  const m = machine();
  const bars: BarSpec[] = [
    { size: 0x2_0000 }, { size: 0x40, kind: 'io' }, { size: 0x4000, is64: true, prefetchable: true }, undefined as unknown as BarSpec,
    { size: 8 * 2 ** 30, is64: true },
  ];
  m.host.attach(plain(bars), { device: 3 });
  const f = { bus: 0, device: 3, fn: 0 };
  m.guest.write16(f, PCI_COMMAND, 0x0003); // decode on: sizing must switch it off and back
  const res = m.guest.readBases(f);
  assert.deepEqual(res.map((r) => [r.index, r.io, r.is64, r.prefetchable, r.size]), [
    [0, false, false, false, 0x2_0000n], [1, true, false, false, 0x40n], [2, false, true, true, 0x4000n], [4, false, true, false, 8n * 2n ** 30n],
  ]);
  assert.equal(m.guest.read16(f, PCI_COMMAND), 0x0003, 'command restored');
  // What the device returns to an all-ones write, as Linux sees it.
  const fn = m.host.find(0, 3, 0)!;
  fn.config.write(0x10, 4, 0xffff_ffff);
  assert.equal(fn.config.read(0x10, 4), 0xfffe_0000);
  fn.config.write(0x14, 4, 0xffff_ffff);
  assert.equal(fn.config.read(0x14, 4), 0x0000_ffc1, 'I/O: 16 decoded bits, space bit set');
  fn.config.write(0x18, 4, 0xffff_ffff);
  assert.equal(fn.config.read(0x18, 4), 0xffff_c00c);
  fn.config.write(0x20, 4, 0xffff_ffff);
  fn.config.write(0x24, 4, 0xffff_ffff);
  assert.equal(fn.config.read(0x20, 4), 0x0000_0004);
  assert.equal(fn.config.read(0x24, 4), 0xffff_fffe);
  assert.equal(m.guest.read32(f, 0x1c), 0, 'upper half of BAR2 is not a BAR of its own');
  assert.equal(pciSize(0n, 0xffff_fff0n, 0xffff_fff0n), 0x10n, 'the oracle itself: pci_size of the smallest BAR');
});

test('BAR lists that cannot exist are refused when the device is attached, with the reason', () => {
  const m = machine();
  assert.throws(() => m.host.attach(plain([{ size: 0x3000 }]), { device: 1 }), /BAR0: size 12288 is not a power of two/);
  assert.throws(() => m.host.attach(plain([{ size: 0x1000, is64: true }, { size: 0x1000 }]), { device: 1 }), /BAR1 as its upper half/);
  assert.throws(() => m.host.attach(plain([{ size: 8, kind: 'io', is64: true }]), { device: 1 }), /I\/O BAR cannot be 64-bit/);
  assert.throws(() => m.host.attach(plain([{ size: 0x1000 }], { msix: { vectors: 4, tableBar: 0, tableOffset: 0xff8, pbaBar: 0, pbaOffset: 0 } }), { device: 1 }), /overlap|does not fit/);
  assert.throws(() => m.host.attach(plain([], { identity: { vendorId: 0xffff, deviceId: 0, classCode: 0 } }), { device: 1 }), /no function/);
  // A refused device left nothing behind: the slot, its region names and its DMA space name are still free.
  const fn = m.host.attach(plain([{ size: 0x1000 }]), { device: 1 });
  assert.equal(fn.region(0)!.name, '00:01.0/bar0');
  assert.equal(m.guest.scan().length, 1);
});

test('the test function: one 64-bit BAR, PCIe endpoint v2, MSI-X with 2 vectors in BAR0, INTA, extended space', () => {
  const m = machine();
  m.host.attach(new TestDevice(), { device: 2 });
  const f = { bus: 0, device: 2, fn: 0 };
  const res = m.guest.readBases(f);
  assert.deepEqual(res.map((r) => [r.index, r.is64, r.size]), [[0, true, BigInt(TD_BAR_SIZE)]]);
  const exp = m.guest.findCapability(f, PCI_CAP_ID_EXP);
  assert.ok(exp >= 0x40);
  assert.equal(m.guest.read16(f, exp + PCI_EXP_FLAGS), 0x0002, 'version 2, type endpoint');
  const msix = m.guest.findCapability(f, PCI_CAP_ID_MSIX);
  assert.equal(m.guest.read16(f, msix + PCI_MSIX_FLAGS), 1, 'table size N-1, disabled, unmasked');
  assert.equal(m.guest.read32(f, msix + PCI_MSIX_TABLE), 0x2000, 'table at BAR0 + 0x2000');
  assert.equal(m.guest.read32(f, msix + PCI_MSIX_PBA), 0x3000);
  assert.equal(m.guest.findCapability(f, PCI_CAP_ID_MSI), 0);
  assert.equal(m.guest.findCapability(f, PCI_CAP_ID_PM), 0);
  assert.equal(m.guest.read8(f, PCI_INTERRUPT_PIN), 1);
  assert.equal(m.guest.read32(f, 0x100), 0, 'extended space reachable, list empty');
  assert.equal(m.guest.findExtCapability(f, PCI_EXT_CAP_ID_SRIOV), 0);
});

test('power management: D0 and D3hot are accepted, D1/D2 writes are discarded', () => {
  const m = machine();
  m.host.attach(plain([], { powerManagement: true, msi: { perVectorMask: true } }), { device: 1 });
  const f = { bus: 0, device: 1, fn: 0 };
  const pm = m.guest.findCapability(f, PCI_CAP_ID_PM);
  assert.ok(pm !== 0 && m.guest.findCapability(f, PCI_CAP_ID_MSI) !== 0);
  assert.equal(m.guest.read16(f, pm + 4), 0x0008, 'D0, No_Soft_Reset');
  m.guest.write16(f, pm + 4, 3);
  assert.equal(m.guest.read16(f, pm + 4) & 3, 3);
  m.guest.write16(f, pm + 4, 1);
  assert.equal(m.guest.read16(f, pm + 4) & 3, 3, 'D1 unsupported: stays in D3hot');
  m.guest.write16(f, pm + 4, 0);
  assert.equal(m.guest.read16(f, pm + 4) & 3, 0);
});
