// One PCI function (PCI 3.0 §6, PCIe 4.0 §7.5.1): the type 0 header and capabilities of a device model, its BAR
// regions on the bus, its DmaSpace and its INTx pin. The command register drives the machine: memory (and I/O)
// space enable maps and unmaps the BAR regions (bus.move/unmap), a BAR written while decoding moves its region,
// bus-master enable gates the DmaSpace, and Interrupt Disable masks the INTx pin. A BAR the guest places onto RAM,
// onto another BAR or outside the host bridge's windows stays unmapped until it is moved somewhere valid.

import type { Bus, Region } from '../memory/bus.js';
import type { DmaSpace } from '../memory/dma.js';
import type { IrqLine } from '../board/irq.js';
import type { Resettable } from '../devices/device.js';
import { ConfigSpace, installCapabilities, type CapabilitySpec } from './config-space.js';
import { BarHandler, barAddress, barOffset, checkBars, checkMsixPlacement, installBar, type BarInfo } from './bar.js';
import { pcieCapability, powerManagementCapability } from './capabilities.js';
import { Msix } from './msix.js';
import { Msi } from './msi.js';
import type { PciDevice, PciFunctionContext } from './device.js';
import {
  PCI_CACHE_LINE_SIZE, PCI_CLASS_PROG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_IO, PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY, PCI_COMMAND_PARITY, PCI_COMMAND_SERR, PCI_DEVICE_ID, PCI_HEADER_TYPE, PCI_HEADER_TYPE_MFD,
  PCI_HEADER_TYPE_NORMAL, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_REVISION_ID, PCI_STATUS, PCI_STATUS_INTERRUPT,
  PCI_STATUS_RW1C, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from './regs.js';

/** What the host bridge gives a function. */
export interface FunctionEnv {
  readonly bus: Bus;
  /** "BB:DD.F" (with "#n" for the n-th function attached at one BDF): the name of its counters. */
  readonly name: string;
  /** Bus << 8 | device << 3 | function (PCIe's Routing ID). */
  readonly routingId: number;
  /** Creates the function's DmaSpace; called once, after the device passed every check. */
  dmaSpace(): DmaSpace;
  /** Where the function's INTx pin goes (already swizzled and wire-ORed). */
  readonly intx: IrqLine;
  /** The CPU physical address at which a BAR at bus address `addr` decodes, or -1 when no host window holds it. */
  place(io: boolean, addr: bigint, size: number): number;
  /** Told after this function changed what it decodes, so BARs it was overlapping can map again. */
  onLayoutChange(): void;
  /**
   * Present for a function whose BARs someone else places (an SR-IOV VF, PCIe 4.0 §9.3.4.1: its BAR registers
   * are read-only zero and its Memory Space Enable is ignored; the PF's VF BARs and VF MSE say where it decodes):
   * the bus address of BAR `index`, or null while it does not decode.
   */
  readonly barPlacement?: BarPlacement;
}

/** Where an externally placed BAR decodes (bus address), or null when it does not. */
export type BarPlacement = (index: number) => bigint | null;

const u16 = (v: number | undefined, what: string): number => {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0 || x > 0xffff) throw new RangeError(`${what} ${x} is not a 16-bit value`);
  return x;
};

export class PciFunction implements Resettable {
  readonly config = new ConfigSpace();
  readonly name: string;
  readonly routingId: number;
  readonly dma: DmaSpace;
  readonly msix: Msix | null;
  readonly msi: Msi | null;
  readonly bars: readonly BarInfo[];
  private readonly regions = new Map<number, Region>();
  private multiFunction = false;
  private detached = false;
  private intxLevel = false;
  private command = 0;

  constructor(readonly device: PciDevice, private readonly env: FunctionEnv) {
    this.name = env.name;
    this.routingId = env.routingId;
    // Everything that can refuse the device runs before anything is registered with the bus or the metrics.
    this.bars = checkBars(device.bars ?? []);
    const dma = () => this.dma;
    this.msix = device.msix !== undefined ? new Msix(device.msix, dma, this.name) : null;
    if (this.msix !== null) checkMsixPlacement(this.bars, this.msix);
    this.msi = device.msi !== undefined ? new Msi(device.msi, dma) : null;
    this.buildHeader();
    this.config.seal();
    this.dma = env.dmaSpace();
    for (const bar of this.bars) this.regions.set(bar.index, this.barRegion(bar));
    this.dma.enabled = false;
    const ctx: PciFunctionContext = {
      name: this.name, dma: this.dma, msix: this.msix, msi: this.msi, config: this.config,
      intx: { set: (level: boolean) => { this.intxLevel = level; this.applyIntx(); } },
    };
    device.attach?.(ctx);
  }

  private buildHeader(): void {
    const c = this.config;
    const id = this.device.identity;
    if (id.vendorId === 0xffff) throw new RangeError('vendor ID 0xffff means "no function"; pick a real vendor ID');
    c.set16(PCI_VENDOR_ID, u16(id.vendorId, 'vendor ID'));
    c.set16(PCI_DEVICE_ID, u16(id.deviceId, 'device ID'));
    c.set8(PCI_REVISION_ID, (id.revision ?? 0) & 0xff);
    if (!Number.isInteger(id.classCode) || id.classCode < 0 || id.classCode > 0xff_ffff) throw new RangeError(`class code ${id.classCode} is not 24-bit`);
    c.set8(PCI_CLASS_PROG, id.classCode & 0xff);
    c.set16(PCI_CLASS_PROG + 1, id.classCode >>> 8);
    c.set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
    c.set16(PCI_SUBSYSTEM_VENDOR_ID, u16(id.subsystemVendorId, 'subsystem vendor ID'));
    c.set16(PCI_SUBSYSTEM_ID, u16(id.subsystemId, 'subsystem ID'));
    const pin = this.device.interruptPin ?? 0;
    if (!Number.isInteger(pin) || pin < 0 || pin > 4) throw new RangeError(`interrupt pin ${pin} is not 0..4`);
    c.set8(PCI_INTERRUPT_PIN, pin);
    c.writable(PCI_INTERRUPT_LINE, 1, 0xff);
    c.writable(PCI_CACHE_LINE_SIZE, 1, 0xff);
    const io = this.bars.some((b) => b.io), mem = this.bars.some((b) => !b.io);
    c.writable(PCI_COMMAND, 2, (io ? PCI_COMMAND_IO : 0) | (mem ? PCI_COMMAND_MEMORY : 0) | PCI_COMMAND_MASTER
      | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    c.w1c(PCI_STATUS, 2, PCI_STATUS_RW1C);
    c.watch(PCI_COMMAND, 2, () => this.commandWritten());
    for (const bar of this.bars) {
      if (this.env.barPlacement !== undefined) continue; // the registers stay read-only zero
      installBar(c, bar);
      c.watch(barOffset(bar.index), bar.is64 ? 8 : 4, () => { this.syncBars(); this.env.onLayoutChange(); });
    }
    const caps: CapabilitySpec[] = [];
    if (this.device.powerManagement === true) caps.push(powerManagementCapability());
    if (this.msi !== null) caps.push(this.msi.capability);
    if (this.msix !== null) caps.push(this.msix.capability);
    if (this.device.pcie !== false) caps.push(pcieCapability(this.device.pcie ?? {}, () => this.reset()));
    caps.push(...(this.device.capabilities ?? []));
    installCapabilities(c, caps, this.device.extCapabilities ?? []);
  }

  private barRegion(bar: BarInfo): Region {
    const spec = bar.spec;
    const handler = new BarHandler(spec.handler, this.msix, bar.index);
    const cls = spec.exitClass ?? 'user';
    const m = this.msix;
    const inMsix = (off: number): string | undefined => {
      if (m === null) return undefined;
      const s = m.spec;
      if (s.tableBar === bar.index && off >= s.tableOffset && off < s.tableOffset + m.tableBytes) return m.table.nameAt(off - s.tableOffset);
      if (s.pbaBar === bar.index && off >= s.pbaOffset && off < s.pbaOffset + m.pbaBytes) return m.pba.nameAt(off - s.pbaOffset);
      return undefined;
    };
    return this.env.bus.addRegion({
      name: `${this.name}/bar${bar.index}`, base: 0, size: bar.size, exitClass: cls, handler, unmapped: true,
      classes: [...handler.msixClasses(m?.spec.exitClass ?? cls), ...(spec.classes ?? [])],
      registerName: (off) => inMsix(off) ?? spec.registerName?.(off),
      ...(spec.onFailure !== undefined ? { onFailure: spec.onFailure } : {}),
    });
  }

  /** The bus region of BAR `index` (its base is the CPU address last programmed), or null when unimplemented. */
  region(index: number): Region | null { return this.regions.get(index) ?? null; }

  /** The bus address programmed into BAR `index` (for an externally placed BAR: where it is placed, 0 when nowhere). */
  barAddress(index: number): bigint {
    const bar = this.bars.find((b) => b.index === index);
    if (bar === undefined) return 0n;
    const placed = this.env.barPlacement;
    return placed !== undefined ? placed(index) ?? 0n : barAddress(this.config, bar);
  }

  /** Marks the function as part of a multi-function device (header type bit 7), as the host bridge decides. */
  setMultiFunction(on: boolean): void {
    this.multiFunction = on;
    this.config.set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL | (on ? PCI_HEADER_TYPE_MFD : 0));
  }

  // guest-controlled: config accesses from the ECAM window, already split to stay inside one dword.
  configRead(off: number, width: 1 | 2 | 4): number { return this.config.read(off, width); }
  configWrite(off: number, width: 1 | 2 | 4, value: number): void { this.config.write(off, width, value); }

  private commandWritten(): void {
    const before = this.command;
    this.applyCommand();
    if (this.command !== before) {
      this.env.onLayoutChange();
      this.device.onCommand?.(this.command);
    }
  }

  private applyCommand(): void {
    this.command = this.config.get16(PCI_COMMAND);
    this.dma.enabled = !this.detached && (this.command & PCI_COMMAND_MASTER) !== 0;
    this.syncBars();
    this.applyIntx();
  }

  /**
   * Makes every BAR region decode where the command register and BARs say, or not at all: decoding off, an address
   * outside the host windows, or a conflict with RAM or another region. Idempotent; the host calls it again after
   * any function's layout changed.
   */
  syncBars(): void {
    const bus = this.env.bus;
    const placed = this.env.barPlacement;
    for (const bar of this.bars) {
      const r = this.regions.get(bar.index)!;
      let at = -1; // CPU address, or -1: not decoding
      if (this.detached) { /* gone for good */ }
      else if (placed !== undefined) { const addr = placed(bar.index); if (addr !== null) at = this.env.place(bar.io, addr, bar.size); }
      else if ((this.command & (bar.io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) !== 0) at = this.env.place(bar.io, barAddress(this.config, bar), bar.size);
      if (at < 0) bus.unmap(r);
      else if (!r.mapped || r.base !== at) bus.move(r, at);
    }
  }

  private applyIntx(): void {
    const st = this.config.get16(PCI_STATUS);
    this.config.set16(PCI_STATUS, this.intxLevel ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT);
    this.env.intx.set(this.intxLevel && (this.command & PCI_COMMAND_INTX_DISABLE) === 0);
  }

  /**
   * The function leaves the bus (its VF was disabled, or it was hot-unplugged): its BARs stop decoding for good, it
   * masters the bus no more and its INTx pin is released. Its counters stay in the metrics. Only the host bridge
   * calls this (PciHostBridge.detach), after it stopped routing config accesses here.
   */
  detach(): void {
    this.detached = true;
    this.dma.enabled = false;
    this.syncBars();
    this.intxLevel = false;
    this.env.intx.set(false);
  }

  get isDetached(): boolean { return this.detached; }

  /** Function-level reset (also VM reset): power-on config space, BARs unmapped, DMA off, MSI-X masked, device reset. */
  reset(): void {
    this.config.reset();
    this.setMultiFunction(this.multiFunction);
    this.msix?.reset();
    this.intxLevel = false;
    this.applyCommand();
    this.device.reset();
    this.env.onLayoutChange();
  }
}
