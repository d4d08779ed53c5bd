// The device-tree node of the PCIe host bridge (Documentation/devicetree/bindings/pci/host-generic-pci.yaml and
// pci-bus-common / IEEE 1275 PCI bus binding for `ranges` and `interrupt-map`), with the properties QEMU
// hw/riscv/virt.c create_fdt_pcie writes: an ECAM `reg`, I/O + 32-bit + 64-bit `ranges`, the standard INTx swizzle
// in a 4x4 `interrupt-map` that `interrupt-map-mask` wraps over every slot, and `msi-parent` when MSIs go to an IMSIC.

import type { FdtBuilder } from '../board/fdt.js';
import { regCells, type VirtDtContext, type VirtDtHook } from '../board/virt-dt.js';
import { PCI_NUM_PINS, swizzle } from './intx.js';
import { ECAM_BYTES_PER_BUS, ecamBuses, type PciWindows } from './windows.js';
import type { InterruptPin } from './device.js';

/** A phandle, or a function that reads it from the tree being built (for controllers allocated by another hook). */
export type PhandleRef = number | ((ctx: VirtDtContext) => number | null);

export interface PciDtOptions {
  /** The wired interrupt controller INTx goes to (default: the PLIC, ctx.plicPhandle). */
  readonly interruptParent?: PhandleRef;
  /** Cells of an interrupt specifier at that controller: 1 for the PLIC, 2 for the APLIC (source, IRQ_TYPE_LEVEL_HIGH). */
  readonly interruptCells?: 1 | 2;
  /** Source of INTA (INTB..INTD follow); null: no interrupt-map (MSI only). The host bridge fills it in. */
  readonly intxBase?: number | null;
  /** The MSI controller (the S-level IMSIC) for `msi-parent`; absent: none. */
  readonly msiParent?: PhandleRef;
  /** linux,pci-domain (default 0). */
  readonly domain?: number;
  /** Mark the 64-bit window prefetchable. QEMU virt does not, so Linux may place any 64-bit BAR there. */
  readonly prefetchable64?: boolean;
  /** Writes child nodes of functions that need one (an assigned VF's memory-region), inside the bridge's node. */
  readonly children?: VirtDtHook;
}

/** #address-cells and #interrupt-cells of a PCI bus node (IEEE 1275 PCI binding). */
export const FDT_PCI_ADDR_CELLS = 3;
export const FDT_PCI_INT_CELLS = 1;
/** phys.hi space codes of a PCI address: I/O, 32-bit memory, 64-bit memory; and the prefetchable bit. */
export const FDT_PCI_RANGE_IOPORT = 0x0100_0000;
export const FDT_PCI_RANGE_MMIO = 0x0200_0000;
export const FDT_PCI_RANGE_MMIO_64BIT = 0x0300_0000;
export const FDT_PCI_RANGE_PREFETCHABLE = 0x4000_0000;
/** dt-bindings/interrupt-controller/irq.h. */
export const IRQ_TYPE_LEVEL_HIGH = 4;

const hi = (n: number) => Math.floor(n / 0x1_0000_0000) >>> 0;
const lo = (n: number) => n >>> 0;

function resolve(ref: PhandleRef | undefined, ctx: VirtDtContext): number | null {
  if (ref === undefined) return null;
  return typeof ref === 'number' ? ref : ref(ctx);
}

/** The `ranges` cells: <phys.hi phys.mid phys.lo> <cpu addr (2 cells)> <size (2 cells)> per window. */
export function pciRanges(w: PciWindows, prefetchable64 = false): number[] {
  const m64 = FDT_PCI_RANGE_MMIO_64BIT | (prefetchable64 ? FDT_PCI_RANGE_PREFETCHABLE : 0);
  return [
    FDT_PCI_RANGE_IOPORT, 0, 0, ...regCells(w.io.base, w.io.size),
    FDT_PCI_RANGE_MMIO, hi(w.mmio32.base), lo(w.mmio32.base), ...regCells(w.mmio32.base, w.mmio32.size),
    m64, hi(w.mmio64.base), lo(w.mmio64.base), ...regCells(w.mmio64.base, w.mmio64.size),
  ];
}

/** The `interrupt-map` cells: for slots 0..3 and pins INTA..INTD, <devfn<<8 0 0 pin parent source [type]>. */
export function pciInterruptMap(parent: number, intxBase: number, cells: 1 | 2): number[] {
  const out: number[] = [];
  for (let dev = 0; dev < PCI_NUM_PINS; dev++) {
    for (let pin = 1; pin <= PCI_NUM_PINS; pin++) {
      out.push(dev << 11, 0, 0, pin, parent, intxBase + swizzle(dev, pin as InterruptPin));
      if (cells === 2) out.push(IRQ_TYPE_LEVEL_HIGH);
    }
  }
  return out;
}

/** Slot bits of phys.hi and the pin: the map repeats every four slots. */
export const PCI_INTERRUPT_MAP_MASK = [0x1800, 0, 0, 0x7] as const;

/** A hook that writes the bridge's node inside /soc. */
export function pciHostDtHook(w: PciWindows, opts: PciDtOptions): VirtDtHook {
  return (fdt: FdtBuilder, ctx: VirtDtContext): void => {
    const buses = ecamBuses(w);
    fdt.beginNode(`pci@${w.ecam.base.toString(16)}`);
    fdt.propU32('#address-cells', FDT_PCI_ADDR_CELLS);
    fdt.propU32('#interrupt-cells', FDT_PCI_INT_CELLS);
    fdt.propU32('#size-cells', 2);
    fdt.propString('compatible', 'pci-host-ecam-generic');
    fdt.propString('device_type', 'pci');
    fdt.propU32('linux,pci-domain', opts.domain ?? 0);
    fdt.propCells('bus-range', [0, buses - 1]);
    fdt.propEmpty('dma-coherent');
    const msi = resolve(opts.msiParent, ctx);
    if (msi !== null) fdt.propU32('msi-parent', msi);
    fdt.propCells('reg', regCells(w.ecam.base, buses * ECAM_BYTES_PER_BUS));
    fdt.propCells('ranges', pciRanges(w, opts.prefetchable64 ?? false));
    const parent = opts.interruptParent !== undefined ? resolve(opts.interruptParent, ctx) : ctx.plicPhandle;
    const base = opts.intxBase ?? null;
    if (parent !== null && base !== null) {
      fdt.propCells('interrupt-map', pciInterruptMap(parent, base, opts.interruptCells ?? 1));
      fdt.propCells('interrupt-map-mask', [...PCI_INTERRUPT_MAP_MASK]);
    }
    opts.children?.(fdt, ctx);
    fdt.endNode();
  };
}
