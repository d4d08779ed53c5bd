// What a Xen guest's device tree needs (Linux's Documentation/devicetree/bindings/arm/xen.txt, read by
// arch/arm/xen/enlighten.c: fdt_find_hyper_node wants a depth-1 node named exactly "hypervisor", compatible
// "xen,xen-<version>", "xen,xen"; xen_dt_guest_init maps `interrupts` entry 0 as the event upcall and takes `reg`
// entry 0 as the grant table region, which it memremaps). vmio keeps the grant frames and the xenstore page in RAM
// (xen-page.ts explains why), so they are carved from the top of RAM and reserved no-map, out of the kernel's way.

import type { FdtBuilder } from '../../board/fdt.js';
import { regCells, type VirtDtHook, type WiredIrqParent } from '../../board/virt-dt.js';
import { XEN_PAGE_SIZE } from './abi.js';
import { DEFAULT_MAX_GRANT_FRAMES } from './domain.js';
import { XEN_VERSION_MAJOR, XEN_VERSION_MINOR } from './hypercall.js';

/** The guest-physical pages vmio's Xen needs: grant frames, then the xenstore ring page. */
export interface XenRegion {
  readonly base: number;
  readonly size: number;
  readonly grantBase: number;
  readonly grantFrames: number;
  /** Guest frame number of the xenstore page (XenGuestConfig.storePfn). */
  readonly storePfn: number;
}

/** Carves the region from the top of RAM. */
export function xenRegion(ramBase: number, ramSize: number, grantFrames = DEFAULT_MAX_GRANT_FRAMES): XenRegion {
  const size = (grantFrames + 1) * XEN_PAGE_SIZE;
  if (size * 4 > ramSize) throw new RangeError(`${grantFrames} grant frames do not fit a ${ramSize}-byte RAM; use fewer`);
  const base = ramBase + ramSize - size;
  return { base, size, grantBase: base, grantFrames, storePfn: (base + grantFrames * XEN_PAGE_SIZE) / XEN_PAGE_SIZE };
}

/**
 * The upcall interrupt: a per-hart local interrupt of each riscv,cpu-intc (hwirq 16..63, which Linux's riscv-intc
 * maps as per-CPU: the guest port can request_percpu_irq as Arm does), or a wired line of the PLIC/APLIC.
 */
export type XenUpcallIrq = { kind: 'local'; hwirq: number } | { kind: 'wired'; irq: number; parent?: WiredIrqParent };

/** A root hook for buildVirtDeviceTree: /hypervisor and the /reserved-memory entry for the region. */
export function xenDtHook(region: XenRegion, upcall: XenUpcallIrq): VirtDtHook {
  return (fdt: FdtBuilder, ctx) => {
    fdt.beginNode('hypervisor');
    fdt.propStrings('compatible', [`xen,xen-${XEN_VERSION_MAJOR}.${XEN_VERSION_MINOR}`, 'xen,xen']);
    fdt.propCells('reg', regCells(region.grantBase, region.grantFrames * XEN_PAGE_SIZE));
    if (upcall.kind === 'local') {
      if (!Number.isInteger(upcall.hwirq) || upcall.hwirq < 16 || upcall.hwirq > 63) throw new RangeError(`Xen upcall hwirq ${upcall.hwirq}: use a local interrupt in 16..63`);
      fdt.propCells('interrupts-extended', ctx.cpuIntcPhandles.flatMap((p) => [p, upcall.hwirq]));
    } else if (upcall.parent !== undefined) {
      fdt.propU32('interrupt-parent', upcall.parent.phandle());
      fdt.propCells('interrupts', upcall.parent.interrupts(upcall.irq));
    } else {
      if (ctx.plicPhandle === null) throw new RangeError('Xen upcall on a wired line, but the board has no PLIC and no parent was given');
      fdt.propU32('interrupt-parent', ctx.plicPhandle);
      fdt.propCells('interrupts', [upcall.irq]);
    }
    fdt.endNode();
    fdt.beginNode('reserved-memory');
    fdt.propU32('#address-cells', 2);
    fdt.propU32('#size-cells', 2);
    fdt.propEmpty('ranges');
    fdt.beginNode(`xen@${region.base.toString(16)}`);
    fdt.propCells('reg', regCells(region.base, region.size));
    fdt.propEmpty('no-map');
    fdt.endNode();
    fdt.endNode();
  };
}
