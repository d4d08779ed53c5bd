// Board devices mapped on the Bus at their virt addresses through their register tables: widths through the bus,
// exit classes, and per-register exit counts named by the tables.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus } from '../../src/memory/bus.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Metrics } from '../../src/metrics/counters.js';
import { Uart16550, UART16550_MMIO_SIZE } from '../../src/board/uart16550.js';
import { Aclint, CLINT_MMIO_SIZE } from '../../src/board/aclint.js';
import { Plic, PLIC_MMIO_SIZE } from '../../src/board/plic.js';
import { VIRT } from '../../src/board/virt-map.js';
import { ManualClock, RecordingHart } from '../../src/board/testing/recorders.js';
import { IRQ_S_EXT } from '../../src/board/irq.js';

test('UART, ACLINT and PLIC on the bus: values, widths, exit classes and register-named exit counters', () => {
  const metrics = new Metrics();
  const bus = new Bus(new GuestMemory(VIRT.ram.base, 1 << 20), metrics);
  const hart = new RecordingHart();
  const clock = new ManualClock();
  const plic = new Plic([hart]);
  const out: number[] = [];
  const uart = new Uart16550(plic.irqLine(VIRT.uart0.irq), (b) => out.push(b));
  const aclint = new Aclint([hart], clock);
  bus.addRegion({ name: 'uart0', base: VIRT.uart0.base, size: UART16550_MMIO_SIZE, exitClass: 'user', handler: uart.mmio, registerName: uart.mmio.registerName });
  // The interrupt controllers as an in-kernel irqchip would have them.
  bus.addRegion({ name: 'clint', base: VIRT.clint.base, size: CLINT_MMIO_SIZE, exitClass: 'kernel', handler: aclint.mmio, registerName: aclint.mmio.registerName });
  bus.addRegion({ name: 'plic', base: VIRT.plic.base, size: PLIC_MMIO_SIZE, exitClass: 'kernel', handler: plic.mmio, registerName: plic.mmio.registerName });

  // PLIC: enable the UART source on hart 0's S context, then receive a byte with RX interrupts on.
  bus.mmioWrite(VIRT.plic.base + 4 * VIRT.uart0.irq, 4, 1);
  bus.mmioWrite(VIRT.plic.base + 0x2080, 4, 1 << VIRT.uart0.irq);
  bus.mmioWrite(VIRT.uart0.base + 1, 1, 1);
  assert.equal(uart.receive(0x61), true);
  assert.equal(hart.has(IRQ_S_EXT), true);
  assert.equal(bus.mmioRead(VIRT.plic.base + 0x20_1004, 4), VIRT.uart0.irq);
  assert.equal(bus.mmioRead(VIRT.uart0.base, 1), 0x61);
  bus.mmioWrite(VIRT.plic.base + 0x20_1004, 4, VIRT.uart0.irq);
  assert.equal(hart.has(IRQ_S_EXT), false);
  bus.mmioWrite(VIRT.uart0.base, 1, 0x62);
  assert.deepEqual(out, [0x62]);

  clock.ticks = 0x1_0000_0005;
  assert.equal(bus.mmioRead(VIRT.clint.base + 0xbff8, 8), 0x1_0000_0005n);
  assert.equal(bus.mmioRead(VIRT.clint.base + 0xbffc, 4), 1);
  // A 4-byte load from the byte-wide UART is refused by its table: 0, and the RX FIFO is untouched.
  assert.equal(uart.receive(0x63), true);
  assert.equal(bus.mmioRead(VIRT.uart0.base, 4), 0);
  assert.equal(uart.mmio.refused, 1);
  assert.equal(bus.mmioRead(VIRT.uart0.base, 1), 0x63);

  const regions = metrics.regions;
  assert.deepEqual(regions['uart0']!.registers, { RBR_THR_DLL: 4, IER_DLM: 1 });
  assert.deepEqual(regions['plic']!.registers, { priority10: 1, enable1_0: 1, claim1: 2 });
  assert.deepEqual(regions['clint']!.registers, { mtime: 1, 'mtime+4': 1 });
  assert.deepEqual([regions['uart0']!.byClass.user, regions['plic']!.byClass.kernel, regions['clint']!.byClass.kernel], [5, 4, 2]);
  assert.equal(metrics.exits, 11);
  // The PLIC counts no interrupts itself: the wiring point wraps the lines with named counters.
  assert.deepEqual(metrics.interrupts, {});
});
