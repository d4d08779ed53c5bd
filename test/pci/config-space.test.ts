// Configuration space storage: write masks, RW1C bits, reserved bytes, watchers, and the capability lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSpace, installCapabilities, type CapabilitySpec, type ExtCapabilitySpec } from '../../src/pci/config-space.js';
import { PCI_CAPABILITY_LIST, PCI_EXT_CAP_ID_SRIOV, PCI_EXT_CAP_SRIOV_SIZEOF, PCI_STATUS, PCI_STATUS_CAP_LIST } from '../../src/pci/regs.js';

test('read-only bits keep their value, writable bits take the write, RW1C bits clear on 1', () => {
  const c = new ConfigSpace();
  c.set32(0x40, 0x1234_5678);
  c.writable(0x40, 4, 0x0000_ff00);
  c.set16(0x44, 0xf00f);
  c.w1c(0x44, 2, 0xf000);
  c.write(0x40, 4, 0xffff_ffff);
  assert.equal(c.read(0x40, 4), 0x1234_ff78);
  c.write(0x44, 2, 0x9001); // clears bits 15 and 12, leaves 13, 14 and the read-only low nibble
  assert.equal(c.read(0x44, 2), 0x600f);
  c.write(0x44, 2, 0x0000);
  assert.equal(c.read(0x44, 2), 0x600f, 'writing 0 to RW1C bits changes nothing');
});

test('reserved bytes read 0 and ignore writes; reads are little-endian at any width', () => {
  const c = new ConfigSpace();
  c.write(0x80, 4, 0xdead_beef);
  assert.equal(c.read(0x80, 4), 0);
  c.set32(0x90, 0xa1b2_c3d4);
  assert.equal(c.read(0x90, 1), 0xd4);
  assert.equal(c.read(0x91, 2), 0xb2c3);
  assert.equal(c.read(0x93, 1), 0xa1);
  assert.equal(c.read(0xffe, 4), 0xffff_0000, 'bytes past the end read as all-ones');
  assert.equal(c.write(0xffe, 4, 0), false);
});

test('watchers run after a write that touched their range and can see the previous value', () => {
  const c = new ConfigSpace();
  c.writable(0x50, 4, 0xffff_ffff);
  const seen: Array<[number, number]> = [];
  c.watch(0x52, 2, () => seen.push([c.previous16(0x52), c.get16(0x52)]));
  c.write(0x50, 2, 0x1111);
  assert.deepEqual(seen, []);
  c.write(0x51, 2, 0x2222); // touches 0x52
  c.write(0x50, 4, 0x3333_4444);
  assert.deepEqual(seen, [[0x0000, 0x0022], [0x0022, 0x3333]]);
});

test('reset restores the sealed power-on contents', () => {
  const c = new ConfigSpace();
  c.set16(0, 0x1b36);
  c.writable(4, 2, 0xffff);
  c.seal();
  c.write(4, 2, 0x0006);
  c.reset();
  assert.equal(c.read(0, 4), 0x1b36);
});

const cap = (id: number, size: number, fill = 0): CapabilitySpec => ({ id, size, install: (w) => { if (fill) w.set16(2, fill); } });

test('standard capabilities are linked from 0x34 at dword-aligned offsets from 0x40', () => {
  const c = new ConfigSpace();
  const { caps } = installCapabilities(c, [cap(0x11, 12, 0xabcd), cap(0x05, 14), cap(0x10, 0x3c)], []);
  assert.deepEqual(caps, [0x40, 0x4c, 0x5c]);
  assert.equal(c.read(PCI_CAPABILITY_LIST, 1), 0x40);
  assert.equal(c.read(0x40, 4), 0xabcd_4c11);
  assert.equal(c.read(0x4c, 2), 0x5c05);
  assert.equal(c.read(0x5c, 2), 0x0010, 'last capability: next = 0');
  assert.ok(c.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
  assert.throws(() => installCapabilities(new ConfigSpace(), [cap(9, 0xb0), cap(9, 0x20)], []), /do not fit/);
});

test('no capabilities: the status bit is clear and 0x100 reads 0 (extended space present, list empty)', () => {
  const c = new ConfigSpace();
  installCapabilities(c, [], []);
  assert.equal(c.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
  assert.equal(c.read(0x100, 4), 0);
});

test('extended capabilities: a pinned SR-IOV at 0x160 gets a null header at 0x100 linking to it', () => {
  const c = new ConfigSpace();
  const sriov: ExtCapabilitySpec = { id: PCI_EXT_CAP_ID_SRIOV, version: 1, size: PCI_EXT_CAP_SRIOV_SIZEOF, offset: 0x160, install: (w) => w.set16(0x0e, 0x80) };
  const { ext } = installCapabilities(c, [], [sriov]);
  assert.deepEqual(ext, [0x160]);
  assert.equal(c.read(0x100, 4), 0x160 << 20, 'ID 0, version 0, next 0x160');
  assert.equal(c.read(0x160, 4), 0x0001_0010);
  assert.equal(c.read(0x16e, 2), 0x80);
});

test('extended capabilities: unpinned ones fill from 0x100 around pinned ones, linked in address order', () => {
  const c = new ConfigSpace();
  const a: ExtCapabilitySpec = { id: 0x03, version: 1, size: 0x50, install: () => {} }; // would overlap a pinned one at 0x140
  const b: ExtCapabilitySpec = { id: PCI_EXT_CAP_ID_SRIOV, version: 1, size: 0x40, offset: 0x140, install: () => {} };
  const { ext } = installCapabilities(c, [], [a, b]);
  assert.deepEqual(ext, [0x180, 0x140]);
  assert.equal(c.read(0x100, 4) >>> 0, (0x140 << 20) >>> 0, 'nothing at 0x100 but a null header');
  assert.equal(c.read(0x140, 4) >>> 0, ((0x180 << 20) | 0x0001_0010) >>> 0);
  assert.equal(c.read(0x180, 4), 0x0001_0003);
  assert.throws(() => installCapabilities(new ConfigSpace(), [], [{ ...b, offset: 0x102 }]), /dword-aligned/);
});
