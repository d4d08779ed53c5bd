// The command register drives the machine: memory decoding maps BAR regions, bus mastering gates DMA, Interrupt
// Disable masks INTx; INTx is swizzled per slot and wire-ORed; function-level reset returns to power-on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_DISABLED, DMA_OK } from '../../src/memory/dma.js';
import { VIRT } from '../../src/board/virt-map.js';
import {
  TestDevice, TD_DMA_ADDR_HI, TD_DMA_ADDR_LO, TD_DMA_CMD, TD_DMA_CMD_FILL, TD_DMA_CMD_SUM, TD_DMA_LEN, TD_DMA_RESULT,
  TD_DMA_STATUS, TD_INTX_ACK, TD_IRQ, TD_MAGIC, TD_MAGIC_VALUE, TD_SCRATCH,
} from '../../src/pci/test-device.js';
import type { PciDevice } from '../../src/pci/device.js';
import { PCI_CAP_ID_EXP, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_EXP_DEVCAP, PCI_EXP_DEVCTL, PCI_STATUS, PCI_STATUS_INTERRUPT } from '../../src/pci/regs.js';
import { machine, RAM_BASE } from './harness.js';

const F = { bus: 0, device: 2, fn: 0 };

test('memory space enable maps the BAR where the guest placed it; disable unmaps it; the region name is BB:DD.F/barN', () => {
  const m = machine();
  const fn = m.host.attach(new TestDevice(), { device: 2 });
  const [bar] = m.guest.enable(F);
  assert.equal(bar!.address, 0x4_0000_0000n, 'a 64-bit BAR lands in the high window');
  const r = fn.region(0)!;
  assert.equal(r.name, '00:02.0/bar0');
  assert.equal(r.mapped, true);
  assert.equal(m.guest.mmioRead32(bar!.address + BigInt(TD_MAGIC)), TD_MAGIC_VALUE);
  m.guest.write16(F, PCI_COMMAND, PCI_COMMAND_MASTER);
  assert.equal(r.mapped, false);
  assert.equal(m.guest.mmioRead32(bar!.address), null, 'decode off: the access misses (an access fault on the hart)');
  assert.equal(m.guest.mmioWrite32(bar!.address + BigInt(TD_SCRATCH), 1), false);
  m.guest.write16(F, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
  assert.equal(m.guest.mmioWrite32(bar!.address + BigInt(TD_SCRATCH), 0xfeed), true);
  assert.equal(m.guest.mmioRead32(bar!.address + BigInt(TD_SCRATCH)), 0xfeed);
  assert.equal(m.metrics.regions['00:02.0/bar0']?.registers['SCRATCH'], 2);
});

test('a BAR rewritten while decoding moves its region', () => {
  const m = machine();
  const fn = m.host.attach(new TestDevice(), { device: 2 });
  m.guest.enable(F);
  m.guest.write32(F, 0x10, 0x4000_8004); // low dword first, as a guest moving a 64-bit BAR does
  m.guest.write32(F, 0x14, 0);
  assert.equal(fn.region(0)!.base, 0x4000_8000);
  assert.equal(fn.barAddress(0), 0x4000_8000n);
  assert.equal(m.guest.mmioRead32(0x4000_8000), TD_MAGIC_VALUE);
  assert.equal(m.guest.mmioRead32(0x4_0000_0000), null);
});

test('bus-master enable gates the function DmaSpace: device DMA faults while it is clear', () => {
  const m = machine();
  const fn = m.host.attach(new TestDevice(), { device: 2 });
  const [bar] = m.guest.enable(F);
  const reg = (off: number) => bar!.address + BigInt(off);
  m.guest.mmioWrite32(reg(TD_SCRATCH), 0x4433_2211);
  m.guest.mmioWrite32(reg(TD_DMA_ADDR_LO), RAM_BASE + 0x100);
  m.guest.mmioWrite32(reg(TD_DMA_ADDR_HI), 0);
  m.guest.mmioWrite32(reg(TD_DMA_LEN), 8);
  m.guest.mmioWrite32(reg(TD_DMA_CMD), TD_DMA_CMD_FILL);
  assert.equal(m.guest.mmioRead32(reg(TD_DMA_STATUS)), DMA_OK);
  assert.deepEqual([...m.ram.slice(RAM_BASE + 0x100, 8)], [0x11, 0x22, 0x33, 0x44, 0x11, 0x22, 0x33, 0x44]);
  m.guest.mmioWrite32(reg(TD_DMA_CMD), TD_DMA_CMD_SUM);
  assert.equal(m.guest.mmioRead32(reg(TD_DMA_RESULT)), 2 * (0x11 + 0x22 + 0x33 + 0x44));

  m.guest.write16(F, PCI_COMMAND, PCI_COMMAND_MEMORY);
  assert.equal(fn.dma.enabled, false);
  m.guest.mmioWrite32(reg(TD_SCRATCH), 0x5555_5555);
  m.guest.mmioWrite32(reg(TD_DMA_CMD), TD_DMA_CMD_FILL);
  assert.equal(m.guest.mmioRead32(reg(TD_DMA_STATUS)), DMA_FAULT_DISABLED);
  assert.equal(m.ram.slice(RAM_BASE + 0x100, 1)[0], 0x11, 'memory unchanged');
  assert.equal((m.metrics.toJSON() as { dma: Record<string, { faults: number; writes: number }> }).dma['00:02.0']?.faults, 1);
});

test('INTx: the swizzle picks the source, Interrupt Disable masks it, the status bit shows it, functions wire-OR', () => {
  const m = machine();
  // Slot 2 INTA -> line (0 + 2) % 4 = 2; slot 6 INTA -> line 2 as well; slot 3 INTA -> line 3.
  for (const device of [2, 6, 3]) m.host.attach(new TestDevice(), { device });
  const barA = m.guest.enable(F)[0]!.address, barB = m.guest.enable({ bus: 0, device: 6, fn: 0 })[0]!.address;
  m.guest.enable({ bus: 0, device: 3, fn: 0 });
  const line2 = m.lines.get(VIRT.pcieIrq + 2)!, line3 = m.lines.get(VIRT.pcieIrq + 3)!;
  m.guest.mmioWrite32(barA + BigInt(TD_IRQ), 0); // MSI-X disabled: asserts INTA
  assert.equal(line2.level, true);
  assert.equal(line3.level, false);
  assert.ok(m.guest.read16(F, PCI_STATUS) & PCI_STATUS_INTERRUPT);
  m.guest.mmioWrite32(barB + BigInt(TD_IRQ), 0);
  m.guest.mmioWrite32(barA + BigInt(TD_INTX_ACK), 0);
  assert.equal(line2.level, true, 'slot 6 still drives the shared line');
  m.guest.write16({ bus: 0, device: 6, fn: 0 }, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  assert.equal(line2.level, false, 'Interrupt Disable masks the pin');
  assert.ok(m.guest.read16({ bus: 0, device: 6, fn: 0 }, PCI_STATUS) & PCI_STATUS_INTERRUPT, 'status still shows the pending condition');
  m.guest.write16({ bus: 0, device: 6, fn: 0 }, PCI_COMMAND, PCI_COMMAND_MEMORY);
  assert.equal(line2.level, true);
  assert.equal(line2.edges, 3);
});

test('function-level reset: config space back to power-on, BARs unmapped, DMA off, device reset', () => {
  const m = machine();
  let resets = 0;
  const dev: PciDevice = { identity: { vendorId: 0x8086, deviceId: 0x10ca, classCode: 0x020000 }, bars: [{ size: 0x4000 }], pcie: { flr: true }, reset: () => { resets++; } };
  const fn = m.host.attach(dev, { device: 5 });
  const f = { bus: 0, device: 5, fn: 0 };
  m.guest.enable(f);
  assert.equal(fn.region(0)!.mapped, true);
  const exp = m.guest.findCapability(f, PCI_CAP_ID_EXP);
  assert.ok(m.guest.read32(f, exp + PCI_EXP_DEVCAP) & 0x1000_0000, 'FLR advertised');
  m.guest.write16(f, exp + PCI_EXP_DEVCTL, m.guest.read16(f, exp + PCI_EXP_DEVCTL) | 0x8000);
  assert.equal(resets, 1);
  assert.equal(m.guest.read16(f, PCI_COMMAND), 0);
  assert.equal(m.guest.read32(f, 0x10), 0);
  assert.equal(m.guest.read16(f, exp + PCI_EXP_DEVCTL) & 0x8000, 0, 'the FLR bit reads 0');
  assert.equal(fn.region(0)!.mapped, false);
  assert.equal(fn.dma.enabled, false);
});
