// The PCIe host bridge Linux's pci-host-ecam-generic driver expects (drivers/pci/controller/pci-host-generic.c):
// an ECAM window on the bus, functions attached at bus/device/function (and detached at run time: SR-IOV VFs), BARs
// decoded only inside the bridge's I/O, 32-bit and 64-bit windows, INTA..INTD swizzled per slot onto four wired
// sources, and one DmaSpace per function.

import type { Bus, Region } from '../memory/bus.js';
import { IdentityDmaSpace, type DmaSpace } from '../memory/dma.js';
import type { ExitClass, Metrics } from '../metrics/counters.js';
import type { IrqLine } from '../board/irq.js';
import type { Resettable } from '../devices/device.js';
import type { VirtDtHook } from '../board/virt-dt.js';
import { EcamHandler, bdfName, ecamRegisterName } from './ecam.js';
import { PciFunction, type BarPlacement } from './function.js';
import { NO_LINE, PCI_NUM_PINS, WiredOr, swizzle } from './intx.js';
import { ecamBuses, type PciWindows } from './windows.js';
import { pciHostDtHook, type PciDtOptions } from './host-dt.js';
import type { PciDevice } from './device.js';

export interface PciIntxWiring {
  /** The wired source of INTA on the host bridge (INTB..INTD follow): VIRT.pcieIrq on the virt board. */
  readonly base: number;
  /** The controller input for a source (the wiring point may wrap it with a counter). */
  line(source: number): IrqLine;
}

export interface PciHostOptions {
  readonly bus: Bus;
  readonly metrics: Metrics;
  readonly windows: PciWindows;
  /** INTx routing; absent: functions' INTx pins go nowhere (an MSI-only board). */
  readonly intx?: PciIntxWiring;
  /** The DmaSpace of a new function named "BB:DD.F". Default: identity over the bus, counted as metrics.dma(name). */
  readonly dmaSpace?: (name: string) => DmaSpace;
  /** How config accesses are accounted (default 'user'). */
  readonly ecamExitClass?: ExitClass;
  /** Region name of the ECAM window (default "pcie-ecam"). */
  readonly ecamName?: string;
}

export interface PciSlot {
  readonly bus?: number;
  readonly device: number;
  readonly fn?: number;
}

export interface AttachOptions {
  /** The function's BARs are placed by someone else (an SR-IOV VF: by its PF's VF BARs); see FunctionEnv. */
  readonly barPlacement?: BarPlacement;
  /** This function's DmaSpace instead of the bridge's default (a function assigned from another VM: its IOMMU space). */
  readonly dmaSpace?: (name: string) => DmaSpace;
}

export class PciHostBridge implements Resettable {
  readonly windows: PciWindows;
  readonly ecam: Region;
  readonly ecamHandler: EcamHandler;
  readonly intxBase: number | null;
  private readonly byId = new Map<number, PciFunction>();
  /** INTA..INTD of the bridge, each the wired-OR of the functions swizzled onto it. */
  private readonly wired: WiredOr[] = [];
  private readonly dmaSpace: (name: string) => DmaSpace;
  /** Attachments so far per routing ID: a function attached again where one was detached gets fresh counter names. */
  private readonly generations = new Map<number, number>();

  constructor(private readonly opts: PciHostOptions) {
    this.windows = opts.windows;
    this.intxBase = opts.intx?.base ?? null;
    for (let i = 0; i < PCI_NUM_PINS; i++) {
      this.wired.push(new WiredOr(opts.intx !== undefined ? opts.intx.line(opts.intx.base + i) : NO_LINE));
    }
    this.dmaSpace = opts.dmaSpace ?? ((name) => new IdentityDmaSpace(opts.bus, opts.metrics.dma(name)));
    this.ecamHandler = new EcamHandler((bus, devfn) => this.byId.get((bus << 8) | devfn) ?? null);
    const w = this.windows.ecam;
    this.ecam = opts.bus.addRegion({
      name: opts.ecamName ?? 'pcie-ecam', base: w.base, size: ecamBuses(this.windows) * (1 << 20),
      exitClass: opts.ecamExitClass ?? 'user', handler: this.ecamHandler, registerName: ecamRegisterName,
    });
  }

  /**
   * Creates the function for `device` at bus/device/function (bus 0 and function 0 by default) and gives the device
   * its context. Function 0 of a slot must exist for Linux to scan the slot's other functions.
   */
  attach(device: PciDevice, at: PciSlot, opts: AttachOptions = {}): PciFunction {
    const bus = at.bus ?? 0, dev = at.device, fn = at.fn ?? 0;
    if (!Number.isInteger(bus) || bus < 0 || bus >= ecamBuses(this.windows)) throw new RangeError(`bus ${bus} is outside the ECAM window's bus range`);
    if (!Number.isInteger(dev) || dev < 0 || dev > 31) throw new RangeError(`device ${dev} is not 0..31`);
    if (!Number.isInteger(fn) || fn < 0 || fn > 7) throw new RangeError(`function ${fn} is not 0..7`);
    const id = (bus << 8) | (dev << 3) | fn;
    const bdf = bdfName(bus, dev, fn);
    if (this.byId.has(id)) throw new RangeError(`PCI function ${bdf} is already attached`);
    // Metrics names are unique per VM: the second function at a BDF (VFs disabled and enabled again) is "BB:DD.F#2".
    const generation = (this.generations.get(id) ?? 0) + 1;
    const name = generation === 1 ? bdf : `${bdf}#${generation}`;
    const pin = device.interruptPin ?? 0;
    const intx = pin === 0 ? NO_LINE : this.wired[swizzle(dev, pin)]!.input();
    const f = new PciFunction(device, {
      bus: this.opts.bus, name, routingId: id, dmaSpace: () => (opts.dmaSpace ?? this.dmaSpace)(name), intx,
      place: (io, addr, size) => this.place(io, addr, size),
      onLayoutChange: () => this.relayout(),
      ...(opts.barPlacement !== undefined ? { barPlacement: opts.barPlacement } : {}),
    });
    this.generations.set(id, generation);
    this.byId.set(id, f);
    this.markMultiFunction(id);
    if (opts.barPlacement !== undefined) f.syncBars();
    return f;
  }

  /**
   * Removes a function at run time (VF Enable cleared; a hot-unplug): config accesses to its BDF master-abort from now
   * on, its BARs stop decoding, its DMA and INTx are cut. Throws if `f` is not attached here (a wiring bug).
   */
  detach(f: PciFunction): void {
    const entry = [...this.byId.entries()].find(([, v]) => v === f);
    if (entry === undefined) throw new RangeError(`PCI function ${f.name} is not attached to this host bridge`);
    this.byId.delete(entry[0]);
    f.detach();
    this.markMultiFunction(entry[0]);
    this.relayout();
  }

  /** Header type bit 7 on every function of the slot of routing ID `id`. */
  private markMultiFunction(id: number): void {
    const slot = [...this.byId.entries()].filter(([k]) => k >> 3 === id >> 3).map(([, v]) => v);
    for (const s of slot) s.setMultiFunction(slot.length > 1);
  }

  /** The function at bus/device/function, or null. */
  find(bus: number, device: number, fn: number): PciFunction | null {
    return this.byId.get((bus << 8) | (device << 3) | fn) ?? null;
  }

  get functions(): PciFunction[] {
    return [...this.byId.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
  }

  /** Where a BAR at bus address `addr` decodes on the CPU side, or -1 when it is not wholly inside a window. */
  place(io: boolean, addr: bigint, size: number): number {
    const end = addr + BigInt(size);
    const w = this.windows;
    if (io) return end <= BigInt(w.io.size) ? w.io.base + Number(addr) : -1;
    for (const m of [w.mmio32, w.mmio64]) {
      if (addr >= BigInt(m.base) && end <= BigInt(m.base) + BigInt(m.size)) return Number(addr);
    }
    return -1;
  }

  /**
   * Lets every function re-decode: a BAR that overlapped one that has since moved maps again, and externally placed
   * BARs follow their placement (call it when a PF's VF BARs or VF MSE changed).
   */
  relayout(): void {
    for (const f of this.byId.values()) f.syncBars();
  }

  /** The device-tree node of this bridge, for VirtBoardDesc.socHooks. */
  dtHook(opts: PciDtOptions = {}): VirtDtHook {
    return pciHostDtHook(this.windows, { intxBase: this.intxBase, ...opts });
  }

  /** Resets every function (VM reset). */
  reset(): void {
    // Live iteration on purpose: a PF whose reset detaches its VFs (VF Enable clears) removes them before their turn.
    for (const f of this.byId.values()) f.reset();
  }
}
