// ECAM decoding (bus/device/function/register), access widths, and what absent functions return.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ecamDecode, ecamOffset, ecamRegisterName, bdfName } from '../../src/pci/ecam.js';
import { TestDevice } from '../../src/pci/test-device.js';
import { PCI_COMMAND, PCI_VENDOR_ID } from '../../src/pci/regs.js';
import { machine } from './harness.js';

test('an ECAM offset splits into bus << 20 | device << 15 | function << 12 | register', () => {
  assert.deepEqual(ecamDecode(0x0ab1_a344), { bus: 0xab, device: 3, fn: 2, register: 0x344 });
  assert.deepEqual(ecamDecode(0x0fff_ffff), { bus: 0xff, device: 31, fn: 7, register: 0xfff });
  assert.equal(ecamOffset(0xab, 3, 2, 0x344), 0x0ab1_a344);
  for (const [b, d, f, r] of [[0, 0, 0, 0], [1, 31, 7, 0xffc], [255, 16, 4, 0x100]] as const) {
    assert.deepEqual(ecamDecode(ecamOffset(b, d, f, r)), { bus: b, device: d, fn: f, register: r });
  }
  assert.equal(bdfName(0, 2, 0), '00:02.0');
  assert.equal(ecamRegisterName(ecamOffset(0, 0x1f, 7, 4)), '00:1f.7/COMMAND');
  assert.equal(ecamRegisterName(ecamOffset(1, 2, 3, 0x44)), '01:02.3/0x44');
});

test('the ECAM window covers buses 0..255 at 0x3000_0000 and reaches the function at its bus/device/function', () => {
  const m = machine();
  m.host.attach(new TestDevice(), { bus: 0, device: 2 });
  m.host.attach(new TestDevice(), { bus: 5, device: 31, fn: 0 });
  assert.equal(m.host.ecam.base, 0x3000_0000);
  assert.equal(m.host.ecam.size, 0x1000_0000);
  assert.equal(m.guest.read32({ bus: 0, device: 2, fn: 0 }, PCI_VENDOR_ID), 0x0005_1b36);
  assert.equal(m.guest.read32({ bus: 5, device: 31, fn: 0 }, PCI_VENDOR_ID), 0x0005_1b36);
  assert.equal(m.guest.read32({ bus: 0, device: 3, fn: 0 }, PCI_VENDOR_ID), 0xffff_ffff, 'absent function: all-ones');
  assert.equal(m.guest.read32({ bus: 5, device: 2, fn: 0 }, PCI_VENDOR_ID), 0xffff_ffff, 'same slot, other bus');
  assert.equal(m.guest.read16({ bus: 0, device: 9, fn: 1 }, 2), 0xffff);
  assert.equal(m.guest.read8({ bus: 0, device: 9, fn: 1 }, 0xfff), 0xff);
  m.guest.write32({ bus: 0, device: 9, fn: 1 }, PCI_COMMAND, 0xffff); // dropped, no throw
  assert.equal(m.guest.faults, 0, 'the whole window decodes: absent functions are not bus errors');
  assert.equal(m.metrics.regions['pcie-ecam']?.registers['00:02.0/VENDOR_ID'], 1);
});

test('1-, 2- and 4-byte accesses anywhere inside a dword reach the bytes they address', () => {
  const m = machine();
  m.host.attach(new TestDevice(), { device: 2 });
  const f = { bus: 0, device: 2, fn: 0 };
  assert.equal(m.guest.read8(f, 0), 0x36);
  assert.equal(m.guest.read8(f, 3), 0x00);
  assert.equal(m.guest.read16(f, 1), 0x051b, 'a 2-byte access at offset 1 stays inside the dword');
  m.guest.cfgWrite(f, 0x3c, 1, 0x2a);
  assert.equal(m.guest.read32(f, 0x3c), 0x0000_012a, 'interrupt line written, pin INTA read-only');
  m.guest.cfgWrite(f, 0x3d, 1, 0x04);
  assert.equal(m.guest.read8(f, 0x3d), 1);
});

test('8-byte accesses and accesses crossing a dword are refused: all-ones, writes dropped, counted', () => {
  const m = machine();
  const fn = m.host.attach(new TestDevice(), { device: 2 });
  const f = { bus: 0, device: 2, fn: 0 };
  assert.equal(m.guest.cfgRead(f, 0, 8), 0xffff_ffff_ffff_ffffn);
  assert.equal(m.guest.cfgRead(f, 2, 4), 0xffff_ffff);
  assert.equal(m.guest.cfgRead(f, 3, 2), 0xffff);
  m.guest.cfgWrite(f, PCI_COMMAND, 8, 0x7n);
  m.guest.cfgWrite(f, 0x3b, 2, 0x1234); // would reach the interrupt line across the dword boundary
  assert.equal(fn.config.read(PCI_COMMAND, 2), 0);
  assert.equal(fn.config.read(0x3c, 1), 0);
  assert.equal(m.host.ecamHandler.refused, 5);
});
