// A small machine for e1000 tests and benchmarks: RAM and the bus, a PCI host bridge on the virt board's windows
// with a recorded INTx line, the device attached at 00:02.0 and enabled the way Linux's PCI core does it, a link
// that records what the device sends, and the mock driver on top reaching BAR 0 and BAR 1 through the bus.

import { RecordingLine } from '../../../board/testing/recorders.js';
import { VIRT } from '../../../board/virt-map.js';
import { Bus } from '../../../memory/bus.js';
import { GuestMemory } from '../../../memory/guest-memory.js';
import { Metrics } from '../../../metrics/counters.js';
import { PciHostBridge } from '../../../pci/host-bridge.js';
import { MockPciGuest } from '../../../pci/testing/mock-guest.js';
import { virtPciWindows } from '../../../pci/windows.js';
import { E1000, type E1000Link, type E1000Options } from '../device.js';
import { MockE1000Driver, type MockDriverLayout } from './mock-driver.js';

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 32 << 20;

/** A link that keeps copies of the frames the device sends; `linkUp` is the cable's carrier. */
export class RecordingLink implements E1000Link {
  readonly sent: Uint8Array[] = [];
  linkUp = true;
  /** Keep copies (tests); false: only count (benchmarks). */
  keep = true;
  count = 0;
  bytes = 0;
  send(frame: Uint8Array): void {
    this.count++;
    this.bytes += frame.length;
    if (this.keep) this.sent.push(frame.slice());
  }
}

export interface E1000Machine {
  metrics: Metrics;
  ram: GuestMemory;
  bus: Bus;
  host: PciHostBridge;
  pci: MockPciGuest;
  dev: E1000;
  link: RecordingLink;
  /** The wired INTA input the host bridge drove. */
  irq: RecordingLine;
  drv: MockE1000Driver;
  bar0: number;
  bar1: number;
}

export const F = { bus: 0, device: 2, fn: 0 };

export function defaultLayout(txCount = 256, rxCount = 256): MockDriverLayout {
  return {
    txRing: RAM_BASE + 0x1_0000, rxRing: RAM_BASE + 0x2_0000, txCount, rxCount,
    buffers: RAM_BASE + 0x10_0000, txBufSize: 0x1_1000,
  };
}

export function e1000Machine(options: E1000Options = {}, layout: MockDriverLayout = defaultLayout()): E1000Machine {
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM_BASE, RAM_SIZE);
  const bus = new Bus(ram, metrics);
  const windows = virtPciWindows(RAM_BASE, RAM_SIZE);
  const irq = new RecordingLine();
  const host = new PciHostBridge({ bus, metrics, windows, intx: { base: VIRT.pcieIrq, line: () => irq } });
  const pci = new MockPciGuest(bus, windows);
  const dev = new E1000(options);
  host.attach(dev, { device: F.device });
  const bars = pci.enable(F);
  const bar0 = Number(bars.find((b) => b.index === 0)!.address);
  const bar1 = windows.io.base + Number(bars.find((b) => b.index === 1)!.address);
  const link = new RecordingLink();
  dev.connect(link);
  const drv = new MockE1000Driver({
    read: (o) => Number(bus.mmioRead(bar0 + o, 4) ?? 0xffff_ffff),
    write: (o, v) => { bus.mmioWrite(bar0 + o, 4, v); },
    ioRead: (o) => Number(bus.mmioRead(bar1 + o, 4) ?? 0xffff_ffff),
    ioWrite: (o, v) => { bus.mmioWrite(bar1 + o, 4, v); },
  }, ram, layout);
  return { metrics, ram, bus, host, pci, dev, link, irq, drv, bar0, bar1 };
}

/** A machine whose driver has probed and opened the device and seen link up (TCTL.EN set). */
export function upMachine(options: E1000Options = {}, layout?: MockDriverLayout): E1000Machine {
  const m = e1000Machine(options, layout);
  if (!m.drv.probe()) throw new Error('e1000 test machine: the EEPROM checksum did not verify');
  m.drv.open();
  if (!m.drv.watchdog()) throw new Error('e1000 test machine: no link after open');
  m.drv.interrupt();
  return m;
}
