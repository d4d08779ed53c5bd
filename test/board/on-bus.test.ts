// Board devices mapped on the Bus at their virt addresses: widths through the bus and per-register exit counts.

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

test('UART, ACLINT and PLIC on the bus: values, widths and register-named exit counters', () => {
  const metrics = new Metrics();
  const bus = new Bus(new GuestMemory(VIRT.ram.base, 1 << 20), metrics);
  const hart = new RecordingHart();
  const clock = new ManualClock();
  const plic = new Plic([hart], metrics);
  const out: number[] = [];
  const uart = new Uart16550(plic.irqLine(VIRT.uart0.irq), (b) => out.push(b));
  const aclint = new Aclint([hart], clock);
  bus.addRegion({ name: 'uart0', base: VIRT.uart0.base, size: UART16550_MMIO_SIZE, exitClass: 'user', handler: uart, registerNames: uart.registerNames });
  bus.addRegion({ name: 'clint', base: VIRT.clint.base, size: CLINT_MMIO_SIZE, exitClass: 'user', handler: aclint, registerNames: aclint.registerNames });
  bus.addRegion({ name: 'plic', base: VIRT.plic.base, size: PLIC_MMIO_SIZE, exitClass: 'user', handler: plic, registerNames: plic.registerNames });

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

  const uartRegs = metrics.regions['uart0']!.registers;
  assert.equal(uartRegs['RBR_THR_DLL'], 2);
  assert.equal(uartRegs['IER_DLM'], 1);
  assert.equal(metrics.regions['plic']!.registers['claim1'], 2);
  assert.equal(metrics.regions['clint']!.registers['mtime'], 1);
  assert.equal(metrics.interrupts['plic:10'], 1);
});
