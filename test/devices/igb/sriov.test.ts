// The SR-IOV extended capability (src/pci/sriov.ts) as Linux's iov.c drives it (MockIov): found at its fixed offset,
// TotalVFs/InitialVFs, NumVFs writable only while VF Enable is clear, VF Enable/MSE reported to a listener that creates
// VF functions at PF + offset + stride × i, VF BARs sized like BARs and placed at base + i × size, the System Page
// Size rounding them up, and a PF reset taking the VFs away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SriovCapability, PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_VFE, PCI_SRIOV_INITIAL_VF, PCI_SRIOV_NUM_VF, PCI_SRIOV_SYS_PGSIZE, PCI_SRIOV_TOTAL_VF, PCI_SRIOV_VF_DID, PCI_SRIOV_BAR } from '../../../src/pci/sriov.js';
import type { PciDevice } from '../../../src/pci/device.js';
import { PCI_DEVICE_ID, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR, PCI_CAP_ID_EXP, PCI_VENDOR_ID } from '../../../src/pci/regs.js';
import { MockIov } from '../../../src/devices/igb/testing/mock-iov.js';
import { machine } from '../../pci/harness.js';

const PF = { bus: 0, device: 2, fn: 0 };

function vfDevice(i: number): PciDevice & { index: number } {
  return { index: i, identity: { vendorId: 0x8086, deviceId: 0x10ca, classCode: 0x020000 }, bars: [{ size: 0x4000, is64: true }], pcie: { flr: true }, reset() {} };
}

function setup(totalVfs = 8) {
  const m = machine();
  const sriov = new SriovCapability({
    offset: 0x160, totalVfs, firstVfOffset: 0x80, vfStride: 2, vfDeviceId: 0x10ca,
    vfBars: [{ size: 0x4000, is64: true, prefetchable: true }, null, null, { size: 0x4000, is64: true, prefetchable: true }],
  });
  const pf: PciDevice = {
    identity: { vendorId: 0x8086, deviceId: 0x10c9, classCode: 0x020000 }, bars: [{ size: 0x20000 }],
    pcie: { flr: true }, extCapabilities: [sriov.capability], reset: () => sriov.reset(),
  };
  m.host.attach(pf, { device: PF.device });
  const events: string[] = [];
  const vfs: ReturnType<typeof vfDevice>[] = [];
  sriov.listen({
    vfEnable: (n) => {
      events.push(`enable ${n}`);
      for (let i = 0; i < n; i++) {
        const rid = (PF.device << 3) + sriov.vfRoutingOffset(i);
        const vf = vfDevice(i);
        vfs.push(vf);
        m.host.attach(vf, { bus: rid >> 8, device: (rid >> 3) & 31, fn: rid & 7 });
      }
    },
    vfDisable: (n) => events.push(`disable ${n}`),
    vfMemory: (on) => events.push(`mse ${on}`),
  });
  m.guest.enable(PF);
  const iov = new MockIov(m.guest, PF);
  return { m, sriov, iov, events, vfs };
}

test('the capability sits at 0x160 and reads as the 82576 reports: TotalVFs = InitialVFs, VF Device ID 10CA', () => {
  const { m, iov } = setup();
  assert.equal(iov.pos, 0x160);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_TOTAL_VF), 8);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_INITIAL_VF), 8);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_VF_DID), 0x10ca);
  assert.ok(iov.init());
  assert.deepEqual([iov.offset, iov.stride, iov.vfDeviceId, iov.pageSize], [0x80, 2, 0x10ca, 4096]);
});

test('VF BAR0 and BAR3 size like 64-bit prefetchable BARs of 16 KiB; VF i decodes at base + i × 16 KiB', () => {
  const { sriov, iov } = setup();
  assert.ok(iov.init());
  assert.deepEqual(iov.bars.map((b) => [b.index, b.is64, b.prefetchable, Number(b.size)]), [[0, true, true, 0x4000], [3, true, true, 0x4000]]);
  iov.assign(0x4_0000_0000n);
  assert.equal(sriov.vfBarBase(0), 0x4_0000_0000n);
  assert.equal(sriov.vfBarBase(3), 0x4_0002_0000n, 'BAR3 follows 8 × 16 KiB of BAR0');
  assert.equal(sriov.vfBarAddress(5, 0), 0x4_0000_0000n + 5n * 0x4000n);
  assert.equal(sriov.vfBarAddress(2, 3), 0x4_0002_0000n + 2n * 0x4000n);
  assert.equal(sriov.vfBarSize(1), 0, 'no VF BAR1: it is BAR0 upper half');
});

test('enabling creates VF functions at PF + 0x80 + 2i whose config space answers; VF MSE follows', () => {
  const { m, iov, events, vfs } = setup();
  assert.ok(iov.init());
  const offsets = iov.enable(3);
  assert.deepEqual(offsets, [0x80, 0x82, 0x84]);
  assert.deepEqual(events, ['enable 3', 'mse true']);
  assert.equal(vfs.length, 3);
  for (let i = 0; i < 3; i++) {
    const bdf = iov.vfBdf(i);
    assert.deepEqual(bdf, { bus: 0, device: 0x12, fn: 2 * i });
    assert.equal(m.guest.read16(bdf, PCI_VENDOR_ID), 0x8086);
    assert.equal(m.guest.read16(bdf, PCI_DEVICE_ID), 0x10ca);
  }
  iov.disable();
  assert.deepEqual(events, ['enable 3', 'mse true', 'mse false', 'disable 3']);
});

test('NumVFs is read-only while VF Enable is set and never exceeds TotalVFs', () => {
  const { m, iov, sriov } = setup();
  assert.ok(iov.init());
  m.guest.write16(PF, 0x160 + PCI_SRIOV_NUM_VF, 9);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_NUM_VF), 0, 'more than TotalVFs is refused');
  iov.enable(2);
  m.guest.write16(PF, 0x160 + PCI_SRIOV_NUM_VF, 5);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_NUM_VF), 2);
  assert.equal(sriov.activeVfs, 2);
  iov.disable();
  m.guest.write16(PF, 0x160 + PCI_SRIOV_NUM_VF, 5);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_NUM_VF), 5);
});

test('System Page Size: one supported size, only while disabled; VF BARs grow to it', () => {
  const { m, sriov } = setup();
  const reg = 0x160 + PCI_SRIOV_SYS_PGSIZE;
  m.guest.write32(PF, reg, 0x3);
  assert.equal(m.guest.read32(PF, reg), 1, 'two sizes at once are refused');
  m.guest.write32(PF, reg, 0x10); // 64 KiB
  assert.equal(sriov.pageSize, 0x10000);
  assert.equal(sriov.vfBarSize(0), 0x10000);
  m.guest.write32(PF, 0x160 + PCI_SRIOV_BAR, 0xffff_ffff);
  assert.equal(m.guest.read32(PF, 0x160 + PCI_SRIOV_BAR), 0xffff_000c, 'sizing now answers 64 KiB');
  m.guest.write32(PF, reg, 0x1);
  m.guest.write16(PF, 0x160 + PCI_SRIOV_NUM_VF, 1);
  m.guest.write16(PF, 0x160 + PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_VFE);
  m.guest.write32(PF, reg, 0x2);
  assert.equal(m.guest.read32(PF, reg), 1, 'fixed while VFs are enabled');
});

test('a function-level reset of the PF disables its VFs and tells the listener', () => {
  const { m, iov, events, sriov } = setup();
  assert.ok(iov.init());
  iov.enable(2);
  const exp = m.guest.findCapability(PF, PCI_CAP_ID_EXP);
  m.guest.write16(PF, exp + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR);
  assert.deepEqual(events, ['enable 2', 'mse true', 'mse false', 'disable 2']);
  assert.equal(m.guest.read16(PF, 0x160 + PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE, 0);
  assert.equal(sriov.enabled, false);
  assert.equal(sriov.numVfs, 0);
});
