// A small machine for PCI tests: RAM, the bus, a host bridge on the virt windows with recorded INTx lines, an
// MSI doorbell region standing in for an interrupt file, and the mock guest driver.

import { Bus } from '../../src/memory/bus.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Metrics } from '../../src/metrics/counters.js';
import { RecordingLine } from '../../src/board/testing/recorders.js';
import { VIRT } from '../../src/board/virt-map.js';
import { PciHostBridge } from '../../src/pci/host-bridge.js';
import { virtPciWindows } from '../../src/pci/windows.js';
import { MockPciGuest } from '../../src/pci/testing/mock-guest.js';

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 1 << 20;
/** Where the stand-in interrupt file decodes (QEMU virt's S-level IMSIC base). */
export const DOORBELL = 0x2800_0000;

export interface Machine {
  metrics: Metrics;
  ram: GuestMemory;
  bus: Bus;
  host: PciHostBridge;
  guest: MockPciGuest;
  /** Wired sources by number (VIRT.pcieIrq + 0..3). */
  lines: Map<number, RecordingLine>;
  /** Data words written to the doorbell, in order. */
  msis: number[];
}

export function machine(): Machine {
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM_BASE, RAM_SIZE);
  const bus = new Bus(ram, metrics);
  const msis: number[] = [];
  bus.addRegion({
    name: 'imsic', base: DOORBELL, size: 0x1000, exitClass: 'kernel', dmaTarget: true,
    handler: { read: () => 0, write: (off, _w, v) => { if (off === 0) msis.push(Number(v)); } },
  });
  const lines = new Map<number, RecordingLine>();
  const windows = virtPciWindows(RAM_BASE, RAM_SIZE);
  const host = new PciHostBridge({
    bus, metrics, windows,
    intx: { base: VIRT.pcieIrq, line: (s) => { const l = new RecordingLine(); lines.set(s, l); return l; } },
  });
  return { metrics, ram, bus, host, guest: new MockPciGuest(bus, windows), lines, msis };
}
