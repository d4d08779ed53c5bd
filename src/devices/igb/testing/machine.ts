// A test machine for the 82576: RAM, the bus, a PCI host bridge on the virt windows, an MSI doorbell standing in for
// an interrupt file (every vector is programmed with data = function tag << 8 | vector, so a test sees who fired), the
// PF at 00:02.0 with its uplink recorded, and — when the PF's driver enables VFs — each VF attached at PF + 0x80 + 2i
// on the same bus and brought up by the mock PCI guest (the assignment wiring's job in a real host). The mock igb PF
// driver and one mock igbvf driver per VF run on top; `pump()` delivers pending PF "other" interrupts to the PF driver.

import { ManualClock } from '../../../board/testing/recorders.js';
import { Bus } from '../../../memory/bus.js';
import { IdentityDmaSpace, type DmaSpace, type DmaTargets } from '../../../memory/dma.js';
import { GuestMemory } from '../../../memory/guest-memory.js';
import { Metrics, type DmaCounters } from '../../../metrics/counters.js';
import { PciHostBridge } from '../../../pci/host-bridge.js';
import type { PciFunction } from '../../../pci/function.js';
import { MockPciGuest, type Bdf } from '../../../pci/testing/mock-guest.js';
import { PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL } from '../../../pci/regs.js';
import { virtPciWindows } from '../../../pci/windows.js';
import { IgbPf, type IgbPfOptions } from '../pf.js';
import type { IgbVf } from '../vf.js';
import { MockIgbDriver, type Mmio } from './mock-igb.js';
import { MockIgbvfDriver } from './mock-igbvf.js';
import { MockIov } from './mock-iov.js';

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 32 << 20;
export const DOORBELL = 0x2800_0000;
export const PF_BDF: Bdf = { bus: 0, device: 2, fn: 0 };
/** The tag of the PF in MSI data; VF i has tag i + 1. */
export const PF_TAG = 0x10;
const RING = 64;

/** A link recording what the NIC sends. */
export class RecordingLink {
  readonly sent: Uint8Array[] = [];
  linkUp = true;
  send(frame: Uint8Array): void { this.sent.push(frame.slice()); }
}

export interface IgbMachineOptions extends IgbPfOptions {
  /** The DmaSpace of the function named `name` ("00:12.0"), e.g. an IOMMU-confined one; default identity. */
  dmaSpace?: (name: string, targets: DmaTargets, counters: DmaCounters) => DmaSpace | undefined;
}

export class IgbMachine {
  readonly metrics = new Metrics();
  readonly ram = new GuestMemory(RAM_BASE, RAM_SIZE);
  readonly bus = new Bus(this.ram, this.metrics);
  readonly windows = virtPciWindows(RAM_BASE, RAM_SIZE);
  readonly clock = new ManualClock();
  readonly host: PciHostBridge;
  readonly pci: MockPciGuest;
  readonly pf: IgbPf;
  readonly pfFn: PciFunction;
  readonly link = new RecordingLink();
  readonly iov: MockIov;
  readonly pfDrv: MockIgbDriver;
  /** MSI data words in delivery order. */
  readonly msis: number[] = [];
  readonly vfFns: PciFunction[] = [];
  readonly vfDrvs: MockIgbvfDriver[] = [];
  private handled = 0;

  constructor(opts: IgbMachineOptions = {}) {
    this.bus.addRegion({
      name: 'imsic', base: DOORBELL, size: 0x1000, exitClass: 'kernel', dmaTarget: true,
      handler: { read: () => 0, write: (off, _w, v) => { if (off === 0) this.msis.push(Number(v)); } },
    });
    this.host = new PciHostBridge({
      bus: this.bus, metrics: this.metrics, windows: this.windows,
      dmaSpace: (name) => {
        const counters = this.metrics.dma(name);
        return opts.dmaSpace?.(name, this.bus, counters) ?? new IdentityDmaSpace(this.bus, counters);
      },
    });
    this.pci = new MockPciGuest(this.bus, this.windows);
    this.pf = new IgbPf({ now: () => this.clock.now(), frequency: this.clock.frequency, ...opts });
    this.pfFn = this.host.attach(this.pf, { device: PF_BDF.device });
    this.pf.onVfs({ vfsCreated: (vfs) => this.attachVfs(vfs) });
    const bars = this.pci.enable(PF_BDF);
    const bar0 = Number(bars.find((b) => b.index === 0)!.address);
    this.enableMsix(PF_BDF, bars.find((b) => b.index === 3)!.address, 10, PF_TAG);
    this.pf.connect(this.link);
    this.pfDrv = new MockIgbDriver(this.mmio(bar0), this.ram, {
      rxRing: RAM_BASE + 0x1_0000, txRing: RAM_BASE + 0x2_0000, rxBuffers: RAM_BASE + 0x10_0000, txBuffers: RAM_BASE + 0x20_0000, count: RING,
    });
    this.iov = new MockIov(this.pci, PF_BDF);
    if (!this.iov.init()) throw new Error('igb test machine: sriov_init failed');
    this.iov.assign(BigInt(this.windows.mmio64.base) + 0x1000_0000n);
  }

  mmio(base: number): Mmio {
    return { read: (o) => Number(this.bus.mmioRead(base + o, 4) ?? 0xffff_ffff), write: (o, v) => { this.bus.mmioWrite(base + o, 4, v); } };
  }

  /** msix_capability_init + writing each entry as Linux's MSI domain does, with data = tag << 8 | vector. */
  enableMsix(f: Bdf, bar: bigint, vectors: number, tag: number): void {
    const cap = this.pci.findCapability(f, PCI_CAP_ID_MSIX);
    this.pci.write16(f, cap + PCI_MSIX_FLAGS, this.pci.read16(f, cap + PCI_MSIX_FLAGS) | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    for (let v = 0; v < vectors; v++) {
      const e = bar + BigInt(16 * v);
      this.pci.mmioWrite32(e, DOORBELL);
      this.pci.mmioWrite32(e + 4n, 0);
      this.pci.mmioWrite32(e + 8n, (tag << 8) | v);
      this.pci.mmioWrite32(e + 12n, 0);
    }
    this.pci.write16(f, cap + PCI_MSIX_FLAGS, this.pci.read16(f, cap + PCI_MSIX_FLAGS) & ~PCI_MSIX_FLAGS_MASKALL);
  }

  private attachVfs(vfs: readonly IgbVf[]): void {
    for (const vf of vfs) {
      const bdf = this.iov.vfBdf(vf.index);
      const fn = this.host.attach(vf, bdf);
      this.vfFns.push(fn);
      const bars = this.pci.enable(bdf);
      this.enableMsix(bdf, bars.find((b) => b.index === 3)!.address, 3, vf.index + 1);
      const base = RAM_BASE + 0x40_0000 * (vf.index + 1);
      this.vfDrvs.push(new MockIgbvfDriver(this.mmio(Number(bars.find((b) => b.index === 0)!.address)), this.ram, {
        rxRing: base, txRing: base + 0x1_0000, rxBuffers: base + 0x10_0000, txBuffers: base + 0x20_0000, count: RING,
      }, () => this.pump()));
    }
  }

  /** Interrupts since the last call with this tag (vector numbers). */
  vectorsOf(tag: number, since = 0): number[] {
    return this.msis.slice(since).filter((d) => d >> 8 === tag).map((d) => d & 0xff);
  }

  /** Runs the PF driver's "other" handler for each new PF vector-0 message (the driver domain's interrupt). */
  pump(): void {
    while (this.handled < this.msis.length) {
      const d = this.msis[this.handled++]!;
      if (d === (PF_TAG << 8)) this.pfDrv.otherInterrupt();
    }
  }

  /** Probe and open the PF driver, then enable `vfs` VFs (igb_enable_sriov → igb_reset → igb_up with VFs). */
  bringUp(vfs: number): void {
    this.pfDrv.probe();
    if (vfs > 0) this.iov.enable(vfs);
    this.pfDrv.open(vfs);
    this.pump();
  }

  vfBdf(i: number): Bdf { return this.iov.vfBdf(i); }
}
